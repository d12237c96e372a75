"""Fault-code normalisation and matching against the codes the library knows (no OCR involved)."""

from __future__ import annotations

from assistant.domain import Box, FlagCode
from assistant.perception.codes import (
    CodeCandidate,
    CodeMatcher,
    candidates_from_lines,
    code_skeleton,
    decide,
    match_line,
    normalise_code,
    prominent,
)
from assistant.perception.codes import text_height as code_text_height
from assistant.perception.ocr import OcrLine

KNOWN = ["F004", "F012", "E-21", "OC1", "A12", "Err 07", "2310", "AL-3", "P.05", "S01", "501"]


def line(text: str, conf: float = 0.95, x: int = 10, y: int = 10) -> OcrLine:
    return OcrLine(text, conf, Box(x=x, y=y, width=200, height=40))


def codes_in(text: str, segments: bool = False) -> dict[str, float]:
    return {c: q for c, q, _raw, _ctx in match_line(text, CodeMatcher(KNOWN), segments=segments)}


def test_normalisation():
    assert normalise_code(" e-21 ") == "E21"
    assert normalise_code("Err 07") == "ERR07"
    assert normalise_code("P.05") == "P05"
    assert code_skeleton("FOO4") == code_skeleton("F004") == "F004"
    assert code_skeleton("0CI") == code_skeleton("OC1")
    assert code_skeleton("ZS8G") == "2586"


def test_exact_and_separator_variants_match_with_full_quality():
    for text, code in [("E-21", "E-21"), ("E21", "E-21"), ("E 21", "E-21"), ("e.21", "E-21"), ("ERR 07", "Err 07"),
                       ("Err07", "Err 07"), ("AL3", "AL-3"), ("P05", "P.05")]:
        got = codes_in(text)
        assert code in got and got[code] >= 0.9, (text, got)


def test_ocr_confusions_match_with_lower_quality():
    got = codes_in("FOO4")
    assert got["F004"] < 1.0 and got["F004"] >= 0.7
    assert "OC1" in codes_in("0C1")
    assert "OC1" not in codes_in("0CI")  # two substitutions in three characters: not a reading
    assert "A12" in codes_in("AI2")
    assert "2310" in codes_in("Z31O")
    assert "2310" not in codes_in("Z3IO")  # three substitutions: not a reading


def test_context_words_glued_or_separate():
    assert "F004" in codes_in("FAULT F004")
    assert "F004" in codes_in("FAULTF004")
    assert "E-21" in codes_in("ALARM: E-21 overcurrent")


def test_text_that_is_not_a_known_code_yields_nothing():
    for text in ["F 2024", "230V", "STOP", "Model CP-40", "1450 rpm", "F0045", "E-211", "READY 50.0 Hz", "A1", ""]:
        assert codes_in(text) == {}, text


def test_unknown_schemes_work_when_the_library_knows_them():
    matcher = CodeMatcher(["Q-7781", "ZX9"])
    assert {c for c, *_ in match_line("Warn Q 7781", matcher)} == {"Q-7781"}
    assert {c for c, *_ in match_line("ZX9", matcher)} == {"ZX9"}
    assert match_line("F004", matcher) == []


def test_seven_segment_misreadings_only_on_display_text():
    assert "A12" not in codes_in("812")
    got = codes_in("812", segments=True)  # seven-segment A and 8 differ by one segment
    assert "A12" in got and got["A12"] < 1.0
    assert codes_in("1450", segments=True) == {}


def test_bare_numbers_score_lower_than_codes_with_context():
    matcher = CodeMatcher(KNOWN)
    bare = candidates_from_lines([line("2310")], matcher)[0]
    ctx = candidates_from_lines([line("ALARM 2310")], matcher)[0]
    assert bare.code == ctx.code == "2310" and bare.score < ctx.score


def test_context_on_a_nearby_line_raises_the_score():
    matcher = CodeMatcher(KNOWN)
    alone = candidates_from_lines([line("F004", y=100)], matcher)[0]
    near = candidates_from_lines([line("FAULT", y=50), line("F004", y=100)], matcher)
    assert [c.score for c in near if c.code == "F004"][0] > alone.score


def test_competing_readings_raise_reading_uncertain():
    cands = candidates_from_lines([line("5O12", 0.9)], CodeMatcher(["S012", "5012"]))
    assert {c.code for c in cands} == {"S012", "5012"}
    obs, flags = decide(cands, "photo1")
    assert len(obs) == 1 and obs[0].alternatives
    assert {obs[0].value, *obs[0].alternatives} == {"S012", "5012"}
    assert [f.code for f in flags] == [FlagCode.READING_UNCERTAIN]


