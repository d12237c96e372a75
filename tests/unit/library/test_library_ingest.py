"""Ingest of every format into passages with sections, kinds, pages, offsets and fault codes."""

from __future__ import annotations


import pytest
from conftest import DRIVE_CODES, make_drive_manual, make_encrypted_pdf, make_scanned_pdf

from assistant.domain import DocumentFormat, DocumentKind, PassageKind
from assistant.errors import MalformedFile, UnknownEquipment
from assistant.library import ingest


def _by_kind(passages, kind):
    return [p for p in passages if p.kind == kind]


def test_pdf_sections_kinds_and_fault_codes(lib, docs):
    doc = lib.add(docs / "vx9-manual.pdf", equipment_ids=["vx9"], revision="B")
    assert doc.format == DocumentFormat.PDF and doc.page_count == 2 and doc.revision == "B"
    assert doc.title == "VX-9 Drive Manual Rev B"  # from the PDF metadata
    passages = lib.passages(doc.id)
    sections = {p.section for p in passages}
    assert "1 Safety > 1.1 Intended use" in sections
    assert "4 Troubleshooting > 4.2 Fault codes" in sections
    warning = _by_kind(passages, PassageKind.WARNING)[0]
    assert warning.section == "1 Safety" and "DC bus" in warning.text
    procedure = _by_kind(passages, PassageKind.PROCEDURE)[0]
    assert procedure.section == "3 Maintenance > 3.1 Replacing the cooling fan"
    assert procedure.text.count("\n") >= 4 and "4. Fit the new fan" in procedure.text  # kept whole, lead-in kept
    faults = lib.fault_codes("vx9")
    assert [f.code for f in faults] == [c[0] for c in DRIVE_CODES]  # as printed
    for fault, (code, title, cause, remedy) in zip(faults, DRIVE_CODES):
        assert (fault.title, fault.cause, fault.remedy) == (title, cause, remedy)
        assert fault.page == 2 and fault.section == "4 Troubleshooting > 4.2 Fault codes"
        assert lib.passage(fault.passage_id).kind == PassageKind.FAULT_CODE
    assert all(p.equipment_ids == ["vx9"] and p.revision == "B" for p in passages)


def test_pdf_offsets_point_into_page_text(lib, docs):
    doc = lib.add(docs / "vx9-manual.pdf")
    for passage in lib.passages(doc.id):
        page_text = lib.page_text(doc.id, passage.page)
        region = " ".join(page_text[passage.start:passage.end].split())
        first_words = " ".join(passage.text.split()[:3])
        if passage.kind != PassageKind.FAULT_CODE:
            assert region.startswith(first_words), (passage.text, region)
        else:
            assert passage.text.split()[0] in region


def test_plain_column_table_top_aligned(lib, docs):
    doc = lib.add(docs / "alarms.pdf")
    faults = {f.code: f for f in lib.fault_codes()}
    assert set(faults) == {"A12", "A15"}
    assert faults["A12"].cause == "No liquid at the suction or suction valve closed"
    assert faults["A15"].remedy == "Check alignment and tighten bolts to 70 Nm"
    prose = [p for p in lib.passages(doc.id) if p.kind == PassageKind.TEXT]
    assert any("contact service" in p.text for p in prose)  # the table ended where the prose starts


def test_outline_lists_headings_with_pages_and_passages(lib, docs):
    doc = lib.add(docs / "vx9-manual.pdf")
    outline = lib.outline(doc.id)
    assert [e.section for e in outline][:2] == ["1 Safety", "1 Safety > 1.1 Intended use"]
    fault_entry = next(e for e in outline if e.title == "4.2 Fault codes")
    assert fault_entry.level == 2 and fault_entry.page == 2
    assert lib.passage(fault_entry.passage_id).section == fault_entry.section


