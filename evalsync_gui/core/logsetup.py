"""Logging for the app and the CLI: a rotating file in the per-user log folder, or standard error.

Every handler installed here carries :class:`RedactingFilter`, so a token that slips into a
log call (a request header, a URL with ``access_token=``, an OAuth response body, httpcore's
DEBUG header dumps) is masked by :func:`evalsync_gui.core.redact.redact` before it reaches a
file, the console or the window's log view, and control characters in names are shown as
escapes. Filters sit on handlers, not loggers, because a logger's filters do not see records
propagated from child loggers.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from evalsync_gui.core.paths import ensure_private_dir, log_dir
from evalsync_gui.core.redact import REDACTED, redact
from evalsync_gui.core.textsafe import clean_lines

__all__ = ["REDACTED", "redact", "RedactingFilter", "setup_logging", "console_logging", "teardown_logging",
           "add_handler", "resolve_log_dir"]

ENV_LOG_DIR = "EVALSYNC_LOG_DIR"
LOG_FILENAME = "evalsync.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with :func:`redact`; never drops a record."""

    _exc_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_evalsync_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must not break logging
            message = str(record.msg)
        record.msg, record.args = clean_lines(redact(message)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exc_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._evalsync_redacted = True  # handlers share the record; redact once
        return True


def resolve_log_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The log folder: explicit argument, ``EVALSYNC_LOG_DIR``, then platformdirs' user log folder."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_LOG_DIR)
    return Path(env).expanduser() if env else log_dir()


def _remove_own_handlers(root: logging.Logger) -> None:
    for handler in list(root.handlers):
        if getattr(handler, "_evalsync_owned", False):
            root.removeHandler(handler)
            handler.close()


def add_handler(handler: logging.Handler, formatter: logging.Formatter | None = None) -> logging.Handler:
    """Attach ``handler`` to the root logger with redaction; :func:`setup_logging` replaces it next time."""
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter or logging.Formatter(LOG_FORMAT))
    handler._evalsync_owned = True  # type: ignore[attr-defined]
    logging.getLogger().addHandler(handler)
    return handler


def setup_logging(level: int = logging.INFO, directory: str | os.PathLike[str] | None = None,
                  console: bool = False) -> Path:
    """Log to a rotating file (1 MB x 5) and optionally stderr; return the log file's path.

    Safe to call twice: handlers installed by an earlier call are replaced, not duplicated.
    """
    root = logging.getLogger()
    _remove_own_handlers(root)
    folder = ensure_private_dir(resolve_log_dir(directory))
    path = folder / LOG_FILENAME
    add_handler(logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                                     encoding="utf-8", delay=True))
    if console:
        add_handler(logging.StreamHandler())
    root.setLevel(level)
    # httpx logs every request line at INFO; keep it to warnings unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    return path


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record (the CLI may wrap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - logging's own attribute
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


@contextlib.contextmanager
def console_logging(level: int = logging.WARNING) -> Iterator[None]:
    """The CLI's logging for one command: redacted records on standard error (``-v`` passes DEBUG).

    Replaces ``logging.basicConfig``, whose handler has no redaction: at DEBUG, httpcore
    prints response headers (Set-Cookie) and httpx request lines. Levels and the handler are
    put back afterwards, so an in-process caller (tests) keeps its own logging as it was.
    """
    root = logging.getLogger()
    noisy = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    saved = root.level, [n.level for n in noisy]
    handler = add_handler(_StderrHandler(), logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.setLevel(level)
    for logger in noisy:
        logger.setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        for logger, old in zip(noisy, saved[1]):
            logger.setLevel(old)


def teardown_logging() -> None:
    """Remove and close the handlers installed by :func:`setup_logging` (tests, app exit)."""
    _remove_own_handlers(logging.getLogger())
