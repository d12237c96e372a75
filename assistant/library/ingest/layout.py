"""Turn positioned text (PDF text layers, OCR boxes, plain-text columns) into
structure: lines, running headers/footers removed, headings with levels
(numbering, font size, weight, capitals), paragraphs, numbered procedures,
warnings, figure captions and tables (fault-code entries are found on these blocks
by `families`).

Input: pages of `Seg`s in y-down coordinates. Output: a `ParsedDoc`'s blocks,
headings and page texts. Pure functions; no I/O."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from assistant.domain import PassageKind
from assistant.library.codes import looks_like_code
from assistant.library.ingest.base import Block, Heading, Line, Seg

_NUM_HEAD = re.compile(r"^((?:\d{1,2}\.){0,4}\d{1,2})\.?\s+(\S.*)$")
_WORDY_HEAD = re.compile(r"^(?:chapter|section|part|appendix|annex)\s+[\dA-Z]{1,3}\b", re.I)
_STEP = re.compile(r"^(?:step\s*(\d{1,2})\b[.:)]?|(\d{1,2})[.)]\s|\((\d{1,2})\)\s)", re.I)
_BULLET = re.compile(r"^[•\-\*▪●◦‣∙·–]\s+")
_WARNING = re.compile(r"^(?:⚠\s*)?(DANGER|WARNING|CAUTION|NOTICE|ATTENTION|HAZARD|WARNUNG|ACHTUNG|VORSICHT|GEFAHR|"
                      r"AVERTISSEMENT|ATTENTION|PRECAUCIÓN|ADVERTENCIA|PELIGRO)\b|^⚠", re.I)
_WARNING_WORDS = {"danger", "warning", "caution", "notice", "attention", "hazard"}
_FIGURE = re.compile(r"^(?:figure|fig\.?|abbildung|abb\.)\s*\d+", re.I)
_PAGE_NO = re.compile(r"^(?:page\s*)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:/|of|von)\s*\d{1,4})?$", re.I)
_ENDS_SENTENCE = re.compile(r"[.;,]$")
_TOC_LINE = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}$|…{2,}\s*\d{1,4}$")
_CAPTION = re.compile(r"^(?:table|tab\.|tabelle)\s*\d+", re.I)


# --------------------------------------------------------------------------- lines


def build_lines(segs: Sequence[Seg], page_width: float = 0.0) -> list[Line]:
    """Group segments into lines (vertical overlap), in reading order. A clear
    two-column layout is read left column first."""
    segs = [s for s in segs if s.text.strip()]
    if not segs:
        return []
    columns = _split_columns(segs, page_width) if page_width else [segs]
    lines: list[Line] = []
    for group in columns:
        group_lines: list[Line] = []
        for seg in sorted(group, key=lambda s: (s.top, s.x0)):
            for line in reversed(group_lines[-3:]):
                overlap = min(line.bottom, seg.bottom) - max(line.top, seg.top)
                if overlap > 0.5 * min(line.height, seg.height):
                    line.segs.append(seg)
                    break
            else:
                group_lines.append(Line([seg]))
        lines.extend(group_lines)
    for line in lines:
        line.segs.sort(key=lambda s: s.x0)
        line.text = join_segments(line.segs)
    return lines


def _split_columns(segs: list[Seg], width: float) -> list[list[Seg]]:
    """Two text columns -> [left (with full-width lines above the columns), right (with full-width
    lines below)]; anything else -> [segs]. The gutter may sit anywhere in the middle fifth."""
    if len(segs) < 10:
        return [segs]

    def crossing_at(x: float) -> int:
        return sum(1 for s in segs if s.x0 < x - 4 < x + 4 < s.x1)

    centre = width / 2
    mid = min((centre + k * width / 100 for k in range(-10, 11)), key=lambda x: (crossing_at(x), abs(x - centre)))
    crossing = [s for s in segs if s.x0 < mid - 4 < mid + 4 < s.x1]
    left = [s for s in segs if s.x1 <= mid + 4]
    right = [s for s in segs if s.x0 >= mid - 4 and s not in left]
    if not left or not right:
        return [segs]
    top_of_columns = min(s.top for s in left + right)
    bottom_of_columns = max(s.bottom for s in left + right)
    inner = sum(1 for s in crossing if top_of_columns + 1 < s.bottom and s.top < bottom_of_columns - 1)
    head = [s for s in crossing if s.top < top_of_columns]
    tail = [s for s in crossing if s.top >= top_of_columns]
    columns = left + right
    prose = [s for s in columns if 0.25 * width <= s.x1 - s.x0 <= 0.55 * width]
    if inner > 0.03 * len(segs) or len(prose) < 0.6 * len(columns):
        return [segs]
    if len(left) < 4 or len(right) < 4 or sum(s in prose for s in left) < 3 or sum(s in prose for s in right) < 3:
        return [segs]
    return [head + left, right + tail]


def join_segments(segs: Sequence[Seg]) -> str:
    out = ""
    prev: Seg | None = None
    for seg in segs:
        text = " ".join(seg.text.split())
        if not text:
            continue
        if prev is None:
            out = text
        else:
            char_w = max((prev.x1 - prev.x0) / max(len(prev.text.strip()), 1), 1.0)
            gap = seg.x0 - prev.x1
            out += ("  " if gap > 2.2 * char_w else " ") + text
        prev = seg
    return out


def _is_row_line(line: Line) -> bool:
    """A line made of cells: several segments with wide gaps between them."""
    if len(line.segs) < 2:
        return "  " in line.text.strip()
    return "  " in line.text


def strip_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers/footers (repeated on many pages, digits ignored) and bare page numbers."""
    n = len(pages)
    counts: Counter[str] = Counter()
    for lines in pages:
        keys = {_norm_running(line.text) for line in lines[:2] + lines[-2:]}
        counts.update(k for k in keys if k)
    threshold = max(3, int(0.4 * n) + 1)
    # a running line whose numbers change on most pages is a page number ('Page 4'); one whose text
    # stays for a few pages and then changes ('E61' over pages 38-40, then 'E62') names the section
    # those pages are about: its first page keeps it (a heading), the repeats go
    texts: dict[str, list[str]] = {}
    for lines in pages:
        edge_lines = lines[:2] + lines[-2:]
        for text in dict.fromkeys(" ".join(line.text.split()) for line in edge_lines):
            texts.setdefault(_norm_running(text), []).append(text)
    section_like = {key for key, seen in texts.items()
                    if 1 < len(set(seen)) < 0.8 * len(seen) and key != _norm_running(key.replace("#", ""))}
    out = []
    previous: set[str] = set()
    for lines in pages:
        edge = set(range(min(2, len(lines)))) | set(range(max(len(lines) - 2, 0), len(lines)))
        kept = []
        here: set[str] = set()
        for i, line in enumerate(lines):
            if i in edge:
                key = _norm_running(line.text)
                text = " ".join(line.text.split())
                here.add(text)
                if key in section_like and n >= 3 and counts[key] >= threshold and text not in previous:
                    kept.append(line)
                    continue
                if (n >= 3 and counts[key] >= threshold) or _PAGE_NO.match(line.text.strip()):
                    continue
            kept.append(line)
        previous = here
        out.append(kept)
    return out


