"""Render the bundled sample library (assets/library/) from its sources in build/sample_library/.

Each manual source is a YAML file describing a manual the way a manufacturer lays it out:
numbered sections with paragraphs, safety blocks (DANGER / WARNING / CAUTION), tables
(specifications, fault codes), numbered procedures and figures drawn with fpdf2 shapes.
This script turns each one into a multi-page PDF with a cover, a table of contents, running
headers and footers, and copies the work instructions next to it.

A manual source may instead be a *revision variant*: ``base:`` names another source and
``replacements:`` lists literal [old, new] text substitutions applied to the base before it is
parsed (how an older revision of the same manual is produced).

Run:  .venv/bin/python build/make_sample_library.py
The output is deterministic: the same sources give byte-identical PDFs.
"""

from __future__ import annotations

import math
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "build" / "sample_library"
OUT = ROOT / "assets" / "library"

# Core PDF fonts only carry latin-1: map the few typographic characters the sources may use.
_LATIN1 = {
    "\u2013": "-", "\u2014": " - ", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2022": "-", "\u2026": "...", "\u2192": "->", "\u2264": "<=", "\u2265": ">=", "\u2126": "ohm",
    "\u03a9": "ohm", "\u00a0": " ", "\u2212": "-", "\u2248": "approx. ",
}

LEVEL_COLOURS = {
    "DANGER": (200, 16, 46),
    "WARNING": (255, 121, 0),
    "CAUTION": (255, 204, 0),
    "NOTICE": (0, 84, 147),
}


def latin1(text: Any) -> str:
    out = str(text)
    for bad, good in _LATIN1.items():
        out = out.replace(bad, good)
    return out.encode("latin-1", "replace").decode("latin-1")


def load_source(path: Path) -> dict[str, Any]:
    raw = path.read_text(encoding="utf-8")
    meta = yaml.safe_load(raw)
    if "base" in meta:
        base_raw = (path.parent / meta["base"]).read_text(encoding="utf-8")
        for old, new in meta.get("replacements", []):
            if old not in base_raw:
                raise SystemExit(f"{path.name}: replacement text not found in base: {old[:60]!r}")
            base_raw = base_raw.replace(old, new)
        data = yaml.safe_load(base_raw)
        for key in ("revision", "date", "output", "doc_number", "revision_note"):
            if key in meta:
                data[key] = meta[key]
        return data
    return meta


