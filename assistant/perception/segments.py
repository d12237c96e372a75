"""Seven-segment displays read by geometry (after ssocr): in a display region, find the
number groups, undo tilt and italic slant, split each group into digit cells by column
projection, and decide for each cell which of the seven segments are lit by sampling the
stroke across each segment's place. Lit and unlit ("ghost") segments are told apart per
group by the gap between their strengths, so faint inactive segments on grey LCDs do not
count. Decimal points, colons and minus signs are found by their size and place next to
the digits, a minus sign also in a sign field of its own beyond the window's frame (a
plus sign is not one). Both polarities are tried (dark on grey LCD, bright LED or backlit).
Rows of a display stay separate numbers, and so do two numbers side by side in one row
(a value and a set point); thin-segment digits that break into halves, a '1' (a cell much
narrower than its neighbours, lit on its right) and a faint digit at a row's end are read,
a window's edge beside the digits is not a '1', and a number read in two pieces is joined.

Each reading says how sure it is (segment margins, cell regularity); a cell that is no
seven-segment character rejects the group rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from assistant.domain import Box

# Segments: a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle.
PATTERNS: dict[frozenset[str], str] = {}
for _ch, _segs in {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg", "7": "abc",
    "8": "abcdefg", "9": "abcdfg", "A": "abcefg", "b": "cdefg", "C": "adef", "d": "bcdeg", "E": "adefg",
    "F": "aefg", "H": "bcefg", "L": "def", "P": "abefg", "r": "eg", "n": "ceg", "o": "cdeg", "U": "bcdef",
    "-": "g", "t": "defg", "y": "bcdfg", "J": "bcde",
}.items():
    PATTERNS[frozenset(_segs)] = _ch
# Variants some displays draw: 6 without its top, 9 without its bottom, 7 with the upper-left stroke.
PATTERNS[frozenset("cdefg")] = "b"  # also a '6' without 'a' on some displays: left as 'b' (letters need context)
PATTERNS[frozenset("abcfg")] = "9"
PATTERNS[frozenset("abcf")] = "7"
DIGIT_PATTERNS = {k for k, v in PATTERNS.items() if v.isdigit()}

WORK_HEIGHT = 160  # a number group is resampled to about this height before cells are read
MIN_GROUP_HEIGHT = 10  # px in the source region: smaller groups are not read
_DEBUG: list | None = None  # set to a list to collect each group's straightened images (development aid)
SHEARS = tuple(np.round(np.arange(-0.40, 0.41, 0.05), 2))


@dataclass(frozen=True)
class SegmentReading:
    """A number (or short code) read off a seven-segment display."""

    text: str
    confidence: float
    box: Box
    digits: int
    polarity: str  # "dark" (dark segments on a light ground) or "light"
    cell_height: float  # digit height in source pixels


def _tophat(ink: np.ndarray, k: int) -> np.ndarray:
    k = max(3, k | 1)
    return cv2.morphologyEx(ink, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))


def _best_shear(binary: np.ndarray) -> float:
    """The horizontal shear that makes digit cells most separable (sharpest column projection)."""
    small = binary[::2, ::2]  # half size is plenty to compare slants
    h, w = small.shape
    best, best_score = 0.0, -1.0
    for s in SHEARS:
        m = np.float32([[1, s, -s * h / 2.0], [0, 1, 0]])
        sheared = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        col = sheared.sum(axis=0).astype(np.float64)
        score = float((col ** 2).sum()) / (float(col.sum()) ** 2 + 1e-9) * w
        if score > best_score + 1e-6:
            best, best_score = float(s), score
    return best


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the True runs of a 1-D mask."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _segment_strengths(ink: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> dict[str, float]:
    """How strongly each segment place of a cell is inked: the best crossing line's mean ink."""
    cell = ink[y0:y1, x0:x1].astype(np.float32)
    h, w = cell.shape
    out: dict[str, float] = {}

    def horizontal(ya: float, yb: float) -> float:
        # how much of the bar's length is inked at some height in its band: a bar crosses every
        # column, a slanted upright stroke passing through the band only a few
        band = cell[int(ya * h):max(int(ya * h) + 1, int(yb * h)), int(0.3 * w):max(int(0.3 * w) + 1, int(0.7 * w))]
        return float(band.max(axis=0).mean()) if band.size else 0.0

    def vertical(xa: float, xb: float, ya: float, yb: float) -> float:
        band = cell[int(ya * h):max(int(ya * h) + 1, int(yb * h)), int(xa * w):max(int(xa * w) + 1, int(xb * w))]
        return float(band.mean(axis=0).max()) if band.size else 0.0

    out["a"] = horizontal(0.0, 0.22)
    out["g"] = horizontal(0.38, 0.62)
    out["d"] = horizontal(0.78, 1.0)
    out["f"] = vertical(0.0, 0.38, 0.18, 0.36)
    out["b"] = vertical(0.62, 1.0, 0.18, 0.36)
    out["e"] = vertical(0.0, 0.38, 0.64, 0.82)
    out["c"] = vertical(0.62, 1.0, 0.64, 0.82)
    return out


