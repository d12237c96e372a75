"""What an answer carries now reaches every report: the code read (value, how sure, listed or not, the
technician's line), the one-line "unsure because", a step's danger warning above the step, each
citation's document revision and a step's conflicting sources. HTML escapes all of it; the JSON log
does not repeat answers the session already holds, and loses none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sessions_factories import make_answer
from test_sessions_export import _flat, _pdf_text

from assistant.domain import Box, CodeRead, Confidence, Flag, FlagCode, ObservationKind, Severity, Turn
from assistant.sessions import SessionExport, SessionStore
from assistant.sessions.export.json import restore_event_answers

PLANT = '<img src=x onerror="alert(1)">'
DANGER = f"This step would bypass the door interlock {PLANT}; isolate the drive first."
CONFLICT = f"Revision C says 1000 V DC / 10 MOhm, revision B says 500 V DC / 1 MOhm {PLANT}"


def _answer(question: str):
    a = make_answer(question, steps=["Test the motor insulation.", "Bridge the interlock to restart quickly."],
                    confidence=Confidence.MEDIUM)
    a.code_read = CodeRead(value=f"E902.1{PLANT}", kind=ObservationKind.UNKNOWN_CODE,
                           confidence=0.87, photo="p1", box=Box(x=1, y=2, width=3, height=4), listed=False,
                           message=f"E902.1 was read, but no manual in the library lists it {PLANT}")
    a.unsure_summary = f"the two manual revisions disagree on the test voltage {PLANT}"
    for c in a.steps[0].citations:
        c.revision = f"C{PLANT}"
    a.steps[0].flags.append(Flag(code=FlagCode.CONFLICTING_SOURCES, severity=Severity.WARNING,
                                 message=CONFLICT, step=1))
    a.steps[1].danger = DANGER
    return a


def _session(store: SessionStore) -> tuple[str, str]:
    s = store.create(equipment_id="vfd-vx500", technician="Ana")
    turn = store.add_turn(s.id, Turn(question="the drive trips when the motor accelerates"))
    store.set_answer(s.id, turn.id, make_answer(turn.question))  # a first answer, replaced below
    store.set_answer(s.id, turn.id, _answer(turn.question))
    second = store.add_turn(s.id, Turn(question="and the fan?"))
    store.set_answer(s.id, second.id, make_answer(second.question, steps=["Replace the cooling fan."]))
    return s.id, turn.id


def test_html_shows_the_new_fields_escaped(store: SessionStore, tmp_path: Path) -> None:
    sid, _ = _session(store)
    page = store.export(sid, "html", tmp_path / "r.html").read_text("utf-8")
    assert "<img" not in page and "onerror=&quot;alert(1)&quot;" in page  # planted markup stays text
    escaped = '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    for needle in [f"Code read: E902.1{escaped} (87% sure; no manual in the library lists it)",
                   f"E902.1 was read, but no manual in the library lists it {escaped}",
                   f"Unsure because: the two manual revisions disagree on the test voltage {escaped}",
                   f"rev. C{escaped}", "Sources disagree (conflicting_sources): Revision C says 1000 V DC",
                   f"Warning, step 2: This step would bypass the door interlock {escaped}"]:
        assert needle in page, needle
    # the warning comes before its step, the code and the unsure line before the first step
    assert page.index("Warning, step 2") < page.index("2. Bridge the interlock") > page.index("1. Test the motor")
    assert page.index("Code read: E902.1") < page.index("1. Test the motor")
    assert page.index("Unsure because: the two") < page.index("1. Test the motor")


def test_pdf_shows_the_new_fields(store: SessionStore, tmp_path: Path) -> None:
    sid, _ = _session(store)
    text, _ = _pdf_text(store.export(sid, "pdf", tmp_path / "r.pdf"))
    flat = _flat(text)
    for needle in ["Code read: E902.1", "(87% sure; no manual in the library lists it)",
                   "E902.1 was read, but no manual in the library lists it",
                   "Unsure because: the two manual revisions disagree on the test voltage",
                   "rev. C", "Sources disagree (conflicting_sources): Revision C says 1000 V DC / 10 MOhm",
                   "WARNING, step 2: This step would bypass the door interlock"]:
        assert _flat(needle) in flat, needle
    assert flat.index(_flat("WARNING, step 2")) < flat.index(_flat("2. Bridge the interlock"))
    assert flat.index(_flat("Code read: E902.1")) < flat.index(_flat("1. Test the motor"))


def test_json_keeps_the_log_without_repeating_answers(store: SessionStore, tmp_path: Path) -> None:
    sid, turn_id = _session(store)
    out = store.export(sid, "json", tmp_path / "r.json")
    raw = out.read_text("utf-8")
    doc = SessionExport.model_validate_json(raw)
    assert doc.schema_version == 2 and doc.session == store.get(sid)
    answer = doc.session.turns[0].answer
    assert answer.code_read.value.startswith("E902.1") and answer.code_read.listed is False
    assert answer.unsure_summary and answer.steps[1].danger == DANGER
    assert answer.steps[0].citations[0].revision.startswith("C")
    assert any(f.code == FlagCode.CONFLICTING_SOURCES for f in answer.steps[0].flags)
    assert raw.count(json.dumps(DANGER)[1:-1]) == 1  # the current answer appears once, in the session
    log = store.events(sid)
    assert [e.seq for e in doc.events] == [e["seq"] for e in log]  # the whole audit trail
    answer_sets = [e for e in doc.events if e.type == "answer_set"]
    first_answer, current, fan = answer_sets
    assert first_answer.answers_in_session == [] and first_answer.payload["answer"] is not None  # replaced later
    assert current.answers_in_session == [turn_id] and current.payload["answer"] is None
    assert fan.answers_in_session and fan.payload["answer"] is None
    restored = restore_event_answers(doc)  # nothing lost: the log as the store holds it
    assert [e["payload"] for e in restored] == [e["payload"] for e in log]


def test_json_of_an_imported_session_does_not_repeat_its_answers(store: SessionStore, tmp_path: Path) -> None:
    sid, _ = _session(store)
    other = SessionStore(tmp_path / "other")
    try:
        other.import_sessions([store.get(sid)])
        doc = SessionExport.model_validate_json(other.export(sid, "json", tmp_path / "i.json").read_text("utf-8"))
    finally:
        other.close()
    (imported,) = doc.events
    assert imported.type == "imported" and len(imported.answers_in_session) == 2
    assert all(t["answer"] is None for t in imported.payload["session"]["turns"])
    restored = restore_event_answers(doc)
    assert restored[0]["payload"]["session"]["turns"] == [t.model_dump(mode="json") for t in doc.session.turns]


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_an_answer_without_the_new_fields_still_renders(store: SessionStore, tmp_path: Path, fmt: str) -> None:
    s = store.create()
    turn = store.add_turn(s.id, Turn(question="plain"))
    store.set_answer(s.id, turn.id, make_answer("plain"))
    out = store.export(s.id, fmt, tmp_path / f"plain.{fmt}")
    text = _pdf_text(out)[0] if fmt == "pdf" else out.read_text("utf-8")
    assert "Code read" not in text and "WARNING, step" not in text and "Warning, step" not in text
    assert "Sources disagree" not in text