def test_markdown(lib, docs):
    doc = lib.add(docs / "rs5-guide.md", equipment_ids=["rs5"])
    assert doc.title == "Compressor RS-5 service guide" and doc.page_count is None
    passages = lib.passages(doc.id)
    warning = _by_kind(passages, PassageKind.WARNING)[0]
    assert warning.section == "Safety" and "Release all air pressure" in warning.text
    procedure = _by_kind(passages, PassageKind.PROCEDURE)[0]
    assert procedure.section == "Changing the oil filter" and procedure.text.startswith("Before you start:")
    assert "4. Oil the new gasket" in procedure.text
    table = _by_kind(passages, PassageKind.TABLE)[0]
    assert table.section == "Changing the oil filter > Torques" and "Drain plug | 25 Nm" in table.text
    codes = {f.code: f for f in lib.fault_codes("rs5")}
    assert codes["AL-03"].title == "High discharge temperature" and codes["AL-11"].remedy.startswith("Top up")
    source = (docs / "rs5-guide.md").read_text()
    assert "AL-11" in source[lib.passage(codes["AL-11"].passage_id).start:lib.passage(codes["AL-11"].passage_id).end]
    for p in passages:
        assert p.page is None and 0 <= p.start < p.end <= len(source)


def test_html_is_sanitised(lib, docs):
    doc = lib.add(docs / "ch2.html")
    passages = lib.passages(doc.id)
    everything = " ".join(p.text for p in passages)
    assert "secret" not in everything and "navigation junk" not in everything and "color" not in everything
    assert doc.title == "Chiller CH-2 service notes"
    assert _by_kind(passages, PassageKind.WARNING)[0].text.startswith("Wear gloves")
    procedure = _by_kind(passages, PassageKind.PROCEDURE)[0]
    assert procedure.section == "Refrigerant circuit > Leak test" and "2. Pressurise" in procedure.text
    assert {f.code for f in lib.fault_codes()} == {"HP1", "LP2"}
    assert lib.search("secret") == []


def test_plain_text(lib, docs):
    doc = lib.add(docs / "b7.txt")
    assert doc.title == "BOILER B-7 QUICK GUIDE"
    passages = lib.passages(doc.id)
    assert any(p.section == "1 Start-up" and "water pressure" in p.text for p in passages)
    codes = {f.code: f for f in lib.fault_codes()}
    assert codes["E01"].title == "Ignition failure" and codes["E02"].remedy == "Clean the flame sensor rod"


@pytest.mark.parametrize("name", ["wi-belt.yaml", "wi-belt.json"])
def test_work_instructions(lib, docs, name):
    doc = lib.add(docs / name)
    assert doc.kind == DocumentKind.WORK_INSTRUCTION and doc.revision == "4" and doc.equipment_ids == ["rs5"]
    passages = lib.passages(doc.id)
    kinds = [p.kind for p in passages]
    assert PassageKind.PROCEDURE in kinds and PassageKind.FIGURE in kinds
    procedure = _by_kind(passages, PassageKind.PROCEDURE)[0]
    assert "3. Fit the new belt" in procedure.text and "Pinch point" in procedure.text
    warnings = " ".join(p.text for p in _by_kind(passages, PassageKind.WARNING))
    assert "Lock out and tag out" in warnings and "Pinch point" in warnings
    assert any("belt tension gauge" in p.text for p in passages)


def test_scanned_pdf_is_ocred_with_confidence(lib, tmp_path):
    doc = lib.add(make_scanned_pdf(tmp_path / "scan.pdf"))
    info = lib.page_info(doc.id)
    assert info[0].ocr and 0.5 < info[0].confidence <= 1.0
    text = " ".join(p.text for p in lib.passages(doc.id)).lower()
    assert "lithium complex grease" in text and "4000" in text
    assert any(p.section.endswith("Lubrication") for p in lib.passages(doc.id))
    assert lib.search("grease bearings")[0].doc_id == doc.id


def test_long_prose_is_chunked_into_citable_passages(lib, tmp_path):
    path = make_drive_manual(tmp_path / "long.pdf", pages_of_filler=3)
    doc = lib.add(path)
    for p in lib.passages(doc.id):
        assert len(p.text.split()) <= 700


# --------------------------------------------------------------------------- bad input


def test_encrypted_pdf(lib, tmp_path):
    with pytest.raises(MalformedFile, match="locked.pdf is password-protected"):
        lib.add(make_encrypted_pdf(tmp_path / "locked.pdf"))


