"""Fault codes read off a photo.

The codes the library knows are the authority: OCR text is normalised (case,
separators, and the usual OCR confusions O/0, I/1/l, S/5, B/8, Z/2, G/6, D/0)
and matched against the known codes, never against a pattern list, so any
scheme (F004, OC1, E-21, A12, Err 07, 2310 ...) works as long as the library
knows it. Candidates are scored (OCR confidence x match quality, raised by
context words such as FAULT / ALARM / ERR / ALM nearby). When the first pass
is not sure, a second pass OCRs the display region: found as a bright or dark
rectangle or around low-confidence text, cropped, upscaled, binarised and
closed so seven-segment strokes join. Competing or weak readings produce a
`reading_uncertain` flag and alternatives instead of a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from assistant.domain import Box, Flag, FlagCode, Observation, ObservationKind, Severity
from assistant.perception.ocr import OcrLine, run_ocr

SEPARATORS = re.compile(r"[\s\-_.:·/\\,;'\"`~()\[\]{}|#*=+]+")
CONFUSION = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "!": "1", "|": "1",
                           "S": "5", "B": "8", "Z": "2", "G": "6"})
CONTEXT_WORDS = ("FAULT", "FAULTS", "ALARM", "ALM", "ERR", "ERROR", "ERRORCODE", "CODE", "FLT", "TRIP", "FEHLER",
                 "DEFAUT", "STATUS", "WARN", "WARNING")
UNITS = {"V", "VAC", "VDC", "A", "MA", "HZ", "KHZ", "W", "KW", "HP", "RPM", "BAR", "MBAR", "PSI", "KPA", "MPA", "C",
         "°C", "F", "°F", "K", "%", "MM", "CM", "M", "KG", "G", "S", "MS", "MIN", "H", "L", "LMIN", "M3H", "NM", "KWH"}
DECIMAL_NUMBER = re.compile(r"\d+[.,]\d+")
CONTEXT_RE = re.compile(r"\b(" + "|".join(CONTEXT_WORDS) + r")\b", re.I)

# Which of the seven segments (a..g) each character lights on a seven-segment display, as displays
# draw them (B, D, N, R, T, Y, Q only exist as b, d, n, r, t, y, q). Characters whose shapes differ by
# one or two segments are the typical misreadings of such displays, especially with ghost segments.
SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg", "7": "abc",
    "8": "abcdefg", "9": "abcdfg", "A": "abcefg", "B": "cdefg", "C": "adef", "D": "bcdeg", "E": "adefg",
    "F": "aefg", "G": "acdef", "H": "bcefg", "I": "bc", "J": "bcde", "L": "def", "N": "ceg", "O": "abcdef",
    "P": "abefg", "Q": "abcfg", "R": "eg", "S": "acdfg", "T": "defg", "U": "bcdef", "Y": "bcdfg", "Z": "abdeg",
}
SEGMENT_COST = 0.12  # match-quality cost per differing segment


def max_confusions(length: int) -> int:
    """How many OCR-confusion substitutions a code of `length` characters may need to match."""
    return 0 if length <= 2 else 1 if length == 3 else 2

CONFIDENT = 0.80  # a first-pass reading at least this sure needs no display pass
UNCERTAIN_BELOW = 0.60  # a reading below this is reported with reading_uncertain
COMPETE_MARGIN = 0.15
SHORT_CODE_MIN = 0.6  # one- and two-character codes turn up by chance in any text: need a clear read
PROMINENCE = 1.4  # a display reading is at least this much taller than the photo's printed word lines
CODE_PROMINENCE = 1.25  # a match with a code the library lists is more evidence than a bare number: less is asked


def normalise_code(text: str) -> str:
    """Upper case, separators removed: 'e-21' -> 'E21', 'Err 07' -> 'ERR07'."""
    return SEPARATORS.sub("", text.upper())


def code_skeleton(text: str) -> str:
    """`normalise_code` with OCR confusions folded: 'F0O4' and 'FOO4' -> 'F004'."""
    return normalise_code(text).translate(CONFUSION)


@dataclass
class CodeCandidate:
    code: str  # the known code, as the library prints it
    score: float
    raw: str
    box: Box
    source: str
    quality: float
    context: bool = False


@dataclass
class CodeMatcher:
    """Index of the known codes by normalised form and by confusion skeleton."""

    known: Iterable[str]
    by_norm: dict[str, set[str]] = field(init=False, default_factory=dict)
    by_skel: dict[str, set[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for code in self.known:
            norm = normalise_code(code)
            if not norm:
                continue
            self.by_norm.setdefault(norm, set()).add(code)
            self.by_skel.setdefault(norm.translate(CONFUSION), set()).add(code)
        self.max_len = max((len(n) for n in self.by_norm), default=0)

    def __bool__(self) -> bool:
        return bool(self.by_norm)

    def lookup_segments(self, span: str, max_subs: int = 1) -> list[tuple[str, float]]:
        """Known codes a span read off a segment display can be: same length, characters equal, usual OCR
        confusions, or up to `max_subs` characters whose seven-segment shapes differ by one or two segments."""
        out: list[tuple[str, float]] = []
        for norm, codes in self.by_norm.items():
            if len(norm) != len(span) or norm == span or len(norm) < 3:  # one wrong stroke in two: too weak
                continue
            cost, subs = 0.0, 0
            for a, b in zip(span, norm, strict=True):
                if a == b:
                    continue
                if a.translate(CONFUSION) == b.translate(CONFUSION):
                    cost += 0.12
                    continue
                sa, sb = SEGMENTS.get(a), SEGMENTS.get(b)
                if sa is None or sb is None:
                    cost = 9.0
                    break
                diff = len(set(sa) ^ set(sb))
                if diff > (2 if len(norm) >= 4 else 1):  # short codes: one stroke only
                    cost = 9.0
                    break
                cost += SEGMENT_COST * diff + 0.06
                subs += 1
            if subs == 0 or subs > max_subs or cost > 0.4:
                continue
            out.extend((code, round(1.0 - cost, 3)) for code in codes)
        return sorted(out, key=lambda kv: -kv[1])

    def lookup(self, span: str) -> list[tuple[str, float]]:
        """Known codes a normalised span can be, with match quality 0..1."""
        out: dict[str, float] = {}
        skel = span.translate(CONFUSION)
        for code in self.by_skel.get(skel, ()):
            norm = normalise_code(code)
            diffs = sum(1 for a, b in zip(span, norm, strict=False) if a != b)
            if diffs > max_confusions(len(norm)):
                continue  # a code that needs many substitutions to match is not a reading
            out[code] = max(out.get(code, 0.0), 1.0 - 0.12 * diffs)
        return sorted(out.items(), key=lambda kv: -kv[1])


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """Normalised tokens and the raw pieces they came from."""
    pairs = [(normalise_code(p), p) for p in re.split(r"\s+", text.strip())]
    pairs = [(n, p) for n, p in pairs if n]
    return [n for n, _ in pairs], [p for _, p in pairs]


def _is_measurement(raw_pieces: list[str], next_piece: str | None, code: str) -> bool:
    """A number with a unit after it ("1450 rpm", "22.2 A") or a decimal number ("23.10") is a value, not a code."""
    joined = " ".join(raw_pieces)
    if next_piece is not None and normalise_code(next_piece).strip("°") in UNITS | {n.strip("°") for n in UNITS}:
        return True
    if DECIMAL_NUMBER.search(joined) and not any(ch in code for ch in ".,"):
        return True
    return False


def _point_lost(code: str, raw: str) -> bool:
    """The code is a decimal number ("20.00") and the text read has no point ("2000")."""
    return bool(DECIMAL_NUMBER.search(code)) and not any(ch in raw for ch in ".,")


def _strip_context(token: str) -> tuple[str, bool]:
    for word in sorted(CONTEXT_WORDS, key=len, reverse=True):
        if token.startswith(word) and len(token) > len(word):
            return token[len(word):], True
    return token, False


def match_line(text: str, matcher: CodeMatcher, segments: bool = False) -> list[tuple[str, float, str, bool]]:
    """(code, quality, raw span, glued-context) for every known code a line of text can contain.
    `segments`: the text was read off a segment display, so seven-segment misreadings are allowed."""
    if not matcher:
        return []
    tokens, raws = _tokens(text)
    only_number = bool(re.fullmatch(r"[\d\s.,]+", text.strip()))  # "5907", "59 07": a number whose point was lost
    found: dict[str, tuple[str, float, str, bool]] = {}

    def add(code: str, q: float, raw: str, ctx: bool) -> None:
        if code not in found or found[code][1] < q:
            found[code] = (code, q, raw, ctx)

    for i in range(len(tokens)):
        if i > 0 and tokens[i] in UNITS and re.fullmatch(r"[\d.,/\-]+", raws[i - 1]):
            continue  # the unit of a measurement ("39.3 A 11 kW"), not the start of a code
        joined = ""
        for j in range(i, min(len(tokens), i + 3)):
            joined += tokens[j]
            if len(joined) > matcher.max_len + 8:
                break
            multi = j > i
            if multi and len(joined) < 3:
                continue  # two stray characters are not a code
            next_raw = raws[j + 1] if j + 1 < len(raws) else None
            span_raw = "".join(raws[i:j + 1])
            exact = [c for c in matcher.by_norm.get(joined, ()) if "." in c and
                     c.replace(" ", "").upper() == span_raw.upper().replace(",", ".")]
            if exact:
                for code in exact:  # the line is exactly a decimal code the library lists ("103.02")
                    add(code, 1.0, span_raw, False)
                continue
            if joined[:1].isdigit() and _is_measurement(raws[i:j + 1], next_raw, ""):
                continue
            for code, q in matcher.lookup(joined):
                if not segments and not only_number and _point_lost(code, span_raw):
                    continue  # "in 2000" is not "20.00": only a display's number alone may have lost its point
                numeric = normalise_code(code).isdigit()
                if multi and (numeric or any(len(t) > 4 for t in tokens[i:j + 1])):
                    continue  # only short pieces of one code are joined ("E 21", "Err 07")
                add(code, q * (0.95 if multi else 1.0), " ".join(tokens[i:j + 1]), False)
            rest, ctx = _strip_context(joined)
            if ctx and not multi:
                for code, q in matcher.lookup(rest):
                    add(code, q * 0.95, joined, True)
            if segments and not multi and 2 <= len(joined) <= 8:
                for code, q in matcher.lookup_segments(joined, max_subs=1 if len(joined) <= 4 else 2):
                    add(code, q, joined, False)
    return list(found.values())


def _has_context(line: OcrLine, lines: Sequence[OcrLine]) -> bool:
    if CONTEXT_RE.search(line.text):
        return True
    b = line.box
    cy = b.y + b.height / 2
    for other in lines:
        if other is line or not CONTEXT_RE.search(other.text):
            continue
        ob = other.box
        ocy = ob.y + ob.height / 2
        near_v = abs(ocy - cy) < 2.5 * max(b.height, ob.height)
        near_h = ob.x < b.x + b.width + 3 * b.height and b.x < ob.x + ob.width + 3 * b.height
        if near_v and near_h:
            return True
    return False


def _inside(box: Box, region: Box, share: float = 0.6) -> bool:
    x0, y0 = max(box.x, region.x), max(box.y, region.y)
    x1, y1 = min(box.x + box.width, region.x + region.width), min(box.y + box.height, region.y + region.height)
    return x1 > x0 and y1 > y0 and (x1 - x0) * (y1 - y0) >= share * box.width * box.height


def glyph_size(box: Box, text: str) -> float:
    """How tall the characters of a line are: its box height, or its width when a line of several
    characters stands upright in the photo (rotated or vertical text)."""
    if len(normalise_code(text)) >= 2 and box.height > box.width:
        return float(box.width)
    return float(box.height)


def text_height(lines: Sequence[OcrLine]) -> float:
    """Median character size of the photo's word lines (three letters or more), 0 when there are few."""
    sizes = sorted(glyph_size(ln.box, ln.text) for ln in lines if sum(ch.isalpha() for ch in ln.text) >= 3)
    return sizes[len(sizes) // 2] if len(sizes) >= 3 else 0.0


def prominent(box: Box, text_h: float, text: str = "", factor: float = PROMINENCE) -> bool:
    """A display's reading stands out from the printed words around it; a number the size of the
    label's other text is print (a rating, a date, a price, a part number), not a display reading."""
    return text_h <= 0 or glyph_size(box, text) >= factor * text_h


def candidates_from_lines(lines: Sequence[OcrLine], matcher: CodeMatcher, source: str = "ocr",
                          segments: bool = False, displays: Sequence[Box] | None = None,
                          text_h: float = 0.0) -> list[CodeCandidate]:
    """Code candidates in OCR lines. With `displays` given, only lines next to code context (FAULT,
    ERR, ALARM, a glued prefix) or inside one of those display-like regions and standing out from
    the photo's printed text (`text_h`, see `prominent`) count: printed postal codes, dates, prices
    and part numbers are not codes, even inside a label's rectangle."""
    out: list[CodeCandidate] = []
    for line in lines:
        short = len(normalise_code(line.text)) <= 8
        matches = match_line(line.text, matcher, segments=segments and short)
        if not matches:
            continue
        context = _has_context(line, lines)
        on_display = displays is None or (any(_inside(line.box, d) for d in displays)
                                          and prominent(line.box, text_h, line.text, CODE_PROMINENCE))
        for code, quality, raw, glued in matches:
            ctx = context or glued
            if not ctx and not on_display:
                continue
            factor = 1.0 if ctx else 0.92
            if normalise_code(code).isdigit() and not ctx:
                factor = 0.72  # a bare number is weak evidence of a code
            extra = len(normalise_code(line.text)) - len(normalise_code(raw))
            if extra > 0 and not ctx:
                factor *= max(0.8, 1.0 - 0.02 * extra)  # a code inside a long line of other text
            out.append(CodeCandidate(code=code, score=round(line.confidence * quality * factor, 4), raw=raw,
                                     box=line.box, source=source, quality=quality, context=ctx))
    return out


# --------------------------------------------------------------------------- display pass


def _box_overlap(a: Box, b: Box) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    inter = (x1 - x0) * (y1 - y0)
    return inter / float(min(a.width * a.height, b.width * b.height))


def _iou(a: Box, b: Box) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    inter = (x1 - x0) * (y1 - y0)
    return inter / float(a.width * a.height + b.width * b.height - inter)


def find_display_regions(image: np.ndarray, limit: int = 2) -> list[Box]:
    """Rectangular regions that look like a display or label: strongly bounded, with contrasty content."""
    h, w = image.shape[:2]
    s = min(1.0, 720 / max(h, w))
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else image
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    sh, sw = grey.shape[:2]
    area = float(sh * sw)
    grey = cv2.GaussianBlur(grey, (5, 5), 0)
    grey = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(grey)  # find displays in low light too
    edges = cv2.Canny(grey, 40, 120)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=1)
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    scored: list[tuple[float, Box]] = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        frac = bw * bh / area
        if frac < 0.01 or frac > 0.8 or bh < 12:
            continue
        aspect = bw / float(bh)
        if aspect < 0.8 or aspect > 9:
            continue
        rect = cv2.minAreaRect(c)
        rect_area = rect[1][0] * rect[1][1]
        fill = cv2.contourArea(cv2.convexHull(c)) / max(1.0, rect_area)
        if fill < 0.75:
            continue
        inner = grey[y + bh // 8: y + bh - bh // 8, x + bw // 12: x + bw - bw // 12]
        if inner.size == 0:
            continue
        contrast = float(inner.std())
        if contrast < 18:
            continue
        score = contrast * fill * min(1.0, (frac / 0.1) ** 0.5)
        scored.append((score, Box(x=int(x / s), y=int(y / s), width=int(bw / s), height=int(bh / s))))
    # dark or bright rectangles (an LED display's black window, a backlit LCD), found by thresholding
    _t, otsu = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = max(5, int(min(sh, sw) * 0.03))
    for mask in (255 - otsu, otsu):
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
        n, _labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
        for i in range(1, n):
            x, y, bw, bh, px = stats[i]
            frac = bw * bh / area
            if frac < 0.01 or frac > 0.6 or bh < 12 or not (0.8 <= bw / float(bh) <= 9):
                continue
            if x <= 1 or y <= 1 or x + bw >= sw - 1 or y + bh >= sh - 1:
                continue  # touches the photo's edge: background, not a display
            fill = px / float(bw * bh)
            if fill < 0.8:
                continue
            inner = grey[y + bh // 8: y + bh - bh // 8, x + bw // 12: x + bw - bw // 12]
            contrast = float(inner.std()) if inner.size else 0.0
            if contrast < 18:
                continue
            score = contrast * fill * min(1.0, (frac / 0.1) ** 0.5) * 1.1
            scored.append((score, Box(x=int(x / s), y=int(y / s), width=int(bw / s), height=int(bh / s))))
    scored.sort(key=lambda t: -t[0])
    chosen: list[Box] = []
    for _score, box in scored:
        if all(_iou(box, c) < 0.5 for c in chosen):  # a display window inside a panel is its own region
            chosen.append(box)
        if len(chosen) >= limit:
            break
    return chosen


def regions_around_lines(lines: Sequence[OcrLine], image_shape: tuple[int, ...], limit: int = 2) -> list[Box]:
    """Regions around text that looks like it could hold a code but was read with low confidence."""
    h, w = image_shape[:2]
    out: list[Box] = []
    for line in sorted(lines, key=lambda ln: ln.confidence):
        norm = normalise_code(line.text)
        if line.confidence >= 0.985 or not (1 <= len(norm) <= 8):
            continue
        if not any(ch.isdigit() for ch in norm.translate(CONFUSION)):
            continue
        b = line.box
        mx, my = int(min(b.height * 1.6, 40 + b.height * 0.3)), int(min(b.height * 0.7, 30 + b.height * 0.15))
        x0, y0 = max(0, b.x - mx), max(0, b.y - my)
        x1, y1 = min(w, b.x + b.width + mx), min(h, b.y + b.height + my)
        out.append(Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0))
        if len(out) >= limit:
            break
    return out


def _drop_border_blobs(mask: np.ndarray) -> np.ndarray:
    """Remove foreground blobs touching the crop's edge (bezel, panel) and specks."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    h, w = mask.shape[:2]
    keep = np.zeros(n, dtype=bool)
    min_area = max(4, int(h * w * 0.0004))
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        touches = x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1
        keep[i] = not touches and area >= min_area and bh < 0.95 * h
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def display_variants(crop: np.ndarray) -> list[np.ndarray]:
    """Versions of a display crop for a second OCR pass: contrast-stretched, and binarised with
    strokes closed (dark text on white whatever the display's polarity)."""
    value = crop.max(axis=2) if crop.ndim == 3 else crop  # lit LED segments are bright in some channel
    value = cv2.GaussianBlur(value, (3, 3), 0)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(value)
    _t, binary = cv2.threshold(clahe, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if (binary > 0).mean() < 0.5:  # bright strokes on a dark display: the strokes are the minority
        binary = 255 - binary
    strokes = _drop_border_blobs(255 - binary)
    k = max(3, crop.shape[0] // 26)
    strokes = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    strokes = cv2.morphologyEx(strokes, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    closed = 255 - strokes
    stretched = cv2.normalize(clahe, None, 0, 255, cv2.NORM_MINMAX)
    if float(stretched.mean()) < 110:
        stretched = 255 - stretched
    return [closed, stretched]


def display_pass(image: np.ndarray, regions: Sequence[Box], matcher: CodeMatcher, key: str | None = None,
                 target_height: int = 240, displays: Sequence[Box] | None = None,
                 seven_segment: Sequence[Box] = (), text_h: float = 0.0) -> tuple[list[CodeCandidate], list[OcrLine]]:
    h, w = image.shape[:2]
    candidates: list[CodeCandidate] = []
    all_lines: list[OcrLine] = []
    for region in regions:
        x0, y0 = max(0, region.x), max(0, region.y)
        x1, y1 = min(w, region.x + region.width), min(h, region.y + region.height)
        crop = image[y0:y1, x0:x1]
        if crop.size == 0 or crop.shape[0] < 8 or crop.shape[1] < 8:
            continue
        s = target_height / crop.shape[0]
        if crop.shape[1] * s > 1400:
            s = 1400 / crop.shape[1]
        interp = cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA
        crop = cv2.resize(crop, (max(8, round(crop.shape[1] * s)), max(8, round(crop.shape[0] * s))), interpolation=interp)
        for i, variant in enumerate(display_variants(crop)):
            pad = 16
            padded = cv2.copyMakeBorder(variant, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
            vkey = None if key is None else f"{key}:disp:{x0},{y0},{x1},{y1}:{i}"
            lines = run_ocr(padded, key=vkey, scale=s, offset=(x0 - round(pad / s), y0 - round(pad / s)),
                            limit=(w, h), min_score=0.3)
            all_lines.extend(lines)
            segs = any(_box_overlap(region, b) > 0.5 for b in seven_segment)
            found = candidates_from_lines(lines, matcher, source="display_pass", segments=segs, displays=displays,
                                         text_h=text_h)
            candidates.extend(found)
            if any(c.score >= CONFIDENT for c in found):
                break
    return candidates, all_lines


# --------------------------------------------------------------------------- decide


@dataclass
class CodeReading:
    observations: list[Observation]
    flags: list[Flag]
    display_lines: list[OcrLine]
    used_display_pass: bool


def _groups(cands: Sequence[CodeCandidate]) -> list[list[CodeCandidate]]:
    groups: list[list[CodeCandidate]] = []
    for c in sorted(cands, key=lambda c: -c.score):
        for g in groups:
            if any(_box_overlap(c.box, o.box) > 0.3 for o in g):
                g.append(c)
                break
        else:
            groups.append([c])
    return groups


def decide(cands: Sequence[CodeCandidate], photo_id: str, equipment_id: str | None = None,
           min_report: float = 0.35) -> tuple[list[Observation], list[Flag]]:
    """One observation per region with the best-supported code; competitors become alternatives."""
    observations: list[Observation] = []
    flags: list[Flag] = []
    for group in _groups(cands):
        per_code: dict[str, list[CodeCandidate]] = {}
        for c in group:
            per_code.setdefault(c.code, []).append(c)
        ranked: list[tuple[float, str, CodeCandidate]] = []
        for code, cs in per_code.items():
            best = max(cs, key=lambda c: c.score)
            sources = {c.source for c in cs}
            support = best.score
            if len(sources) > 1:  # both passes agree: combine as independent evidence, capped
                second = max(c.score for c in cs if c.source != best.source)
                support = min(0.99, 1.0 - (1.0 - best.score) * (1.0 - 0.5 * second))
            ranked.append((support, code, best))
        ranked.sort(key=lambda t: -t[0])
        top_score, top_code, top = ranked[0]
        if top_score < min_report or (len(normalise_code(top_code)) <= 2 and top_score < SHORT_CODE_MIN):
            continue
        competitors = [code for s, code, _ in ranked[1:] if s >= top_score - COMPETE_MARGIN and s >= min_report]
        weaker = [code for s, code, _ in ranked[1:] if code not in competitors and s >= min_report]
        obs = Observation(photo=photo_id, kind=ObservationKind.FAULT_CODE, value=top_code,
                          confidence=round(min(1.0, top_score), 3), box=top.box, raw=top.raw,
                          source=top.source, equipment_id=equipment_id, alternatives=competitors + weaker)
        observations.append(obs)
        if competitors:
            flags.append(Flag(code=FlagCode.READING_UNCERTAIN, severity=Severity.WARNING, photo=photo_id,
                              message=f"The code on the display could be {top_code} or "
                                      f"{' or '.join(competitors)}: check the display and confirm."))
        elif top_score < UNCERTAIN_BELOW:
            flags.append(Flag(code=FlagCode.READING_UNCERTAIN, severity=Severity.WARNING, photo=photo_id,
                              message=f"The code {top_code} was read with low confidence: check the display and confirm."))
    observations.sort(key=lambda o: -o.confidence)
    return observations, flags


def read_codes(image: np.ndarray, lines: Sequence[OcrLine], known_codes: Iterable[str], photo_id: str,
               *, equipment_id: str | None = None, key: str | None = None,
               allow_display_pass: bool = True, displays: Sequence[Box] | None = None,
               seven_segment: Sequence[Box] = (), display_regions: Sequence[Box] | None = None) -> CodeReading:
    """Fault codes from first-pass OCR lines, with a display pass when they are not enough.
    `displays`: display-like regions (None: every line counts, as on a crop of a display);
    `seven_segment`: where seven-segment digits were found (their misreadings are allowed there only);
    `display_regions`: the display regions to OCR again (None: found here with `find_display_regions`)."""
    matcher = CodeMatcher(known_codes)
    if not matcher:
        return CodeReading([], [], [], False)
    text_h = text_height(lines)
    cands = candidates_from_lines(lines, matcher, source="ocr", displays=displays, text_h=text_h)
    on_segments = [ln for ln in lines if any(_box_overlap(ln.box, b) > 0.5 for b in seven_segment)]
    for c in candidates_from_lines(on_segments, matcher, source="ocr", segments=True, displays=displays,
                                   text_h=text_h):
        if c.quality < 1.0 and not any(o.code == c.code and o.box == c.box for o in cands):
            c.score = round(c.score * 0.9, 4)  # a seven-segment misreading, where seven-segment digits were found
            cands.append(c)
    best = max((c.score for c in cands), default=0.0)
    used = False
    display_lines: list[OcrLine] = []
    if allow_display_pass and best < CONFIDENT:
        regions: list[Box] = []
        for c in sorted(cands, key=lambda c: -c.score)[:1]:  # the weak reading's own region first
            regions.extend(regions_around_lines([ln for ln in lines if ln.box == c.box], image.shape, 1))
        found = list(display_regions) if display_regions is not None else find_display_regions(image)
        for r in found + regions_around_lines(lines, image.shape):
            if all(_box_overlap(r, o) < 0.7 for o in regions):
                regions.append(r)
        regions = regions[:3]
        if regions:
            used = True
            more, display_lines = display_pass(image, regions, matcher, key=key, displays=displays,
                                               seven_segment=seven_segment, text_h=text_h)
            cands.extend(more)
    observations, flags = decide(cands, photo_id, equipment_id)
    return CodeReading(observations, flags, display_lines, used)