def _norm_running(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


# --------------------------------------------------------------------------- headings


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _title_like(text: str) -> bool:
    words = text.split()
    if not words or len(words) > 12 or len(text) > 90 or _ENDS_SENTENCE.search(text) or _letters(text) < 2:
        return False
    if not (text[0].isupper() or text[0].isdigit()):
        return False
    long_words = [w for w in words if len(w) > 3 and w[0].isalpha()]
    return not long_words or sum(w[0].isupper() for w in long_words) / len(long_words) >= 0.5 or len(words) <= 4


class _Headings:
    """Decides whether a line is a heading and at which level."""

    def __init__(self, pages: list[list[Line]]):
        weights: Counter[float] = Counter()
        for lines in pages:
            for line in lines:
                for seg in line.segs:
                    if seg.size:
                        weights[round(seg.size * 2) / 2] += len(seg.text)
        self.body = weights.most_common(1)[0][0] if weights else 0.0
        self.has_fonts = bool(weights)
        self.depth_sizes: dict[int, float] = {}
        for lines in pages:
            for line in lines:
                level = self._numbered(line)
                if level and line.size and level not in self.depth_sizes:
                    self.depth_sizes[level] = line.size
        self.last_numbered = 0

    def _single_block(self, line: Line) -> bool:
        segs = [s for s in line.segs if s.text.strip()]
        if len(segs) <= 1:
            return "  " not in line.text.strip() or bool(_NUM_HEAD.match(line.text.strip()))
        return len(segs) == 2 and bool(re.fullmatch(r"(?:\d{1,2}\.){0,4}\d{1,2}\.?", segs[0].text.strip()))

    def _numbered(self, line: Line) -> int:
        text = " ".join(line.text.split())
        m = _NUM_HEAD.match(text)
        if not m or not self._single_block(line):
            return 0
        number, rest = m.group(1), m.group(2)
        words = rest.split()
        if (not rest[0].isalpha() or not rest[0].isupper() or len(words) > 14 or len(text) > 100
                or _ENDS_SENTENCE.search(rest) or _TOC_LINE.search(text)):
            return 0
        depth = number.count(".") + 1
        if self.has_fonts and line.size:
            if line.size < self.body - 0.6:
                return 0
            emphasised = line.size > self.body * 1.05 or line.bold
            if not emphasised and not (depth >= 2 and _title_like(rest)):
                return 0
        elif depth == 1:
            if len(words) > 6 or not _title_like(rest) or text.split()[0].endswith(")"):
                return 0
        elif len(words) > 10:
            return 0
        return depth

    def level(self, line: Line) -> int | None:
        """Heading level (0 = document title size, 1.. = sections) or None."""
        text = " ".join(line.text.split())
        if line.hint:
            return line.hint
        if not text or _WARNING.match(text) or _FIGURE.match(text) or _PAGE_NO.match(text) or _CAPTION.match(text) \
                or _TOC_LINE.search(text) or _BULLET.match(text):
            return None
        numbered = self._numbered(line)
        if numbered:
            self.last_numbered = numbered
            return numbered
        if _WORDY_HEAD.match(text) and _title_like(text) and self._single_block(line):
            return 1
        # a line that is just a code ('E21') in a larger or bolder font than the body heads that code's section
        if looks_like_code(text) and any(s.conf is not None for s in line.segs):
            return None  # an OCR'd box's height is no font size: a code alone on a scanned line is a table cell
        code_only = self.has_fonts and bool(line.size) and looks_like_code(text) and bool(re.search(r"\d", text))
        if not self._single_block(line) or not (_title_like(text) or code_only) \
                or text.lower().strip(":") in _WARNING_WORDS:
            return None
        if self.has_fonts and line.size:
            big = line.size >= self.body * 1.15 + 0.1
            if not (big or (line.bold and line.size >= self.body - 0.6 and len(text.split()) <= 10)):
                return None
            for depth, size in sorted(self.depth_sizes.items()):
                if abs(size - line.size) <= 0.6:
                    return depth
            if self.depth_sizes and line.size > max(self.depth_sizes.values()) + 0.6:
                return 0
            if not self.depth_sizes and big:
                return 1 if line.size < self.body * 1.6 else 0
            return self.last_numbered + 1 if self.depth_sizes else 2
        if text.isupper() and _letters(text) >= 3 and len(text.split()) <= 8:
            return self.last_numbered + 1 if self.depth_sizes else 1
        return None


# --------------------------------------------------------------------------- blocks


class _Builder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings: list[Heading] = []
        self.stack: list[tuple[int, str]] = []
        self.stack_sizes: list[float] = []  # font size of each open heading
        self.cur: list[Line] = []
        self.cur_kind = PassageKind.TEXT
        self.page: int | None = None
        self.step_x = 0.0
        self.front_matter = False  # set when the document numbers its sections
        self.geometry = False  # coordinates are page points (PDF): blocks carry boxes
        self.title_parts: list[tuple[float, str]] = []  # (font size, text) of title-sized lines before any section
        self.last_heading: tuple[int, Line, int] | None = None  # (level, line, block count) for wrapped headings

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)

    def flush(self) -> None:
        if not self.cur:
            return
        lines = self.cur
        if self.cur_kind in (PassageKind.PROCEDURE, PassageKind.TABLE):
            text = "\n".join(_table_text(line) if self.cur_kind == PassageKind.TABLE else line.text for line in lines)
        else:
            text = _reflow([line.text for line in lines])
        if text.strip():
            self.blocks.append(Block(self.cur_kind, text.strip(), self.section, self.page, lines[0].start,
                                     lines[-1].end, box=_box(lines) if self.geometry else None, lines=list(lines)))
        self.cur = []
        self.cur_kind = PassageKind.TEXT

    def heading(self, level: int, text: str, line: Line) -> None:
        self.flush()
        text = " ".join(text.split())
        if not self.headings and (level == 0 or (self.front_matter and self.page == 1 and not _NUM_HEAD.match(text))):
            self.title_parts.append((line.size, text))  # cover-page lines before the first numbered section
            return
        level = max(level, 1)
        last = self.last_heading
        if (last is not None and last[0] == level and last[2] == len(self.blocks) and self.stack
                and 0 <= line.top - last[1].bottom < 0.6 * line.height and abs(line.size - last[1].size) < 0.6
                and not _NUM_HEAD.match(text)):
            # a heading wrapped onto a second line
            self.stack[-1] = (level, f"{self.stack[-1][1]} {text}")
            self.headings[-1].section = self.section
            self.last_heading = (level, line, len(self.blocks))
            return
        if not _NUM_HEAD.match(text) and line.size:
            # an unnumbered heading in a smaller font than the open heading of its level is a
            # sub-heading of it (a bold label under a large code heading), not its sibling
            for k in range(len(self.stack) - 1, -1, -1):
                if self.stack[k][0] < level:
                    break
                if self.stack_sizes[k] > line.size + 0.6:
                    level = self.stack[k][0] + 1
                    break
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
            self.stack_sizes.pop()
        self.stack.append((level, text))
        self.stack_sizes.append(line.size)
        self.headings.append(Heading(self.section, len(self.stack), self.page, line.start))
        self.last_heading = (level, line, len(self.blocks))

    @property
    def title(self) -> str:
        if not self.title_parts:
            return ""
        biggest = max(size for size, _ in self.title_parts)
        return " ".join(t for size, t in self.title_parts if abs(size - biggest) < 0.6)

    def add(self, kind: PassageKind, line: Line, new: bool) -> None:
        if new or kind != self.cur_kind:
            self.flush()
            self.cur_kind = kind
        self.cur.append(line)