@pytest.mark.parametrize("name,data,message", [
    ("empty.pdf", b"", "empty"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "not a readable PDF"),
    ("fake.pdf", b"this is not a pdf at all", "no PDF header"),
    ("manual.docx", b"PK\x03\x04 zip data", "not a readable Word document"),
    ("photo.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("wi.yaml", b"title: [unclosed", "not valid YAML"),
    ("wi.json", b'{"title": "no steps"}', "not a work instruction"),
    ("blank.txt", b"   \n\n  ", "has no text"),
])
def test_malformed_files_name_the_file(lib, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MalformedFile, match=message) as err:
        lib.add(path)
    assert name in str(err.value)
    assert lib.documents() == []


def test_oversized_and_missing(lib, tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text("Large manual\n" * 200)
    monkeypatch.setattr(ingest, "MAX_BYTES", 1000)
    with pytest.raises(MalformedFile, match="big.txt is too large"):
        lib.add(path)
    with pytest.raises(MalformedFile, match="nowhere.pdf does not exist"):
        lib.add(tmp_path / "nowhere.pdf")
    with pytest.raises(UnknownEquipment):
        lib.add(path, equipment_ids=["no-such-machine"])


def test_bad_file_leaves_library_intact(lib, docs, tmp_path):
    good = lib.add(docs / "vx9-manual.pdf", equipment_ids=["vx9"])
    before = [p.id for p in lib.passages(good.id)]
    # the same path now holds a damaged file: nothing may change
    copy = tmp_path / "copy.pdf"
    copy.write_bytes((docs / "vx9-manual.pdf").read_bytes())
    doc = lib.add(copy)
    copy.write_bytes(copy.read_bytes()[:400])
    with pytest.raises(MalformedFile):
        lib.add(copy)
    assert [p.id for p in lib.passages(good.id)] == before
    assert lib.document(doc.id).sha256 == good.sha256
    assert len(lib.lookup_code("F0001")) >= 1


def test_pdf_bookmarks_give_headings(lib, tmp_path):
    """Headings set in body type (no number, no bold, no size change) are found from the PDF's bookmarks."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    for title, level, body in (("Maintenance", 0, "General maintenance notes for the unit."),
                               ("Belt tension", 1, "Press the belt midway; it should deflect by 8 mm."),
                               ("Lubrication", 1, "Grease the bearings every 2000 hours.")):
        pdf.start_section(title, level=level)
        pdf.multi_cell(0, 5, title, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    path = tmp_path / "bookmarks.pdf"
    pdf.output(str(path))
    doc = lib.add(path)
    sections = {p.section for p in lib.passages(doc.id)}
    assert {"Maintenance", "Maintenance > Belt tension", "Maintenance > Lubrication"} <= sections
    assert lib.search("belt deflection")[0].section == "Maintenance > Belt tension"


def test_scanned_fault_table_is_recognised(lib, tmp_path):
    """A fault table on a scanned page: OCR boxes, no text layer, rows packed as tightly as lines."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    source = make_drive_manual(tmp_path / "m.pdf")
    pdf = pdfium.PdfDocument(str(source))
    pdf[1].render(scale=200 / 72, grayscale=True).to_pil().save(tmp_path / "page.png")
    pdf.close()
    scan = FPDF()
    scan.add_page()
    scan.image(str(tmp_path / "page.png"), x=0, y=0, w=210, h=297)
    scan.output(str(tmp_path / "scan.pdf"))
    doc = lib.add(tmp_path / "scan.pdf", equipment_ids=["vx9"])
    assert lib.page_info(doc.id)[0].ocr
    faults = {f.code: f for f in lib.fault_codes("vx9")}
    assert set(faults) == {c[0] for c in DRIVE_CODES}
    for code, title, cause, remedy in DRIVE_CODES:
        entry = faults[code]
        assert entry.title == title and entry.cause.replace(" °C", "°C") == cause.replace(" °C", "°C"), entry
    assert lib.lookup_code("err7")[0].section == "4 Troubleshooting > 4.2 Fault codes"
