"""What a display shows, as readings: seven-segment readings (segments.py) combined with
the OCR lines in the same place (the readings of one place pooled where they agree, the
best supported winning: the cells' reading unless OCR saw more of the number), and OCR
numbers inside display-like regions. Each reading becomes one observation:

- `fault_code` when it is exactly a code the library knows ("103.02", "E-21"), or, on a
  seven-segment display, one segment-confusion away from one;
- `unknown_code` when it is shaped like a fault code (letters then digits: E21, F004,
  Err 07) but no manual lists it;
- `display_value` otherwise: a number (sign, decimal point, colon kept) with the unit shown
  next to it when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.domain import Box, Flag, FlagCode, Observation, ObservationKind, Severity
from assistant.perception.codes import CodeMatcher, normalise_code, prominent, text_height
from assistant.perception.ocr import OcrLine
from assistant.perception.segments import SegmentReading

NUMBER_TEXT = re.compile(r"^[-+]?\d+(?:[.,:]\d+)*$")
NUMBER_IN_TEXT = re.compile(r"(?<![\w.,])[-+]?\d+(?:[.,:]\d+)*")
CODE_SHAPE = re.compile(r"^[A-Z]{1,3}[-.\s]?\d{1,4}$")
DISPLAY_UNITS = ("kWh", "kW", "W", "V", "mV", "A", "mA", "Hz", "kHz", "bar", "mbar", "psi", "kPa", "MPa", "°C", "°F",
                 "C", "F", "%", "rpm", "L", "l", "gal", "g", "kg", "lb", "lbs", "ml", "mL", "m³", "m3", "s", "min",
                 "h", "mm", "m", "ppm", "pH", "Ω", "kΩ", "$", "€", "mmHg")
_UNIT_KEYS: dict[str, str] = {}
for _u in DISPLAY_UNITS:
    _UNIT_KEYS.setdefault(_u.lower(), _u)  # the first spelling listed is the one reported ("L", not "l")
SEGMENT_MIN = 0.62  # a seven-segment reading less sure than this is not reported on its own
UNSURE_BELOW = 0.7


@dataclass
class DisplayReading:
    text: str
    confidence: float
    box: Box
    source: str  # "seven_segment", "ocr", "seven_segment+ocr"
    alternatives: tuple[str, ...] = ()
    seven_segment: bool = False


def overlap(a: Box, b: Box) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return (x1 - x0) * (y1 - y0) / float(min(a.width * a.height, b.width * b.height))


def inside(box: Box, region: Box, share: float = 0.7) -> bool:
    x0, y0 = max(box.x, region.x), max(box.y, region.y)
    x1, y1 = min(box.x + box.width, region.x + region.width), min(box.y + box.height, region.y + region.height)
    if x1 <= x0 or y1 <= y0:
        return False
    return (x1 - x0) * (y1 - y0) >= share * box.width * box.height


def ocr_numbers(text: str) -> list[str]:
    """Numbers in an OCR line, with spaces inside a number closed ("59. 07" -> "59.07")."""
    compact = re.sub(r"(?<=[\d.,:])\s+(?=[\d.,:])", "", text)
    return [m.group(0) for m in NUMBER_IN_TEXT.finditer(compact)]


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _same_digits(a: str, b: str) -> bool:
    """Two readings of one number, points and signs aside, one possibly missing digits at an end
    (a reading with letters, a code, only the same)."""
    if any(ch.isalpha() for ch in a + b):
        return normalise_code(a) == normalise_code(b)
    da, db = re.sub(r"\D", "", a), re.sub(r"\D", "", b)
    return len(min(da, db, key=len)) >= 2 and (da in db or db in da)


def _cell_for_cell(line: OcrLine, seg: SegmentReading) -> bool:
    """OCR read letters exactly where the cells are, one for each (within one): a sure seven-segment
    reading OCR took for a word ("EBLO" for 078.3), not a line of print around it."""
    n_line = sum(ch.isalnum() for ch in line.text)
    n_seg = sum(ch.isalnum() for ch in seg.text)
    return abs(n_line - n_seg) <= 1 and overlap(line.box, seg.box) >= 0.5 and \
        line.box.width * line.box.height <= 2.0 * seg.box.width * seg.box.height


def _glued(num: str, text: str) -> bool:
    """The number touches letters in the line ("98h", "066L2"): on a binarised display crop, segment
    digits misread as a word, not a number."""
    compact = re.sub(r"(?<=[\d.,:])\s+(?=[\d.,:])", "", text)
    return bool(re.search(r"[A-Za-z]" + re.escape(num) + r"|" + re.escape(num) + r"[A-Za-z]", compact))


def _pool_support(pool: list[tuple[str, float, int]], longest: int) -> float:
    """How well a pool of agreeing readings is supported: the cells' reading and the best OCR line as
    independent evidence, more OCR lines (the same engine again) adding little; a reading with
    fewer characters than the longest at the place has likely missed some."""
    seg = max((m[1] for m in pool if m[2] < 0), default=0.0)
    ocr = sorted((m[1] for m in pool if m[2] >= 0), reverse=True)
    best_ocr = ocr[0] if ocr else 0.0
    if len(ocr) > 1:
        best_ocr = 1.0 - (1.0 - best_ocr) * (1.0 - 0.3 * ocr[1])
    support = 1.0 - (1.0 - seg) * (1.0 - best_ocr)
    chars = max(sum(ch.isalnum() for ch in m[0]) for m in pool)
    return support * (chars / max(1, longest)) ** 0.5


def combine(segs: Sequence[SegmentReading], lines: Sequence[OcrLine], regions: Sequence[Box],
            second_pass: Sequence[OcrLine] = ()) -> list[DisplayReading]:
    """Seven-segment readings confirmed, corrected or left by OCR, plus OCR numbers in display regions.
    `second_pass`: lines OCR read again off a display region's binarised crop, where segment digits
    are often read as letters ("BhhED"): they second a reading but do not make it print."""
    out: list[DisplayReading] = []
    lines = list(lines) + list(second_pass)
    n_first = len(lines) - len(second_pass)
    # the photo's print, not letters OCR read off the segment digits themselves ("EhhE" for 34.43)
    text_h = text_height([ln for ln in lines if not any(overlap(ln.box, s.box) >= 0.5 for s in segs)])
    used: set[int] = set()
    for seg in segs:
        if seg.confidence < 0.3 or not prominent(seg.box, text_h):
            continue
        here = [(i, ln) for i, ln in enumerate(lines) if overlap(ln.box, seg.box) >= 0.5]
        agreed = any(_same_digits(num, seg.text) for _i, ln in here for num in ocr_numbers(ln.text))
        if not agreed and any(ln.confidence >= 0.8 and sum(ch.isalpha() for ch in ln.text) >= 2
                              and seg.text not in ocr_numbers(ln.text)
                              and (seg.confidence < 0.9 or (i < n_first and not _cell_for_cell(ln, seg)))
                              for i, ln in here):
            continue  # OCR reads words there with confidence: a character display or print, not segments
        others = [s.box for s in segs if s is not seg]
        # every reading of this place, pooled where they are the same number (a point or an end digit
        # lost): the segment cells' reading (its certainty capped: a ghost segment can make a sure
        # misreading) and each OCR number (a line across two readings ran them together: left out)
        pools: list[list[tuple[str, float, int]]] = [[(seg.text, min(seg.confidence, 0.95), -1)]]
        for i, ln in here:
            if any(overlap(ln.box, o) >= 0.5 for o in others):
                continue
            for num in ocr_numbers(ln.text):
                if _digits(num) < 2 or (i >= n_first and _glued(num, ln.text)):
                    continue
                member = (num, 0.8 * ln.confidence, i)
                pool = next((p for p in pools if _same_digits(p[0][0], num)), None)
                if pool is None:
                    pools.append([member])
                else:
                    pool.append(member)
        longest = max(sum(ch.isalnum() for ch in m[0]) for p in pools for m in p)
        scored = sorted(((_pool_support(p, longest), p) for p in pools), key=lambda t: -t[0])
        support, pool = scored[0]
        has_seg = any(m[2] < 0 for m in pool)
        if not has_seg and support < 0.6 and seg.confidence >= SEGMENT_MIN:
            support, pool = next(t for t in scored if any(m[2] < 0 for m in t[1]))
            has_seg = True
        if (has_seg and len(pool) == 1 and seg.confidence < SEGMENT_MIN) or support < 0.5:
            continue
        # the pool's text: the digits its surest member read (the cells, unless they are unsure), then
        # the most digits; of their spellings, one with a decimal point, then with a sign (small marks
        # are what cells and OCR most often miss, not invent)
        backing: dict[str, float] = {}
        for m in pool:
            key = re.sub(r"\D", "", m[0]) or m[0]
            backing[key] = max(backing.get(key, 0.0), m[1])  # OCR lines again are the same engine again
        digits = max(backing, key=lambda t: (round(backing[t], 2), len(t)))
        spellings = [m for m in pool if (re.sub(r"\D", "", m[0]) or m[0]) == digits]
        text = max(spellings, key=lambda m: ("." in m[0] or ":" in m[0], m[0][:1] in "-+", m[1]))[0]
        used.update(m[2] for p in pools for m in p if m[2] >= 0)
        alts = tuple(dict.fromkeys(max(p, key=lambda m: m[1])[0] for sc, p in scored if p is not pool and sc >= 0.3))
        conf = min(0.99, support) * (0.85 if alts else 1.0)
        source = "seven_segment+ocr" if has_seg and len(pool) > 1 else "seven_segment" if has_seg else "ocr"
        out.append(DisplayReading(text, round(conf, 3), seg.box, source, alts, True))
    for i, ln in enumerate(lines):
        if i in used or not any(inside(ln.box, r) for r in regions) or not prominent(ln.box, text_h, ln.text):
            continue
        if any(overlap(ln.box, d.box) >= 0.5 for d in out):
            continue
        for num in ocr_numbers(ln.text):
            digits = sum(ch.isdigit() for ch in num)
            if digits >= 2 and ("." in num or ":" in num or _unit_near(ln, lines)):
                out.append(DisplayReading(num, round(ln.confidence * 0.9, 3), ln.box, "ocr"))
    return out


def _unit_near(line: OcrLine, lines: Sequence[OcrLine]) -> str:
    """The unit printed in or right of/above a reading (a small 'L', 'g', 'kWh' beside the digits)."""
    own = [t for t in re.split(r"[\s\d.,:+-]+", line.text) if t]
    for t in own:
        if t.lower() in _UNIT_KEYS:
            return _UNIT_KEYS[t.lower()]
    b = line.box
    best: tuple[float, str] | None = None
    for other in lines:
        if other is line:
            continue
        t = other.text.strip()
        if t.lower() not in _UNIT_KEYS:
            continue
        ob = other.box
        dx = ob.x - (b.x + b.width)
        same_row = abs((ob.y + ob.height / 2) - (b.y + b.height / 2)) < 0.8 * b.height
        if same_row and -0.2 * b.height < dx < 1.5 * b.height:
            d = dx
        elif abs(ob.x - b.x) < 2 * b.width and 0 <= b.y - (ob.y + ob.height) < 0.8 * b.height:
            d = 2 * b.height
        else:
            continue
        if best is None or d < best[0]:
            best = (d, _UNIT_KEYS[t.lower()])
    return best[1] if best else ""


def _unit_for(reading: DisplayReading, lines: Sequence[OcrLine]) -> str:
    probe = OcrLine(reading.text, reading.confidence, reading.box)
    return _unit_near(probe, [ln for ln in lines if overlap(ln.box, reading.box) < 0.5])


def exact_known(text: str, matcher: CodeMatcher) -> str | None:
    """The known code `text` is exactly: case, spaces and dashes aside, and where either has a
    decimal point, the same digits with the point in the same place ("103.02" is not "10302")."""
    t = text.replace(" ", "").upper().replace(",", ".")
    for code in sorted(matcher.by_norm.get(normalise_code(text), ())):
        c = code.replace(" ", "").upper()
        if "." not in t and "." not in c:
            return code
        if t == c:
            return code
    return None


def observations(readings: Sequence[DisplayReading], lines: Sequence[OcrLine], matcher: CodeMatcher,
                 photo_id: str, equipment_id: str | None = None) -> tuple[list[Observation], list[Flag]]:
    obs: list[Observation] = []
    flags: list[Flag] = []
    for r in readings:
        text = r.text
        compact = text.replace(" ", "")
        code = exact_known(compact, matcher) if matcher else None
        kind = ObservationKind.DISPLAY_VALUE
        value, unit, alts, conf = compact, "", list(r.alternatives), r.confidence
        if code is None and matcher and r.seven_segment and not NUMBER_TEXT.match(compact):
            near = matcher.lookup_segments(normalise_code(compact), max_subs=1)
            if near:
                code, q = near[0]
                conf *= q
                alts += [c for c, _q in near[1:]]
        if code is not None:
            kind, value = ObservationKind.FAULT_CODE, code
        elif CODE_SHAPE.match(compact.upper()) and any(ch.isalpha() for ch in compact):
            if r.seven_segment and (len(normalise_code(compact)) < 3 or conf < 0.8):
                continue  # two segment characters are too easily found in anything
            kind = ObservationKind.UNKNOWN_CODE
        else:
            unit = _unit_for(r, lines)
        obs.append(Observation(photo=photo_id, kind=kind, value=value, raw=text, confidence=round(min(1.0, conf), 3),
                               box=r.box, source=r.source, unit=unit, alternatives=alts,
                               equipment_id=equipment_id if kind == ObservationKind.FAULT_CODE else None))
        if conf < UNSURE_BELOW or alts:
            what = "code" if kind != ObservationKind.DISPLAY_VALUE else "value"
            flags.append(Flag(code=FlagCode.READING_UNCERTAIN, severity=Severity.WARNING, photo=photo_id,
                              message=f"The display {what} {value} was read with low confidence"
                                      + (f" (it could be {' or '.join(alts)})" if alts else "")
                                      + ": check the display and confirm."))
    return obs, flags


def _outweighs(reading: Observation, code: Observation) -> bool:
    """A display reading that a code matched in OCR text at its place must not replace: read off
    the segments with a sign or more digits than the code has (a minus sign means a value, and
    "-0.0001" is not the code "0.000" with a digit lost)."""
    if not reading.source.startswith("seven_segment") or normalise_code(reading.value) in normalise_code(code.value):
        return False  # the code is a fuller read of it ("E-07" where the cells saw "-07")
    chars = sum(ch.isalnum() for ch in reading.value)
    return reading.value[:1] in "-+" or chars > sum(ch.isalnum() for ch in code.value)


def merge_codes(shown: list[Observation], codes: list[Observation]) -> tuple[list[Observation], list[Observation]]:
    """One observation per place: a code matched in OCR text where display readings already are
    is the same reading, a rival of a known code read there, or (the library listing it) the
    reading that replaces them, with their values as its alternatives."""
    kept: list[Observation] = []
    shown = list(shown)
    for c in codes:
        hits = [i for i, d in enumerate(shown) if c.box is not None and d.box is not None and overlap(c.box, d.box) > 0.5]
        if not hits:
            kept.append(c)
            continue
        same = [i for i in hits if shown[i].value == c.value]
        if same:
            i = same[0]
            if c.confidence > shown[i].confidence:
                shown[i] = shown[i].model_copy(update={"confidence": c.confidence})
            continue
        known = [i for i in hits if shown[i].kind == ObservationKind.FAULT_CODE]
        if known:
            i = known[0]
            if c.value not in shown[i].alternatives:
                shown[i] = shown[i].model_copy(update={"alternatives": shown[i].alternatives + [c.value]})
            continue
        if c.confidence < 0.5:
            continue
        if any(_outweighs(shown[i], c) for i in hits):
            continue  # the display reads something else there, more surely or more fully
        alts = [a for i in hits for a in [shown[i].value, *shown[i].alternatives]] + list(c.alternatives)
        replaced = c.model_copy(update={"alternatives": list(dict.fromkeys(a for a in alts if a != c.value))})
        shown = [d for i, d in enumerate(shown) if i not in hits] + [replaced]
    return shown, kept