def _table_text(line: Line) -> str:
    cells = [c for c in re.split(r"\s{2,}", line.text.strip()) if c]
    return " | ".join(cells)


def _reflow(lines: list[str]) -> str:
    out = ""
    for text in lines:
        text = " ".join(text.split())
        if not text:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and text[:1].islower():
            out = out[:-1] + text
        else:
            out = f"{out} {text}" if out else text
    return out


def _norm_title(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def structure(pages: list[list[Line]], page_numbers: Sequence[int | None] | None = None, *, geometry: bool = False,
              toc: dict[int, list[tuple[str, int]]] | None = None
              ) -> tuple[list[Block], list[Heading], list[str], str]:
    """Lines of every page -> (blocks, headings, page texts, detected document title).
    `toc` (page -> [(title, level)]) are the document's own bookmarks: lines matching them are
    headings at that level whatever their typography."""
    marks = {page: {_norm_title(t): level for t, level in items} for page, items in (toc or {}).items()}
    pages = strip_running_lines(pages) if len(pages) > 1 else pages
    page_texts = []
    for lines in pages:
        pos = 0
        for line in lines:
            line.start = pos
            line.end = pos + len(line.text)
            pos = line.end + 1
        page_texts.append("\n".join(line.text for line in lines))
    heads = _Headings(pages)
    b = _Builder()
    b.front_matter = bool(heads.depth_sizes)
    b.geometry = geometry
    for index, lines in enumerate(pages):
        carry = b.cur_kind == PassageKind.PROCEDURE and bool(b.cur)
        b.flush()
        if carry:
            b.cur_kind = PassageKind.PROCEDURE  # a procedure running on from the previous page
        b.page = page_numbers[index] if page_numbers else index + 1
        i = 0
        prev: Line | None = None
        while i < len(lines):
            line = lines[i]
            text = " ".join(line.text.split())
            gap = line.gap_before or (prev is not None and line.top - prev.bottom > _gap_threshold(line, prev))
            prev = line
            if _TOC_LINE.search(text):
                b.flush()
                i += 1
                continue
            label_open = b.cur_kind == PassageKind.WARNING and len(b.cur) == 1 and len(b.cur[0].text.split()) <= 3
            if label_open and not _STEP.match(text) and not _NUM_HEAD.match(text):
                b.cur.append(line)  # the line after a bare DANGER / WARNING label belongs to it
                i += 1
                continue
            level = heads.level(line)
            marked = marks.get(b.page, {}).get(_norm_title(text)) if marks else None
            if marked is not None:
                level = marked
                heads.last_numbered = marked  # unnumbered sub-headings that follow nest below it
            if level is not None:
                b.heading(level, text, line)
                i += 1
                continue
            step = _STEP.match(text)
            if _WARNING.match(text):
                if b.cur_kind == PassageKind.PROCEDURE and not gap and len(text.split()) > 3:
                    b.add(PassageKind.PROCEDURE, line, False)
                else:
                    b.add(PassageKind.WARNING, line, True)
            elif _FIGURE.match(text):
                b.add(PassageKind.FIGURE, line, True)
            elif step:
                if b.cur_kind != PassageKind.PROCEDURE:
                    lead = b.cur if b.cur_kind == PassageKind.TEXT and b.cur and b.cur[-1].text.rstrip().endswith(":") \
                        and sum(len(x.text.split()) for x in b.cur) <= 60 else []
                    if not lead:
                        b.flush()
                    b.cur_kind = PassageKind.PROCEDURE
                b.cur.append(line)
                b.step_x = line.x0
            elif b.cur_kind == PassageKind.PROCEDURE and (_BULLET.match(text) or line.x0 > b.step_x + 2 or
                                                          (not gap and not line.segs[0].size and line.x0 >= b.step_x)):
                b.cur.append(line)
            elif b.cur_kind == PassageKind.WARNING and not gap and len(b.cur) < 12:
                b.cur.append(line)
            elif _BULLET.match(text):
                b.add(PassageKind.TEXT, line, b.cur_kind != PassageKind.TEXT)
            elif _is_row_line(line) and (b.cur_kind == PassageKind.TABLE or
                                         (i + 1 < len(lines) and _is_row_line(lines[i + 1]))):
                b.add(PassageKind.TABLE, line, b.cur_kind != PassageKind.TABLE)
            elif b.cur_kind == PassageKind.FIGURE and not gap and len(b.cur) < 3:
                b.cur.append(line)
            else:
                b.add(PassageKind.TEXT, line, gap or b.cur_kind != PassageKind.TEXT)
            i += 1
    b.flush()
    return b.blocks, b.headings, page_texts, b.title


def _box(lines: Sequence[Line]) -> tuple[float, float, float, float]:
    return (min(ln.x0 for ln in lines), min(ln.top for ln in lines), max(ln.x1 for ln in lines),
            max(ln.bottom for ln in lines))


def _gap_threshold(line: Line, prev: Line) -> float:
    """Vertical space that means a new paragraph: most of a font size (box heights vary with the glyphs)."""
    size = max(line.size, prev.size)
    return 0.8 * size if size else 0.7 * min(line.height, prev.height)
