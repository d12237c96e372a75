"""Fixtures for the fleet server tests: a real PostgreSQL (Debian's binaries, started as the
postgres user when we are root), a real server process on 127.0.0.1, and tablet homes with real
session stores. `backend` runs a test on the embedded SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pg_harness import PostgresCluster, free_port, pg_bin_dir  # sibling module (pytest rootdir-relative path)

from assistant.server.store import open_fleet_store
from assistant.server.tokens import TokenStore
from assistant.sessions import SessionStore
from assistant.sessions.sync_credentials import ServerCredentials
from assistant.sessions.sync_http import ServerClient

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries on this machine (apt-get install postgresql; .ci/run does)")
    cluster = PostgresCluster(bin_dir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str | None:
    """None for the embedded SQLite; a fresh PostgreSQL database URL otherwise."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").create_database()


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
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
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


@pytest.fixture
def server(tmp_path: Path, database):
    proc = ServerProcess(tmp_path / "server-data", database)
    # tokens before the start: the store is created (and migrated) by the first opener
    yield proc
    proc.stop()


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


@pytest.fixture
def make_tablet(tmp_path: Path):
    made: list[Tablet] = []

    def make(name: str, server_url: str, token: str) -> Tablet:
        tablet = Tablet(tmp_path / f"tablet-{name}", server_url, token)
        made.append(tablet)
        return tablet

    yield make
    for t in made:
        t.close()
