"""A cross-process sync lock in the data folder, released by the OS when its holder dies.

An OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) is tied to the open
file, so a crashed or SIGKILLed process never leaves a stale lock behind, unlike a
"lock file exists" scheme. The file also records the holder's pid for the message.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from evalsync_gui.core.errors import StoreError, SyncLocked

LOCK_NAME = "sync.lock"
_in_process = threading.Lock()  # flock is per open file; this also guards threads of one process


class SyncLock:
    """``with SyncLock(data_dir): ...`` or acquire()/release(); never blocks, raises SyncLocked.

    Subclasses lock other work the same way with their own file, thread lock and wording
    (the chat schedule's ``ChatLock``).
    """

    lock_name = LOCK_NAME
    what = "sync"
    thread_lock = _in_process

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / self.lock_name
        self._fd: int | None = None
        self._thread_locked = False

    def acquire(self) -> "SyncLock":
        if not self.thread_lock.acquire(blocking=False):
            raise SyncLocked(f"Another {self.what} is running in this EvalSync window; wait for it to finish.")
        self._thread_locked = True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            self._release_thread()
            raise StoreError(f"Cannot create the {self.what} lock {self.path}: {exc.strerror or exc}.") from exc
        if not _try_lock(fd):
            holder = _read_pid(fd)
            os.close(fd)
            self._release_thread()
            who = f" (process {holder})" if holder else ""
            raise SyncLocked(f"Another {self.what} is running{who}, in the GUI or a CLI command; wait for it to finish "
                             "and retry.")
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                _unlock(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
        self._release_thread()

    def _release_thread(self) -> None:
        if self._thread_locked:
            self._thread_locked = False
            self.thread_lock.release()

    def __enter__(self) -> "SyncLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def is_locked(data_dir: Path | str) -> bool:
    """True when some process (or thread) holds the sync lock right now."""
    try:
        with SyncLock(data_dir):
            return False
    except SyncLocked:
        return True


def _read_pid(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 32).decode(errors="replace").strip()
    except OSError:
        return ""


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
