"""The cited quote is found by its own text on a real PDF page (pypdfium2 text search) and
painted onto the page image; a quote that is not on the page highlights nothing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from assistant.library.highlight import highlight_page, quote_boxes

PDF = Path(__file__).resolve().parents[3] / "assets" / "library" / "vfd-vx500" / "vx500-manual-revC.pdf"


def _page_words(page: int) -> list[str]:
    pdf = pdfium.PdfDocument(str(PDF))
    try:
        tp = pdf[page - 1].get_textpage()
        return re.findall(r"\S+", tp.get_text_range())
    finally:
        pdf.close()


def test_a_quote_spanning_words_is_boxed_where_its_text_is() -> None:
    words = _page_words(1)
    assert len(words) > 30, "the sample manual's first page should have text"
    quote = " ".join(words[10:24])
    boxes = quote_boxes(PDF, 1, quote.upper())  # case does not matter
    assert boxes, "the quote was not found on its page"
    for x0, top, x1, bottom in boxes:
        assert 0 <= x0 < x1 <= 1 and 0 <= top < bottom <= 1
    shorter = quote_boxes(PDF, 1, " ".join(words[10:13]))
    assert shorter and min(b[1] for b in shorter) >= min(b[1] for b in boxes) - 1e-6


def test_a_quote_not_on_the_page_gives_no_box_and_highlighting_changes_pixels() -> None:
    assert quote_boxes(PDF, 1, "zebra quantum marmalade xylophone") == []
    assert quote_boxes(PDF, 999, "anything") == []
    blank = Image.new("RGB", (400, 500), "white")
    buf = io.BytesIO()
    blank.save(buf, "PNG")
    out = Image.open(io.BytesIO(highlight_page(buf.getvalue(), [(0.1, 0.1, 0.5, 0.2)])))
    assert out.size == (400, 500)
    assert out.getpixel((120, 75)) != (255, 255, 255)  # inside the box: tinted
    assert out.getpixel((300, 400)) == (255, 255, 255)  # outside: untouched
