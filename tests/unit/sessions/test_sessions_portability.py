"""The main path must be able to target PostgreSQL later: the current tables and every filter
compile for the PostgreSQL dialect (no server is available here, so this checks the SQL, not a run)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_mock_engine, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from assistant.sessions import SessionFilter
from assistant.sessions import schema
from assistant.sessions.filters import where_clauses


def test_current_tables_compile_for_postgresql() -> None:
    ddl: list[str] = []
    engine = create_mock_engine("postgresql+psycopg2://", lambda sql, *a, **k: ddl.append(str(sql.compile(
        dialect=engine.dialect))))
    schema.metadata.create_all(engine, checkfirst=False)
    text = "\n".join(ddl)
    assert "CREATE TABLE sessions" in text and "CREATE TABLE session_state" in text
    assert "lower(sessions.technician)" in text or "lower(technician)" in text  # the expression index
    assert "fts5" not in text.lower()  # full-text index is SQLite-only and optional
    for table in schema.metadata.sorted_tables:
        str(CreateTable(table).compile(dialect=postgresql.dialect()))
        for index in table.indexes:
            str(CreateIndex(index).compile(dialect=postgresql.dialect()))


def test_every_filter_compiles_for_postgresql_without_fts() -> None:
    f = SessionFilter(equipment_id=["a", "b"], technician="Ana", date_from=datetime(2026, 1, 1, tzinfo=timezone.utc),
                      date_to=datetime(2026, 2, 1), outcome="fixed", open=False, flag_codes=["no_source"],
                      flagged=True, confidence=["low"], max_confidence="medium", reviewed=False,
                      verdict="approved", query="50% of_the seal")
    stmt = select(schema.sessions.c.id).where(*where_clauses(f, fts=False)).with_for_update()
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    assert "MATCH" not in sql and "session_state.search_text LIKE" in sql
    assert "of\\_the" in sql  # LIKE wildcards in the query are escaped
    assert "FOR UPDATE" in sql
