"""AppState against the real engine: a seeded data folder, real photos,
the offline engine, the real sessions store. No browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.state import AppState
from assistant.domain import Mode, ObservationKind, Outcome, StepStatus
from assistant.errors import ConfigError, FieldlensError


def test_photo_ask_tick_correct_close_export(state: AppState, photos: Path) -> None:
    host = state.host
    host.call(state.select_equipment, "vfd-vx500")
    reading = host.call(state.add_photo, (photos / "vfd-vx500-display-f004.jpg").read_bytes(), "display.jpg")
    codes = [o.value for o in reading.observations if o.kind == ObservationKind.FAULT_CODE]
    assert "F004" in codes
    obs = state.photo_observations(reading.photo.id)
    assert obs and all(o.kind != ObservationKind.TEXT for _, o in obs)
    assert state.thumb(reading.photo.id)[:2] == b"\xff\xd8"

    index, first = obs[0]
    corrected = host.call(state.correct, reading.photo.id, index, None, True)
    assert corrected.confirmed
    assert state.photo_observations(reading.photo.id)[0][1].confirmed
    with pytest.raises(FieldlensError):
        host.call(state.correct, reading.photo.id, index, "   ", True)

    events = []
    answer = host.call(state.ask, "The drive trips when accelerating", Mode.INSTANT, events.append)
    assert answer.steps and answer.steps[0].citations
    assert [e for e in events if e.step is not None], "steps should stream"
    assert state.pending is None
    turn = state.turns()[-1]
    assert turn.answer is not None and turn.answer.session_id == state.session.id

    host.call(state.record_step, turn.id, 1, StepStatus.DONE, "ramp fixed")
    outcome = state.outcome_for(turn.id, 1)
    assert outcome is not None and outcome.status == StepStatus.DONE and outcome.note == "ramp fixed"
    assert state.outcome_for(turn.id, 2) is None

    c = answer.steps[0].citations[0]
    viewer = host.call(state.open_page, c.doc_id, c.page, c.passage_id, c.quote)
    assert viewer.passage is not None and viewer.passage.id == c.passage_id
    if viewer.doc.page_count:
        assert viewer.image and viewer.image[:4] == b"\x89PNG"

    host.call(state.close, Outcome.FIXED)
    assert state.is_closed
    with pytest.raises(FieldlensError):
        state.begin_ask("again?", Mode.INSTANT)

    state.filters.outcome = Outcome.FIXED.value
    rows = host.call(state.list_sessions)
    assert state.session.id in [r.id for r in rows]
    state.filters.outcome = "open"
    assert state.session.id not in [r.id for r in host.call(state.list_sessions)]
    state.filters.outcome = None

    host.call(state.open_session, state.session.id)
    review = host.call(state.submit_review, "approved", "Good work", {1: "good"}, turn.id, "Sup")
    assert review.verdict.value == "approved"
    kinds = [k for _, k, _ in state.timeline(state.selected)]
    assert kinds[0] == "start" and {"photo", "question", "answer", "step", "close", "review"} <= set(kinds)
    out = host.call(state.export, "json")
    assert out.exists() and "Good work" in out.read_text()
    json.loads(out.read_text())


def test_empty_question_and_review_are_plain_errors(state: AppState) -> None:
    with pytest.raises(FieldlensError, match="question"):
        state.begin_ask("   ", Mode.INSTANT)
    state.selected = None
    with pytest.raises(FieldlensError):
        state.host.call(state.submit_review, None, "", {}, None)


def test_identify_equipment_from_asset_tag_photo(state: AppState, photos: Path) -> None:
    eq, reading = state.host.call(state.identify, (photos / "pump-cp40-asset-tag-qr.jpg").read_bytes(), "tag.jpg")
    assert eq is not None and eq.id == "pump-cp40"
    assert state.equipment is not None and state.equipment.id == "pump-cp40"
    assert state.host.call(state.identify_by_tag, "NO-SUCH-TAG") is None


def test_settings_validation_is_one_plain_sentence_and_key_is_masked(state: AppState) -> None:
    host = state.host
    with pytest.raises(ConfigError) as err:
        host.call(state.save_settings, base_url="ftp://example")
    assert str(err.value) == "The base URL must start with http:// or https://."
    saved = host.call(state.save_settings, base_url="http://127.0.0.1:9/v1", api_key="sk-secret-abcdef1234",
                      technician="Ana")
    assert saved.base_url == "http://127.0.0.1:9/v1" and saved.technician == "Ana"
    assert saved.masked_key().endswith("1234") and "secret" not in saved.masked_key()
    settings_text = (Path(saved.home) / "settings.json").read_text()
    assert "sk-secret" not in settings_text
    host.call(state.save_settings, base_url="", api_key=None)