def test_weak_reading_is_flagged_but_kept():
    c = CodeCandidate(code="F004", score=0.45, raw="F0O4", box=Box(x=0, y=0, width=10, height=10), source="ocr",
                      quality=0.76)
    obs, flags = decide([c], "p")
    assert obs[0].value == "F004" and flags and flags[0].code == FlagCode.READING_UNCERTAIN


def test_agreeing_passes_raise_confidence_and_separate_regions_stay_separate():
    b1, b2 = Box(x=0, y=0, width=100, height=40), Box(x=0, y=300, width=100, height=40)
    cands = [CodeCandidate("F004", 0.7, "F004", b1, "ocr", 1.0), CodeCandidate("F004", 0.8, "F004", b1, "display_pass", 1.0),
             CodeCandidate("E-21", 0.9, "E-21", b2, "ocr", 1.0)]
    obs, flags = decide(cands, "p")
    assert {o.value for o in obs} == {"F004", "E-21"} and not flags
    f004 = next(o for o in obs if o.value == "F004")
    assert f004.confidence > 0.8


def test_no_known_codes_means_no_codes():
    assert candidates_from_lines([line("F004")], CodeMatcher([])) == []


def test_measurements_are_never_codes():
    matcher = CodeMatcher(["1400", "2310", "E-22", "A05"])
    for text in ["1400 rpm", "22.2 A 7.5 kW", "23.10", "1400 V", "Speed 1400 rpm"]:
        assert match_line(text, matcher, segments=True) == [], text
    assert [c for c, *_ in match_line("ALARM 1400", matcher)] == ["1400"]


def test_short_codes_allow_only_one_stroke_difference():
    matcher = CodeMatcher(["E-22", "H45", "OU2"])
    assert match_line("222", matcher, segments=True) == []  # 2 -> E is two strokes: too far for three characters
    assert [c for c, *_ in match_line("445", matcher, segments=True)] == ["H45"]
    assert [c for c, *_ in match_line("0U2", matcher, segments=True)] == ["OU2"]


def test_units_and_stray_characters_do_not_make_codes():
    matcher = CodeMatcher(["AL-1", "OH", "A12"])
    assert match_line("39.3 A 11 kW", matcher, segments=True) == []
    assert match_line("O H", matcher) == []
    assert [c for c, *_ in match_line("OH", matcher)] == ["OH"]
    weak = CodeCandidate("OH", 0.5, "OH", Box(x=0, y=0, width=10, height=10), "ocr", 1.0)
    assert decide([weak], "p") == ([], [])


def _sized(text: str, height: int, y: int, width: int = 200) -> OcrLine:
    return OcrLine(text, 0.99, Box(x=20, y=y, width=width, height=height))


LABEL = Box(x=0, y=0, width=900, height=600)  # a label-like rectangle around all the lines below


def test_print_inside_a_label_rectangle_is_not_a_code():
    matcher = CodeMatcher(["20.00", "70", "E-21"])
    words = [_sized("NET WEIGHT", 30, 10), _sized("BEST BEFORE", 30, 50), _sized("PRODUCT OF ITALY", 30, 90)]
    printed = [_sized("20.00", 30, 130, 90), _sized("70", 32, 170, 40)]
    assert candidates_from_lines(words + printed, matcher, displays=[LABEL], text_h=code_text_height(words)) == []
    shown = [_sized("20.00", 90, 300, 260)]  # the same number three times taller than the print: a display
    found = candidates_from_lines(words + shown, matcher, displays=[LABEL], text_h=code_text_height(words))
    assert [c.code for c in found] == ["20.00"]
    context = [_sized("ERROR E-21", 30, 210)]  # code context counts whatever the size
    found = candidates_from_lines(words + context, matcher, displays=[LABEL], text_h=code_text_height(words))
    assert [c.code for c in found] == ["E-21"]


def test_upright_text_is_measured_across_its_lines():
    words = [OcrLine("MANUFACTURER", 0.99, Box(x=10, y=10, width=50, height=300)),
             OcrLine("MODEL NUMBER", 0.99, Box(x=70, y=10, width=50, height=300)),
             OcrLine("SERIAL", 0.99, Box(x=130, y=10, width=50, height=160))]
    assert code_text_height(words) == 50
    assert not prominent(Box(x=200, y=10, width=52, height=90), code_text_height(words), "70")


def test_a_decimal_code_is_not_read_from_a_number_without_its_point():
    matcher = CodeMatcher(["20.00"])
    assert [c for c, *_ in match_line("20.00", matcher)] == ["20.00"]
    assert match_line("in 2000", matcher) == []
    assert match_line("in 2000 and", matcher) == []
    assert [c for c, *_ in match_line("2000", matcher)] == ["20.00"]  # a display's number alone: OCR drops points
