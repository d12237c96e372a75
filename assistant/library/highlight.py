"""Where a cited quote sits on a PDF page, and the page image with it highlighted.

`quote_boxes` finds the quote's text on the page with PDFium's own text search (case and
whitespace tolerant: it matches the quote's opening and closing words, so a quote that wraps
over lines or was tidied by the model is still found) and returns its line boxes as fractions
of the page; `highlight_page` paints those boxes (or, when the quote is not found, the
passage's stored box) onto a rendered page image."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

Box = tuple[float, float, float, float]  # x0, top, x1, bottom as fractions; y grows downwards

_RUN = 5  # words matched at each end of the quote


def _find(textpage: object, words: Sequence[str], start: int = 0) -> tuple[int, int] | None:
    """(first char index, count) of the longest opening run of `words` found from `start`."""
    for n in range(min(_RUN, len(words)), 0, -1):
        needle = " ".join(words[:n])
        if len(needle) < 4 and len(words) > 1:
            continue
        searcher = textpage.search(needle, index=start, match_case=False)  # type: ignore[attr-defined]
        try:
            hit = searcher.get_next()
        finally:
            searcher.close()
        if hit:
            return hit
    return None


def quote_boxes(pdf_path: Path | str, page: int, quote: str) -> list[Box]:
    """The line boxes of `quote` on 1-based `page`, as page fractions; [] when it is not found."""
    import pypdfium2 as pdfium

    words = re.findall(r"\S+", quote or "")
    if not words:
        return []
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        if not 1 <= page <= len(pdf):
            return []
        pg = pdf[page - 1]
        width, height = pg.get_width(), pg.get_height()
        textpage = pg.get_textpage()
        try:
            head = _find(textpage, words)
            if head is None:
                return []
            first, count = head
            last_end = first + count
            if len(words) > _RUN:  # find where the quote ends, after where it starts
                tail = _find(textpage, words[-_RUN:], first)
                if tail is not None and tail[0] >= first:
                    last_end = tail[0] + tail[1]
            boxes: list[Box] = []
            for i in range(textpage.count_rects(first, last_end - first)):
                left, bottom, right, top = textpage.get_rect(i)
                boxes.append((max(0.0, left / width), max(0.0, 1 - top / height),
                              min(1.0, right / width), min(1.0, 1 - bottom / height)))
            return boxes
        finally:
            textpage.close()
            pg.close()
    finally:
        pdf.close()


def highlight_page(png: bytes, boxes: Sequence[Box], *, colour: tuple[int, int, int] = (255, 214, 0),
                   pad: float = 0.004) -> bytes:
    """The page image with each box filled translucent yellow and outlined, as PNG bytes."""
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(png)) as im:
        base = im.convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    w, h = base.size
    line = max(2, w // 400)
    for x0, top, x1, bottom in boxes:
        rect = (int((x0 - pad) * w), int((top - pad) * h), int((x1 + pad) * w), int((bottom + pad) * h))
        draw.rectangle(rect, fill=(*colour, 90), outline=(230, 120, 0, 255), width=line)
    out = io.BytesIO()
    Image.alpha_composite(base, overlay).convert("RGB").save(out, "PNG", compress_level=3)
    return out.getvalue()
