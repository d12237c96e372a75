"""The fleet's real parts for tests and benchmarks: `fieldlens server` in its own process (started,
SIGKILLed, restarted on the same data and port) and tablet homes with their own session stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pg_harness import free_port

from assistant.server.store import open_fleet_store
from assistant.server.tokens import TokenStore
from assistant.sessions import SessionStore
from assistant.sessions.sync_credentials import ServerCredentials
from assistant.sessions.sync_http import ServerClient

ROOT = Path(__file__).resolve().parents[3]


class ServerProcess:
    """`fieldlens server` in its own process."""

    def __init__(self, data: Path, database: str | None):
        self.data = data
        self.database = database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = data.parent / f"server-{self.port}.log"

    def start(self) -> "ServerProcess":
        args = [sys.executable, "-m", "assistant.cli", "server", "--data", str(self.data), "--port", str(self.port)]
        if self.database:
            args += ["--database", self.database]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.data.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/whoami", timeout=1).status_code == 401:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not start in 60 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushes."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, name: str, role: str) -> str:
        store = open_fleet_store(self.data, self.database)
        try:
            return TokenStore(store.engine).create(name, role)
        finally:
            store.close()

    def store(self):
        return open_fleet_store(self.data, self.database)



class Tablet:
    """A tablet's home: its own sessions store, enrolled with a device token."""

    def __init__(self, home: Path, server_url: str, token: str):
        self.home = home
        self.store = SessionStore(home / "sessions")
        self.creds = ServerCredentials(server_url, token)

    def client(self, transport: httpx.BaseTransport | None = None) -> ServerClient:
        return ServerClient(self.creds, transport=transport, timeout=20)

    def sync(self, transport: httpx.BaseTransport | None = None):
        from assistant.sessions.sync_tablet import sync_once

        with self.client(transport) as client:
            return sync_once(self.store, client, self.home)

    def close(self) -> None:
        self.store.close()
