"""Ingest: check a file (exists, not empty, not oversized, a format we read),
detect its format and hand it to the matching reader; returns a `ParsedDoc`
whose blocks are already chunked into citable passages.

    read_document(path) -> ParsedDoc      raises MalformedFile naming the file
"""

from __future__ import annotations

from pathlib import Path

from assistant.domain import DocumentFormat
from assistant.errors import MalformedFile
from assistant.library.ingest.base import ParsedDoc
from assistant.library.ingest.chunk import chunk

MAX_BYTES = 200 * 1024 * 1024  # a manual larger than this is refused

EXTENSIONS = {
    ".pdf": DocumentFormat.PDF,
    ".md": DocumentFormat.MARKDOWN, ".markdown": DocumentFormat.MARKDOWN, ".mdown": DocumentFormat.MARKDOWN,
    ".html": DocumentFormat.HTML, ".htm": DocumentFormat.HTML, ".xhtml": DocumentFormat.HTML,
    ".txt": DocumentFormat.TEXT, ".text": DocumentFormat.TEXT, ".log": DocumentFormat.TEXT,
    ".yaml": DocumentFormat.YAML, ".yml": DocumentFormat.YAML,
    ".json": DocumentFormat.JSON,
    ".rst": DocumentFormat.RST, ".rest": DocumentFormat.RST,
    ".docx": DocumentFormat.DOCX,
}
SUPPORTED = "PDF, Word (.docx), Markdown, reStructuredText, HTML, plain text, and YAML or JSON work instructions"


def detect_format(path: Path, head: bytes) -> DocumentFormat:
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return DocumentFormat.PDF
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt == DocumentFormat.DOCX or head[:2] == b"PK" and b"word/" in head:
        if head[:2] != b"PK":
            raise MalformedFile(f"{path.name} is not a readable Word document (it is not a .docx package).")
        return DocumentFormat.DOCX
    if fmt == DocumentFormat.TEXT:
        fmt = _inner_format(path, head) or fmt
    if fmt == DocumentFormat.PDF:
        raise MalformedFile(f"{path.name} is not a readable PDF (it has no PDF header).")
    if fmt is not None:
        if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise MalformedFile(f"{path.name} is a binary file, not {fmt.value} text.")
        return fmt
    sniff = head[:512].lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html")):
        return DocumentFormat.HTML
    kind = path.suffix.lower() or "file without an extension"
    raise MalformedFile(f"{path.name}: Fieldlens cannot read {kind} files; it reads {SUPPORTED}.")


def _inner_format(path: Path, head: bytes) -> DocumentFormat | None:
    """A text file named for what it holds ('page.html.txt', 'notes.rst.txt') or plainly HTML."""
    inner = EXTENSIONS.get(Path(path.stem).suffix.lower())
    if inner in (DocumentFormat.MARKDOWN, DocumentFormat.HTML, DocumentFormat.RST):
        return inner
    if head[:512].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return DocumentFormat.HTML
    return None


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def check_file(path: Path) -> tuple[int, bytes]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MalformedFile(f"{path.name} does not exist.") from None
    except OSError as err:
        raise MalformedFile(f"{path.name} cannot be read ({err.strerror or err}).") from None
    if path.is_dir():
        raise MalformedFile(f"{path.name} is a folder, not a document.")
    if size == 0:
        raise MalformedFile(f"{path.name} is empty (0 bytes).")
    if size > MAX_BYTES:
        raise MalformedFile(f"{path.name} is too large ({size / 1024**2:.0f} MB; the limit is "
                            f"{MAX_BYTES // 1024**2} MB).")
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as err:
        raise MalformedFile(f"{path.name} cannot be read ({err.strerror or err}).") from None
    return size, head


def read_document(path: Path, *, ocr_cache=None, fmt: DocumentFormat | None = None) -> ParsedDoc:
    """Parse one file into a chunked `ParsedDoc`. Raises MalformedFile naming the file."""
    _, head = check_file(path)
    fmt = fmt or detect_format(path, head)
    if fmt == DocumentFormat.PDF:
        from assistant.library.ingest.pdf import read_pdf

        parsed = read_pdf(path, ocr_cache=ocr_cache)
    elif fmt == DocumentFormat.DOCX:
        from assistant.library.ingest.docx import parse_docx

        parsed = parse_docx(path)
    else:
        text = decode(path.read_bytes())
        if not text.strip():
            raise MalformedFile(f"{path.name} has no text.")
        if fmt == DocumentFormat.MARKDOWN:
            from assistant.library.ingest.markdown import parse_markdown

            parsed = parse_markdown(text)
        elif fmt == DocumentFormat.HTML:
            from assistant.library.ingest.html import parse_html

            parsed = parse_html(text)
        elif fmt == DocumentFormat.RST:
            from assistant.library.ingest.rst import parse_rst

            parsed = parse_rst(text, path.name)
        elif fmt in (DocumentFormat.YAML, DocumentFormat.JSON):
            from assistant.library.ingest.workinstruction import parse_work_instruction

            parsed = parse_work_instruction(text, path.name, fmt)
        else:
            from assistant.library.ingest.records import parse_records
            from assistant.library.ingest.text import parse_text

            parsed = parse_records(text) or parse_text(text)
    if fmt not in (DocumentFormat.YAML, DocumentFormat.JSON):
        from assistant.library.ingest.families import find_entries

        parsed.blocks = find_entries(parsed.blocks, parsed.headings, parsed.title or path.name)
    parsed.blocks = chunk(parsed.blocks)
    if not parsed.blocks:
        if parsed.format == DocumentFormat.PDF:
            raise MalformedFile(f"{path.name} has no text that could be read, not even by OCR.")
        raise MalformedFile(f"{path.name} has no text.")
    return parsed