def _split_threshold(values: np.ndarray) -> tuple[float, float]:
    """Threshold between unlit and lit segment strengths (1-D two-means) and how clear the gap is."""
    v = np.sort(values)
    if v.size < 2 or v[-1] - v[0] < 1e-6:
        return float(v[-1]) * 0.5 if v.size else 0.5, 0.0
    best_t, best_score = float(v[0]), -1.0
    for i in range(1, v.size):
        lo, hi = v[:i], v[i:]
        score = lo.size * hi.size * (hi.mean() - lo.mean()) ** 2
        if score > best_score:
            best_score, best_t = score, float((v[i - 1] + v[i]) / 2)
    lo, hi = v[v < best_t], v[v >= best_t]
    gap = (hi.min() - lo.max()) / (v[-1] + 1e-9) if lo.size and hi.size else 0.0
    return best_t, float(gap)


@dataclass
class _Cell:
    x0: int
    x1: int
    y0: int
    y1: int

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0


def _nearest_digit(ch: str) -> str | None:
    """The digit whose segments differ from letter `ch`'s by one (U -> 0, b -> 6, y -> 9), if one."""
    segs = next((k for k, v in PATTERNS.items() if v == ch), None)
    if segs is None:
        return None
    near = [PATTERNS[k] for k in DIGIT_PATTERNS if len(k ^ segs) == 1]
    return near[0] if len(set(near)) == 1 else None


def _letters_as_prefix(chars: list[tuple[float, str]]) -> list[tuple[float, str]] | None:
    """Letters belong before the digits (E21, F004, Er07, AL3); a letter after a digit, or right
    before a decimal point (a point follows a digit), is a misread digit when one segment away from
    exactly one digit ('U' is a '0' with a faint top), else the group is no reading."""
    out, seen_digit = [], False
    for i, (x, ch) in enumerate(chars):
        if ch.isdigit():
            seen_digit = True
        elif ch.isalpha() and (seen_digit or chars[i + 1:i + 2] and chars[i + 1][1] == "."):
            d = _nearest_digit(ch)
            if d is None:
                return None
            ch = d
            seen_digit = True
        out.append((x, ch))
    return out


