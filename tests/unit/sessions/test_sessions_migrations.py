"""Schema migrations: a database made by the first schema opens, migrates and keeps its data."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sessions_factories import make_answer
from sqlalchemy import MetaData, Table, create_engine, insert, inspect

from assistant.domain import Note, Session, Turn
from assistant.errors import StorageError
from assistant.sessions import SCHEMA_VERSION, SessionFilter, SessionStore
from assistant.sessions import schema


def _make_v1_database(root: Path, session: Session) -> None:
    """What the first release wrote: only migration 1, and rows shaped for that schema."""
    root.mkdir(parents=True)
    engine = create_engine(f"sqlite:///{root / 'sessions.sqlite'}")
    with engine.begin() as conn:
        assert schema.migrate(conn, target=1) == [1]
        md = MetaData()
        sessions = Table("sessions", md, autoload_with=conn)
        events = Table("events", md, autoload_with=conn)
        assert "search_text" not in sessions.c  # v2 genuinely adds something
        conn.execute(insert(sessions).values(
            id=session.id, equipment_id=session.equipment_id, technician=session.technician, device="",
            created_at=session.created_at.replace(tzinfo=None), updated_at=session.updated_at.replace(tzinfo=None),
            first_question=session.turns[0].question, turn_count=1, confidence="medium", confidence_rank=1,
            flag_codes=json.dumps(["safety_critical"]), flagged=False, reviewed=False, last_seq=1,
            snapshot=session.model_dump_json()))
        conn.execute(insert(events).values(
            id="11111111-1111-4111-8111-111111111111", session_id=session.id, seq=1, type="imported",
            payload=json.dumps({"session": session.model_dump(mode="json")}),
            at=session.updated_at.replace(tzinfo=None)))
    engine.dispose()


def test_a_v1_database_is_migrated_with_its_data_intact(tmp_path: Path) -> None:
    turn = Turn(question="Impeller cavitation after restart")
    turn.answer = make_answer(turn.question)
    session = Session(equipment_id="pump-cp40", technician="Old Release", turns=[turn],
                      notes=[Note(text="Bearing temperature normal")])
    root = tmp_path / "old"
    _make_v1_database(root, session)

    with SessionStore(root) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        assert store.get(session.id) == session
        assert [e["type"] for e in store.events(session.id)] == ["imported"]
        # v2's full-text search was backfilled from the v1 snapshot
        assert [s.id for s in store.list(SessionFilter(query="cavitation"))] == [session.id]
        assert [s.id for s in store.list(SessionFilter(query="bearing"))] == [session.id]
        # and the migrated session keeps working
        store.add_note(session.id, Note(text="Gasket replaced"))
        assert [s.id for s in store.list(SessionFilter(query="gasket"))] == [session.id]
        assert [e["seq"] for e in store.events(session.id)] == [1, 2]

    con = sqlite3.connect(root / "sessions.sqlite")
    versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version")]
    con.close()
    assert versions == [1, 2, 3, 4, 5]
    # opening again applies nothing twice
    with SessionStore(root) as store:
        assert store.schema_version == 5 and store.get(session.id).notes[-1].text == "Gasket replaced"


def test_a_fresh_store_has_every_table(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s") as store:
        insp = inspect(store._engine)
        names = set(insp.get_table_names())
        session_columns = {c["name"] for c in insp.get_columns("sessions")}
    assert {"schema_version", "sessions", "session_state", "events", "reviews", "photos", "session_photos",
            "session_flags"} <= names
    assert "snapshot" not in session_columns and "search_text" not in session_columns  # v3 moved them


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "s"
    SessionStore(root).close()
    con = sqlite3.connect(root / "sessions.sqlite")
    con.execute("INSERT INTO schema_version VALUES (99, 'future', '2030-01-01 00:00:00')")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="newer version"):
        SessionStore(root)
