"""Where EvalSync keeps its files: the data folder (database, lock), the log folder, resources.

The data folder comes from, in order: an explicit ``--data-dir``, the ``EVALSYNC_DATA_DIR``
environment variable, then platformdirs' per-user data folder. It is created 0700 because
it holds the user directory (names, e-mails) even though it never holds a secret.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from evalsync_gui import APP_AUTHOR, APP_NAME
from evalsync_gui.core.errors import StoreError

ENV_DATA_DIR = "EVALSYNC_DATA_DIR"
DB_FILENAME = "evalsync.db"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data folder (not yet created) chosen by flag, environment or platform."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` if needed and make it owner-only (0700) where the OS supports modes."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path, 0o700)
    except PermissionError as exc:
        raise StoreError(
            f"Cannot use the data folder {path}: permission denied. "
            "Choose another folder with --data-dir or fix its permissions."
        ) from exc
    except OSError as exc:
        raise StoreError(f"Cannot create the data folder {path}: {exc.strerror or exc}.") from exc
    return path


def log_dir() -> Path:
    """The per-user log folder (rotating log files live here)."""
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def resource_path(name: str) -> Path:
    """Path of a file in ``resources/``, from a source checkout or a PyInstaller bundle."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base / "resources" / name
