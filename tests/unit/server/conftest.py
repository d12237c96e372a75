"""Fixtures for the fleet server tests: a real PostgreSQL (Debian's binaries, started as the
postgres user when we are root), a real server process on 127.0.0.1, and tablet homes with real
session stores. `backend` runs a test on the embedded SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet_harness import ServerProcess, Tablet  # sibling modules: pytest puts this folder on sys.path
from pg_harness import PostgresCluster, pg_bin_dir


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


@pytest.fixture
def server(tmp_path: Path, database):
    proc = ServerProcess(tmp_path / "server-data", database)
    # tokens before the start: the store is created (and migrated) by the first opener
    yield proc
    proc.stop()


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
