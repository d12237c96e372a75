"""The sessions store: create, every event kind, reads, photos, reviews, filters, dashboard, delete."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from sessions_factories import make_answer, make_jpeg, make_observation, make_photo

from assistant.domain import (
    Confidence,
    Flag,
    FlagCode,
    Note,
    Outcome,
    Photo,
    Review,
    Session,
    Severity,
    StepOutcome,
    StepRating,
    StepStatus,
    Turn,
    Verdict,
    utc_now,
)
from assistant.errors import FieldlensError, UnknownSession, UnreadablePhoto
from assistant.sessions import SessionFilter, SessionStore, UnknownTurn
from assistant.sessions.events import replay


def _full_session(store: SessionStore, *, technician: str = "Ana Field", equipment: str = "pump-cp40") -> Session:
    s = store.create(equipment_id=equipment, technician=technician, device="tablet-7")
    data = make_jpeg(1)
    photo = make_photo(data, blurry=True)
    store.add_photo(s.id, photo, data, prepared=make_jpeg(2, size=(320, 240)))
    store.add_observations(s.id, [make_observation(photo.id), make_observation(photo.id, "FL-PMP-0001")])
    turn = store.add_turn(s.id, Turn(question="Pump shows E-101 and flow is low", photo_ids=[photo.id]))
    store.set_answer(s.id, turn.id, make_answer(turn.question))
    store.record_step(s.id, StepOutcome(turn_id=turn.id, step=1, status=StepStatus.DONE, note="locked out"))
    store.record_step(s.id, StepOutcome(turn_id=turn.id, step=2, status=StepStatus.DID_NOT_HELP))
    store.add_note(s.id, Note(text="Strainer was clogged with debris", photo_ids=[photo.id]))
    result = make_jpeg(3)
    store.add_photo(s.id, make_photo(result, role="result", filename="after.jpg"), result)
    store.close_session(s.id, Outcome.FIXED)
    return store.get(s.id)


def test_a_full_session_round_trips(store: SessionStore) -> None:
    s = _full_session(store)
    assert s.equipment_id == "pump-cp40" and s.technician == "Ana Field" and s.device == "tablet-7"
    assert [p.role for p in s.photos] == ["capture", "result"]
    assert [o.value for o in s.observations] == ["E-101", "FL-PMP-0001"]
    assert s.turns[0].answer is not None and s.turns[0].answer.session_id == s.id
    assert s.turns[0].answer.sources[0].id == "p-cp40-12"  # the answer is stored in full
    assert s.turns[0].answer.prompt_hash == "abc123" and s.turns[0].answer.timings_ms == {"total": 12.5}
    assert [(o.step, o.status) for o in s.step_outcomes] == [(1, StepStatus.DONE), (2, StepStatus.DID_NOT_HELP)]
    assert s.notes[0].text.startswith("Strainer") and s.outcome == Outcome.FIXED and s.closed_at is not None
    assert s.created_at <= s.updated_at
    # reopening the folder gives the same session, and the log replays to it
    again = SessionStore(store.root)
    try:
        assert again.get(s.id) == s
        assert replay(again.events(s.id)) == s
    finally:
        again.close()


def test_events_are_the_timeline_in_order(store: SessionStore) -> None:
    s = _full_session(store)
    log = store.events(s.id)
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert [e["type"] for e in log] == ["created", "photo_added", "observations_added", "turn_added", "answer_set",
                                        "step_recorded", "step_recorded", "note_added", "photo_added", "closed"]
    assert all(len(e["id"]) == 36 and e["session_id"] == s.id for e in log)
    assert log[4]["payload"]["answer"]["steps"][0]["citations"][0]["page"] == 12
    assert all(a["at"] <= b["at"] for a, b in zip(log, log[1:]))


def test_unknown_ids_raise_unknown_session(store: SessionStore) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for call in (lambda: store.get(missing), lambda: store.events(missing), lambda: store.delete(missing),
                 lambda: store.add_turn(missing, Turn(question="q")), lambda: store.add_note(missing, Note(text="n")),
                 lambda: store.close_session(missing, Outcome.FIXED),
                 lambda: store.review(Review(session_id=missing, verdict=Verdict.APPROVED)),
                 lambda: store.export(missing, "json", store.root / "x.json")):
        with pytest.raises(UnknownSession) as info:
            call()
        assert missing in str(info.value) and "\n" not in str(info.value)
    assert not (store.root / "x.json").exists()


def test_bad_references_inside_a_session(store: SessionStore) -> None:
    s = store.create()
    turn = store.add_turn(s.id, Turn(question="why?"))
    with pytest.raises(UnknownTurn):
        store.set_answer(s.id, "no-such-turn", None, error="x")
    store.set_answer(s.id, turn.id, make_answer("why?", steps=["one", "two"]))
    with pytest.raises(UnknownTurn):
        store.record_step(s.id, StepOutcome(turn_id=turn.id, step=3, status=StepStatus.DONE))
    with pytest.raises(UnknownTurn):
        store.correct_observation(s.id, "f" * 64, 0, "X")
    with pytest.raises(UnknownTurn):
        store.add_observations(s.id, [make_observation("e" * 64)])
    assert isinstance(UnknownTurn("x"), FieldlensError)
    assert len(store.events(s.id)) == 3  # rejected writes left no event


def test_answer_error_is_saved_and_turn_order_kept(store: SessionStore) -> None:
    s = store.create()
    ids = [store.add_turn(s.id, Turn(question=f"q{i}")).id for i in range(5)]
    store.set_answer(s.id, ids[2], None, error="The model could not be reached; answered from manuals.")
    got = store.get(s.id)
    assert [t.question for t in got.turns] == [f"q{i}" for i in range(5)]
    assert got.turns[2].error.startswith("The model") and got.turns[2].answer is None


def test_correct_observation_keeps_what_was_read(store: SessionStore) -> None:
    s = store.create()
    data = make_jpeg(5)
    photo = make_photo(data)
    store.add_photo(s.id, photo, data)
    store.add_observations(s.id, [make_observation(photo.id, "E-1O1", confidence=0.4)])
    fixed = store.correct_observation(s.id, photo.id, 0, "E-101")
    assert fixed.value == "E-101" and fixed.raw == "E-1O1" and fixed.confirmed and fixed.source == "user"
    assert "E-1O1" in fixed.alternatives
    assert store.get(s.id).observations[0] == fixed
    confirmed = store.correct_observation(s.id, photo.id, 0, None, confirmed=False)
    assert confirmed.value == "E-101" and not confirmed.confirmed


def test_photos_are_shared_and_deleted_only_when_unused(store: SessionStore) -> None:
    data = make_jpeg(7)
    photo = make_photo(data)
    a, b = store.create(), store.create()
    store.add_photo(a.id, photo, data, prepared=b"prepared-bytes")
    store.add_photo(b.id, photo, data)
    store.add_photo(b.id, photo, data)  # twice in one session: still one photo
    path = store.photo_path(photo.id)
    assert path == store.root / "photos" / photo.id[:2] / f"{photo.id}.jpg"
    assert path.read_bytes() == data
    assert store.prepared_path(photo.id).read_bytes() == b"prepared-bytes"
    assert len([p for p in (store.root / "photos").rglob("*") if p.is_file()]) == 2  # original + prepared
    assert len(store.get(b.id).photos) == 1
    store.delete(a.id)
    assert path.exists() and store.photo_path(photo.id) == path  # b still uses it
    with pytest.raises(UnknownSession):
        store.get(a.id)
    store.delete(b.id)
    assert not path.exists() and store.prepared_path(photo.id) is None
    with pytest.raises(UnreadablePhoto):
        store.photo_path(photo.id)
    assert [p for p in (store.root / "photos").rglob("*") if p.is_file()] == []


def test_photo_id_must_be_its_sha256(store: SessionStore) -> None:
    s = store.create()
    with pytest.raises(ValueError):
        store.add_photo(s.id, Photo(id="0" * 64), make_jpeg(1))


def test_reviews_are_an_append_only_trail(store: SessionStore) -> None:
    s = _full_session(store)
    first = store.review(Review(session_id=s.id, reviewer="Sup One", verdict=Verdict.NEEDS_FOLLOW_UP,
                                comment="check the seal", step_ratings={1: StepRating.GOOD, 2: StepRating.BAD}))
    second = store.review(Review(session_id=s.id, reviewer="Sup Two", verdict=Verdict.APPROVED))
    trail = store.reviews(s.id)
    assert [r.id for r in trail] == [first.id, second.id]
    assert trail[0].step_ratings == {1: StepRating.GOOD, 2: StepRating.BAD}
    summary = store.list()[0]
    assert summary.verdict == Verdict.APPROVED  # the latest is current
    assert store.get(s.id).updated_at == s.updated_at  # reviewing is not technician activity
    with pytest.raises(UnknownTurn):
        store.review(Review(session_id=s.id, step_ratings={0: StepRating.BAD}))


def test_import_sessions_is_idempotent(store: SessionStore, tmp_path: Path) -> None:
    s = _full_session(store)
    other = SessionStore(tmp_path / "other")
    try:
        assert other.import_sessions([s]) == 1
        assert other.import_sessions([s]) == 0
        assert other.get(s.id) == s
        assert [e["type"] for e in other.events(s.id)] == ["imported"]
    finally:
        other.close()


def test_imported_sessions_are_scrubbed_of_known_secrets(store: SessionStore, tmp_path: Path) -> None:
    """The import path (backups, the fleet server) writes through the same scrubber as every event."""
    from assistant import redaction

    secret = "fleet-Tok3n-planted-0xBEEF"
    s = _full_session(store)
    s.turns[0].error = f"The server refused the token {secret}."
    s.notes.append(Note(text=f"pasted {secret} here"))
    s.technician = f"Ana {secret}"
    redaction.remember(secret)
    other = SessionStore(tmp_path / "other")
    try:
        assert other.import_sessions([s]) == 1
        saved = other.get(s.id)
        assert secret not in saved.model_dump_json() and secret not in json.dumps(other.events(s.id), default=str)
        assert saved.turns[0].error == f"The server refused the token {redaction.PLACEHOLDER}."
        assert saved.notes[-1].text == f"pasted {redaction.PLACEHOLDER} here"
        assert replay(other.events(s.id)) == saved  # the saved state is still exactly the log's
        other.close()
        raw = b"".join(p.read_bytes() for p in (tmp_path / "other").glob("sessions.sqlite*"))
        assert secret.encode() not in raw
    finally:
        redaction.forget_all()
        other.close()


# --------------------------------------------------------------------------- filters and dashboard

def _population(store: SessionStore, n: int = 24) -> list[Session]:
    """Sessions with varied attributes, written through the public API."""
    rnd = random.Random(7)
    out = []
    for i in range(n):
        s = store.create(equipment_id=rnd.choice(["pump-cp40", "hvac-r22", "press-h9", None]),
                         technician=rnd.choice(["Ana", "Bo", "Chen"]))
        if rnd.random() < 0.8:
            q = rnd.choice(["cavitation noise at start", "E-101 on display", "belt slipping", "oil leak near seal"])
            turn = store.add_turn(s.id, Turn(question=f"{q} #{i}"))
            flags = [Flag(code=FlagCode.NO_SOURCE, severity=Severity.WARNING, message="no source")] \
                if rnd.random() < 0.3 else []
            store.set_answer(s.id, turn.id, make_answer(q, confidence=rnd.choice(list(Confidence)), flags=flags))
        if rnd.random() < 0.4:
            store.add_note(s.id, Note(text=rnd.choice(["replaced impeller", "customer informed"])))
        if rnd.random() < 0.7:
            store.close_session(s.id, rnd.choice(list(Outcome)))
        if rnd.random() < 0.3:
            store.review(Review(session_id=s.id, reviewer="Sup", verdict=rnd.choice(list(Verdict))))
        out.append(store.get(s.id))
    return out


def _lowest(s: Session):
    rank = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
    levels = [t.answer.confidence for t in s.turns if t.answer]
    return min(levels, key=rank.get) if levels else None


def _codes(s: Session) -> set[str]:
    codes = set()
    for t in s.turns:
        if t.answer:
            codes |= {f.code for f in t.answer.flags}
            for st in t.answer.steps:
                codes |= {f.code for f in st.flags}
    return codes


def _text(s: Session) -> str:
    parts = [t.question for t in s.turns] + [n.text for n in s.notes]
    parts += [t.answer.summary for t in s.turns if t.answer]
    parts += [st.action for t in s.turns if t.answer for st in t.answer.steps]
    return " ".join(parts).lower()


@pytest.mark.parametrize("fts", [True, False], ids=["fts5", "like-fallback"])
def test_filters_match_a_python_model_of_them(store: SessionStore, fts: bool) -> None:
    pop = _population(store)
    if not fts:
        store._fts = False  # the portable path PostgreSQL would take
    mid = sorted(s.created_at for s in pop)[len(pop) // 2]
    cases = [
        (SessionFilter(), lambda s: True),
        (SessionFilter(equipment_id="pump-cp40"), lambda s: s.equipment_id == "pump-cp40"),
        (SessionFilter(equipment_id=["hvac-r22", "press-h9"]), lambda s: s.equipment_id in ("hvac-r22", "press-h9")),
        (SessionFilter(technician="ana"), lambda s: s.technician == "Ana"),
        (SessionFilter(date_from=mid), lambda s: s.created_at >= mid),
        (SessionFilter(date_to=mid), lambda s: s.created_at < mid),
        (SessionFilter(outcome=Outcome.FIXED), lambda s: s.outcome == Outcome.FIXED),
        (SessionFilter(open=True), lambda s: s.outcome is None),
        (SessionFilter(flag_codes=[FlagCode.NO_SOURCE]), lambda s: "no_source" in _codes(s)),
        (SessionFilter(flagged=True), lambda s: "no_source" in _codes(s)),
        (SessionFilter(confidence="low"), lambda s: _lowest(s) == Confidence.LOW),
        (SessionFilter(max_confidence="medium"), lambda s: _lowest(s) in (Confidence.LOW, Confidence.MEDIUM)),
        (SessionFilter(reviewed=True), lambda s: bool(s.reviews)),
        (SessionFilter(reviewed=False), lambda s: not s.reviews),
        (SessionFilter(verdict=Verdict.APPROVED), lambda s: bool(s.reviews) and s.reviews[-1].verdict == "approved"),
        (SessionFilter(query="cavitation"), lambda s: "cavitation" in _text(s)),
        (SessionFilter(query="Impeller replaced"), lambda s: "impeller" in _text(s) and "replaced" in _text(s)),
        (SessionFilter(query="E-101"), lambda s: "e-101" in _text(s)),
        (SessionFilter(equipment_id="pump-cp40", open=False, query="seal"),
         lambda s: s.equipment_id == "pump-cp40" and s.outcome is not None and "seal" in _text(s)),
    ]
    for f, keep in cases:
        got = {x.id for x in store.list(f, limit=1000)}
        want = {s.id for s in pop if keep(s)}
        assert got == want, f"filter {f.model_dump(exclude_defaults=True)}"
        assert store.count(f) == len(want)
    assert {x.id for x in store.list(SessionFilter(query="no-such-words-here"))} == set()
    assert store.list(SessionFilter(query='"unbalanced (quote AND')) is not None  # no query-syntax errors


def test_list_order_paging_and_summary(store: SessionStore) -> None:
    pop = _population(store, 12)
    rows = store.list(limit=5) + store.list(limit=5, offset=5) + store.list(limit=5, offset=10)
    expected = sorted(sorted(pop, key=lambda s: s.id), key=lambda s: s.updated_at, reverse=True)
    assert [r.id for r in rows] == [s.id for s in expected]
    assert len({r.id for r in rows}) == 12
    by_id = {s.id: s for s in pop}
    for r in rows:
        s = by_id[r.id]
        assert r.turn_count == len(s.turns) and r.outcome == s.outcome and r.technician == s.technician
        assert r.first_question == (s.turns[0].question if s.turns else "")
        assert r.confidence == _lowest(s)


def test_dashboard_counts(store: SessionStore) -> None:
    pop = _population(store, 30)
    d = store.dashboard()
    closed = [s for s in pop if s.outcome]
    assert d["sessions"] == 30
    assert d["closed"] == len(closed) and d["open"] == 30 - len(closed)
    assert d["fixed"] == sum(s.outcome == Outcome.FIXED for s in pop)
    assert d["fix_rate"] == pytest.approx(d["fixed"] / len(closed))
    assert d["flagged"] == d["needs_review"] == sum(_needs_review(s) for s in pop)
    assert d["flagged_rate"] == pytest.approx(d["flagged"] / 30)
    assert d["low_confidence"] == sum(_lowest(s) == Confidence.LOW for s in pop)
    assert d["reviewed"] == sum(bool(s.reviews) for s in pop)
    per = {}
    for s in pop:
        per[s.equipment_id or ""] = per.get(s.equipment_id or "", 0) + 1
    assert d["per_equipment"] == per
    only_pump = store.dashboard(SessionFilter(equipment_id="pump-cp40"))
    assert only_pump["sessions"] == per.get("pump-cp40", 0)


def _needs_review(s: Session) -> bool:
    """The review rule, written out over a whole Session (independently of review_rule's SQL and Python)."""
    verdict = s.reviews[-1].verdict if s.reviews else None
    doubts = {"reading_uncertain", "no_source", "ungrounded_step", "citation_invalid", "conflicting_sources",
              "model_output_repaired", "equipment_unidentified"}
    return verdict is None and (_lowest(s) == Confidence.LOW or bool(_codes(s) & doubts)
                                or s.outcome in (Outcome.ESCALATED, Outcome.NOT_FIXED))


def test_needs_review_is_one_rule_for_dashboard_filter_and_rows(store: SessionStore) -> None:
    """A safety note or an offline answer alone is normal work: only doubts, low confidence or an
    unresolved outcome, not yet given a verdict, need a reviewer. Dashboard, filter and the app's row
    badge agree."""
    from assistant.sessions.review_rule import needs_review

    def flag(code, severity=Severity.WARNING):
        return Flag(code=code, severity=severity, message=str(code))

    def make(name, *, confidence=Confidence.MEDIUM, flags=(), outcome=None, review=None):
        s = store.create(equipment_id=name)
        turn = store.add_turn(s.id, Turn(question=f"question for {name}"))
        store.set_answer(s.id, turn.id, make_answer(turn.question, confidence=confidence, flags=list(flags)))
        if outcome:
            store.close_session(s.id, outcome)
        if review is not None:
            store.review(Review(session_id=s.id, verdict=review, comment="looked at it"))
        return s.id

    expected = {
        make("safety-only", flags=[flag(FlagCode.SAFETY_CRITICAL, Severity.CRITICAL)], outcome=Outcome.FIXED): False,
        make("offline", flags=[flag(FlagCode.OFFLINE_FALLBACK)]): False,
        make("conflict", confidence=Confidence.HIGH, flags=[flag(FlagCode.CONFLICTING_SOURCES)]): True,
        make("low", confidence=Confidence.LOW, outcome=Outcome.FIXED): True,
        make("escalated", outcome=Outcome.ESCALATED): True,
        make("parts", outcome=Outcome.PARTS_NEEDED): False,
        make("low-judged", confidence=Confidence.LOW, review=Verdict.APPROVED): False,
        make("comment-only", flags=[flag(FlagCode.READING_UNCERTAIN)], review=None): True,
    }
    comment_only = [k for k, v in expected.items()][-1]
    store.review(Review(session_id=comment_only, comment="no verdict yet"))  # a comment is not a verdict
    want = {sid for sid, needs in expected.items() if needs}
    d = store.dashboard()
    assert d["flagged"] == d["needs_review"] == len(want) == 4
    assert d["flagged_rate"] == pytest.approx(4 / len(expected))
    assert {s.id for s in store.list(SessionFilter(needs_review=True))} == want
    assert {s.id for s in store.list(SessionFilter(needs_review=False))} == set(expected) - want
    assert {s.id for s in store.list() if needs_review(s)} == want  # the app's row badge
    assert {sid for sid in expected if _needs_review(store.get(sid))} == want


def test_empty_dashboard(store: SessionStore) -> None:
    d = store.dashboard()
    assert d["sessions"] == 0 and d["fix_rate"] is None and d["per_equipment"] == {}


def test_date_filters_accept_aware_and_naive(store: SessionStore) -> None:
    s = store.create()
    now = utc_now()
    assert [x.id for x in store.list(SessionFilter(date_from=now - timedelta(minutes=1)))] == [s.id]
    assert store.list(SessionFilter(date_from=(now + timedelta(minutes=1)).replace(tzinfo=None))) == []


def test_delete_removes_the_session_from_search(store: SessionStore) -> None:
    keep, gone = store.create(), store.create()
    for s in (keep, gone):
        store.add_note(s.id, Note(text="impeller worn on the suction side"))
    store.delete(gone.id)
    assert [x.id for x in store.list(SessionFilter(query="impeller"))] == [keep.id]
    store._fts = False  # and by the portable path
    assert [x.id for x in store.list(SessionFilter(query="impeller"))] == [keep.id]
    assert store.dashboard()["sessions"] == 1


def test_like_fallback_treats_wildcards_literally(store: SessionStore) -> None:
    a, b = store.create(), store.create()
    store.add_note(a.id, Note(text="valve a_b stuck"))
    store.add_note(b.id, Note(text="valve axb stuck"))
    store._fts = False
    assert [x.id for x in store.list(SessionFilter(query="a_b"))] == [a.id]


def test_a_delete_cut_short_by_a_crash_is_repaired_on_open(store: SessionStore) -> None:
    kept_data, orphan_data = make_jpeg(31), make_jpeg(32)
    kept, orphan = make_photo(kept_data), make_photo(orphan_data)
    s = store.create()
    store.add_photo(s.id, kept, kept_data)
    # as if a delete had moved the file aside and then died before its transaction committed
    moved = store.blobs.move_to_trash(kept.id, "jpg")
    assert moved and not store.blobs.original_path(kept.id, "jpg").exists()
    # and as if another delete had committed but died before emptying the trash
    store.blobs.put(orphan.id, "jpg", orphan_data, None)
    store.blobs.move_to_trash(orphan.id, "jpg")
    store.close()
    reopened = SessionStore(store.root)
    try:
        assert reopened.photo_path(kept.id).read_bytes() == kept_data  # restored: still referenced
        assert list(reopened.blobs.trash.iterdir()) == []  # the orphan is gone for good
        assert not reopened.blobs.original_path(orphan.id, "jpg").exists()
    finally:
        reopened.close()


def test_verify_finds_altered_and_missing_photos(store: SessionStore) -> None:
    s = _full_session(store)
    assert store.verify(s.id) == []
    first, second = s.photos[0].id, s.photos[1].id
    store.photo_path(first).write_bytes(b"tampered")
    store.photo_path(second).unlink()
    problems = store.verify(s.id)
    assert any("altered" in p and first[:12] in p for p in problems)
    assert any("missing" in p and second[:12] in p for p in problems)
