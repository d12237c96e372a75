"""Real-world manual layouts: fault tables with other header vocabularies, grid
tables with wrapped cells split over pages, many code shapes next to numbers
that are not codes, fault lists written as headings + paragraphs, two-column
pages, landscape and small-font tables, Markdown / HTML tables and <dl> lists.
Every document is generated here with fpdf2 (or written as text) and ingested
through `Library.add`."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from assistant.domain import Equipment
from assistant.library import Library
from assistant.library.codes import code_key

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

ROWS = [
    ("F0001", "Overcurrent", "Short circuit on the motor cable", "Check the motor cable insulation"),
    ("OC1", "Overvoltage in deceleration", "Deceleration ramp too short", "Increase the deceleration time"),
    ("E-21", "Heatsink overtemperature", "Cooling fan blocked", "Clean the heatsink and replace the fan"),
    ("Err 07", "Encoder signal lost", "Encoder cable broken", "Reseat the encoder connector"),
]


@pytest.fixture
def lib(tmp_path: Path):
    library = Library(tmp_path / "lib", cache_limit_bytes=64 * 1024**2)
    library.upsert_equipment(Equipment(id="eq", name="Test drive", model="T-1"))
    yield library
    library.close()


def _pdf(orientation: str = "P") -> FPDF:
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.add_font("Sans", "", FONT)
    pdf.add_font("Sans", "B", FONT_BOLD)
    pdf.set_auto_page_break(True, margin=20)
    return pdf


def _h(pdf: FPDF, text: str, size: float = 14) -> None:
    pdf.set_font("Sans", "B", size)
    pdf.ln(2)
    pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _p(pdf: FPDF, text: str, size: float = 10) -> None:
    pdf.set_font("Sans", "", size)
    pdf.multi_cell(0, size / 2, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _table(pdf: FPDF, header, rows, widths, *, size: float = 9, borders: str = "ALL") -> None:
    pdf.set_font("Sans", "", size)
    with pdf.table(col_widths=widths, text_align="LEFT", borders_layout=borders, line_height=size * 0.5,
                   repeat_headings=1) as table:
        head = table.row()
        for cell in header:
            head.cell(cell)
        for data in rows:
            row = table.row()
            for cell in data:
                row.cell(cell)


def _manual(path: Path, header, rows, widths, **kw) -> Path:
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "1 Introduction", 16)
    _p(pdf, "This manual describes installation, operation and troubleshooting of the unit.")
    _h(pdf, "5 Troubleshooting", 16)
    _h(pdf, "5.1 Fault list", 12)
    _table(pdf, header, rows, widths, **kw)
    pdf.ln(4)
    _h(pdf, "5.2 Resetting", 12)
    _p(pdf, "Press RESET after removing the cause.")
    pdf.output(str(path))
    return path


def _ingest(lib: Library, path: Path):
    doc = lib.add(path, equipment_ids=["eq"])
    return doc, {code_key(f.code): f for f in lib.fault_codes("eq")}


# --------------------------------------------------------------------------- 1. header vocabularies

VOCABULARIES = [
    ("Fault", "Name", "Probable cause", "Corrective action"),
    ("Alarm no.", "Alarm text", "Description", "Countermeasure"),
    ("Code", "Fault", "Possible causes", "What to do"),
]


@pytest.mark.parametrize("header", VOCABULARIES, ids=lambda h: h[0])
def test_pdf_fault_table_with_other_header_words(lib, tmp_path, header):
    path = _manual(tmp_path / "m.pdf", header, ROWS, (20, 45, 60, 65))
    doc, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert f.title == title and f.cause == cause and f.remedy == remedy, f
        assert f.page == 1 and "Fault list" in f.section


@pytest.mark.parametrize("header", [("Error code", "Meaning", "Measures"), ("Code", "Description", "Remedy")],
                         ids=lambda h: h[0])
def test_pdf_three_column_table_without_cause(lib, tmp_path, header):
    rows = [(c, t, r) for c, t, _, r in ROWS]
    path = _manual(tmp_path / "m.pdf", header, rows, (25, 70, 95))
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in rows}
    for code, title, remedy in rows:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, "", remedy)


# --------------------------------------------------------------------------- 2. grid, wrapped cells, page break

LONG_REMEDY = ("Switch off the supply and wait five minutes. Measure the insulation resistance of each motor "
               "phase to earth with a 500 V tester. Replace the cable if the reading is below one megohm. "
               "Restart the drive and watch the output current during acceleration.")


def test_grid_table_with_wrapped_cells_and_row_split_over_page(lib, tmp_path):
    rows = [(f"F{n:04d}", f"Fault number {n}", f"Cause text for fault {n} which wraps onto a second line",
             LONG_REMEDY) for n in range(1, 15)]
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "8 Diagnostics", 16)
    _p(pdf, "The list below covers every fault the controller can report. " * 8)
    _table(pdf, ("Code", "Fault", "Cause", "Remedy"), rows, (20, 35, 55, 80))
    pdf.output(str(tmp_path / "grid.pdf"))
    assert pdf.page_no() >= 2
    _, faults = _ingest(lib, tmp_path / "grid.pdf")
    assert set(faults) == {code_key(r[0]) for r in rows}
    for code, title, cause, remedy in rows:
        f = faults[code_key(code)]
        assert f.title == title and f.cause == cause, f
        assert f.remedy == remedy, f
    assert {f.page for f in faults.values()} >= {1, 2}


# --------------------------------------------------------------------------- 3. code shapes

SHAPES = ["F0001", "OC1", "oL2", "E-21", "Err 07", "2310", "A.12", "AL-03", "Er.15", "t0"]


def test_many_code_shapes_and_numbers_that_are_not_codes(lib, tmp_path):
    rows = [(c, f"Condition {k}", f"Supply above 480 V or P1.05 set below {k + 2}0 Hz",
             f"See page {k + 10}; check parameter P{k}.{k:02d}") for k, c in enumerate(SHAPES)]
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "6 Faults", 16)
    _p(pdf, "Rated voltage 400 V, 50 Hz. Parameter P1.05 sets the ramp; see page 12 and table 3.")
    _table(pdf, ("Code", "Fault", "Cause", "Remedy"), rows, (22, 38, 65, 65))
    _p(pdf, "Overload class 10 applies below 22 kW. Set P2.10 to 3 for 230 V supplies.")
    pdf.output(str(tmp_path / "shapes.pdf"))
    _, faults = _ingest(lib, tmp_path / "shapes.pdf")
    assert set(faults) == {code_key(c) for c in SHAPES}
    for code, title, cause, remedy in rows:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)
    for c in ("oL2", "A.12", "Er.15", "t0"):
        assert lib.lookup_code(c, "eq"), c


# --------------------------------------------------------------------------- 4. fault list as headings

def test_fault_list_as_headings_with_cause_and_remedy_paragraphs(lib, tmp_path):
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "4 Troubleshooting", 16)
    _p(pdf, "The display shows a fault code when the controller stops the motor. Supply is 230 V.")
    entries = [("F012", "Motor overtemperature", "The motor thermistor tripped; ambient above 40 °C.",
                "Let the motor cool down and clean the fan cover."),
               ("F013", "Undervoltage", "Mains voltage below 180 V for more than 2 s.",
                "Check the supply fuses and terminal screws."),
               ("E-4", "Pump blocked", "Foreign body in the impeller.",
                "Remove the pump cover and clear the impeller.")]
    for code, title, cause, remedy in entries:
        pdf.set_font("Sans", "B", 11)
        pdf.multi_cell(0, 6, f"{code} – {title}", new_x="LMARGIN", new_y="NEXT")
        _p(pdf, f"Cause: {cause}")
        _p(pdf, f"Remedy: {remedy}")
    pdf.output(str(tmp_path / "list.pdf"))
    _, faults = _ingest(lib, tmp_path / "list.pdf")
    assert set(faults) == {code_key(e[0]) for e in entries}
    for code, title, cause, remedy in entries:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)
        assert "Troubleshooting" in f.section


# --------------------------------------------------------------------------- 5. two-column pages

LEFT = ("The pump must be installed on a level concrete base. Anchor the baseplate with four bolts and "
        "grout it before connecting the pipes. ") * 6
RIGHT = ("Lubricate the bearings every two thousand hours with lithium grease. Never mix grease types "
         "and remove excess grease from the housing. ") * 6


def test_two_column_page_keeps_columns_apart(lib, tmp_path):
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("Sans", "B", 18)
    pdf.cell(0, 10, "Pump P-7 operating manual", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    for x, head, body in ((10, "2 Installation", LEFT), (110, "3 Maintenance", RIGHT)):
        pdf.set_xy(x, top)
        pdf.set_font("Sans", "B", 13)
        pdf.multi_cell(90, 7, head, new_x="LEFT", new_y="NEXT")
        pdf.set_font("Sans", "", 10)
        pdf.multi_cell(90, 5, body, new_x="LEFT", new_y="NEXT")
    pdf.output(str(tmp_path / "cols.pdf"))
    doc = lib.add(tmp_path / "cols.pdf", equipment_ids=["eq"])
    sections = [e.section[-1] if isinstance(e.section, (list, tuple)) else e.section for e in lib.outline(doc.id)]
    assert any("Installation" in s for s in sections) and any("Maintenance" in s for s in sections)
    for p in lib.passages(doc.id):
        text = p.text
        assert not ("baseplate" in text and "grease" in text), text[:200]
        sec = " ".join(p.section) if isinstance(p.section, (list, tuple)) else p.section
        if "grease" in text:
            assert "Maintenance" in sec
        if "baseplate" in text:
            assert "Installation" in sec
    hits = lib.search("lubricate bearings grease", equipment_id="eq", limit=3)
    assert hits and "grease" in hits[0].snippet.lower()


# --------------------------------------------------------------------------- 6. landscape, small font

def test_landscape_wide_fault_table(lib, tmp_path):
    rows = [(c, t, ca, r, "Yes", "1.2") for c, t, ca, r in ROWS]
    pdf = _pdf("L")
    pdf.add_page()
    _h(pdf, "9 Alarm reference", 16)
    _table(pdf, ("Code", "Name", "Cause", "Remedy", "Reset", "Ref."), rows, (25, 50, 80, 80, 20, 20))
    pdf.output(str(tmp_path / "wide.pdf"))
    _, faults = _ingest(lib, tmp_path / "wide.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)


def test_small_font_fault_table(lib, tmp_path):
    path = _manual(tmp_path / "small.pdf", ("Code", "Fault", "Cause", "Remedy"), ROWS, (18, 40, 60, 70), size=7)
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)


def test_borderless_table_with_only_header_rule(lib, tmp_path):
    path = _manual(tmp_path / "rule.pdf", ("Fault", "Name", "Probable cause", "Corrective action"), ROWS,
                   (20, 45, 60, 65), borders="HORIZONTAL_LINES")
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in ROWS}


# --------------------------------------------------------------------------- 7. Markdown and HTML

def _md_table(header, rows) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


@pytest.mark.parametrize("header", VOCABULARIES, ids=lambda h: h[0])
def test_markdown_fault_table_vocabularies(lib, tmp_path, header):
    path = tmp_path / "m.md"
    path.write_text(f"# Drive guide\n\n## Faults\n\n{_md_table(header, ROWS)}\n", encoding="utf-8")
    _, faults = _ingest(lib, path)
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)


@pytest.mark.parametrize("header", VOCABULARIES + [("Error code", "Meaning", "Measures")], ids=lambda h: h[0])
def test_html_fault_table_vocabularies(lib, tmp_path, header):
    rows = ROWS if len(header) == 4 else [(c, t, r) for c, t, _, r in ROWS]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    head = "".join(f"<th>{c}</th>" for c in header)
    path = tmp_path / "m.html"
    path.write_text(f"<html><body><h1>Drive</h1><h2>Faults</h2><table><thead><tr>{head}</tr></thead>"
                    f"<tbody>{body}</tbody></table></body></html>", encoding="utf-8")
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in rows}
    for r in rows:
        f = faults[code_key(r[0])]
        assert f.title == r[1] and f.remedy == r[-1]


def test_html_definition_list_of_codes(lib, tmp_path):
    items = "".join(f"<dt>{c} {t}</dt><dd><p>Cause: {ca}</p><p>Remedy: {r}</p></dd>" for c, t, ca, r in ROWS)
    path = tmp_path / "dl.html"
    path.write_text(f"<html><body><h1>Drive</h1><h2>Fault codes</h2><p>Rated 400 V.</p><dl>{items}</dl>"
                    "</body></html>", encoding="utf-8")
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)
        assert "Fault codes" in f.section


# --------------------------------------------------------------------------- hand-drawn tables


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    lines = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            trial = f"{cur} {word}".strip()
            if cur and pdf.get_string_width(trial) > width:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        lines += [cur] if cur else []
    return lines


def _put(pdf: FPDF, x: float, y: float, text: str, by_word: bool) -> None:
    if not by_word:
        pdf.text(x, y, text)
        return
    for word in text.split():  # every word positioned on its own, as many PDF producers do
        pdf.text(x, y, word)
        x += pdf.get_string_width(word + " ")


def draw_table(pdf: FPDF, widths, header, rows, *, size: float = 9, grid: bool = True, by_word: bool = False,
               bottom: float = 275, repeat_header: bool = True) -> None:
    """A table drawn line by line: wrapped cells (top-aligned), header cells that wrap too, grid lines,
    and rows that continue on the next page (header repeated) when they do not fit."""
    lead = size * 0.45
    x0 = pdf.l_margin
    xs = [x0 + sum(widths[:k]) for k in range(len(widths) + 1)]

    def cells(texts, bold):
        pdf.set_font("Sans", "B" if bold else "", size)
        return [_wrap(pdf, t, w - 3) for t, w in zip(texts, widths)]

    def block(wrapped, y, bold, start=0, limit=10**6):
        pdf.set_font("Sans", "B" if bold else "", size)
        n = min(max(len(c) for c in wrapped) - start, limit)
        for k, lines in enumerate(wrapped):
            for j, line in enumerate(lines[start:start + n]):
                _put(pdf, xs[k] + 1.5, y + lead * (j + 1) + 0.5, line, by_word and not bold)
        h = lead * n + 2
        if grid:
            pdf.rect(xs[0], y, xs[-1] - xs[0], h)
            for x in xs[1:-1]:
                pdf.line(x, y, x, y + h)
        return y + h, start + n

    head = cells(header, True)
    y, _ = block(head, pdf.get_y(), True)
    if not grid:
        pdf.line(xs[0], y, xs[-1], y)
    for row in rows:
        wrapped = cells(row, False)
        done, total = 0, max(len(c) for c in wrapped)
        while done < total:
            room = int((bottom - y - 2) // lead)
            if room < 1:
                pdf.add_page()
                y = block(head, 20, True)[0] if repeat_header else 20.0
                continue
            y, done = block(wrapped, y, False, done, room)
    pdf.set_y(y + 4)


CAUSES = ["Motor cable damaged or insulation failed", "Supply voltage above the rated 480 V",
          "Ambient temperature above 45 °C", "Encoder cable broken or shield not earthed"]


def _long_rows(n: int):
    return [(f"F{k:04d}", f"Fault {k} detected", CAUSES[k % 4], LONG_REMEDY) for k in range(1, n + 1)]


@pytest.mark.parametrize("by_word", [False, True], ids=["runs", "word-by-word"])
def test_drawn_grid_table_row_split_over_page_with_two_line_header(lib, tmp_path, by_word):
    rows = _long_rows(9)
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "8 Diagnostics", 16)
    _h(pdf, "8.1 Fault table", 12)
    _p(pdf, "The controller stores the last ten faults. " * 12)
    draw_table(pdf, (22, 38, 55, 75), ("Fault code", "Fault name", "Probable cause", "Corrective action to take"),
               rows, by_word=by_word, bottom=200)
    _h(pdf, "8.2 Fault history", 12)
    _p(pdf, "Read the history with parameter P9.01.")
    pdf.output(str(tmp_path / "drawn.pdf"))
    assert pdf.page_no() >= 2
    _, faults = _ingest(lib, tmp_path / "drawn.pdf")
    assert set(faults) == {code_key(r[0]) for r in rows}
    for code, title, cause, remedy in rows:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f
        assert "Fault table" in f.section
    assert {f.page for f in faults.values()} >= {1, 2}


@pytest.mark.parametrize("grid", [True, False], ids=["grid", "rules"])
def test_word_by_word_small_font_table(lib, tmp_path, grid):
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "3 Alarms", 14)
    draw_table(pdf, (20, 40, 60, 70), ("Alarm no.", "Alarm text", "Description", "Countermeasure"), ROWS, size=7,
               grid=grid, by_word=True)
    _p(pdf, "After the countermeasure, acknowledge the alarm with key 3 or input DI4 (24 V).")
    pdf.output(str(tmp_path / "w.pdf"))
    _, faults = _ingest(lib, tmp_path / "w.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f


def test_markdown_fault_list_as_headings(lib, tmp_path):
    md = ["# Pump guide", "", "## Troubleshooting", "", "The pump runs at 230 V."]
    for code, title, cause, remedy in ROWS:
        md += ["", f"### {code} – {title}", "", f"**Cause:** {cause}", "", f"**Remedy:** {remedy}"]
    path = tmp_path / "list.md"
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy)


def test_numbers_in_prose_do_not_become_codes(lib, tmp_path):
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "2 Technical data", 14)
    _p(pdf, "Supply 400 V ±10 %, 50/60 Hz. Set P1.05 to 12 for a 4-pole motor. See page 23.")
    _h(pdf, "10 Service", 14)
    _p(pdf, "Cause: wear of the seal after 8000 h. Remedy: replace the seal kit 4711.")
    pdf.output(str(tmp_path / "prose.pdf"))
    _ingest(lib, tmp_path / "prose.pdf")
    assert lib.fault_codes("eq") == []


# --------------------------------------------------------------------------- rows real tables add


@pytest.mark.parametrize("drawn", [True, False], ids=["drawn", "fpdf-table"])
def test_category_rows_and_footnote_markers_inside_a_fault_table(lib, tmp_path, drawn):
    """Fault tables grouped by category rows ('Motor faults'), codes with footnote markers
    ('F0003*') and a note line under the table."""
    rows = [("Motor faults", "", "", ""), ROWS[0], ("F0003*", "Motor stalled", "Load jammed", "Free the load"),
            ("Power section", "", "", ""), ROWS[1], ROWS[2], ("Feedback", "", "", ""), ROWS[3]]
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "6 Fault codes", 14)
    if drawn:
        draw_table(pdf, (20, 45, 60, 65), ("Code", "Fault", "Cause", "Remedy"), rows)
    else:
        _table(pdf, ("Code", "Fault", "Cause", "Remedy"), rows, (20, 45, 60, 65))
    _p(pdf, "* Reset only by switching the supply off and on.")
    pdf.output(str(tmp_path / "cat.pdf"))
    _, faults = _ingest(lib, tmp_path / "cat.pdf")
    expected = [r for r in rows if r[1]]
    assert set(faults) == {code_key(r[0].rstrip("*")) for r in expected}
    for code, title, cause, remedy in expected:
        f = faults[code_key(code.rstrip("*"))]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f


def test_several_codes_in_one_cell_and_hex_codes(lib, tmp_path):
    rows = [("E21 / E22", "Phase loss", "Supply fuse blown", "Replace the fuse"),
            ("0x2310", "Continuous overcurrent", "Motor overloaded", "Reduce the load"),
            ("3210h", "DC link overvoltage", "Braking energy too high", "Fit a braking resistor")]
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "7 Error codes", 14)
    _table(pdf, ("Error code", "Description", "Cause", "Remedy"), rows, (25, 45, 55, 65))
    pdf.output(str(tmp_path / "multi.pdf"))
    _, faults = _ingest(lib, tmp_path / "multi.pdf")
    for code in ("E21", "E22", "0x2310", "3210h"):
        hits = lib.lookup_code(code, "eq")
        assert hits, (code, sorted(faults))
    assert lib.lookup_code("E22", "eq")[0].remedy == "Replace the fuse"


def test_fault_list_with_label_column_and_no_colons(lib, tmp_path):
    """Entries where 'Cause' / 'Remedy' sit in a narrow left column beside their text (no colons)."""
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "11 Messages", 14)
    _p(pdf, "Messages appear on the 2-line display; up to 8 are stored.")
    for code, title, cause, remedy in ROWS:
        pdf.set_font("Sans", "B", 10)
        pdf.multi_cell(0, 6, f"{code}   {title}", new_x="LMARGIN", new_y="NEXT")
        for label, text in (("Cause", cause), ("Remedy", remedy)):
            y = pdf.get_y()
            pdf.set_font("Sans", "B", 9)
            pdf.text(pdf.l_margin, y + 4, label)
            pdf.set_xy(pdf.l_margin + 30, y)
            pdf.set_font("Sans", "", 9)
            pdf.multi_cell(140, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(tmp_path / "labels.pdf"))
    _, faults = _ingest(lib, tmp_path / "labels.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f
        assert f.section.startswith("11 Messages") and f.section.split(" > ")[-1].startswith(code), f


@pytest.mark.parametrize("header", [("Fehlercode", "Bedeutung", "Ursache", "Abhilfe"),
                                    ("Défaut", "Description", "Cause", "Solution"),
                                    ("No.", "Code", "Name", "Cause", "Remedy")], ids=["de", "fr", "index-column"])
def test_german_and_french_fault_table_headers(lib, tmp_path, header):
    rows = [(str(k),) + r for k, r in enumerate(ROWS, start=1)] if len(header) == 5 else ROWS
    widths = (10, 20, 40, 55, 65) if len(header) == 5 else (25, 45, 55, 65)
    _, faults = _ingest(lib, _manual(tmp_path / "m.pdf", header, rows, widths))
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f


def _column(pdf: FPDF, x: float, top: float, parts, width: float = 88) -> None:
    pdf.set_xy(x, top)
    for kind, text in parts:
        if kind == "h":
            pdf.set_font("Sans", "B", 12)
            pdf.multi_cell(width, 6, text, new_x="LEFT", new_y="NEXT")
        elif kind == "b":
            pdf.set_font("Sans", "", 10)
            pdf.multi_cell(width, 5, f"• {text}", new_x="LEFT", new_y="NEXT")
        else:
            pdf.set_font("Sans", "", 10)
            pdf.multi_cell(width, 5, text, new_x="LEFT", new_y="NEXT")
            pdf.ln(2)
            pdf.set_x(x)


@pytest.mark.parametrize("split", [100.0, 92.0], ids=["even", "offset-gutter"])
def test_two_column_pages_with_lists_and_subsections(lib, tmp_path, split):
    left = [("h", "2 Installation"), ("p", LEFT[:300]), ("b", "Level base"), ("b", "Four bolts"), ("b", "Grout"),
            ("h", "2.1 Piping"), ("p", "Support the suction pipe so that no load acts on the pump flange. "
                                      "Fit a straight pipe run of five diameters before the inlet. " * 2)]
    right = [("h", "3 Maintenance"), ("p", RIGHT[:300]), ("b", "Grease gun"), ("b", "Clean rags"),
             ("h", "3.1 Seal replacement"), ("p", "Drain the casing and remove the impeller nut before pulling "
                                                "the mechanical seal off the shaft sleeve. " * 2)]
    pdf = _pdf()
    for page in range(2):
        pdf.add_page()
        pdf.set_font("Sans", "B", 16 if page == 0 else 9)
        pdf.cell(0, 8, "Pump P-7 operating manual: installation, operation and maintenance",
                 new_x="LMARGIN", new_y="NEXT")
        top = pdf.get_y() + 4
        width = split - 12
        if page == 0:
            _column(pdf, 10, top, left, width)
            _column(pdf, split + 10, top, right, width)
        else:
            _column(pdf, 10, top, [("h", "4 Storage"), ("p", "Store the pump indoors in a dry room. " * 8)], width)
            _column(pdf, split + 10, top, [("h", "5 Disposal"), ("p", "Recycle the motor copper and the cast iron. "
                                                                       * 8)], width)
    pdf.output(str(tmp_path / "cols2.pdf"))
    doc = lib.add(tmp_path / "cols2.pdf", equipment_ids=["eq"])
    outline = [" > ".join(e.section) if not isinstance(e.section, str) else e.section for e in lib.outline(doc.id)]
    for name in ("2 Installation", "2.1 Piping", "3 Maintenance", "3.1 Seal replacement", "4 Storage", "5 Disposal"):
        assert any(o.endswith(name) for o in outline), (name, outline)
    markers = {"baseplate": "2 Installation", "flange": "2.1 Piping", "grease": "3 Maintenance",
               "impeller": "3.1 Seal", "dry room": "4 Storage", "copper": "5 Disposal"}
    for p in lib.passages(doc.id):
        sec = " > ".join(p.section) if not isinstance(p.section, str) else p.section
        found = [m for m in markers if m in p.text]
        assert len(found) <= 1, (found, p.text[:200])
        for m in found:
            assert sec.endswith(markers[m]) or markers[m] in sec.split(" > ")[-1], (m, sec)


def test_centred_cells_long_remedies_over_pages(lib, tmp_path):
    """fpdf2 table with vertically centred cells, long remedies and bullet lists in cells, over pages."""
    rows = [(f"A{k:02d}", f"Alarm {k}", f"• {CAUSES[k % 4]}\n• Wrong parameter set", LONG_REMEDY)
            for k in range(1, 13)]
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "9 Alarms", 14)
    pdf.set_font("Sans", "", 9)
    with pdf.table(col_widths=(18, 35, 60, 77), text_align="LEFT", v_align="MIDDLE", line_height=4.5) as table:
        head = table.row()
        for cell in ("Alarm", "Meaning", "Cause", "Action"):
            head.cell(cell)
        for data in rows:
            row = table.row()
            for cell in data:
                row.cell(cell)
    pdf.output(str(tmp_path / "mid.pdf"))
    assert pdf.page_no() >= 2
    _, faults = _ingest(lib, tmp_path / "mid.pdf")
    assert set(faults) == {code_key(r[0]) for r in rows}
    for code, title, cause, remedy in rows:
        f = faults[code_key(code)]
        assert f.title == title and f.remedy == remedy, f
        assert f.cause == cause.replace("\n", " "), f


@pytest.mark.parametrize("drawn", [True, False], ids=["drawn-top-aligned", "fpdf-centred"])
def test_code_cell_with_title_under_the_code(lib, tmp_path, drawn):
    """'Fault | Cause | Remedy' where the fault cell holds the code and its name on the next line."""
    rows = [(f"{c}\n{t}", ca, r) for c, t, ca, r in ROWS]
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "5 Faults", 14)
    if drawn:
        draw_table(pdf, (45, 65, 80), ("Fault", "Cause", "Remedy"), rows)
    else:
        pdf.set_font("Sans", "", 9)
        with pdf.table(col_widths=(45, 65, 80), text_align="LEFT", line_height=4.5) as table:
            head = table.row()
            for cell in ("Fault", "Cause", "Remedy"):
                head.cell(cell)
            for data in rows:
                row = table.row()
                for cell in data:
                    row.cell(cell)
    pdf.output(str(tmp_path / "stack.pdf"))
    _, faults = _ingest(lib, tmp_path / "stack.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f


@pytest.mark.parametrize("header", [("Fault\ncode", "Fault\nname", "Possible\ncause", "Corrective\naction"),
                                    ("Error\nno.", "Error\ntext", "Probable\ncause", "Counter-\nmeasure")],
                         ids=["fault", "error"])
def test_header_cells_on_two_lines(lib, tmp_path, header):
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "5 Faults", 14)
    draw_table(pdf, (20, 45, 60, 65), header, ROWS)
    pdf.output(str(tmp_path / "h2.pdf"))
    _, faults = _ingest(lib, tmp_path / "h2.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f


def test_text_file_fault_list(lib, tmp_path):
    lines = ["PUMP P-2 TROUBLESHOOTING", "", "Supply 230 V, fuse 10 A.", ""]
    for code, title, cause, remedy in ROWS:
        lines += [f"{code} - {title}", f"Cause: {cause}", f"Remedy: {remedy}", ""]
    path = tmp_path / "list.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    _, faults = _ingest(lib, path)
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f


def test_html_table_with_group_header_row_and_rowspans(lib, tmp_path):
    html = """<html><body><h1>Drive</h1><h2>Troubleshooting</h2>
