"""Logging for the desktop app: a rotating file in the per-user log folder, with secrets redacted.

Every handler installed here carries :class:`RedactingFilter`, so a token that slips into a
log call (a request header, a URL with ``access_token=``, an OAuth response body) is masked
before it reaches a file, the console or the window's log view. Filters sit on handlers, not
loggers, because a logger's filters do not see records propagated from child loggers.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from evalsync_gui.core.paths import ensure_private_dir, log_dir

ENV_LOG_DIR = "EVALSYNC_LOG_DIR"
LOG_FILENAME = "evalsync.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
REDACTED = "[redacted]"

# Key names whose values are secrets wherever they appear as key=value, key: value or "key": "value".
_SECRET_KEYS = (
    "access_token", "refresh_token", "id_token", "api_token", "token", "client_secret",
    "code_verifier", "password", "passwd", "secret", "api_key", "apikey",
)
_KEY_ALT = "|".join(sorted(_SECRET_KEYS, key=len, reverse=True))

# Order matters: the header rule swallows the whole value before the scheme rules look.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer abc / 'Authorization': 'Basic xyz' / authorization=...
    (re.compile(r"""(?i)(\b(?:proxy-)?authorization\b['"]?\s*[:=]\s*['"]?)([^'"\r\n,}]+)"""), rf"\1{REDACTED}"),
    # Bare scheme credentials anywhere: "Bearer abc.def", "Basic dXNlcjpwYXNz"
    # (the look-ahead wants a digit or base64 symbol, so prose such as "basic authentication" stays)
    (re.compile(r"(?i)\b(bearer|basic)\s+(?=[A-Za-z\-._~]*[0-9+/=])([A-Za-z0-9\-._~+/]{6,}=*)"), rf"\1 {REDACTED}"),
    # JSON-ish "access_token": "value"
    (re.compile(rf"""(?i)(["']?\b(?:{_KEY_ALT})\b["']?\s*:\s*["'])([^"']*)(["'])"""), rf"\1{REDACTED}\3"),
    # Query strings and forms: access_token=value&...
    (re.compile(rf"(?i)(\b(?:{_KEY_ALT})=)([^&\s'\"]+)"), rf"\1{REDACTED}"),
    # Credentials inside URLs: https://user:pass@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s:@]+):([^/\s@]+)@"), rf"\1\2:{REDACTED}@"),
]


def redact(text: str) -> str:
    """Return ``text`` with bearer/basic credentials and token-like values replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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
        record.msg, record.args = redact(message), None
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


def teardown_logging() -> None:
    """Remove and close the handlers installed by :func:`setup_logging` (tests, app exit)."""
    _remove_own_handlers(logging.getLogger())
