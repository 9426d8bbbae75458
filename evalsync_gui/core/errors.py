"""EvalSync's exception tree. Every message is one readable line that says what to do.

    EvalsyncError                 base; ``exit_code`` is what the CLI returns
    ├── UsageError                bad input from the user, a file or the command line (2)
    ├── GuardHeld                 deactivations held by the deactivation guard (3)
    ├── AuthError                 not connected, revoked or expired credentials, 401/403 (4)
    │   ├── SecretStoreError      no secure keyring backend, or the keyring is locked (4)
    │   └── PermissionDenied      Zendesk answered 403: role, plan or scope too small (4)
    ├── ZendeskError              Zendesk or the network failed after retries (5)
    │   ├── RateLimitError        429s went on longer than the configured budget (5)
    │   ├── ResponseError         malformed JSON, an HTML page, a body of the wrong shape (5)
    │   ├── NotFound              Zendesk answered 404 (5)
    │   ├── UnsafeUrlError        a pagination link pointed at another origin (5)
    │   └── TlsError              the TLS handshake or certificate check failed (5)
    ├── StoreError                the database is locked, full, read-only or corrupt (6)
    │   └── SyncLocked            another sync (GUI or CLI) holds the lock (6)
    └── Cancelled                 the user cancelled; nothing half-applied (130)

Messages never contain a token: callers build them from facts (status codes, hosts,
counts), never from request headers or bodies, and every message passes through
:func:`evalsync_gui.core.redact.redact` as well.
"""

from __future__ import annotations

from evalsync_gui.core.redact import redact


class EvalsyncError(Exception):
    """Base class: ``str(err)`` is a single line fit for a status bar or stderr."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # The one redactor: a message built from a server's answer or a file never shows a secret.
        super().__init__(redact(" ".join(str(message).split())))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(EvalsyncError):
    exit_code = 2


class GuardHeld(EvalsyncError):
    exit_code = 3


class AuthError(EvalsyncError):
    exit_code = 4


class SecretStoreError(AuthError):
    exit_code = 4


class PermissionDenied(AuthError):
    """Zendesk answered 403; ``status`` is kept so callers can detect read-only APIs."""

    def __init__(self, message: str, *, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


class ZendeskError(EvalsyncError):
    exit_code = 5

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 codes: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        #: Zendesk's error codes from the body (e.g. {"RecordInvalid", "DuplicateValue"})
        self.codes = codes


class RateLimitError(ZendeskError):
    pass


class ResponseError(ZendeskError):
    pass


class UnsafeUrlError(ZendeskError):
    pass


class NotFound(ZendeskError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=404)


class StoreError(EvalsyncError):
    exit_code = 6


class SyncLocked(StoreError):
    pass


class Cancelled(EvalsyncError):
    exit_code = 130

    def __init__(self, message: str = "Cancelled by the user; nothing was half-applied.") -> None:
        super().__init__(message)


class TlsError(ZendeskError):
    """The TLS handshake or the certificate check failed: not a reachability problem, never retried."""
