"""The offline engine and the evidence rules, end to end through answer_question."""

from __future__ import annotations

import pytest

import fl_reasoning_support as S
from assistant.config import Settings
from assistant.domain import Confidence, FlagCode, Mode, PassageKind, ProviderName
from assistant.errors import ProviderUnavailable
from assistant.reasoning import answer_question
from assistant.reasoning.grounding import normalise


def _codes(answer) -> set[str]:
    return {f.code.value for f in answer.flags}


def _ask(home, question, readings=(), equipment=S.PUMP, retriever=None, **kw):
    settings = kw.pop("settings", None) or Settings(home=home)
    events = []
    answer = answer_question(question, readings=list(readings), images=[], equipment=equipment,
                             retriever=retriever or S.retriever(), settings=settings, on_event=events.append, **kw)
    return answer, events


def _assert_quotes_verbatim(answer, retriever):
    for step in answer.steps:
        for c in step.citations:
            assert normalise(c.quote) in normalise(retriever.passage(c.passage_id).text), (step.index, c.quote)


def test_code_on_photo_first_step_cites_fault_entry_then_remedy_then_procedure(home):
    r = S.retriever()
    answer, events = _ask(home, "the motor keeps tripping", [S.photo_reading(code="E21")], retriever=r)
    assert answer.provider == "offline" and not answer.abstained
    assert answer.steps[0].citations[0].passage_id == "x20-p6-e21"
    assert "E21" in answer.steps[0].action
    cited = [s.citations[0].passage_id for s in answer.steps]
    assert cited.count("x20-p6-e21") == 3  # the entry plus its two remedy items
    assert "x20-p7-proc-oc" in cited
    assert [s.action for s in answer.steps if s.citations[0].passage_id == "x20-p7-proc-oc"][0] == \
        "Switch off and lock out the main isolator."
    _assert_quotes_verbatim(answer, r)
    assert FlagCode.OFFLINE_FALLBACK.value not in _codes(answer)
    assert "manuals alone" in answer.summary
    assert answer.confidence == Confidence.HIGH
    assert all(s.citations for s in answer.steps)
    # each step streamed once, in order, before done
    streamed = [e.step.index for e in events if e.step is not None]
    assert streamed == [s.index for s in answer.steps]
    assert events[-1].stage == "done"
    assert {e.stage for e in events} >= {"reading_photos", "searching", "drafting", "synthesising", "done"}


def test_code_named_in_question(home):
    answer, _ = _ask(home, "What does E34 mean?", [])
    assert answer.steps[0].citations[0].passage_id == "x20-p6-e34"
    assert any(s.citations[0].passage_id == "x20-p7-proc-dry" for s in answer.steps)


def test_safety_steps_carry_the_manuals_warning(home):
    answer, _ = _ask(home, "motor trips", [S.photo_reading(code="E21")])
    lockout = next(s for s in answer.steps if "lock out" in s.action)
    assert any(f.code == FlagCode.SAFETY_CRITICAL for f in lockout.flags)
    assert any("Hazardous voltage" in note for note in lockout.safety)
    restart = next(s for s in answer.steps if s.action.startswith("Refit the guard"))
    assert not any(f.code == FlagCode.SAFETY_CRITICAL for f in restart.flags)


def test_no_code_question_search_builds_steps_from_procedure(home):
    answer, _ = _ask(home, "pump is noisy and vibrating", [])
    assert not answer.abstained
    assert [c.passage_id for s in answer.steps for c in s.citations] == ["x20-p8-noise"] * 3


def test_unrelated_question_abstains_without_calling_a_model(home):
    with S.ScriptedServer([S.Reply(status=500, text="{}")]) as server:
        settings = S.settings_for(home, "openai", server.url + "/v1")
        answer, _ = _ask(home, "how do I replace the flux capacitor on a toaster", [], equipment=None,
                         settings=settings)
        assert server.received == []
    assert answer.abstained and answer.steps == []
    assert FlagCode.NO_SOURCE.value in _codes(answer)
    assert answer.confidence == Confidence.LOW


def test_equipment_unidentified_and_capped(home):
    answer, _ = _ask(home, "motor trips", [S.photo_reading(code="E21")], equipment=None)
    assert FlagCode.EQUIPMENT_UNIDENTIFIED.value in _codes(answer)
    assert answer.confidence == Confidence.MEDIUM
    assert any("not identified" in u for u in answer.unsure_because)


def test_uncertain_reading_and_blurry_photo_lower_confidence(home):
    reading = S.photo_reading(code="E21", confidence=0.55, alternatives=["E27"], flags=[FlagCode.IMAGE_BLURRY])
    answer, _ = _ask(home, "motor trips", [reading])
    codes = _codes(answer)
    assert FlagCode.READING_UNCERTAIN.value in codes and FlagCode.IMAGE_BLURRY.value in codes
    assert answer.confidence == Confidence.LOW
    assert answer.steps[0].confidence == Confidence.LOW
    assert any("0.55" in u for u in answer.unsure_because)


def test_unknown_code_is_said(home):
    answer, _ = _ask(home, "pump is noisy", [S.photo_reading(code="E99")])
    assert any("E99" in u for u in answer.unsure_because)


def test_conflicting_revisions_are_flagged(home):
    older = S._p("x20-revc-dry", 7, "7 Troubleshooting > 7.3 Dry running", PassageKind.PROCEDURE,
                 "Procedure for dry running (E34):\n1. Stop the pump.\n2. Fill the casing through the priming plug.",
                 doc="doc-x20-manual-revc", revision="C")
    answer, _ = _ask(home, "dry running procedure E34", [], retriever=S.retriever([older]))
    flags = [f for f in answer.flags if f.code == FlagCode.CONFLICTING_SOURCES]
    assert len(flags) == 1 and "Revision D and revision C" in flags[0].message and "7.3 Dry running" in flags[0].message
    assert answer.confidence != Confidence.HIGH


def test_same_revision_or_other_document_is_not_a_conflict(home):
    other = S._p("other-dry", 7, "7 Troubleshooting > 7.3 Dry running", PassageKind.PROCEDURE,
                 "Procedure for dry running: stop the compressor.", doc="doc-compressor", title="AC-9 Compressor Guide",
                 revision="A")
    answer, _ = _ask(home, "dry running procedure E34", [], retriever=S.retriever([other]))
    assert FlagCode.CONFLICTING_SOURCES.value not in _codes(answer)


def test_unconfigured_model_provider_falls_back_or_refuses(home):
    settings = Settings(home=home, provider=ProviderName.OPENAI)  # no key, no base URL
    answer, _ = _ask(home, "motor trips", [S.photo_reading()], settings=settings)
    fb = [f for f in answer.flags if f.code == FlagCode.OFFLINE_FALLBACK]
    assert fb and answer.provider == "offline" and "manuals alone" in answer.summary
    with pytest.raises(ProviderUnavailable):
        _ask(home, "motor trips", [S.photo_reading()], settings=settings, allow_fallback=False)


def test_thinking_mode_offline_still_answers(home):
    answer, events = _ask(home, "motor trips", [S.photo_reading()], mode=Mode.THINKING)
    assert answer.mode == Mode.THINKING and answer.steps


def test_sync_wrapper_inside_running_loop(home):
    import asyncio

    async def inside():
        return _ask(home, "motor trips", [S.photo_reading()])[0]

    answer = asyncio.run(inside())
    assert answer.steps
