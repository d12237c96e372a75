"""Pure helpers of the app: highlight parsing, quote finding, plain sentences,
procedure lines, plain words for flags."""

from __future__ import annotations

from app.components.highlight import find_quote, split_highlights
from app.components.words import FLAG_WORDS, stage_words, words
from app.state import PendingTurn, plain_sentence
from app.views.library import procedure_lines
from assistant.domain import Confidence, FlagCode, Mode, ProgressEvent, Step
from assistant.errors import ConfigError


def test_split_highlights_marks_terms_bold_in_order() -> None:
    assert split_highlights("Alarm [[A12]] means [[dry run]].") == [
        ("Alarm ", False), ("A12", True), (" means ", False), ("dry run", True), (".", False)]
    assert split_highlights("no marks") == [("no marks", False)]
    assert split_highlights("") == []
    assert split_highlights("[[x]]") == [("x", True)]


def test_find_quote_ignores_case_and_whitespace_runs() -> None:
    text = "Remedy: Let the motor\ncool.  Clean the fan cowl."
    start, end = find_quote(text, "let the MOTOR cool")
    assert text[start:end].lower().split() == ["let", "the", "motor", "cool"]
    assert find_quote(text, "not there") is None
    assert find_quote(text, "") is None


def test_plain_sentence_turns_validation_noise_into_one_sentence() -> None:
    msg = plain_sentence(ConfigError("Invalid base_url: Value error, the base URL must start with http:// or https://."))
    assert msg == "The base URL must start with http:// or https://."
    assert plain_sentence("Invalid timeout_s: Input should be greater than 0") == \
        "The timeout is not valid: it should be greater than 0."
    assert plain_sentence("no full stop").endswith(".")
    assert "\n" not in plain_sentence("first line\nsecond line")


def test_procedure_lines_numbers_and_continuations() -> None:
    lines = procedure_lines("Before you start\n1. Switch off.\n2) Lock out\n   the isolator.\nNote: done")
    assert lines == [(None, "Before you start"), ("1", "Switch off."), ("2", "Lock out the isolator."),
                     (None, "Note: done")]


def test_every_flag_code_has_plain_words() -> None:
    for code in FlagCode:
        assert words(FLAG_WORDS, code) and "_" not in words(FLAG_WORDS, code)
    assert stage_words("searching", "the manuals") == "Searching the manuals: the manuals"
    assert stage_words("unknown_stage") == "Unknown stage"


def test_pending_turn_keeps_streamed_steps_sorted_and_one_entry_per_stage() -> None:
    p = PendingTurn(question="q", mode=Mode.INSTANT)
    step = lambda i: Step(index=i, action=f"a{i}", confidence=Confidence.HIGH)  # noqa: E731
    p.apply(ProgressEvent(stage="searching", message="x", fraction=0.2))
    p.apply(ProgressEvent(stage="drafting", step=step(2)))
    p.apply(ProgressEvent(stage="drafting", step=step(1)))
    p.apply(ProgressEvent(stage="drafting", step=step(2)))
    assert [s.index for s in p.steps] == [1, 2]
    assert [e.stage for e in p.stages] == ["searching", "drafting"]
    assert p.fraction == 0.2


def test_top_of_answer_names_the_code_read_how_sure_and_one_reason() -> None:
    from app.components.answer_top import top_facts
    from assistant.domain import Answer, Confidence, Flag, FlagCode, Observation, ObservationKind, Severity

    answer = Answer(
        provider="offline", confidence=Confidence.MEDIUM,
        observations=[Observation(photo="p", kind=ObservationKind.TEXT, value="RUN", confidence=0.99),
                      Observation(photo="p", kind=ObservationKind.FAULT_CODE, value="F004", confidence=0.8)],
        flags=[Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.CRITICAL, message="Lock out"),
               Flag(code=FlagCode.READING_UNCERTAIN, severity=Severity.WARNING, message="F004 could be F005")],
    )
    f = top_facts(answer)
    assert (f.code, f.read_confidence, f.confidence) == ("F004", 0.8, Confidence.MEDIUM)
    assert f.unsure == "F004 could be F005"  # a safety note is not a reason to be unsure
    answer.unsure_because = ["Two revisions of the manual disagree.\nmore detail"]
    assert top_facts(answer).unsure == "Two revisions of the manual disagree."
    answer.observations[1].confirmed = True
    assert top_facts(answer).read_confirmed and top_facts(answer).read_confidence == 1.0
    bare = top_facts(Answer(provider="offline"))
    assert bare.code == "" and bare.read_confidence is None and bare.unsure == ""
