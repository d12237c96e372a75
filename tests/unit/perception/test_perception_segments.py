"""Seven-segment reader on drawn displays (both polarities, ghost segments, tilt, slant,
decimal points, colons), display readings as observations, and what must not be invented."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from assistant.domain import Box, ObservationKind
from assistant.perception.codes import CodeMatcher, candidates_from_lines
from assistant.perception.display import DisplayReading, combine, exact_known, observations
from assistant.perception.nameplate import read_nameplate
from assistant.perception.ocr import OcrLine
from assistant.perception.segments import read_region

SEGS = {"0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg", "7": "abc",
        "8": "abcdefg", "9": "abcdfg", "E": "adefg", "-": "g"}


def draw_display(text: str, *, dark_on_light: bool = True, ghost: bool = False, tilt: float = 0.0,
                 slant: float = 0.18, digit_h: int = 120) -> np.ndarray:
    """A seven-segment display drawn like a grey LCD (dark segments) or an LED (bright ones)."""
    dw, t = int(digit_h * 0.55), max(4, digit_h // 9)
    bg, on, off = ((190, 200, 190), (40, 45, 40), (165, 175, 165)) if dark_on_light else \
        ((20, 20, 25), (60, 60, 250), (40, 40, 50))
    width = 60 + len(text) * (dw + digit_h // 4)
    img = np.full((digit_h + 80, width, 3), bg, np.uint8)
    x = 30
    for ch in text:
        if ch in ".:":
            r = t // 2 + 1
            ys = [40 + digit_h - r] if ch == "." else [40 + digit_h // 3, 40 + 2 * digit_h // 3]
            for y in ys:
                cv2.circle(img, (x - digit_h // 10, y), r, on, -1)
            continue
        y0, h2 = 40, digit_h // 2
        rects = {"a": (x + t, y0, x + dw - t, y0 + t), "g": (x + t, y0 + h2 - t // 2, x + dw - t, y0 + h2 + t // 2),
                 "d": (x + t, y0 + digit_h - t, x + dw - t, y0 + digit_h), "f": (x, y0 + t, x + t, y0 + h2 - t // 2),
                 "b": (x + dw - t, y0 + t, x + dw, y0 + h2 - t // 2),
                 "e": (x, y0 + h2 + t // 2, x + t, y0 + digit_h - t),
                 "c": (x + dw - t, y0 + h2 + t // 2, x + dw, y0 + digit_h - t)}
        lit = SEGS[ch]
        for seg, (x0, y0_, x1, y1) in rects.items():
            if seg in lit or ghost:
                cv2.rectangle(img, (x0 + 1, y0_ + 1), (x1 - 1, y1 - 1), on if seg in lit else off, -1)
        x += dw + digit_h // 4
    h, w = img.shape[:2]
    m = np.float32([[1, -slant, slant * h / 2], [0, 1, 0]])  # italic, like most segment displays
    img = cv2.warpAffine(img, m, (w, h), borderValue=bg)
    if tilt:
        pad = cv2.copyMakeBorder(img, 60, 60, 40, 40, cv2.BORDER_CONSTANT, value=bg)
        ph, pw = pad.shape[:2]
        rot = cv2.getRotationMatrix2D((pw / 2, ph / 2), tilt, 1.0)
        img = cv2.warpAffine(pad, rot, (pw, ph), borderValue=bg)
    return cv2.GaussianBlur(img, (3, 3), 0)


def texts(img: np.ndarray) -> list[str]:
    return [r.text for r in read_region(img)]


@pytest.mark.parametrize("value", ["59.07", "21.567", "0.3448", "103.02", "66.54"])
def test_grey_lcd_numbers_with_decimal_points(value):
    assert value in texts(draw_display(value))


def test_ghost_segments_do_not_count():
    assert "21.567" in texts(draw_display("21.567", ghost=True))


def test_bright_led_digits_and_a_colon():
    assert "12:45" in texts(draw_display("12:45", dark_on_light=False))


@pytest.mark.parametrize("tilt", [-20, 12, 22])
def test_tilted_display(tilt):
    assert "21.567" in texts(draw_display("21.567", tilt=tilt))


def test_a_lettered_code():
    assert "E21" in texts(draw_display("E21"))


def test_reading_says_how_sure_it_is():
    (reading,) = [r for r in read_region(draw_display("66.54")) if r.text == "66.54"]
    assert 0.6 <= reading.confidence <= 1.0 and reading.digits == 4


def test_printed_text_is_not_a_segment_reading():
    img = np.full((200, 700, 3), 255, np.uint8)
    cv2.putText(img, "SALE 2601 kcal", (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (0, 0, 0), 5, cv2.LINE_AA)
    assert not [t for t in texts(img) if len(t) >= 3 and t in ("2601", "86.01")]


# --------------------------------------------------------------------------- display readings


def line(text: str, conf: float = 0.95, x: int = 10, y: int = 10, h: int = 40) -> OcrLine:
    return OcrLine(text, conf, Box(x=x, y=y, width=200, height=h))


def test_value_with_unit_is_a_display_value():
    lines = [line("66.54", y=10, h=60), OcrLine("L", 0.9, Box(x=215, y=25, width=20, height=30))]
    shown = combine([], lines, [Box(x=0, y=0, width=400, height=100)])
    obs, _flags = observations(shown, lines, CodeMatcher(["E-21"]), "p")
    (o,) = obs
    assert (o.kind, o.value, o.unit) == (ObservationKind.DISPLAY_VALUE, "66.54", "L")


def test_decimal_reading_equal_to_a_known_code_is_that_code():
    matcher = CodeMatcher(["103.02", "66.00"])
    assert exact_known("103.02", matcher) == "103.02"
    assert exact_known("10302", matcher) is None  # the decimal point is part of such a code
    obs, _ = observations([DisplayReading("103.02", 0.9, Box(x=0, y=0, width=10, height=10), "ocr")], [],
                          matcher, "p")
    assert obs[0].kind == ObservationKind.FAULT_CODE and obs[0].value == "103.02"


def test_code_shaped_display_text_no_manual_lists_is_unknown():
    obs, _ = observations([DisplayReading("E47", 0.9, Box(x=0, y=0, width=10, height=10), "ocr")], [],
                          CodeMatcher(["E-21"]), "p")
    assert obs[0].kind == ObservationKind.UNKNOWN_CODE and obs[0].value == "E47"


def test_printed_postal_code_and_pack_number_are_not_codes():
    displays = [Box(x=0, y=500, width=300, height=100)]  # the only display-like region, elsewhere
    matcher = CodeMatcher(["H20", "86.01", "420"])
    assert candidates_from_lines([line("(420) 94043")], CodeMatcher(["H20", "86.01"]), displays=displays) == []
    assert candidates_from_lines([line("2601")], matcher, displays=displays) == []
    assert [c.code for c in candidates_from_lines([line("(420) 94043")], matcher, displays=displays)] == []
    near = candidates_from_lines([line("ALARM 420")], matcher, displays=displays)
    assert [c.code for c in near] == ["420"]  # next to code context it is a reading


def test_one_labelled_field_is_a_nameplate_reading():
    for text, field, value in [("SERIAL #: CNK8181G2C", "serial", "CNK8181G2C"),
                               ("PART NO EF224-60001", "part_number", "EF224-60001"),
                               ("Art.-Nr. 4711-0815", "part_number", "4711-0815")]:
        obs, _flags, _eq = read_nameplate([line(text)], "p", None)
        assert [(o.field, o.value) for o in obs] == [(field, value)], text


# --------------------------------------------------------------------------- signs, rows, edges


def _with_sign_window(img: np.ndarray, sign: str, digit_h: int = 120) -> np.ndarray:
    """The display with a sign field of its own left of the digit window (as lab balances show it):
    a dash ('-') or a cross ('+') at the digits' middle height, a frame line between."""
    bg = tuple(int(v) for v in img[5, 5])
    on = (40, 45, 40)
    w_add = int(1.5 * digit_h)
    out = cv2.copyMakeBorder(img, 0, 0, w_add, 0, cv2.BORDER_CONSTANT, value=bg)
    cy, x0 = 40 + digit_h // 2, 20
    cv2.rectangle(out, (x0, cy - 3), (x0 + digit_h // 3, cy + 3), on, -1)
    if sign == "+":
        cx = x0 + digit_h // 6
        cv2.rectangle(out, (cx - 3, cy - digit_h // 6), (cx + 3, cy + digit_h // 6), on, -1)
    fx = x0 + digit_h // 3 + digit_h // 3
    cv2.rectangle(out, (fx, 10), (fx + 5, out.shape[0] - 10), (60, 60, 60), -1)
    return out


def test_a_minus_sign_in_a_window_of_its_own_is_read_with_the_number():
    from assistant.perception.segments import read_segments

    img = _with_sign_window(draw_display("0.0001", slant=0.1), "-")
    whole = Box(x=0, y=0, width=img.shape[1], height=img.shape[0])
    assert "-0.0001" in [r.text for r in read_segments(img, [whole])]


def test_a_plus_sign_is_not_a_minus():
    from assistant.perception.segments import read_segments

    img = _with_sign_window(draw_display("0.3448", slant=0.1), "+")
    whole = Box(x=0, y=0, width=img.shape[1], height=img.shape[0])
    got = [r.text for r in read_segments(img, [whole])]
    assert "0.3448" in got and "-0.3448" not in got


def test_two_rows_of_a_display_are_two_readings():
    top, bottom = draw_display("10.79"), draw_display("4.152")
    width = max(top.shape[1], bottom.shape[1])
    rows = [cv2.copyMakeBorder(r, 0, 0, 0, width - r.shape[1], cv2.BORDER_REPLICATE) for r in (top, bottom)]
    got = texts(np.vstack([rows[0][:-30], rows[1][30:]]))  # the rows close together, as on a fuel pump
    assert "10.79" in got and "4.152" in got


def test_two_numbers_side_by_side_are_two_readings():
    left, right = draw_display("179"), draw_display("255")  # a value and a set point, a unit's width apart
    got = texts(np.hstack([left, right]))
    assert "179" in got and "255" in got and "179255" not in got


def test_a_window_edge_beside_the_digits_is_not_a_one():
    img = draw_display("49.95", slant=0.0)
    h, w = img.shape[:2]
    img = cv2.copyMakeBorder(img, 0, 0, 0, 20, cv2.BORDER_REPLICATE)
    cv2.rectangle(img, (w - 12, 20), (w - 8, h - 20), (40, 45, 40), -1)  # a thin dark frame line
    got = texts(img)
    assert "49.95" in got and "49.951" not in got


def test_a_sure_segment_reading_is_kept_against_letters_ocr_read_off_it():
    from assistant.perception.segments import SegmentReading

    box = Box(x=100, y=50, width=300, height=110)
    seg = SegmentReading("0.3448", 0.98, box, 5, "dark", 100.0)
    gibberish = OcrLine("BhhED", 0.93, Box(x=95, y=45, width=310, height=120))  # the display pass's crop
    shown = combine([seg], [], [box], second_pass=[gibberish])
    assert [d.text for d in shown] == ["0.3448"]
    printed = OcrLine("LITRES", 0.95, Box(x=60, y=30, width=420, height=150))  # print over a weak reading
    weak = SegmentReading("1738", 0.8, box, 4, "dark", 100.0)
    assert combine([weak], [printed], [box]) == []


def test_a_code_without_the_sign_does_not_replace_a_signed_value():
    from assistant.domain import Observation
    from assistant.perception.display import merge_codes

    box = Box(x=0, y=0, width=100, height=40)
    value = Observation(photo="p", kind=ObservationKind.DISPLAY_VALUE, value="-0.0001", raw="-0.0001",
                        confidence=0.83, box=box, source="seven_segment")
    code = Observation(photo="p", kind=ObservationKind.FAULT_CODE, value="0.000", raw="0000", confidence=0.69,
                       box=box, source="display_pass")
    shown, kept = merge_codes([value], [code])
    assert [o.value for o in shown] == ["-0.0001"] and kept == []


def test_a_number_read_in_two_overlapping_pieces_is_made_whole():
    from assistant.perception.segments import SegmentReading, _join_row_pieces

    left = SegmentReading("20", 0.95, Box(x=0, y=10, width=200, height=120), 2, "dark", 100.0)
    right = SegmentReading("0.00", 0.97, Box(x=100, y=12, width=300, height=118), 3, "dark", 100.0)
    assert [r.text for r in _join_row_pieces([left, right])] == ["20.00"]
    zeros = SegmentReading("00", 0.95, Box(x=0, y=10, width=200, height=120), 2, "dark", 100.0)
    rest = SegmentReading("13644.0", 0.95, Box(x=260, y=10, width=600, height=120), 6, "dark", 100.0)
    assert [r.text for r in _join_row_pieces([zeros, rest])] == ["0013644.0"]
    other = SegmentReading("179", 0.95, Box(x=0, y=10, width=250, height=120), 3, "dark", 100.0)
    apart = SegmentReading("255", 0.95, Box(x=320, y=10, width=250, height=120), 3, "dark", 100.0)
    assert sorted(r.text for r in _join_row_pieces([other, apart])) == ["179", "255"]  # two numbers stay two
