"""PDF reader: text per page from pypdfium2 text rectangles (with font size and
weight), OCR with rapidocr for pages that have no text layer, then the shared
layout analysis. Encrypted, corrupt or empty PDFs raise `MalformedFile`."""

from __future__ import annotations

import ctypes
import math
import logging
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from assistant.domain import DocumentFormat
from assistant.errors import MalformedFile
from assistant.library.ingest import layout
from assistant.library.ingest.base import Line, ParsedDoc, Seg

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 16  # fewer characters than this on a page with an image: treat it as scanned
OCR_SCALE = 200 / 72  # render scanned pages at 200 dpi for OCR
MAX_OCR_PIXELS = 6_000_000  # ... within this many pixels (an A4 page at 200 dpi is 3.9 M; A3 gets ~175 dpi)


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        message = str(err).lower()
        if "password" in message or "security" in message:
            raise MalformedFile(f"{path.name} is password-protected; export an unprotected copy and add that.") from None
        raise MalformedFile(f"{path.name} is not a readable PDF (the file is damaged or incomplete).") from None
    if len(doc) == 0:
        doc.close()
        raise MalformedFile(f"{path.name} is a PDF with no pages.")
    return doc


def _font(textpage: pdfium.PdfTextPage, index: int) -> tuple[float, bool]:
    if index < 0:
        return 0.0, False
    size = float(pdfium_c.FPDFText_GetFontSize(textpage.raw, index))
    matrix = pdfium_c.FS_MATRIX()
    if pdfium_c.FPDFText_GetMatrix(textpage.raw, index, ctypes.byref(matrix)):
        # the font size is in text space ('1 Tf' scaled by the text matrix is common): the size
        # on the page is the font size times the matrix's vertical scale
        scale = math.hypot(matrix.c, matrix.d)
        if scale > 0:
            size *= scale
    buf = ctypes.create_string_buffer(96)
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(textpage.raw, index, buf, 96, ctypes.byref(flags))
    name = buf.value.decode("latin-1", "replace").lower()
    weight = int(pdfium_c.FPDFText_GetFontWeight(textpage.raw, index))
    bold = any(k in name for k in ("bold", "black", "heavy", "semibold", "demi")) or weight >= 600 or bool(
        flags.value & (1 << 18))
    return size, bold


def page_segments(page: pdfium.PdfPage) -> tuple[list[Seg], int]:
    """Text segments of a page in y-down points, and the page's character count."""
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        chars = textpage.count_chars()
        segs: list[Seg] = []
        rects = [textpage.get_rect(i) for i in range(textpage.count_rects())]
        for (_, bottom, _, top), pieces in zip(rects, rect_texts(textpage, rects, chars)):
            for text, left, right in pieces:
                if not text or not text.strip():
                    continue
                probe = pdfium_c.FPDFText_GetCharIndexAtPos(textpage.raw, left + 1.0, (bottom + top) / 2, 3.0, 3.0)
                size, bold = _font(textpage, probe)
                segs.append(Seg(text.replace("\r", " ").replace("\n", " "), left, right, height - top, height - bottom,
                                size, bold))
        return merge_words(segs), chars
    finally:
        textpage.close()


def rect_texts(textpage: pdfium.PdfTextPage, rects: list[tuple[float, float, float, float]], chars: int) -> list[str]:
    """The text of each text rectangle, in one pass over the page's characters: pdfium builds
    its rectangles from runs of characters in text order, so each character belongs to the
    rectangle that holds its centre, at or after the previous character's. (Reading every
    rectangle by its bounds instead scans the whole page once per rectangle: quadratic, and it
    picks up a neighbour's glyph overlapping the edge: 'fafailure'.)"""
    out: list[list[tuple[str, float | None, float | None]]] = [[] for _ in rects]
    if not rects:
        return []
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    raw = textpage.raw
    k = 0
    for index in range(chars):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        box = None
        if pdfium_c.FPDFText_GetCharBox(raw, index, left, right, bottom, top) and right.value > left.value:
            box = (left.value, right.value)
            cx, cy = (left.value + right.value) / 2, (bottom.value + top.value) / 2
            for step in range(0, 8):
                if k + step >= len(rects):
                    break
                x0, y0, x1, y1 = rects[k + step]
                if x0 - 0.5 <= cx <= x1 + 0.5 and y0 - 0.5 <= cy <= y1 + 0.5:
                    k += step
                    break
        # private-use code points are symbol-font glyphs (bullets, arrows) with no text meaning
        if 0 < code < 0x110000 and not 0xD800 <= code < 0xF900 and code not in (0xFFFE, 0x0D, 0x0A):
            out[k].append((chr(code), *(box or (None, None))))
    return [_pieces(parts, rect) for parts, rect in zip(out, rects)]


def _pieces(chars: list[tuple[str, float | None, float | None]], rect) -> list[tuple[str, float, float]]:
    """A rectangle's text cut where a run of spaces leaves a gap of several line heights (pdfium
    joins cells padded with spaces into one rectangle: "Fase perdida      Pérdida de fase"), each
    piece with the extent of its visible glyphs (a centred cell's leading spaces are not the cell)."""
    x0, bottom, x1, top = rect
    gap = 2.5 * max(top - bottom, 1.0)  # wider than justified word spacing
    pieces: list[list] = []  # [text, left, right]
    for ch, left, right in chars:
        visible = not ch.isspace() and left is not None
        if visible and pieces and pieces[-1][2] is not None and left - pieces[-1][2] > gap:
            pieces.append(["", None, None])
        if not pieces:
            pieces.append(["", None, None])
        piece = pieces[-1]
        piece[0] += ch
        if visible:
            piece[1] = left if piece[1] is None else piece[1]
            piece[2] = right
    return [(text, left if left is not None else x0, right if right is not None else x1)
            for text, left, right in pieces if text.strip()]


