"""reStructuredText and Word .docx manuals are read like Markdown and HTML: sections,
tables and lists, and their fault entries; a broken Word file is refused in one sentence
and leaves the library as it was."""

from __future__ import annotations

import docx
import pytest

from assistant.domain import DocumentFormat
from assistant.errors import MalformedFile

ENTRIES = [("E01", "Overvoltage DC bus", "Supply above 480 V", "Check the mains voltage"),
           ("E02", "Undervoltage DC bus", "Supply below 300 V", "Check the supply fuses"),
           ("E05", "Short circuit", "Motor cable damaged", "Replace the motor cable")]


def test_rst_list_table_and_sections_per_code(lib, tmp_path):
    table = "\n".join(f"    * - {c}\n      - {t}" for c, t, _, _ in ENTRIES)
    sections = "\n".join(f"{c}\n===\n\nCause\n    {ca}\n\nRemedy\n    {r}\n\n.. a comment with E99 in it\n"
                         for c, _, ca, r in ENTRIES)
    path = tmp_path / "errors.rst"
    path.write_text(f"Controller errors\n=================\n\nError list\n----------\n\n.. list-table::\n\n"
                    f"    * - Code\n      - Title\n{table}\n\n{sections}", encoding="utf-8")
    doc = lib.add(path, equipment_ids=["vx9"])
    assert doc.format == DocumentFormat.RST
    faults = lib.fault_codes("vx9")
    assert {f.code for f in faults} == {c for c, _, _, _ in ENTRIES}  # the comment is not read
    for code, title, cause, remedy in ENTRIES:
        entries = lib.lookup_code(code)
        assert any(f.title == title for f in entries), entries
        assert any(f.cause == cause and f.remedy == remedy for f in entries), entries


def test_docx_headings_table_and_list(lib, tmp_path):
    document = docx.Document()
    document.add_heading("Drive manual", 0)
    document.add_heading("Fault codes", 1)
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ("Code", "Description", "Cause", "Remedy")):
        cell.text = text
    for entry in ENTRIES:
        for cell, text in zip(table.add_row().cells, entry):
            cell.text = text
    document.add_heading("Warnings", 1)
    document.add_paragraph("A12 Fan speed low", style="List Bullet")
    document.add_paragraph("A13 Filter clogged", style="List Bullet")
    document.add_paragraph("A14 Door open", style="List Bullet")
    document.save(tmp_path / "manual.docx")
    doc = lib.add(tmp_path / "manual.docx", equipment_ids=["vx9"])
    assert doc.format == DocumentFormat.DOCX
    faults = {f.code: f for f in lib.fault_codes("vx9")}
    assert set(faults) == {c for c, _, _, _ in ENTRIES} | {"A12", "A13", "A14"}
    for code, title, cause, remedy in ENTRIES:
        assert (faults[code].title, faults[code].cause, faults[code].remedy) == (title, cause, remedy)
        assert faults[code].section.endswith("Fault codes")
    assert faults["A13"].title == "Filter clogged" and faults["A13"].section.endswith("Warnings")


def test_broken_docx_is_refused_and_nothing_is_added(lib, tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(MalformedFile, match="broken.docx") as err:
        lib.add(path)
    assert str(err.value).count(".") <= 3 and lib.documents() == []


def test_scanned_page_render_is_bounded():
    from assistant.library.ingest.pdf import MAX_OCR_PIXELS, OCR_SCALE, render_scale

    a4 = render_scale(595, 842)
    assert a4 == OCR_SCALE  # an ordinary page is read at 200 dpi
    poster = render_scale(200 * 72, 200 * 72)  # a 200-inch page
    assert (200 * 72 * poster) ** 2 <= MAX_OCR_PIXELS * 1.001