<table>
<thead><tr><th colspan="4">Table 7: Fault messages</th></tr>
<tr><th>Fault</th><th>Name</th><th>Probable cause</th><th>Corrective action</th></tr></thead>
<tbody>
<tr><td rowspan="2">OC1</td><td rowspan="2">Overcurrent</td><td>Motor cable shorted</td><td>Check the cable</td></tr>
<tr><td>Ramp too short</td><td>Increase the ramp time</td></tr>
<tr><td>E-21</td><td>Heatsink overtemperature</td><td>Fan blocked</td><td>Clean the fan</td></tr>
</tbody></table></body></html>"""
    path = tmp_path / "span.html"
    path.write_text(html, encoding="utf-8")
    _, faults = _ingest(lib, path)
    assert set(faults) == {"OC1", "E21"}
    oc = faults["OC1"]
    assert oc.title == "Overcurrent"
    assert "Motor cable shorted" in oc.cause and "Ramp too short" in oc.cause
    assert "Check the cable" in oc.remedy and "Increase the ramp time" in oc.remedy
    assert (faults["E21"].cause, faults["E21"].remedy) == ("Fan blocked", "Clean the fan")


class _RunningPDF(FPDF):
    def header(self):
        self.set_font("Sans", "", 8)
        self.set_xy(10, 8)
        self.cell(0, 5, "VX-9 drive  |  User manual  |  Edition 03/2024", align="R")
        self.set_xy(self.l_margin, 20)

    def footer(self):
        self.set_font("Sans", "", 8)
        self.set_xy(10, -15)
        self.cell(0, 5, f"Kestrel Drives GmbH          {self.page_no()}", align="C")


@pytest.mark.parametrize("repeat", [True, False], ids=["header-repeated", "no-header-on-next-page"])
def test_table_over_pages_with_running_header_and_footer(lib, tmp_path, repeat):
    pdf = _RunningPDF(format="A4")
    pdf.add_font("Sans", "", FONT)
    pdf.add_font("Sans", "B", FONT_BOLD)
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    _h(pdf, "1 Safety", 14)
    _p(pdf, "Only qualified electricians may work on the drive. " * 20)
    pdf.add_page()
    _h(pdf, "7 Troubleshooting", 14)
    _p(pdf, "Faults stop the motor; warnings do not. " * 10)
    rows = _long_rows(10)
    draw_table(pdf, (22, 38, 55, 75), ("Code", "Fault", "Cause", "Remedy"), rows, bottom=270, repeat_header=repeat)
    _h(pdf, "8 Technical data", 14)
    _p(pdf, "Rated input 3 x 400 V, 50 Hz; output 0 to 400 V, 0 to 599 Hz.")
    pdf.output(str(tmp_path / "run.pdf"))
    assert pdf.page_no() >= 3
    doc, faults = _ingest(lib, tmp_path / "run.pdf")
    assert set(faults) == {code_key(r[0]) for r in rows}
    for code, title, cause, remedy in rows:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause, remedy), f
        assert f.section.startswith("7 Troubleshooting"), f
    assert not any("Kestrel" in p.text or "Edition" in p.text for p in lib.passages(doc.id)
                   if p.kind.value == "fault_code")


def test_code_run_touching_the_next_cell_is_split(lib, tmp_path):
    """Cells with almost no padding: the code and the fault name come out of the PDF as one run."""
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "5 Faults", 14)
    pdf.set_font("Sans", "B", 9)
    xs = (20, 34, 90, 140)
    y = pdf.get_y() + 4
    for x, text in zip(xs, ("Code", "Fault", "Cause", "Remedy")):
        pdf.text(x, y, text)
    pdf.set_font("Sans", "", 9)
    for code, title, cause, remedy in ROWS:
        y += 6
        pdf.text(xs[0], y, f"{code} {title}")  # one text run reaching into the next column
        pdf.text(xs[2], y, cause[:28])
        pdf.text(xs[3], y, remedy[:30])
    pdf.output(str(tmp_path / "tight.pdf"))
    _, faults = _ingest(lib, tmp_path / "tight.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert (f.title, f.cause, f.remedy) == (title, cause[:28].strip(), remedy[:30].strip()), f


def test_scanned_fault_table(lib, tmp_path):
    """A grid fault table on a page with no text layer (scanned): read by OCR."""
    import pypdfium2 as pdfium

    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "5 Fault codes", 14)
    draw_table(pdf, (22, 45, 55, 68), ("Code", "Fault", "Cause", "Remedy"), ROWS, size=10)
    pdf.output(str(tmp_path / "clean.pdf"))
    doc = pdfium.PdfDocument(str(tmp_path / "clean.pdf"))
    doc[0].render(scale=200 / 72).to_pil().convert("L").save(tmp_path / "scan.png")
    doc.close()
    scan = FPDF(format="A4")
    scan.add_page()
    scan.image(str(tmp_path / "scan.png"), x=0, y=0, w=210, h=297)
    scan.output(str(tmp_path / "scan.pdf"))
    _, faults = _ingest(lib, tmp_path / "scan.pdf")
    assert set(faults) == {code_key(r[0]) for r in ROWS}
    for code, title, cause, remedy in ROWS:
        f = faults[code_key(code)]
        assert f.title.lower() == title.lower() and f.remedy.lower() == remedy.lower(), f
