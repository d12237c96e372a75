"""The shapes every reader produces: positioned text segments and lines (for
page-based formats), and the blocks / parsed document that chunking turns
into passages. Readers own parsing; nothing here touches storage."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.domain import DocumentFormat, PassageKind


@dataclass(slots=True)
class Seg:
    """A run of text on one line with its box. y grows downwards (top < bottom)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0  # font size, 0 when unknown
    bold: bool = False
    conf: float | None = None  # OCR confidence

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class Line:
    segs: list[Seg]
    text: str = ""
    start: int = 0  # offset of the line in its page text
    end: int = 0
    hint: int = 0  # heading level known from the source format (e.g. an underlined text heading), 0 = none
    gap_before: bool = False  # a blank line / paragraph break precedes this line

    @property
    def top(self) -> float:
        return min(s.top for s in self.segs)

    @property
    def bottom(self) -> float:
        return max(s.bottom for s in self.segs)

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.segs)

    @property
    def x1(self) -> float:
        return max(s.x1 for s in self.segs)

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)

    @property
    def size(self) -> float:
        sizes = [s.size for s in self.segs if s.size]
        return max(sizes) if sizes else 0.0

    @property
    def bold(self) -> bool:
        return bool(self.segs) and all(s.bold for s in self.segs if s.text.strip())


@dataclass(slots=True)
class FaultRow:
    code: str
    title: str = ""
    cause: str = ""
    remedy: str = ""
    box: tuple[float, float, float, float] | None = None
    description: str = ""  # the rest of the entry when the manual does not label cause and remedy
    conf: float | None = None  # mean OCR confidence of the entry's text (scanned pages)


@dataclass(slots=True)
class Block:
    """A structural unit before chunking: text under one section on one page."""

    kind: PassageKind
    text: str
    section: tuple[str, ...]
    page: int | None
    start: int
    end: int
    fault: FaultRow | None = None
    codes: tuple[str, ...] = ()
    box: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom in points (PDF pages only)
    # structure kept for fault-entry recognition (ingest/families.py)
    rows: list[list[str]] | None = None  # table cells, header rows first
    header_rows: int = 0
    items: list[str] | None = None  # list items (top level, nested text included)
    lines: list[Line] | None = None  # positioned lines (PDF, OCR, plain text)


def union_box(boxes) -> tuple[float, float, float, float] | None:
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


@dataclass(slots=True)
class Heading:
    section: tuple[str, ...]
    level: int
    page: int | None
    start: int


@dataclass
class ParsedDoc:
    format: DocumentFormat
    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    page_count: int | None = None
    page_texts: list[str] = field(default_factory=list)
    ocr_pages: dict[int, float] = field(default_factory=dict)  # page -> mean confidence
    page_sizes: dict[int, tuple[float, float]] = field(default_factory=dict)  # page -> (width, height) in points
    meta: dict = field(default_factory=dict)  # e.g. equipment / revision from a work instruction
