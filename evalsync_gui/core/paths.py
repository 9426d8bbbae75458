"""Where EvalSync keeps its files: the data folder (database, lock), the log folder, resources.

The data folder comes from, in order: an explicit ``--data-dir``, the ``EVALSYNC_DATA_DIR``
environment variable, then platformdirs' per-user data folder. When EvalSync creates it, it is
created 0700 because it holds the user directory (names, e-mails) even though it never holds a
secret; an existing folder keeps the mode its owner gave it.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path

import platformdirs

from evalsync_gui import APP_AUTHOR, APP_NAME
from evalsync_gui.core.errors import StoreError

log = logging.getLogger("evalsync.paths")

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
    """Create ``path`` owner-only (0700) if it is missing; leave an existing folder's mode alone.

    An existing folder may be shared on purpose (group access, setgid), so it is never
    chmodded, even by a read-only command; a world-writable one is warned about in the log
    (which the CLI shows on standard error as one line).
    """
    try:
        if not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
            if os.name == "posix":
                os.chmod(path, 0o700)  # exactly 0700, whatever the umask; only because we made it
    except FileExistsError:
        pass  # created meanwhile by another EvalSync process; treat it as existing
    except PermissionError as exc:
        raise StoreError(
            f"Cannot use the data folder {path}: permission denied. "
            "Choose another folder with --data-dir or fix its permissions."
        ) from exc
    except OSError as exc:
        raise StoreError(f"Cannot create the data folder {path}: {exc.strerror or exc}.") from exc
    warning = folder_warning(path)
    if warning:
        log.warning("%s", warning)
    return path


def folder_warning(path: Path) -> str | None:
    """One line when ``path`` is writable by every user of this computer, else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if os.name != "posix" or not mode & stat.S_IWOTH:
        return None
    return (f"The folder {path} is world-writable: anyone on this computer can replace its files; "
            f"remove write access for others (chmod o-w {path}) or choose another folder.")


def log_dir() -> Path:
    """The per-user log folder (rotating log files live here)."""
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def resource_path(name: str) -> Path:
    """Path of a file in ``resources/``, from a source checkout or a PyInstaller bundle."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base / "resources" / name
