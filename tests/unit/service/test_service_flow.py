"""The façade's ordering guarantees: photos and questions are saved before the
work that could fail, equipment is identified from what was read, and a
failing model leaves the session intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.domain import FlagCode, Outcome, StepStatus
from assistant.errors import ProviderUnavailable, UnknownEquipment, UnreadablePhoto
from assistant.service import Fieldlens

ROOT = Path(__file__).resolve().parents[3]
PHOTOS = ROOT / "assets" / "photos"


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    return json.loads((PHOTOS / "manifest.json").read_text())


@pytest.fixture(scope="module")
def fl(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("service") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIELDLENS_SAMPLES", "1")
        for name in ("FIELDLENS_PROVIDER", "FIELDLENS_MODEL", "FIELDLENS_BASE_URL", "OPENAI_API_KEY"):
            mp.delenv(name, raising=False)
        service = Fieldlens(load_settings(home, env={}))
        yield service
        service.close()


def first(manifest: list[dict], kind: str) -> dict:
    return next(p for p in manifest if p["kind"] == kind and (p.get("codes") or p.get("asset_tags") or kind == "nameplate"))


def test_asset_tag_photo_identifies_the_equipment(fl: Fieldlens, manifest: list[dict]) -> None:
    tag = first(manifest, "asset_tag")
    session = fl.start_session()
    reading = fl.add_photo(session.id, PHOTOS / tag["file"])
    assert tag["asset_tags"][0] in [o.value for o in reading.observations]
    assert fl.get_session(session.id).equipment_id == tag["equipment_id"]


def test_display_code_known_to_one_machine_identifies_it(fl: Fieldlens, manifest: list[dict]) -> None:
    display = first(manifest, "display")
    session = fl.start_session()
    fl.add_photo(session.id, PHOTOS / display["file"])
    assert fl.get_session(session.id).equipment_id == display["equipment_id"]


def test_follow_up_steps_notes_and_outcome_are_kept(fl: Fieldlens, manifest: list[dict]) -> None:
    display = first(manifest, "display")
    answer = fl.ask("the unit stopped", photos=[PHOTOS / display["file"]])
    assert answer.steps and answer.steps[0].citations
    assert answer.equipment is not None and answer.equipment.id == display["equipment_id"]
    follow_up = fl.ask("it came back after the reset", session_id=answer.session_id)
    assert follow_up.session_id == answer.session_id
    session = fl.get_session(answer.session_id)
    assert [t.question for t in session.turns] == ["the unit stopped", "it came back after the reset"]
    assert session.turns[1].photo_ids == session.turns[0].photo_ids, "earlier photos stay in context"

    turn = session.turns[0]
    assert answer.turn_id == turn.id
    fl.record_step(session.id, turn.id, 1, StepStatus.DONE, note="reset done", photo=PHOTOS / display["file"])
    fl.add_note(session.id, "customer reports it happens weekly")
    fl.close_session(session.id, Outcome.FIXED)
    saved = fl.get_session(session.id)
    assert saved.outcome is Outcome.FIXED and saved.closed_at is not None
    assert saved.step_outcomes[0].status is StepStatus.DONE and saved.step_outcomes[0].photo_ids
    assert saved.notes[0].text.startswith("customer")


def test_bad_photo_creates_no_session(fl: Fieldlens, tmp_path: Path) -> None:
    before = len(fl.list_sessions(limit=1000))
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a photo at all")
    with pytest.raises(UnreadablePhoto):
        fl.ask("what is wrong", photos=[junk])
    assert len(fl.list_sessions(limit=1000)) == before


def test_unknown_equipment_is_refused(fl: Fieldlens) -> None:
    with pytest.raises(UnknownEquipment):
        fl.ask("noise", equipment_id="no-such-machine")


def test_unreachable_model_falls_back_and_the_session_survives(fl: Fieldlens) -> None:
    fl.settings = fl.settings.model_copy(update={"base_url": "http://127.0.0.1:9", "model": "m", "timeout_s": 2.0,
                                                 "max_retries": 0})
    try:
        answer = fl.ask("pump is cavitating and noisy", provider="openai", equipment_id="pump-cp40")
        assert FlagCode.OFFLINE_FALLBACK in [f.code for f in answer.flags]
        with pytest.raises(ProviderUnavailable):
            fl.ask("still noisy", session_id=answer.session_id, provider="openai", allow_fallback=False)
        session = fl.get_session(answer.session_id)
        assert session.turns[0].answer is not None
        assert session.turns[1].answer is None and session.turns[1].error
        assert "still noisy" == session.turns[1].question
    finally:
        fl.settings = load_settings(fl.settings.home, env={})


def test_first_start_interrupted_while_seeding_finishes_next_time(tmp_path: Path, monkeypatch) -> None:
    from assistant.library import Library

    monkeypatch.setenv("FIELDLENS_SAMPLES", "1")
    home = tmp_path / "home"
    settings = load_settings(home, env={})
    calls = []

    def dies_half_way(self, catalog):  # the battery dies during the first seed
        calls.append(catalog)
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(Library, "seed", dies_half_way)
        with pytest.raises(KeyboardInterrupt):
            Fieldlens(settings).list_documents()  # the library (and the seeding) opens when first needed
    assert calls and (home / "library" / "index.sqlite").exists()
    with Fieldlens(load_settings(home, env={})) as fl:
        assert len(fl.list_documents()) >= 3
    with Fieldlens(load_settings(home, env={})) as fl:  # seeded once: later starts do nothing more
        assert not (home / "library" / "samples-pending").exists()


def test_existing_home_is_not_seeded_later(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("FIELDLENS_SAMPLES", "0")
    Fieldlens(load_settings(home, env={})).close()
    monkeypatch.setenv("FIELDLENS_SAMPLES", "1")
    with Fieldlens(load_settings(home, env={})) as fl:
        assert fl.list_documents() == []
