"""Run the real server in a child process on a free port, for crash and end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`python -m cityops serve` against `database_url`; start, kill hard, start again."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
    ):
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.extra_env = extra_env or {}
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = dict(os.environ)
        env.update(
            {
                "CITYOPS_DATABASE_URL": self.database_url,
                "CITYOPS_STORAGE_DIR": str(self.workdir / "blobs"),
                **self.extra_env,
            }
        )
        self.log_path = self.workdir / f"server-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cityops", "serve", "--port", str(self.port),
                 "--no-scheduler", "--workers", str(self.workers)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text()[-2000:]
                raise RuntimeError(f"server exited with {self.proc.returncode}: {tail}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        # A server that did not answer in time is not left running behind the test.
        self.kill()
        tail = self.log_path.read_text()[-2000:]
        raise RuntimeError(f"server did not start in {timeout:.0f} s: {tail}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what was committed is all that is left."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
