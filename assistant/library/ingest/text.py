"""Plain-text reader: lines become positioned segments (columns split at runs of
spaces or tabs), form feeds split pages, underlined and '#' headings are kept,
then the shared layout analysis finds headings, procedures, warnings and tables."""

from __future__ import annotations

import re

from assistant.domain import DocumentFormat
from assistant.library.ingest import layout
from assistant.library.ingest.base import Line, ParsedDoc, Seg

_UNDERLINE = re.compile(r"^\s*(={3,}|-{3,}|~{3,})\s*$")
_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_CELL = re.compile(r"\S+(?: \S+)*")


def text_lines(page: str) -> list[Line]:
    raw = page.expandtabs(8).split("\n")
    lines: list[Line] = []
    blank = False
    i = 0
    while i < len(raw):
        text = raw[i].rstrip()
        hint = 0
        if not text.strip():
            blank = True
            i += 1
            continue
        if i + 1 < len(raw) and _UNDERLINE.match(raw[i + 1]) and text.strip() and not _UNDERLINE.match(text):
            hint = 1 if raw[i + 1].strip().startswith("=") else 2
            i += 1
        m = _ATX.match(text)
        if m:
            hint, text = len(m.group(1)), " " * m.start(2) + m.group(2)
        if _UNDERLINE.match(text):
            blank = True
            i += 1
            continue
        segs = [Seg(m.group(), m.start(), m.end(), float(i), i + 0.9) for m in _CELL.finditer(text)]
        if segs:
            line = Line(segs, hint=hint, gap_before=blank)
            lines.append(line)
        blank = False
        i += 1
    for line in lines:
        line.text = layout.join_segments(line.segs)
    return lines


def parse_text(text: str, fmt: DocumentFormat = DocumentFormat.TEXT) -> ParsedDoc:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks = text.split("\f")
    paged = len(chunks) > 1
    pages = [text_lines(chunk) for chunk in chunks]
    numbers = list(range(1, len(pages) + 1)) if paged else [None]
    doc_title = ""
    top = [line for lines in pages for line in lines if line.hint == 1]
    if len(top) == 1 and pages[0] and pages[0][0] is top[0]:
        doc_title = pages[0].pop(0).text  # a single opening top-level heading is the title, not a section
    blocks, headings, page_texts, title = layout.structure(pages, numbers)
    title = doc_title or title
    return ParsedDoc(fmt, title=title, blocks=blocks, headings=headings, page_count=len(pages) if paged else None,
                     page_texts=page_texts)
