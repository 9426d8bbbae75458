"""Parent side of :mod:`bench.simserver`: start, command and stop a simulator process."""

from __future__ import annotations

import json
import subprocess
import tempfile
from typing import Any

from bench.harness import PYTHON, REPO, NotAvailable, child_env


class SimProcess:
    """A simulator in a child process; ``with SimProcess(agents=..., ...) as sim: sim.base_url``."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> "SimProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        # stderr to a file: a server logging every request would fill a pipe and stall.
        self._err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([PYTHON, "-m", "bench.simserver", json.dumps(self.config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
                                     text=True, env=child_env(), cwd=str(REPO), bufsize=1)
        first = self.proc.stdout.readline()
        if not first:
            err = self._stderr()
            self.stop()
            raise NotAvailable(f"simulator: {(err.strip().splitlines() or ['no output'])[-1]}")
        msg = json.loads(first)
        if "error" in msg:
            self.stop()
            raise NotAvailable(f"simulator: {msg['error']}")
        self.info = msg["ready"]

    def call(self, op: str, **args: Any) -> Any:
        assert self.proc and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process ended: " + self._stderr()[-500:])
        msg = json.loads(line)
        if "error" in msg:
            raise RuntimeError(f"simulator {op}: {msg['error']}")
        return msg["ok"]

    def _stderr(self) -> str:
        self._err.seek(0)
        return self._err.read()

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    @property
    def email(self) -> str:
        return self.info["admin_email"]

    @property
    def token(self) -> str:
        return self.info["api_token"]

    @property
    def chat_client(self) -> tuple[str, str]:
        """The Chat API client's id and secret (the Chat API takes no Support credentials)."""
        return self.info["chat_client_id"], self.info["chat_client_secret"]

    @property
    def subdomain(self) -> str:
        return self.info.get("subdomain") or "abc-energy"

    def clear_log(self) -> None:
        self.call("clear_log")

    def log(self, entries: bool = False) -> dict[str, Any]:
        return self.call("log", entries=entries)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(json.dumps({"op": "stop"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.proc.kill()
            self.proc.wait()
        self.proc = None