class Manual(FPDF):
    def __init__(self, src: dict[str, Any]):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.src = src
        self.set_margins(20, 22, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_creation_date(datetime(2024, 1, 15, 8, 0, tzinfo=timezone.utc))
        self.set_title(latin1(src["title"]))
        self.set_author(latin1(src["manufacturer"]))
        self.set_subject(latin1(f"{src['model']} - {src['title']}"))
        self.set_creator(latin1(src["manufacturer"]) + " Technical Documentation")
        self.set_producer("Fieldlens sample library builder")
        self.figure_no = 0
        self.table_no = 0
        self.accent = tuple(src.get("accent", (0, 70, 130)))

    # running header and footer, suppressed on the cover
    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "B", 8)
        self.set_text_color(*self.accent)
        self.set_xy(20, 10)
        self.cell(85, 5, latin1(self.src["manufacturer"].upper()))
        self.set_font("Helvetica", "", 8)
        self.set_text_color(70, 70, 70)
        self.cell(85, 5, latin1(f"{self.src['short_title']}  |  Rev. {self.src['revision']}"), align="R")
        self.set_draw_color(*self.accent)
        self.set_line_width(0.4)
        self.line(20, 16, 190, 16)
        self.set_text_color(0, 0, 0)
        self.set_y(22)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-14)
        self.set_draw_color(160, 160, 160)
        self.set_line_width(0.2)
        self.line(20, self.get_y() - 1, 190, self.get_y() - 1)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(85, 5, latin1(f"{self.src['doc_number']}  -  {self.src['date']}"))
        self.cell(85, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def draw_cover(pdf: Manual) -> None:
    src = pdf.src
    pdf.add_page()
    pdf.set_fill_color(*pdf.accent)
    pdf.rect(0, 0, 210, 62, style="F")
    pdf.set_xy(20, 18)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(170, 10, latin1(src["manufacturer"].upper()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(170, 7, latin1(src.get("tagline", "")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(20, 86)
    pdf.set_font("Helvetica", "B", 28)
    pdf.multi_cell(170, 12, latin1(src["model_line"]), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 16)
    pdf.multi_cell(170, 8, latin1(src["title"]), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(170, 5.5, latin1(src.get("cover_text", "")), align="L", new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    # a "read the manual" pictogram box
    y = 190
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.6)
    pdf.set_fill_color(255, 204, 0)
    pdf.polygon([(24, y + 22), (36, y), (48, y + 22)], style="DF")
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_xy(33.5, y + 8)
    pdf.cell(5, 10, "!")
    pdf.set_xy(54, y + 2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(130, 5, latin1(src.get("cover_warning", "Read this manual before installation, operation "
                                      "or maintenance. Keep it with the equipment.")),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    pdf.set_xy(20, 262)
    lines = [
        f"Document {src['doc_number']}   Revision {src['revision']}   {src['date']}",
        src.get("revision_note", ""),
        src.get("address", ""),
    ]
    for line in lines:
        if line:
            pdf.cell(170, 5, latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_toc(pdf: FPDF, outline: list[Any]) -> None:
    pdf.set_xy(20, 24)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(170, 10, "Contents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    for entry in outline:
        if entry.level > 1:
            continue
        indent = 6 * entry.level
        pdf.set_font("Helvetica", "B" if entry.level == 0 else "", 10 if entry.level == 0 else 9.5)
        pdf.set_x(20 + indent)
        name = entry.name
        page = str(entry.page_number)
        width = 160 - indent
        dots_w = width - pdf.get_string_width(name) - pdf.get_string_width(page) - 4
        dots = "." * max(2, int(dots_w / max(pdf.get_string_width("."), 0.1)))
        pdf.cell(width, 6, f"{name} {dots}", link=pdf.add_link(page=entry.page_number))
        pdf.cell(10, 6, page, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def heading(pdf: Manual, number: str, title: str, level: int, new_page: bool = False) -> None:
    text = latin1(f"{number} {title}")
    sizes = {0: 15, 1: 12, 2: 10.5}
    need = {0: 40, 1: 30, 2: 25}[min(level, 2)]
    if level == 0 and new_page and pdf.get_y() > 40:
        pdf.add_page()
    elif pdf.get_y() > 297 - 20 - need:
        pdf.add_page()
    pdf.ln(4 if level else 3)
    pdf.start_section(text, level=min(level, 2))
    pdf.set_font("Helvetica", "B", sizes[min(level, 2)])
    pdf.set_text_color(*(pdf.accent if level == 0 else (0, 0, 0)))
    pdf.multi_cell(170, 7 if level == 0 else 6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if level == 0:
        pdf.set_draw_color(*pdf.accent)
        pdf.set_line_width(0.3)
        pdf.line(20, pdf.get_y() + 0.5, 190, pdf.get_y() + 0.5)
        pdf.ln(3)
    else:
        pdf.ln(1)
    pdf.set_text_color(0, 0, 0)


def paragraph(pdf: Manual, text: str) -> None:
    pdf.set_font("Helvetica", "", 9.5)
    pdf.multi_cell(170, 4.7, latin1(text.strip()), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2.5)


def bullets(pdf: Manual, items: list[str]) -> None:
    pdf.set_font("Helvetica", "", 10)
    for item in items:
        pdf.set_x(24)
        pdf.cell(5, 5, "-")
        pdf.multi_cell(161, 5, latin1(item), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.8)
    pdf.ln(2)


def safety_block(pdf: Manual, block: dict[str, Any]) -> None:
    level = block["level"].upper()
    colour = LEVEL_COLOURS[level]
    body = latin1(block["text"].strip())
    pdf.set_font("Helvetica", "", 9.5)
    lines = pdf.multi_cell(146, 4.8, body, dry_run=True, output="LINES")
    height = 7 + 2 + len(lines) * 4.8 + (6 if block.get("title") else 0) + 3
    if pdf.get_y() + height > 297 - 20:
        pdf.add_page()
    x, y = 20, pdf.get_y()
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.8)
    pdf.rect(x, y, 170, height)
    pdf.set_fill_color(*colour)
    pdf.rect(x, y, 170, 7, style="F")
    # the safety alert symbol
    pdf.set_fill_color(255, 255, 255) if level != "CAUTION" else pdf.set_fill_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.polygon([(x + 3, y + 6), (x + 6, y + 1), (x + 9, y + 6)], style="F")
    pdf.set_xy(x + 11, y + 0.8)
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(*((0, 0, 0) if level == "CAUTION" else (255, 255, 255)))
    pdf.cell(60, 5.5, level)
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(x + 4, y + 9)
    if block.get("title"):
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(160, 5, latin1(block["title"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(x + 4)
    pdf.set_font("Helvetica", "", 9.5)
    # pictogram column on the right
    pdf.multi_cell(146, 4.8, body, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    icon = block.get("icon", {"DANGER": "bolt", "WARNING": "hand", "CAUTION": "hot"}.get(level, "none"))
    draw_pictogram(pdf, icon, x + 156, y + 10)
    pdf.set_y(y + height + 3)


def draw_pictogram(pdf: Manual, kind: str, x: float, y: float) -> None:
    pdf.set_line_width(0.5)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 204, 0)
    pdf.polygon([(x, y + 11), (x + 6.5, y), (x + 13, y + 11)], style="DF")
    pdf.set_fill_color(0, 0, 0)
    cx, cy = x + 6.5, y + 7
    if kind == "bolt":
        pdf.polygon([(cx + 0.8, cy - 4.5), (cx - 1.8, cy + 0.5), (cx, cy + 0.5), (cx - 1.0, cy + 3.5),
                     (cx + 2.0, cy - 1.2), (cx + 0.2, cy - 1.2)], style="F")
    elif kind == "hot":
        for dx in (-2, 0, 2):
            pdf.line(cx + dx, cy + 3, cx + dx, cy - 2.5)
    elif kind == "pressure":
        pdf.circle(x=cx, y=cy, radius=2.2, style="D")
        pdf.line(cx, cy, cx + 1.5, cy - 1.5)
    else:
        pdf.rect(cx - 0.6, cy - 3.5, 1.2, 4.5, style="F")
        pdf.rect(cx - 0.6, cy + 1.8, 1.2, 1.2, style="F")


def table(pdf: Manual, block: dict[str, Any]) -> None:
    columns = [latin1(c) for c in block["columns"]]
    widths = block.get("widths") or [170 / len(columns)] * len(columns)
    if block.get("caption"):
        pdf.table_no += 1
        if pdf.get_y() > 297 - 20 - 30:
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.cell(170, 6, latin1(f"Table {pdf.table_no}: {block['caption']}"), new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", block.get("font_size", 8.8))
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    head = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=pdf.accent)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_text_color(0, 0, 0)
    with pdf.table(cell_fill_mode=TableCellFillMode.NONE, col_widths=widths, width=170, headings_style=head, line_height=4.6,
                   text_align="LEFT", repeat_headings=1, padding=1.2,
                   first_row_as_headings=True) as tbl:
        row = tbl.row()
        for col in columns:
            row.cell(col)
        for values in block["rows"]:
            row = tbl.row()
            for value in values:
                row.cell(latin1(value))
    pdf.ln(3)
    if block.get("note"):
        pdf.set_font("Helvetica", "I", 8.8)
        pdf.multi_cell(170, 4.5, latin1(block["note"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)


def steps(pdf: Manual, block: dict[str, Any]) -> None:
    if block.get("title"):
        if pdf.get_y() > 297 - 20 - 25:
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(170, 5.5, latin1(block["title"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.5)
    for i, item in enumerate(block["items"], start=1):
        text = item if isinstance(item, str) else item["text"]
        pdf.set_font("Helvetica", "B", 10)
        pdf.set_x(22)
        pdf.cell(8, 5, f"{i}.")
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(160, 4.7, latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if isinstance(item, dict) and item.get("note"):
            pdf.set_x(30)
            pdf.set_font("Helvetica", "I", 9)
            pdf.multi_cell(160, 4.6, latin1(item["note"]), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.2)
    pdf.ln(2)


# ---------------------------------------------------------------------------------------------
# figures: simple technical line drawings


def _label(pdf: Manual, x: float, y: float, text: str, tx: float, ty: float) -> None:
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.line(x, y, tx, ty)
    pdf.set_fill_color(0, 0, 0)
    pdf.circle(x=x, y=y, radius=0.6, style="F")
    pdf.set_font("Helvetica", "", 7.5)
    w = pdf.get_string_width(text) + 1
    pdf.set_xy(tx - w if tx < x else tx + 0.5, ty - 2)
    pdf.cell(w, 4, text)


def fig_pump_section(pdf: Manual, x: float, y: float) -> None:
    pdf.set_line_width(0.4)
    pdf.set_draw_color(0, 0, 0)
    # base frame
    pdf.set_fill_color(210, 210, 210)
    pdf.rect(x + 5, y + 62, 150, 5, style="DF")
    # motor
    pdf.set_fill_color(225, 232, 240)
    pdf.rect(x + 90, y + 22, 60, 34, style="DF", round_corners=True, corner_radius=3)
    for i in range(9):
        pdf.line(x + 96 + i * 6, y + 22, x + 96 + i * 6, y + 56)
    pdf.rect(x + 108, y + 14, 18, 8, style="DF")  # terminal box
    pdf.rect(x + 100, y + 56, 8, 6, style="D")
    pdf.rect(x + 134, y + 56, 8, 6, style="D")
    # coupling guard and shaft
    pdf.set_fill_color(255, 214, 0)
    pdf.rect(x + 70, y + 32, 20, 14, style="DF")
    pdf.line(x + 55, y + 39, x + 90, y + 39)
    # bearing bracket
    pdf.set_fill_color(230, 230, 230)
    pdf.rect(x + 52, y + 30, 18, 18, style="DF")
    pdf.line(x + 56, y + 62, x + 56, y + 48)
    pdf.line(x + 66, y + 62, x + 66, y + 48)
    # volute casing
    pdf.set_fill_color(200, 215, 230)
    pdf.circle(x=x + 32, y=y + 39, radius=20, style="DF")
    pdf.set_fill_color(255, 255, 255)
    pdf.circle(x=x + 32, y=y + 39, radius=12, style="DF")
    # impeller vanes
    for k in range(6):
        a = k * math.pi / 3
        pdf.line(x + 32 + 3 * math.cos(a), y + 39 + 3 * math.sin(a),
                 x + 32 + 11 * math.cos(a + 0.5), y + 39 + 11 * math.sin(a + 0.5))
    pdf.circle(x=x + 32, y=y + 39, radius=3, style="D")
    # discharge nozzle (top) and suction nozzle (front, drawn left)
    pdf.set_fill_color(200, 215, 230)
    pdf.rect(x + 36, y + 6, 12, 15, style="DF")
    pdf.rect(x + 33, y + 3, 18, 3, style="DF")
    pdf.rect(x + 2, y + 33, 10, 12, style="DF")
    pdf.rect(x - 1, y + 30, 3, 18, style="DF")
    # seal chamber
    pdf.set_fill_color(150, 150, 150)
    pdf.rect(x + 50, y + 35, 4, 8, style="DF")
    _label(pdf, x + 42, y + 5, "1 Discharge flange", x + 65, y + 4)
    _label(pdf, x + 1, y + 40, "2 Suction flange", x - 2, y + 56)
    _label(pdf, x + 36, y + 44, "3 Impeller", x + 20, y + 76)
    _label(pdf, x + 18, y + 27, "4 Volute casing", x + 2, y + 20)
    _label(pdf, x + 52, y + 37, "5 Mechanical seal", x + 48, y + 76)
    _label(pdf, x + 62, y + 34, "6 Bearing bracket", x + 75, y + 18)
    _label(pdf, x + 80, y + 45, "7 Coupling guard", x + 82, y + 76)
    _label(pdf, x + 117, y + 16, "8 Terminal box", x + 140, y + 8)
    _label(pdf, x + 145, y + 40, "9 Motor", x + 158, y + 40)
    _label(pdf, x + 104, y + 64, "10 Base frame", x + 125, y + 76)


def fig_controller_panel(pdf: Manual, x: float, y: float) -> None:
    pdf.set_line_width(0.4)
    pdf.set_fill_color(235, 235, 235)
    pdf.rect(x + 30, y, 100, 70, style="DF", round_corners=True, corner_radius=3)
    pdf.set_fill_color(40, 10, 10)
    pdf.rect(x + 45, y + 8, 50, 20, style="DF")
    pdf.set_text_color(255, 60, 40)
    pdf.set_font("Courier", "B", 22)
    pdf.set_xy(x + 49, y + 11)
    pdf.cell(42, 14, pdf.src.get("figure_display", "A12"), align="C")
    pdf.set_text_color(0, 0, 0)
    for i, name in enumerate(("RUN", "ALARM", "AUTO")):
        pdf.set_fill_color(*((40, 180, 60), (220, 30, 30), (240, 180, 0))[i])
        pdf.circle(x=x + 104, y=y + 11 + i * 7, radius=2, style="DF")
        pdf.set_font("Helvetica", "", 6.5)
        pdf.set_xy(x + 107, y + 9.5 + i * 7)
        pdf.cell(15, 3, name)
    keys = ("START", "STOP/RESET", "MODE", "UP", "DOWN", "ENTER")
    for i, name in enumerate(keys):
        kx = x + 38 + (i % 3) * 30
        ky = y + 38 + (i // 3) * 14
        pdf.set_fill_color(250, 250, 250)
        pdf.rect(kx, ky, 24, 10, style="DF", round_corners=True, corner_radius=1.5)
        pdf.set_font("Helvetica", "B", 6.5)
        pdf.set_xy(kx, ky + 3)
        pdf.cell(24, 4, name, align="C")
    _label(pdf, x + 70, y + 8, "A Display", x + 20, y + 4)
    _label(pdf, x + 104, y + 18, "B Status LEDs", x + 140, y + 18)
    _label(pdf, x + 50, y + 43, "C Keypad", x + 20, y + 60)


def fig_vfd_terminals(pdf: Manual, x: float, y: float) -> None:
    pdf.set_line_width(0.4)
    pdf.set_fill_color(240, 240, 240)
    pdf.rect(x + 20, y, 120, 78, style="DF")
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_xy(x + 20, y + 1)
    pdf.cell(120, 5, "Drive enclosure (cover removed)", align="C")

    def strip(sx: float, sy: float, names: list[str], fill: tuple[int, int, int]) -> None:
        for i, name in enumerate(names):
            pdf.set_fill_color(*fill)
            pdf.rect(sx + i * 9, sy, 8, 10, style="DF")
            pdf.set_fill_color(120, 120, 120)
            pdf.circle(x=sx + i * 9 + 4, y=sy + 3, radius=1.6, style="DF")
            pdf.set_font("Helvetica", "B", 6)
            pdf.set_xy(sx + i * 9, sy + 5.5)
            pdf.cell(8, 4, name, align="C")

    strip(x + 26, y + 62, ["L1", "L2", "L3", "PE", "DC-", "DC+", "BR", "U", "V", "W", "PE"],
          (200, 200, 200))
    strip(x + 26, y + 12, ["+10V", "AI1", "AI2", "GND", "DI1", "DI2", "DI3", "DI4", "+24V", "AO1"],
          (190, 220, 190))
    strip(x + 26, y + 28, ["RO1A", "RO1B", "RO1C", "RO2A", "RO2C", "STO1", "STO2", "SGND"],
          (250, 230, 180))
    pdf.set_fill_color(30, 30, 30)
    pdf.rect(x + 110, y + 42, 22, 14, style="DF")
    pdf.set_text_color(120, 255, 120)
    pdf.set_font("Courier", "B", 9)
    pdf.set_xy(x + 110, y + 45)
    pdf.cell(22, 6, "F004", align="C")
    pdf.set_text_color(0, 0, 0)
    _label(pdf, x + 28, y + 67, "X1 Mains input", x + 2, y + 86)
    _label(pdf, x + 75, y + 67, "X2 DC link / brake resistor", x + 60, y + 86)
    _label(pdf, x + 110, y + 67, "X3 Motor output", x + 130, y + 86)
    _label(pdf, x + 30, y + 15, "X10 Analogue / digital I/O", x + 2, y - 4)
    _label(pdf, x + 80, y + 31, "X11 Relays and STO", x + 150, y + 30)
    _label(pdf, x + 121, y + 44, "Keypad display", x + 150, y + 48)


def fig_compressor_flow(pdf: Manual, x: float, y: float) -> None:
    pdf.set_line_width(0.4)

    def box(bx: float, by: float, w: float, h: float, text: str, fill=(225, 235, 245)) -> None:
        pdf.set_fill_color(*fill)
        pdf.rect(bx, by, w, h, style="DF", round_corners=True, corner_radius=2)
        pdf.set_font("Helvetica", "B", 7)
        pdf.set_xy(bx, by + h / 2 - 4)
        pdf.multi_cell(w, 3.5, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def arrow(x1: float, y1: float, x2: float, y2: float, oil: bool = False) -> None:
        pdf.set_draw_color(*((170, 110, 0) if oil else (0, 70, 160)))
        pdf.set_line_width(0.6)
        if oil:
            pdf.set_dash_pattern(dash=1.5, gap=1)
        pdf.line(x1, y1, x2, y2)
        pdf.set_dash_pattern()
        ang = math.atan2(y2 - y1, x2 - x1)
        pdf.set_fill_color(*((170, 110, 0) if oil else (0, 70, 160)))
        pdf.polygon([(x2, y2), (x2 - 3 * math.cos(ang - 0.4), y2 - 3 * math.sin(ang - 0.4)),
                     (x2 - 3 * math.cos(ang + 0.4), y2 - 3 * math.sin(ang + 0.4))], style="F")
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.4)

    box(x + 0, y + 8, 24, 14, "1 Intake filter")
    box(x + 32, y + 8, 24, 14, "2 Inlet valve")
    box(x + 64, y + 4, 28, 22, "3 Screw airend", (250, 225, 200))
    box(x + 100, y + 4, 30, 26, "4 Separator tank", (240, 240, 200))
    box(x + 138, y + 8, 26, 14, "5 Min. pressure valve")
    box(x + 138, y + 40, 26, 14, "6 Aftercooler")
    box(x + 138, y + 66, 26, 12, "7 Air outlet", (220, 240, 220))
    box(x + 100, y + 48, 30, 14, "8 Oil cooler + thermostatic valve")
    box(x + 64, y + 48, 28, 14, "9 Oil filter")
    box(x + 20, y + 48, 30, 14, "10 Motor 22 kW", (225, 225, 225))
    arrow(x + 24, y + 15, x + 32, y + 15)
    arrow(x + 56, y + 15, x + 64, y + 15)
    arrow(x + 92, y + 15, x + 100, y + 15)
    arrow(x + 130, y + 15, x + 138, y + 15)
    arrow(x + 151, y + 22, x + 151, y + 40)
    arrow(x + 151, y + 54, x + 151, y + 66)
    arrow(x + 115, y + 30, x + 115, y + 48, oil=True)
    arrow(x + 100, y + 55, x + 92, y + 55, oil=True)
    arrow(x + 78, y + 48, x + 78, y + 26, oil=True)
    pdf.line(x + 50, y + 55, x + 64, y + 55)
    pdf.line(x + 57, y + 55, x + 57, y + 35)
    pdf.line(x + 57, y + 35, x + 70, y + 26)
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(x, y + 70)
    pdf.multi_cell(120, 3.5, "Solid line: compressed air.  Dashed line: oil circuit.\n"
                   "PT1 discharge pressure sensor at (5);  TT1 airend discharge temperature at (3).",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def fig_refrigeration_circuit(pdf: Manual, x: float, y: float) -> None:
    pdf.set_line_width(0.5)

    def comp(cx: float, cy: float, label: str, fill) -> None:
        pdf.set_fill_color(*fill)
        pdf.rect(cx, cy, 34, 16, style="DF", round_corners=True, corner_radius=2)
        pdf.set_font("Helvetica", "B", 7)
        pdf.set_xy(cx, cy + 4)
        pdf.multi_cell(34, 3.5, label, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    comp(x + 10, y + 5, "1 Condenser + fans", (250, 215, 200))
    comp(x + 110, y + 5, "2 Compressor", (225, 225, 225))
    comp(x + 110, y + 60, "3 Evaporator + fan", (200, 220, 250))
    comp(x + 10, y + 60, "4 Expansion valve", (230, 230, 230))
    pdf.set_draw_color(200, 40, 40)
    pdf.line(x + 110, y + 13, x + 44, y + 13)
    pdf.line(x + 27, y + 21, x + 27, y + 60)
    pdf.set_draw_color(40, 80, 200)
    pdf.line(x + 44, y + 68, x + 110, y + 68)
    pdf.line(x + 127, y + 60, x + 127, y + 21)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(x + 60, y + 8)
    pdf.cell(40, 4, "HP discharge (PS-H)")
    pdf.set_xy(x + 29, y + 38)
    pdf.cell(40, 4, "Liquid line, drier, sight glass")
    pdf.set_xy(x + 60, y + 70)
    pdf.cell(40, 4, "LP suction (PS-L)")
    pdf.set_xy(x + 129, y + 38)
    pdf.cell(40, 4, "Suction line, probe S2")


FIGURES = {
    "pump_section": (fig_pump_section, 82),
    "controller_panel": (fig_controller_panel, 72),
    "vfd_terminals": (fig_vfd_terminals, 92),
    "compressor_flow": (fig_compressor_flow, 80),
    "refrigeration_circuit": (fig_refrigeration_circuit, 80),
}


def figure(pdf: Manual, block: dict[str, Any]) -> None:
    draw, height = FIGURES[block["draw"]]
    if pdf.get_y() + height + 20 > 297 - 20:
        pdf.add_page()
    y = pdf.get_y() + 4
    draw(pdf, 22, y)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(y + height + 4)
    pdf.figure_no += 1
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(170, 4.8, latin1(f"Figure {pdf.figure_no}: {block['caption']}"), align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def render_blocks(pdf: Manual, blocks: list[dict[str, Any]], number: str, level: int) -> None:
    sub = 0
    for block in blocks:
        if "p" in block:
            paragraph(pdf, block["p"])
        elif "bullets" in block:
            bullets(pdf, block["bullets"])
        elif "safety" in block:
            safety_block(pdf, block["safety"])
        elif "table" in block:
            table(pdf, block["table"])
        elif "faults" in block:
            spec = dict(block["faults"])
            spec["columns"] = ["Code", "Description", "Possible cause", "Remedy"]
            spec.setdefault("widths", [17, 33, 55, 65])
            spec["rows"] = [[r["code"], r["description"], r["cause"], r["remedy"]] for r in spec["rows"]]
            table(pdf, spec)
        elif "steps" in block:
            steps(pdf, block["steps"])
        elif "figure" in block:
            figure(pdf, block["figure"])
        elif "section" in block:
            sub += 1
            sec = block["section"]
            num = f"{number}.{sub}"
            heading(pdf, num, sec["title"], level + 1)
            render_blocks(pdf, sec.get("blocks", []), num, level + 1)
        else:
            raise SystemExit(f"unknown block: {sorted(block)}")


def build_manual(src_path: Path, out_root: Path = OUT) -> Path:
    src = load_source(src_path)
    pdf = Manual(src)
    pdf.alias_nb_pages()
    draw_cover(pdf)
    pdf.add_page()
    pdf.insert_toc_placeholder(render_toc, pages=1)
    for i, sec in enumerate(src["sections"], start=1):
        heading(pdf, str(i), sec["title"], 0, new_page=sec.get("new_page", False))
        render_blocks(pdf, sec.get("blocks", []), str(i), 0)
    out = out_root / src["output"]
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.file_id = lambda: -1  # no random file identifier: deterministic output
    data = bytes(pdf.output())
    out.write_bytes(data)
    print(f"{src['output']}: {pdf.page_no()} pages, {len(data) // 1024} KB")
    return out


def fault_codes(src_path: Path) -> list[str]:
    """The fault codes a manual source lists in its fault tables (used by the tests)."""
    src = load_source(src_path)
    codes: list[str] = []

    def walk(blocks: list[dict[str, Any]]) -> None:
        for block in blocks:
            if "faults" in block:
                codes.extend(str(r["code"]) for r in block["faults"]["rows"])
            if "section" in block:
                walk(block["section"].get("blocks", []))

    for sec in src["sections"]:
        walk(sec.get("blocks", []))
    return codes


def manual_sources() -> list[Path]:
    return sorted(SOURCES.glob("*/*.manual.yaml"))


def main() -> int:
    for path in manual_sources():
        build_manual(path)
    for folder in sorted(p for p in SOURCES.iterdir() if p.is_dir()):
        for wi in sorted(folder.iterdir()):
            if wi.name.endswith(".manual.yaml"):
                continue
            if wi.suffix.lower() in {".md", ".yaml", ".yml", ".json"}:
                dest = OUT / folder.name / wi.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(wi, dest)
                print(f"{dest.relative_to(ROOT)}: copied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
