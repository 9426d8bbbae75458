"""One window per data folder: a second launch asks the first to come to the front, then exits.

The first instance listens on a QLocalServer whose name is derived from the data folder and
the user, so two data folders (or two tests with temporary folders) never collide. A later
launch connects, sends ``activate`` and exits; the first instance emits ``activation_requested``.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

_MESSAGE = b"activate\n"
_CONNECT_TIMEOUT_MS = 500


def server_name_for(data_dir: Path | str) -> str:
    """A short, filesystem-safe server name unique to this user and data folder."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "user"
    digest = hashlib.sha256(f"{user}\0{Path(data_dir).resolve()}".encode()).hexdigest()[:16]
    return f"evalsync-{digest}"


def notify_running(name: str, timeout_ms: int = _CONNECT_TIMEOUT_MS) -> bool:
    """If an instance listens on ``name``, ask it to come forward and return True."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(_MESSAGE)
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return True


class SingleInstance(QObject):
    """The listening side. Call :meth:`listen` once; :meth:`close` on exit (tests must)."""

    activation_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)

    def listen(self) -> bool:
        """Start listening; a stale socket left by a crashed instance is removed first."""
        if self._server.listen(self.name):
            return True
        # Unix leaves the socket file behind after a crash; nobody answered, so it is stale.
        QLocalServer.removeServer(self.name)
        ok = self._server.listen(self.name)
        if not ok:
            log.warning("Single-instance server %s not started: %s", self.name, self._server.errorString())
        return ok

    def is_listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        """Stop listening and remove the socket."""
        if self._server.isListening():
            self._server.close()

    @Slot()
    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            # The message is one short line written right after connecting: read it here,
            # briefly blocking, rather than keeping per-socket state alive across events.
            if socket.bytesAvailable() or socket.waitForReadyRead(_CONNECT_TIMEOUT_MS):
                data = bytes(socket.readAll().data())
                if _MESSAGE.strip() in data:
                    log.info("Another launch asked this window to come to the front")
                    self.activation_requested.emit()
            socket.disconnectFromServer()
            socket.deleteLater()