def _marks(binary: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """Take the small pieces (decimal points, colon dots, minus signs) out of a group's binary:
    (binary without them, [(x centre, y centre, width, height)])."""
    h, w = binary.shape
    n, labels, stats, cents = cv2.connectedComponentsWithStats(binary, connectivity=8)
    marks, drop = [], []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if bh < 0.25 * h and 0.5 * bh <= bw <= 2.0 * bh and area >= 0.4 * bw * bh and bh >= 0.04 * h:
            marks.append((float(cents[i][0]), float(cents[i][1]), float(bw), float(bh)))
            drop.append(i)
    if drop:
        binary = binary.copy()
        binary[np.isin(labels, drop)] = 0
    return binary, marks


def _bars_to_edge(binary: np.ndarray, xa: int, xb: int) -> bool:
    """Whether bars leave the upright strokes at xa..xb towards the crop's edge at both their top
    and their bottom end: a digit the crop cut (a '0' with its left side lost), not a '1' with a
    streak of reflection running into it."""
    h, w = binary.shape
    rows = np.flatnonzero(binary[:, xa:xb].max(axis=1) > 0)
    if rows.size < 2:
        return False
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    reach = max(2, int(0.1 * h))
    side = binary[:, max(0, xa - reach):xa] if xa < w - xb else binary[:, xb:xb + reach]
    if not side.size:
        return False
    band = max(2, int(0.2 * (r1 - r0)))
    return bool(side[r0:r0 + band].any() and side[r1 - band:r1].any())


def _faint_end_cells(binary: np.ndarray, digits: list[_Cell], cell_w: float, H: float) -> list[tuple[int, int]]:
    """Where one more cell would stand beyond each end of a row of cells (a digit's place one pitch
    on), inside the crop and holding some ink: (x0, x1) of each."""
    h, w = binary.shape
    ends = sorted(c.x1 for c in digits)
    steps = [b - a for a, b in zip(ends, ends[1:]) if 0.8 * cell_w < b - a < 1.6 * cell_w]
    if len(steps) < 1 or len(digits) < 2:
        return []
    pitch = float(np.median(steps))
    out = []
    for x1 in (ends[-1] + pitch, ends[0] - pitch):
        x0 = x1 - cell_w
        if x0 < 1 or x1 > w - 2:
            continue
        xa, xb = int(round(x0)), int(round(x1))
        if (binary[:, xa:xb] > 0).sum() >= 0.02 * (xb - xa) * H:
            out.append((xa, xb))
    return out


def _stroke_width(binary: np.ndarray, cells: list[_Cell], top: float, bottom: float) -> float:
    """The median width of upright strokes in the cells: ink runs across a quarter and three
    quarters of the digits' height (0 when there are none)."""
    runs = []
    for y in (int(top + 0.25 * (bottom - top)), int(top + 0.75 * (bottom - top))):
        if not 0 <= y < binary.shape[0]:
            continue
        for c in cells:
            runs.extend(b - a for a, b in _runs(binary[y, c.x0:c.x1] > 0))
    return float(np.median(runs)) if runs else 0.0


def _number_cuts(digits: list[_Cell], cell_w: float) -> list[float]:
    """Where one row of cells holds two numbers (a value and a set point side by side): gaps much
    wider than the row's spacing between digits. A '1' is lit on the right of its cell, so its
    cell is taken to start one cell width left of its right edge."""
    spans = sorted((c.x1 - cell_w if c.w < 0.6 * cell_w else c.x0, c.x1) for c in digits)
    gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
    if len(gaps) < 2:
        return []
    normal = max(float(np.median(gaps)), 0.08 * cell_w)
    return [(spans[i][1] + spans[i + 1][0]) / 2.0 for i, g in enumerate(gaps) if g > 0.5 * cell_w and g > 2.5 * normal]


def _read_group(ink: np.ndarray, binary: np.ndarray) -> list[tuple[str, float, int, float, float, float]]:
    """Decode one straightened row of cells: for each number in it (usually one), (text, confidence,
    digit count, digit height, left and right x in the row's image); [] when it is no number."""
    h, w = binary.shape
    binary, marks = _marks(binary)
    counts = (binary > 0).sum(axis=0)
    col = counts >= max(2, 0.05 * h)  # a thin rim line does not join two digits
    cells: list[_Cell] = []
    for xa, xb in _runs(col):
        if xa == 0 or xb == w:
            # cut by the crop's edge: a rim, or a streak of reflection running into a digit at the
            # group's end; the upright strokes at its inner end, clear of the edge, are that digit
            tall = _runs(counts[xa:xb] >= 0.25 * h)
            inner = [(xa + a, xa + b) for a, b in tall if xa + a > 0 and xa + b < w]
            spans = inner if xa == 0 and xb == w else inner[-1:] if xa == 0 else inner[:1]
            spans = [(a, b) for a, b in spans if b - a >= 0.04 * h and not _bars_to_edge(binary, a, b)]
        else:
            spans = [(xa, xb)]
        for xa, xb in spans:
            rows = np.flatnonzero(binary[:, xa:xb].max(axis=1) > 0)
            if rows.size:
                cells.append(_Cell(xa, xb, int(rows[0]), int(rows[-1]) + 1))
    if not cells:
        return []
    H = float(max(c.h for c in cells))
    digits = [c for c in cells if c.h >= 0.62 * H]
    if not digits:
        return []
    top = float(np.median([c.y0 for c in digits]))
    bottom = float(np.median([c.y1 for c in digits]))
    H = bottom - top
    if H < 8:
        return []
    wide = [c.w for c in digits if c.w > 0.42 * H]
    # the upper quartile: a 3 or a 7 is narrower than the cell, only 1s are narrower still
    cell_w = float(np.percentile(wide, 75)) if wide else 0.55 * H
    if not 0.3 * H <= cell_w <= 1.7 * H:  # up to wide fonts and photos squeezed in height
        return []
    # merge pieces of one digit split by an empty column (an upper-left stroke, the two halves of
    # a slanted digit): short pieces next to a digit join it when the two fit one cell
    pieces = sorted(cells, key=lambda c: c.x0)
    merged: list[_Cell] = []
    for c in pieces:
        if merged:
            p = merged[-1]
            fits = max(p.x1, c.x1) - p.x0 <= 1.3 * cell_w and c.x0 - p.x1 < 0.25 * cell_w
            partial = p.h < 0.62 * H or c.h < 0.62 * H or (p.w < 0.8 * cell_w and c.w < 0.8 * cell_w)
            if fits and partial:
                merged[-1] = _Cell(p.x0, max(p.x1, c.x1), min(p.y0, c.y0), max(p.y1, c.y1))
                continue
        merged.append(c)
    digits = [c for c in merged if c.h >= 0.62 * H]
    if not digits:
        return []
    for c in merged:
        # a '1' whose other stroke the threshold lost (under glare, or joined to a reflection taken out
        # as the window's frame): one upright stroke from the row's top or to its bottom, with as much
        # ink where the other one stands
        if c.h >= 0.62 * H or c.w >= 0.45 * cell_w or c.h < 0.35 * H:
            continue
        at_top, at_bottom = abs(c.y0 - top) < 0.12 * H, abs(c.y1 - bottom) < 0.12 * H
        if at_top == at_bottom:
            continue
        own = float(ink[c.y0:c.y1, c.x0:c.x1].mean())
        rest = ink[c.y1:int(bottom), c.x0:c.x1] if at_top else ink[int(top):c.y0, c.x0:c.x1]
        if rest.size and own > 0 and float(rest.mean()) >= 0.6 * own:
            digits.append(_Cell(c.x0, c.x1, int(top), int(bottom)))
    digits.sort(key=lambda c: c.x0)
    if any(c.w > 1.35 * cell_w for c in digits):
        return []  # two digits run together, or no digit at all
    # the row's top and bottom as lines: what straightening left of a tilt shifts the cells' places
    full = [c for c in digits if c.h >= 0.85 * H]
    if len(full) >= 3 and max(c.x1 for c in full) - min(c.x0 for c in full) > 2 * cell_w:
        xs = np.array([(c.x0 + c.x1) / 2 for c in full], dtype=np.float64)
        top_fit = np.polyfit(xs, [c.y0 for c in full], 1)
        bottom_fit = np.polyfit(xs, [c.y1 for c in full], 1)
    else:
        top_fit, bottom_fit = np.array([0.0, top]), np.array([0.0, bottom])
    chars: list[tuple[float, str]] = []
    sure: dict[float, float] = {}  # x of each digit cell -> how sure its character is
    boxes: list[tuple[int, int, int, int]] = []
    stroke = _stroke_width(binary, [c for c in digits if c.w >= 0.45 * cell_w], top, bottom)
    prev_x1 = -1e9
    for c in digits:
        # a '1' is lit on the right of a whole cell: an upright line closer to the digit before it than
        # that, reaching beyond the digits (or the crop) or thinner than their strokes is the
        # window's edge, not a one
        if c.w < 0.45 * cell_w and (c.y0 < top - 0.12 * H or c.y1 > bottom + 0.12 * H or c.y0 <= 0 or c.y1 >= h
                                    or c.x1 - cell_w < prev_x1 - 0.35 * cell_w
                                    or (stroke and _stroke_width(binary, [c], top, bottom) < 0.5 * stroke)):
            continue
        prev_x1 = c.x1
        if c.w < 0.45 * cell_w and c.h >= 0.75 * H:
            x = (c.x0 + c.x1) / 2
            chars.append((x, "1"))  # a narrow full-height cell can only be a one
            sure[x] = 0.9
            continue
        xc = (c.x0 + c.x1) / 2
        boxes.append((c.x0, c.x1, int(round(np.polyval(top_fit, xc))), int(round(np.polyval(bottom_fit, xc)))))
    if not boxes:
        return []  # only narrow strokes: bars or edges, not digits
    strengths = [_segment_strengths(ink, *b) for b in boxes]
    values = np.array([v for st in strengths for v in st.values()], dtype=np.float64)
    if values.max() <= 0:
        return []
    thr, gap = _split_threshold(values)
    if gap < 0.12 and values.min() / values.max() < 0.5:
        return []  # no clear lit/unlit split: not a segment display (or unreadable)
    below, above = values[values < thr], values[values >= thr]
    lo = float(below.mean()) if below.size else 0.0
    hi = float(above.mean()) if above.size else float(values.max())

    def unclear(st: dict[str, float], segs: set[str]) -> float:  # how far from clearly unlit or lit
        return sum(min(abs(st[k] - lo), abs(st[k] - hi)) for k in segs)

    for xa, xb in _faint_end_cells(binary, digits, cell_w, H):
        # a digit at the row's end whose strokes the threshold lost (dimmer, or among ghost segments):
        # read where the next cell stands when its lit segments are clear and make a digit other than
        # a lone upright stroke (which a window's edge there would make)
        xc = (xa + xb) / 2
        box = (xa, xb, int(round(np.polyval(top_fit, xc))), int(round(np.polyval(bottom_fit, xc))))
        st = _segment_strengths(ink, *box)
        own_thr, own_gap = _split_threshold(np.array(list(st.values()), dtype=np.float64))
        lit = frozenset(k for k, v in st.items() if v >= own_thr)
        if own_gap >= 0.3 and min(st[k] for k in lit) >= lo + 0.3 * (hi - lo) and lit in DIGIT_PATTERNS \
                and PATTERNS[lit] != "1":
            boxes.append(box)
            strengths.append({k: (hi if k in lit else lo) for k in st})  # decided by its own contrast
    for bx, st in zip(boxes, strengths, strict=True):
        if bx[1] - bx[0] < 0.85 * cell_w and bx[1] - cell_w >= 0:
            # a narrow cell (a digit without its left strokes, a 7's slanted stroke) may be the right
            # part of a full cell: sampled in that place too, the clearer of the two decides
            wide = _segment_strengths(ink, int(round(bx[1] - cell_w)), bx[1], bx[2], bx[3])
            differ = {k for k in st if (st[k] >= thr) != (wide[k] >= thr)}
            if differ and unclear(wide, differ) < unclear(st, differ) \
                    and PATTERNS.get(frozenset(k for k, v in wide.items() if v >= thr)):
                st = wide
        margin = min(abs(v - thr) for v in st.values())
        lit = frozenset(k for k, v in st.items() if v >= thr)
        ch = PATTERNS.get(lit)
        if ch is None:
            return []
        margin /= values.max() + 1e-9
        x = (bx[0] + bx[1]) / 2
        chars.append((x, ch))
        sure[x] = min(1.0, 0.55 + 2.5 * margin)
    first_x = min(c.x0 for c in digits)
    for c in cells:
        if c.x1 <= first_x and c.h < 0.25 * H and c.w >= 0.35 * cell_w and c.w >= 1.5 * c.h \
                and abs((c.y0 + c.y1) / 2 - (top + bottom) / 2) < 0.2 * H and first_x - c.x1 < 1.2 * cell_w:
            chars.append(((c.x0 + c.x1) / 2, "-"))
    dots = []
    for mx, my, mw, mh in marks:
        if mx < first_x:
            continue
        if mw > 0.45 * cell_w or mh > 0.3 * H:
            continue
        if abs((my + mh / 2) - bottom) < 0.15 * H:
            chars.append((mx, "."))
        elif top + 0.15 * H < my < bottom - 0.15 * H:
            dots.append((mx, my))
    for mx, my in dots:  # a colon is two dots one above the other; one alone is a segment's piece
        if any(abs(mx - ox) < 0.5 * cell_w and abs(my - oy) > 0.25 * H for ox, oy in dots):
            chars.append((mx, ":"))
    chars.sort()
    # a gap holding a decimal point alone is inside a number ("20.00" with a wide point), and so is
    # one after leading zeros (a meter's "00 13644.0")
    cuts = [x for x in _number_cuts(digits, cell_w)
            if not (sum(abs(mx - x) < 0.6 * cell_w for mx, *_ in marks) == 1
                    and any(ch == "." and abs(cx - x) < 0.6 * cell_w for cx, ch in chars))
            and not all(ch == "0" for cx, ch in chars if cx < x and ch.isalnum())]
    edges = [-1.0, *cuts, float(w) + 1.0]
    out = []
    for lo, hi in zip(edges, edges[1:]):
        part = [(x, ch) for x, ch in chars if lo <= x < hi]
        got = _number_text(part)
        if got is None:
            if len(edges) == 2:
                return []
            continue
        text, n_digits = got
        conf = float(np.mean([sure[x] for x, _ch in part if x in sure])) * min(1.0, 0.5 + gap * 2.5)
        xs = [c for c in digits if lo <= (c.x0 + c.x1) / 2 < hi]
        out.append((text, round(conf, 3), n_digits, H, float(min(c.x0 for c in xs)), float(max(c.x1 for c in xs))))
    return out


def _number_text(chars: list[tuple[float, str]]) -> tuple[str, int] | None:
    """The text of one number's characters (sorted by x) and its digit count, None when they are
    no number (letters after digits that are no misread digit, two decimal points, a lone colon)."""
    if not any(ch.isalnum() for _x, ch in chars):
        return None
    chars = _letters_as_prefix(chars)
    if chars is None:
        return None
    text = "".join(ch for _x, ch in chars)
    text = re.sub(r":+", ":", text).strip(".:")
    if text.count(".") > 1 or ("." in text and ":" in text):
        return None  # a number has one decimal point; a clock's colon comes without one
    if text.count(":") and any(ch == ":" for _x, ch in chars) and ":" not in text:
        return None
    return text, sum(ch.isalnum() for ch in text)


def _row_angle(binary: np.ndarray, min_h: int) -> float:
    """The tilt of the rows of digits (degrees, 0 when level or unclear): the median direction
    from each digit-sized piece to its nearest neighbour of similar height on its right."""
    n, _labels, stats, cents = cv2.connectedComponentsWithStats(binary, connectivity=8)
    pieces = [(cents[i][0], cents[i][1], stats[i][3], stats[i][2]) for i in range(1, n)
              if stats[i][3] >= min_h and stats[i][2] < 2 * stats[i][3]]
    angles = []
    for x, y, h, _w in pieces:
        best = None
        for x2, y2, h2, _w2 in pieces:
            dx, dy = x2 - x, y2 - y
            if dx <= 0.2 * h or dx > 2.0 * h or not 0.7 < h2 / h < 1.4 or abs(dy) > dx * 0.6:
                continue
            if best is None or dx < best[0]:
                best = (dx, float(np.degrees(np.arctan2(dy, dx))))
        if best is not None:
            angles.append(best[1])
    if len(angles) < 2:
        return 0.0
    a = float(np.median(angles))
    return a if 2.0 < abs(a) <= 28.0 else 0.0


def _drop_lines(binary: np.ndarray, length: int) -> np.ndarray:
    """Remove horizontal lines longer than any segment (a window's rim, a bezel edge)."""
    if length < 8 or binary.shape[1] <= length:
        return binary
    lines = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    if not lines.any():
        return binary
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(binary, cv2.bitwise_not(lines))


def _drop_slivers(binary: np.ndarray, height: int) -> np.ndarray:
    """Remove flat pieces thinner than any stroke (broken rim lines, reflections' edges)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    drop = [i for i in range(1, n) if (stats[i][3] < 0.05 * height and stats[i][2] > 2.5 * stats[i][3])
            or (stats[i][3] < 0.2 * height and stats[i][2] > 0.75 * height)]  # longer than any segment
    if drop:
        binary = binary.copy()
        binary[np.isin(labels, drop)] = 0
    return binary


def _drop_frames(binary: np.ndarray) -> np.ndarray:
    """Remove what frames the region (bezel edges, the window's rim, background) rather than digits:
    large pieces touching the crop's border."""
    h, w = binary.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    drop = [i for i in range(1, n)
            if (stats[i][0] <= 1 or stats[i][1] <= 1 or stats[i][0] + stats[i][2] >= w - 1
                or stats[i][1] + stats[i][3] >= h - 1)
            and (stats[i][2] > 0.5 * w or stats[i][3] > 0.5 * h)]
    if drop:
        binary = binary.copy()
        binary[np.isin(labels, drop)] = 0
    return binary


def _joins(g: list[int], piece: tuple[int, int, int, int], line: bool) -> bool:
    """Whether a piece belongs to the row of digits `g` (x, y, w, h, single-line flag): of a similar
    height, taller (the group so far was digit halves), or a digit's half inside the row's band;
    overlapping it vertically and at most about a digit away."""
    gx, gy, gw, gh = g[:4]
    x, y, bw, bh = piece
    overlap = min(gy + gh, y + bh) - max(gy, y)
    similar = 0.75 < bh / float(gh) < 1.33 or (not line and bh > gh and overlap >= 0.9 * gh and bh < 3 * gh)
    # (a thin upright piece only when most of a digit's height: a frame is taller, not shorter)
    within = not g[4] and bh >= (0.6 if line else 0.3) * gh and overlap >= 0.75 * bh
    gap = max(gx - (x + bw), x - (gx + gw))
    return (similar or within) and overlap > 0.6 * min(gh, bh) and gap < 0.8 * max(gh, bh)


def _extend(g: list[int], piece: tuple[int, int, int, int]) -> None:
    x, y, bw, bh = piece
    x1, y1 = max(g[0] + g[2], x + bw), max(g[1] + g[3], y + bh)
    g[0], g[1] = min(g[0], x), min(g[1], y)
    g[2], g[3] = x1 - g[0], y1 - g[1]


def _groups(binary: np.ndarray, min_h: int) -> list[tuple[int, int, int, int]]:
    """Bounding boxes of number groups: ink pieces of a digit height joined along their row
    (gaps up to about one digit height: segment gaps, digit gaps, decimal points)."""
    h, w = binary.shape
    k = max(3, min_h // 3)
    joined = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (3, k)))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    raw = [list(int(v) for v in stats[i][:5]) for i in range(1, n)
           if stats[i][3] >= min_h // 2 and stats[i][2] * stats[i][3] < 0.9 * h * w]
    raw.sort(key=lambda b: b[1])
    stacked: list[list] = []  # the two strokes of a '1' (or of an LCD digit's side) one above the other

    def digit_like(p, area: int) -> bool:  # shaped like a whole digit (segments round holes), not a stroke or a half
        return 0.35 <= p[2] / float(p[3]) <= 0.8 and area < 0.6 * p[2] * p[3]

    for b in raw:
        for a in stacked:
            ox = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            gap = b[1] - (a[1] + a[3])
            if ox > 0.3 * min(a[2], b[2]) and gap < 0.6 * max(a[3], b[3]) and 0.5 < b[3] / a[3] < 2.0 \
                    and not (digit_like(a, a[5]) or digit_like(b, b[4])):  # a whole digit: another row of the display
                x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                a[2], a[3] = max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0
                a[0], a[1] = x0, y0
                a[4].append(tuple(b[:4]))
                a[5] += b[4]
                break
        else:
            stacked.append(b[:4] + [[tuple(b[:4])], b[4]])
    # a thin upright piece cut by the crop's side is the rim of a window, not a '1'
    pieces = [b for b in stacked if b[3] >= min_h and not (b[2] < 0.18 * b[3] and (b[0] <= 0 or b[0] + b[2] >= w))]
    # thin upright pieces (a '1', a thin LCD digit's side, a window's frame) join groups after the
    # others and never take one over: a frame beside the digits must not make their group twice as tall
    pieces.sort(key=lambda b: (b[2] < 0.18 * b[3], b[0]))
    groups: list[list[int]] = []  # x, y, w, h, and 1 while the group is a single thin line

    def place(piece: tuple[int, int, int, int]) -> bool:
        line = piece[2] < 0.18 * piece[3]
        for g in groups:
            if _joins(g, piece, line):
                _extend(g, piece)
                g[4] = 0
                return True
        return False

    thin = [p for p in pieces if p[2] < 0.18 * p[3]]
    for p in [p for p in pieces if p[2] >= 0.18 * p[3]]:
        if not place(tuple(p[:4])):
            groups.append([*p[:4], 0])
    progress = True
    while progress and thin:  # a thin piece further out joins once the one nearer has grown the row
        progress = False
        for p in list(thin):
            if place(tuple(p[:4])):
                thin.remove(p)
                progress = True
    for x, y, bw, bh, members, _area in thin:
        if place((x, y, bw, bh)):  # beside another thin piece (two '1's)
            continue
        # a stroke stacked across two rows (the '1's of two numbers one above the other): each
        # stroke in its own row
        if len(members) > 1 and bw < 0.18 * bh and all(m[3] >= min_h for m in members):
            rest = [m for m in members if not place(m)]
            if len(rest) < len(members):
                groups.extend([*m, int(m[2] < 0.18 * m[3])] for m in rest)
                continue
        groups.append([x, y, bw, bh, int(bw < 0.18 * bh)])
    merged = True
    while merged:  # groups grown from both ends may now be one row of digits
        merged = False
        for i, g in enumerate(groups):
            for h2 in groups[i + 1:]:
                if not g[4] and not h2[4] and (_joins(g, h2[:4], False) or _joins(h2, g[:4], False)):
                    _extend(g, h2[:4])
                    groups.remove(h2)
                    merged = True
                    break
            if merged:
                break
    out = [tuple(g[:4]) for g in groups if g[2] >= 0.4 * g[3]]
    out.sort(key=lambda b: -b[2] * b[3])
    return out[:6]


def _straighten(ink: np.ndarray, binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a group level (tilt up to ~25 degrees) and undo italic slant."""
    pts = cv2.findNonZero(binary)
    if pts is not None and len(pts) > 20:
        rect = cv2.minAreaRect(cv2.convexHull(pts))
        (cx, cy), (rw, rh), angle = rect
        if rw < rh:
            angle += 90.0
        if angle > 45:
            angle -= 180.0
        if 2.0 < abs(angle) <= 28.0:
            hh, ww = binary.shape
            m = cv2.getRotationMatrix2D((ww / 2.0, hh / 2.0), angle, 1.0)
            binary = cv2.warpAffine(binary, m, (ww, hh), flags=cv2.INTER_NEAREST, borderValue=0)
            ink = cv2.warpAffine(ink, m, (ww, hh), flags=cv2.INTER_LINEAR, borderValue=0)
    s = _best_shear(binary)
    if s:
        hh, ww = binary.shape
        m = np.float32([[1, s, -s * hh / 2.0], [0, 1, 0]])
        binary = cv2.warpAffine(binary, m, (ww, hh), flags=cv2.INTER_NEAREST, borderValue=0)
        ink = cv2.warpAffine(ink, m, (ww, hh), flags=cv2.INTER_LINEAR, borderValue=0)
    return ink, binary


def read_region(crop: np.ndarray, offset: tuple[int, int] = (0, 0), scale: float = 1.0) -> list[SegmentReading]:
    """Seven-segment readings in a region crop (BGR or grey). Boxes are mapped to source pixels by
    `offset` (source px) and `scale` (crop px per source px). Dark segments are looked for in the
    grey image, lit ones in the brightest channel (a red LED is bright in red, mid-grey in grey)."""
    h, w = crop.shape[:2]
    if h < MIN_GROUP_HEIGHT or w < MIN_GROUP_HEIGHT:
        return []
    f = min(1.0, 480.0 / max(h, w)) if max(h, w) > 480 else min(3.0, 160.0 / h) if h < 160 else 1.0
    if f != 1.0:  # resize first: everything below works on at most 480 px
        size = (max(1, round(w * f)), max(1, round(h * f)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    value = crop if crop.ndim == 2 else cv2.max(cv2.max(crop[:, :, 0], crop[:, :, 1]), crop[:, :, 2])
    gh, gw = grey.shape
    grey = cv2.GaussianBlur(grey, (3, 3), 0)
    value = cv2.GaussianBlur(value, (3, 3), 0)
    results: list[SegmentReading] = []
    for polarity in ("dark", "light"):
        ink_full = (255 - grey) if polarity == "dark" else value
        ink_full = _tophat(ink_full, int(min(gh, gw) * 0.35))
        ink_full = cv2.normalize(ink_full, None, 0, 255, cv2.NORM_MINMAX)
        _t, binary = cv2.threshold(ink_full, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        binary = _drop_frames(_drop_lines(binary, int(0.3 * gw)))
        angle = _row_angle(binary, max(MIN_GROUP_HEIGHT, int(gh * 0.12)))
        if angle:  # a tilted display: level it before looking for number groups along rows
            m = cv2.getRotationMatrix2D((gw / 2.0, gh / 2.0), angle, 1.0)
            binary = cv2.warpAffine(binary, m, (gw, gh), flags=cv2.INTER_NEAREST, borderValue=0)
            ink_full = cv2.warpAffine(ink_full, m, (gw, gh), flags=cv2.INTER_LINEAR, borderValue=0)
        for gx, gy, bw, bh in _groups(binary, max(MIN_GROUP_HEIGHT, int(gh * 0.12))):
            if bw > 10 * bh:
                continue  # a line of text or a rule, not a number of at most a dozen cells
            pad = max(2, bh // 10)
            x0, y0 = max(0, gx - pad), max(0, gy - pad)
            x1, y1 = min(gw, gx + bw + pad), min(gh, gy + bh + pad)
            ink = ink_full[y0:y1, x0:x1]
            # re-threshold inside the group: the group's own contrast, not the region's
            _t2, b2 = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            r = WORK_HEIGHT / float(y1 - y0)
            if abs(r - 1.0) > 0.1:
                size = (max(1, round((x1 - x0) * r)), WORK_HEIGHT)
                ink = cv2.resize(ink, size, interpolation=cv2.INTER_LINEAR)
                b2 = cv2.resize(b2, size, interpolation=cv2.INTER_NEAREST)
            b2 = cv2.morphologyEx(b2, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))  # thinner than any stroke: rims, noise
            b2 = cv2.morphologyEx(b2, cv2.MORPH_OPEN, np.ones((5, 1), np.uint8))  # flat lines thinner than strokes
            b2 = _drop_slivers(_drop_lines(b2, int(1.3 * WORK_HEIGHT)), WORK_HEIGHT)
            ink_s, bin_s = _straighten(ink, b2)
            got = _read_group(ink_s, bin_s)
            if _DEBUG is not None:
                _DEBUG.append((polarity, (x0, y0, x1, y1), got, ink_s, bin_s))
            total = scale * f
            for text, conf, n_digits, cell_h, xa, xb in got:
                if n_digits < 2:
                    continue
                if len(got) > 1:  # one of several numbers in the row: its own part of the box
                    bx0, bx1 = x0 + max(0.0, xa / r - pad), min(x1, x0 + xb / r + pad)
                else:
                    bx0, bx1 = x0, x1
                box = Box(x=int(offset[0] + bx0 / total), y=int(offset[1] + y0 / total),
                          width=max(1, int((bx1 - bx0) / total)), height=max(1, int((y1 - y0) / total)))
                results.append(SegmentReading(text, conf, box, n_digits, polarity, cell_h / r / total))
    return _best_per_place(results)


def _overlap(a: Box, b: Box) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return (x1 - x0) * (y1 - y0) / float(min(a.width * a.height, b.width * b.height))


def _best_per_place(readings: list[SegmentReading]) -> list[SegmentReading]:
    chosen: list[SegmentReading] = []
    for r in sorted(readings, key=lambda r: -(r.confidence * min(r.digits, 6))):
        if all(_overlap(r.box, c.box) < 0.5 for c in chosen):
            chosen.append(r)
    return chosen


def _join_row_pieces(readings: list[SegmentReading]) -> list[SegmentReading]:
    """One number read in two pieces along its row (from two regions, or split at a gap) made whole:
    pieces that overlap by whole cells reading the same there ("20" and "0.00" -> "20.00"), and
    leading zeros just left of the number they lead ("00" and "13644.0")."""
    out = sorted(readings, key=lambda r: r.box.x)
    joined = True
    while joined:
        joined = False
        for a in out:
            for b in out:
                if a is b or b.box.x <= a.box.x or a.polarity != b.polarity or not b.text[:1].isdigit():
                    continue
                if not 0.8 < a.cell_height / b.cell_height < 1.25:
                    continue
                rows = min(a.box.y + a.box.height, b.box.y + b.box.height) - max(a.box.y, b.box.y)
                if rows < 0.7 * min(a.box.height, b.box.height):
                    continue
                pitch = (a.box.width / max(1, a.digits) + b.box.width / max(1, b.digits)) / 2.0
                shared = a.box.x + a.box.width - b.box.x
                k = int(round(shared / pitch)) if shared > 0.3 * pitch else 0
                ca, cb = [ch for ch in a.text if ch.isalnum()], [ch for ch in b.text if ch.isalnum()]
                if k == 0 and set(ca) == {"0"} and -shared < 1.5 * a.cell_height:
                    text = a.text + b.text
                elif 0 < k < min(len(ca), len(cb)) and ca[-k:] == cb[:k]:
                    rest, seen = b.text, 0
                    while seen < k:  # b's text after its first k characters
                        seen += rest[0].isalnum()
                        rest = rest[1:]
                    text = a.text + rest
                else:
                    continue
                if text.count(".") > 1:
                    continue
                x0, y0 = min(a.box.x, b.box.x), min(a.box.y, b.box.y)
                x1 = max(a.box.x + a.box.width, b.box.x + b.box.width)
                y1 = max(a.box.y + a.box.height, b.box.y + b.box.height)
                whole = SegmentReading(text, min(a.confidence, b.confidence),
                                       Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0),
                                       sum(ch.isalnum() for ch in text), a.polarity, (a.cell_height + b.cell_height) / 2)
                out = [r for r in out if r is not a and r is not b] + [whole]
                joined = True
                break
            if joined:
                break
    return out


def _sign_before(image: np.ndarray, r: SegmentReading) -> str:
    """'-' when a minus sign stands left of a number at its middle height, also in a window of its
    own (a balance's sign field beyond the digit window's frame); '' for none or a plus sign.
    A sign is a flat stroke about as thick as the digits' strokes and a third of a digit wide, with
    no digit between it and the number and no upright stroke crossing it (that is a '+')."""
    H, b = r.cell_height, r.box
    ih, iw = image.shape[:2]
    cy = b.y + b.height / 2.0
    x0, x1 = max(0, int(b.x - 1.8 * H)), min(iw, b.x + b.width)
    y0, y1 = max(0, int(cy - 0.75 * H)), min(ih, int(cy + 0.75 * H))
    left = b.x - x0
    if left < 0.15 * H or y1 - y0 < 0.5 * H:
        return ""
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, 60.0 / H)  # a digit of about 60 px is plenty to find a dash
    if scale < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    if r.polarity == "dark":
        ink = 255 - (crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))
    else:
        ink = crop if crop.ndim == 2 else crop.max(axis=2)
    ink = cv2.GaussianBlur(ink, (3, 3), 0)
    _t, binary = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)  # the digits set the level
    h_s = H * scale
    lw = int(round(left * scale))
    side = binary[:, :lw]
    n, _labels, stats, _c = cv2.connectedComponentsWithStats(side, connectivity=8)
    mid = (cy - y0) * scale
    dashes, digits = [], []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if h <= 0.2 * h_s and w >= 2.5 * h and 0.15 * h_s <= w <= 1.0 * h_s and area >= 0.5 * w * h \
                and abs(y + h / 2.0 - mid) < 0.15 * h_s:
            dashes.append((x, y, w, h))
        elif h >= 0.45 * h_s and w >= 0.2 * h_s:
            digits.append(x + w)
    if not dashes:
        return ""
    x, y, w, h = max(dashes, key=lambda d: d[0] + d[2])  # the one nearest the number
    if any(dx > x + w for dx in digits):
        return ""  # something digit-sized stands between: the dash belongs to it
    cx0, cx1 = int(x + 0.35 * w), max(int(x + 0.35 * w) + 1, int(x + 0.65 * w))
    reach = int(round(0.45 * w))
    above = side[max(0, y - reach):y, cx0:cx1].max(axis=1) if y > 0 else np.zeros(0)
    below = side[y + h:y + h + reach, cx0:cx1].max(axis=1)
    crossing = np.concatenate([above, below])
    if crossing.size and (crossing > 0).mean() > 0.4:
        return ""  # an upright stroke crosses it: a plus sign
    return "-"


def read_segments(image: np.ndarray, regions: list[Box]) -> list[SegmentReading]:
    """Seven-segment readings in each region of `image` (BGR or grey), boxes in image pixels.
    A number gets the minus sign shown left of it (see `_sign_before`)."""
    H, W = image.shape[:2]
    out: list[SegmentReading] = []
    for r in regions:
        x0, y0 = max(0, r.x), max(0, r.y)
        x1, y1 = min(W, r.x + r.width), min(H, r.y + r.height)
        if x1 - x0 < MIN_GROUP_HEIGHT or y1 - y0 < MIN_GROUP_HEIGHT:
            continue
        out.extend(read_region(image[y0:y1, x0:x1], offset=(x0, y0)))
    signed = []
    for r in _join_row_pieces(_best_per_place(out)):
        if r.text[:1].isdigit() and _sign_before(image, r):
            r = SegmentReading("-" + r.text, r.confidence, r.box, r.digits, r.polarity, r.cell_height)
        signed.append(r)
    return signed
