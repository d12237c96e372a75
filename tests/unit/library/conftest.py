"""Fixtures for the library tests: real documents generated on the fly (PDFs
with fpdf2, a scanned PDF made from a rendered image, an encrypted PDF,
Markdown, HTML, text, YAML/JSON work instructions) and a fresh Library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from assistant.domain import Equipment
from assistant.library import Library

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

DRIVE_CODES = [
    ("F0001", "Overcurrent", "Output short circuit or ground fault on the motor cable",
     "Check motor cable insulation with a 1000 V tester; replace damaged cable"),
    ("OC1", "Overvoltage during deceleration", "Deceleration ramp too short for the load inertia",
     "Increase parameter P1121 deceleration time or fit a braking resistor"),
    ("E-21", "Heatsink over temperature", "Cooling fan blocked or failed; ambient above 50 °C",
     "Clean the heatsink fins and replace the cooling fan"),
    ("Err 07", "Encoder signal lost", "Encoder cable broken or connector loose",
     "Reseat the encoder connector and check continuity of channels A and B"),
    ("2310", "Continuous overcurrent", "Motor overloaded or mechanical jam",
     "Reduce the load and check the driven machine turns freely"),
]


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("Sans", "", FONT)
    pdf.add_font("Sans", "B", FONT_BOLD)
    pdf.set_auto_page_break(True, margin=20)
    return pdf


def _h(pdf: FPDF, text: str, size: float) -> None:
    pdf.set_font("Sans", "B", size)
    pdf.ln(2)
    pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _p(pdf: FPDF, text: str) -> None:
    pdf.set_font("Sans", "", 10)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def make_drive_manual(path: Path, *, revision: str = "B", overcurrent_remedy: str | None = None,
                      pages_of_filler: int = 0) -> Path:
    """A realistic drive manual: title, numbered sections, a warning, a numbered procedure,
    and a bordered fault-code table with mixed code schemes (cells vertically centred)."""
    pdf = _pdf()
    pdf.set_title(f"VX-9 Drive Manual Rev {revision}")
    pdf.add_page()
    pdf.set_font("Sans", "B", 24)
    pdf.multi_cell(0, 12, "VX-9 Variable Frequency Drive", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 12)
    pdf.multi_cell(0, 7, f"User manual, revision {revision}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _h(pdf, "1 Safety", 15)
    pdf.set_font("Sans", "B", 11)
    pdf.multi_cell(0, 6, "WARNING", new_x="LMARGIN", new_y="NEXT")
    _p(pdf, "Hazardous voltage remains on the DC bus for 5 minutes after the supply is switched off. "
            "Wait 5 minutes and measure the DC bus voltage before touching any terminal.")
    _h(pdf, "1.1 Intended use", 12)
    _p(pdf, "The VX-9 controls the speed of three-phase induction motors from 0.75 to 22 kW. "
            "Use it only in a closed electrical operating area.")
    for n in range(pages_of_filler):
        pdf.add_page()
        _h(pdf, f"2.{n + 1} Parameter group {n + 1}", 12)
        _p(pdf, f"Parameters of group {n + 1} set the acceleration ramp, the motor nameplate data and the "
                f"analogue input scaling. Group {n + 1} is read only while the drive is running. " * 3)
    pdf.add_page()
    _h(pdf, "3 Maintenance", 15)
    _h(pdf, "3.1 Replacing the cooling fan", 12)
    _p(pdf, "To replace the cooling fan:")
    pdf.set_font("Sans", "", 10)
    for n, step in enumerate(["Switch off the supply and lock the isolator in the OFF position.",
                              "Wait 5 minutes for the DC bus to discharge.",
                              "Remove the two fan cover screws and unplug the fan connector.",
                              "Fit the new fan with the airflow arrow pointing into the heatsink."], start=1):
        pdf.multi_cell(0, 5, f"{n}. {step}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _h(pdf, "4 Troubleshooting", 15)
    _h(pdf, "4.2 Fault codes", 12)
    pdf.set_font("Sans", "", 9)
    with pdf.table(col_widths=(18, 40, 62, 70), text_align="LEFT") as table:
        header = table.row()
        for cell in ("Code", "Fault", "Possible cause", "Corrective action"):
            header.cell(cell)
        for code, title, cause, remedy in DRIVE_CODES:
            if code == "F0001" and overcurrent_remedy:
                remedy = overcurrent_remedy
            row = table.row()
            for cell in (code, title, cause, remedy):
                row.cell(cell)
    pdf.ln(4)
    _h(pdf, "4.3 Resetting a fault", 12)
    _p(pdf, "Press STOP/RESET once the cause has been removed. Faults marked with an asterisk need a power cycle.")
    pdf.output(str(path))
    return path


def make_plain_table_pdf(path: Path) -> Path:
    """A fault list laid out as text columns without borders, top-aligned, with wrapped cells."""
    pdf = _pdf()
    pdf.add_page()
    _h(pdf, "7 Alarms", 15)
    pdf.set_font("Sans", "B", 9)
    xs = (20, 40, 85, 140)
    y = pdf.get_y() + 2
    for x, text in zip(xs, ("Alarm", "Description", "Cause", "Remedy")):
        pdf.text(x, y, text)
    rows = [("A12", "Dry run", ["No liquid at the suction", "or suction valve closed"], ["Fill the tank", "and vent the pump"]),
            ("A15", "High vibration", ["Misalignment or loose bolts"], ["Check alignment", "and tighten bolts", "to 70 Nm"])]
    pdf.set_font("Sans", "", 9)
    y += 7
    for code, title, cause, remedy in rows:
        pdf.text(xs[0], y, code)
        pdf.text(xs[1], y, title)
        for k, line in enumerate(cause):
            pdf.text(xs[2], y + 4.5 * k, line)
        for k, line in enumerate(remedy):
            pdf.text(xs[3], y + 4.5 * k, line)
        y += 4.5 * max(len(cause), len(remedy)) + 3
    pdf.set_xy(20, y + 4)
    _p(pdf, "If an alarm persists after two resets, contact service with the alarm log.")
    pdf.output(str(path))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A 'scanned' page: text rendered into an image, embedded in a PDF with no text layer."""
    img = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype(FONT_BOLD, 44)
    body = ImageFont.truetype(FONT, 30)
    draw.text((100, 120), "5 Lubrication", font=big, fill=0)
    lines = ["Grease the motor bearings every 4000 operating hours.",
             "Use lithium complex grease, 15 grams per bearing.",
             "Never mix different grease types."]
    for k, line in enumerate(lines):
        draw.text((100, 220 + 50 * k), line, font=body, fill=0)
    png = path.with_suffix(".png")
    img.save(png)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(str(png), x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    png.unlink()
    return path


def make_encrypted_pdf(path: Path) -> Path:
    pdf = _pdf()
    pdf.add_page()
    _p(pdf, "Confidential service bulletin.")
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    pdf.output(str(path))
    return path


MARKDOWN = """\
# Compressor RS-5 service guide

Intro paragraph about the RS-5 rotary screw compressor and its AirLogic controller.

## Safety

> **WARNING:** Release all air pressure from the receiver before opening any fitting.

## Alarm list

| Alarm | Meaning | Cause | Action |
|-------|---------|-------|--------|
| AL-03 | High discharge temperature | Cooler blocked | Clean the oil cooler fins |
| AL-11 | Low oil level | Oil leak | Top up with RS oil and check for leaks |

## Changing the oil filter

Before you start:

1. Stop the compressor and isolate the supply.
2. Vent the receiver to 0 bar.
3. Unscrew the filter with a strap wrench.
4. Oil the new gasket and fit the filter hand tight.

### Torques

| Joint | Torque |
|-------|--------|
| Drain plug | 25 Nm |
"""

HTML = """\
<!doctype html><html><head><title>Chiller CH-2 service notes</title>
<style>.x{color:red}</style><script>var secret = "should never be indexed";</script></head>
<body><nav><a href="/">Home</a> navigation junk</nav>
<h1>Chiller CH-2 service notes</h1>
<h2>Refrigerant circuit</h2>
<p>The CH-2 uses R-32 refrigerant with a charge of 2.4 kg per circuit.</p>
<div class="warning"><p>Wear gloves and goggles: liquid refrigerant causes frostbite.</p></div>
<h3>Leak test</h3>
<ol><li>Recover the refrigerant.</li><li>Pressurise with dry nitrogen to 30 bar.</li><li>Check all brazed joints with leak spray.</li></ol>
<h2>Fault codes</h2>
<table><tr><th>Code</th><th>Description</th><th>Remedy</th></tr>
<tr><td>HP1</td><td>High pressure trip</td><td>Clean the condenser coil</td></tr>
<tr><td>LP2</td><td>Low pressure trip</td><td>Check the refrigerant charge</td></tr></table>
<iframe src="https://example.com/ad"></iframe>
</body></html>
"""

TEXT = """\
BOILER B-7 QUICK GUIDE
======================

1 Start-up
----------

Check the water pressure is between 1.0 and 2.0 bar before firing.

Code    Fault               Remedy
E01     Ignition failure    Check gas supply and ignition electrode gap
E02     Flame loss          Clean the flame sensor rod
"""

WORK_INSTRUCTION = {
    "id": "wi-rs5-belt",
    "title": "RS-5 compressor: replace the drive belt",
    "equipment": ["rs5"],
    "revision": "4",
    "warnings": ["Lock out and tag out the compressor before removing the belt guard."],
    "tools": ["13 mm spanner", "belt tension gauge"],
    "parts": ["Drive belt XPZ 1250"],
    "steps": [
        {"text": "Remove the belt guard."},
        {"text": "Slacken the motor slide bolts and remove the old belt.", "warning": "Pinch point between belt and pulley."},
        {"text": "Fit the new belt and tension it to 8 mm deflection.", "figure": "figures/belt-tension.png"},
    ],
}


@pytest.fixture
def lib(tmp_path: Path):
    library = Library(tmp_path / "lib", cache_limit_bytes=64 * 1024**2)
    library.upsert_equipment(Equipment(id="vx9", name="VX-9 drive", manufacturer="Kestrel", model="VX-9",
                                       aliases=["VX9", "VX-9-4K0"], asset_tags=["FL-VFD-0009"],
                                       serial_patterns=[r"^VX9-\d{5}$"]))
    library.upsert_equipment(Equipment(id="rs5", name="RS-5 compressor", model="RS-5", aliases=["RS5"],
                                       asset_tags=["FL-CMP-0005"]))
    yield library
    library.close()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A folder with one document of every kind."""
    folder = tmp_path / "docs"
    folder.mkdir()
    make_drive_manual(folder / "vx9-manual.pdf")
    make_plain_table_pdf(folder / "alarms.pdf")
    (folder / "rs5-guide.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / "ch2.html").write_text(HTML, encoding="utf-8")
    (folder / "b7.txt").write_text(TEXT, encoding="utf-8")
    import yaml

    (folder / "wi-belt.yaml").write_text(yaml.safe_dump(WORK_INSTRUCTION), encoding="utf-8")
    (folder / "wi-belt.json").write_text(json.dumps(WORK_INSTRUCTION | {"title": "RS-5 belt (JSON copy)"}),
                                         encoding="utf-8")
    return folder