WORD_GAP = 0.5  # a gap narrower than this many font sizes is a word space, not a column gap


def merge_words(segs: list[Seg]) -> list[Seg]:
    """Join segments that are pieces of one run of text: many PDF producers position every
    word (or glyph) on its own, and pdfium then gives one rectangle per piece. Pieces on the
    same line, in the same font, closer than a word space, become one segment; wider gaps
    (table columns, tab stops) keep them apart."""
    rows: list[list[Seg]] = []
    for seg in sorted(segs, key=lambda s: (s.top, s.x0)):
        for row in reversed(rows[-4:]):
            ref = row[0]
            if min(ref.bottom, seg.bottom) - max(ref.top, seg.top) > 0.5 * min(ref.height, seg.height):
                row.append(seg)
                break
        else:
            rows.append([seg])
    out: list[Seg] = []
    for row in rows:
        merged: list[Seg] = []
        for seg in sorted(row, key=lambda s: s.x0):
            prev = merged[-1] if merged else None
            if prev is not None:
                # the reported font size can be in unscaled text-space units: bound it by the glyphs' height
                size = min(max(prev.size, seg.size) or 99.0, 1.6 * max(prev.height, seg.height))
                gap = seg.x0 - prev.x1
                if -0.2 * size <= gap <= WORD_GAP * size and abs(prev.size - seg.size) < 0.6 and prev.bold == seg.bold:
                    space = "" if prev.text.endswith(" ") or seg.text.startswith(" ") or gap < 0.25 * size else " "
                    merged[-1] = Seg(prev.text + space + seg.text, prev.x0, max(prev.x1, seg.x1),
                                     min(prev.top, seg.top), max(prev.bottom, seg.bottom), prev.size or seg.size,
                                     prev.bold)
                    continue
            merged.append(seg)
        out.extend(merged)
    return out


def _has_images(page: pdfium.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def ocr_segments(image, scale: float) -> tuple[list[Seg], float | None]:
    """OCR a rendered page with the perception OCR engine; boxes are returned in points
    (pixels / scale)."""
    from assistant.perception.ocr import run_ocr  # lazy: heavy import, only for scanned pages

    lines = run_ocr(image, scale=1.0, min_score=0.3)
    segs: list[Seg] = []
    for line in lines:
        b = line.box
        h = b.height / scale
        segs.append(Seg(line.text, b.x / scale, (b.x + b.width) / scale, b.y / scale, (b.y + b.height) / scale,
                        round(h * 0.8 * 2) / 2, False, float(line.confidence)))
    confs = [s.conf for s in segs if s.conf is not None]
    return segs, (sum(confs) / len(confs) if confs else None)


def render_scale(width: float, height: float) -> float:
    """Pixels per point for OCR: 200 dpi, but never more than MAX_OCR_PIXELS in all (a poster-sized
    page is rendered smaller instead of allocating gigabytes)."""
    scale = OCR_SCALE
    area = max(width, 1.0) * max(height, 1.0) * scale * scale
    if area > MAX_OCR_PIXELS:
        scale *= (MAX_OCR_PIXELS / area) ** 0.5
    return max(scale, 0.05)


def read_pdf(path: Path, *, ocr_cache=None) -> ParsedDoc:
    doc = open_pdf(path)
    try:
        return _read(doc, path, ocr_cache)
    except pdfium.PdfiumError:
        raise MalformedFile(f"{path.name} is damaged: a page could not be read.") from None
    finally:
        doc.close()


def _bookmarks(doc: pdfium.PdfDocument) -> dict[int, list[tuple[str, int]]]:
    """The PDF's own outline (bookmarks): page -> [(title, level)], levels from 1."""
    toc: dict[int, list[tuple[str, int]]] = {}
    try:
        for item in doc.get_toc(max_depth=8):
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            title = (item.get_title() or "").strip()
            if index is not None and title:
                toc.setdefault(index + 1, []).append((title, item.level + 1))
    except (pdfium.PdfiumError, ValueError):
        return {}
    return toc


def _read(doc: pdfium.PdfDocument, path: Path, ocr_cache) -> ParsedDoc:
    pages: list[list[Line]] = []
    ocr_pages: dict[int, float] = {}
    sizes: dict[int, tuple[float, float]] = {}
    for number in range(len(doc)):
        page = doc[number]
        try:
            segs, chars = page_segments(page)
            if chars < MIN_TEXT_CHARS and _has_images(page):
                key = None
                cached = None
                if ocr_cache is not None:
                    key = ("ocr", number)
                    cached = ocr_cache.get(key)
                if cached is None:
                    scale = render_scale(page.get_width(), page.get_height())
                    bitmap = page.render(scale=scale, grayscale=False, rev_byteorder=False)
                    image = bitmap.to_numpy()[:, :, :3].copy()
                    segs, conf = ocr_segments(image, scale)
                    if ocr_cache is not None:
                        ocr_cache.set(key, (segs, conf))
                else:
                    segs, conf = cached
                ocr_pages[number + 1] = conf if conf is not None else 0.0
            sizes[number + 1] = (page.get_width(), page.get_height())
            pages.append(layout.build_lines(segs, page.get_width()))
        finally:
            page.close()
    try:
        meta_title = (doc.get_metadata_value("Title") or "").strip()
    except (pdfium.PdfiumError, KeyError):
        meta_title = ""
    blocks, headings, page_texts, title = layout.structure(pages, geometry=True, toc=_bookmarks(doc))
    parsed = ParsedDoc(DocumentFormat.PDF, title=meta_title or title, blocks=blocks, headings=headings,
                       page_count=len(doc), page_texts=page_texts, ocr_pages=ocr_pages, page_sizes=sizes)
    return parsed
