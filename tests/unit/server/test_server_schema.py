"""The server's schema on both databases: built by the migrations on first open, left alone on the
next, refused (one sentence) when written by a newer version."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from assistant.errors import StorageError
from assistant.server import schema as fleet_schema
from assistant.server.store import open_fleet_store
from assistant.sessions import schema as session_schema


def test_migrations_build_one_schema_on_both(tmp_path: Path, database) -> None:
    store = open_fleet_store(tmp_path / "data", database)
    try:
        assert store.schema_version == session_schema.LATEST_VERSION
        assert store.fleet_schema_version == fleet_schema.LATEST_VERSION
        tables = set(inspect(store.engine).get_table_names())
        assert {"sessions", "session_state", "events", "reviews", "photos", "fleet_tokens", "fleet_sessions",
                "fleet_review_log", "fleet_documents"} <= tables
        assert store.engine.dialect.name == ("postgresql" if database else "sqlite")
    finally:
        store.close()
    again = open_fleet_store(tmp_path / "data", database)  # a second open applies nothing
    try:
        with again.engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM fleet_schema_version")).scalar()
        assert rows == fleet_schema.LATEST_VERSION
        with again.engine.begin() as conn:
            conn.execute(text("INSERT INTO fleet_schema_version (version, description, applied_at) "
                              "VALUES (99, 'from the future', CURRENT_TIMESTAMP)"))
    finally:
        again.close()
    with pytest.raises(StorageError, match="newer version"):
        open_fleet_store(tmp_path / "data", database)


def test_database_url_forms(tmp_path: Path) -> None:
    from assistant.server.errors import Refused
    from assistant.server.store import database_url

    assert database_url("postgresql://u@h:5/db", tmp_path) == "postgresql+psycopg://u@h:5/db"
    assert database_url("postgres://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_url(None, tmp_path).startswith("sqlite:///") and str(tmp_path) in database_url(None, tmp_path)
    with pytest.raises(Refused):
        database_url("mysql://u@h/db", tmp_path)
