"""Fault-code families on positioned lines (PDF text, OCR boxes), built from segments the way
the PDF reader gives them and run through the shared layout and `find_entries`: a column
header decides what its column is, codes in a later column under a code header, a one-row
fault table, mixed-case codes in a code column, numbers in a phrase that runs on, a list in
another section, and OCR misreadings in a column that counts by one."""

from __future__ import annotations

from assistant.domain import PassageKind
from assistant.library.ingest import layout
from assistant.library.ingest.base import Seg
from assistant.library.ingest.families import find_entries

CHAR = 5.0  # points per character at 10 pt
LINE = 14.0  # line pitch


def _row(top: float, cells: list[tuple[float, str]], *, conf: float | None = None, size: float = 10.0,
         bold: bool = False) -> list[Seg]:
    return [Seg(text, x, x + CHAR * len(text), top, top + 10.0, size, bold, conf) for x, text in cells]


def _heading(top: float, text: str) -> list[Seg]:
    return _row(top, [(40, text)], size=14.0, bold=True)


def _entries(*pages: list[Seg], title: str = "Installation manual") -> dict[str, list]:
    lines = [layout.build_lines(segs, 595.0) for segs in pages]
    blocks, headings, _, _ = layout.structure(lines, geometry=True)
    out: dict[str, list] = {}
    for block in find_entries(blocks, headings, title):
        if block.kind == PassageKind.FAULT_CODE:
            out.setdefault(block.fault.code, []).append(block)
    return out


def _body(top: float, text: str) -> list[Seg]:
    return _row(top, [(40, text)])


def test_a_column_header_naming_models_or_settings_is_no_fault_table():
    page = (_heading(40, "3.1 Annexed table") + _body(70, "Table 3-1 DTC code description")
            + _row(90, [(60, "Model"), (300, "DTC code")])
            + [seg for n, (model, code) in enumerate([("SPH 3000 BL", "3502"), ("SPA 3000 BL", "3735"),
                                                       ("MIN 7000 X2", "5201"), ("WIT 100K H", "5601")])
               for seg in _row(110 + n * LINE, [(60, model), (300, code)])]
            + _row(200, [(60, "No."), (120, "Description"), (300, "Setting range")])
            + [seg for n, name in enumerate(["Compressor frequency", "Fan speed", "Valve steps", "Input voltage"])
               for seg in _row(220 + n * LINE, [(60, str(n + 1)), (120, name), (300, "0 / 150")])])
    assert _entries(page, title="Error codes and parameters") == {}


def test_codes_in_a_later_column_under_a_code_header_continue_over_the_page():
    first = (_heading(40, "3.2 Command format") + _body(70, "Error codes:")
             + _row(90, [(60, "Description"), (200, "Code"), (340, "Meaning")])
             + _row(110, [(60, "Illegal function"), (200, "0x01"), (340, "1 write undefined function code")])
             + _row(124, [(340, "2 write reading only registers")])
             + _row(138, [(60, "Illegal data address"), (200, "0x02"), (340, "1 write undefined address")]))
    second = (_row(40, [(60, "Illegal data"), (200, "0x03"), (340, "1 write data over prescribed scope")])
              + _row(54, [(60, "Checkout fault"), (200, "0x08"), (340, "1 CRC checkout error")]))
    found = _entries(first, second)
    assert sorted(found) == ["0x01", "0x02", "0x03", "0x08"]
    assert [found[c][0].fault.title for c in sorted(found)] == [
        "Illegal function", "Illegal data address", "Illegal data", "Checkout fault"]
    assert found["0x08"][0].page == 2


def test_a_fault_table_header_over_one_row_is_enough():
    page = (_heading(40, "Chapter VI Water system failure")
            + _row(80, [(60, "Error code"), (125, "Description"), (290, "Solution"), (480, "Page")])
            + _row(100, [(125, "Water outlet temp too high"), (290, "1). Check the water pump")])
            + _row(108, [(60, "E7"), (480, "24")])
            + _row(116, [(125, "or too low protection"), (290, "2). Replace the sensor")])
            + _body(200, "Display E7 when the outlet water temperature leaves its range."))
    found = _entries(page)
    assert list(found) == ["E7"]
    assert found["E7"][0].fault.title == "Water outlet temp too high or too low protection"


def test_mixed_case_codes_in_a_column_of_codes_are_members():
    codes = [("F8", "Cooling plate overheat"), ("F9", "Fan motor failure"), ("Fb", "Power filter board"),
             ("FA", "PFC module over current"), ("P0", "Controller communication failure")]
    page = (_heading(40, "Electrical system failure")
            + _row(80, [(60, "Error code"), (125, "Description"), (290, "Solution")])
            + [seg for n, (code, title) in enumerate(codes)
               for seg in _row(100 + n * LINE, [(60, code), (125, title), (290, "Replace the board")])])
    found = _entries(page)
    assert sorted(found) == sorted(c for c, _ in codes)
    assert found["Fb"][0].fault.title == "Power filter board"


def test_numbers_in_a_phrase_that_runs_on_are_no_codes():
    page = (_heading(40, "Operation of the overheat thermostat")
            + _row(80, [(250, "Open during service"), (520, "Open before light-up")])
            + _row(94, [(250, "Display of fault code"), (520, "Display of fault")])
            + _row(108, [(250, "50, 60, 70, 90,"), (520, "code 50, 60, 90,")])
            + _row(122, [(250, "and red Led"), (520, "and red Led")]))
    assert _entries(page) == {}


def test_a_numbered_list_in_a_section_after_an_alarm_text_is_no_code_list():
    first = _heading(40, "2 Safety") + _body(70, "Please act according to its alarm and the failure diagnose program.")
    second = (_heading(40, "3.2 PCB layout")
              + [seg for n, text in enumerate(["Control of door lock", "Heater", "Water level sense",
                                               "Drain pump and valve", "Motor"])
                 for seg in _body(70 + n * LINE, f"{n + 1} {text}")])
    assert _entries(first, second) == {}


def test_an_ocr_column_that_counts_by_one_repairs_misread_numbers():
    names = ["MOTOR OVERHEAT", "EXCESS SPEED", "FAN FAILURE", "BREAKER TRIP", "PHASE LOSS", "EMERGENCY STOP"]
    printed = ["1", "20", "3", "4", "so", "6"]  # what the OCR read in the code column
    page = (_heading(40, "List of alarm signals")
            + _row(70, [(60, "No."), (120, "Alarm"), (300, "Cause")], conf=0.9)
            + [seg for n, (code, name) in enumerate(zip(printed, names))
               for seg in _row(90 + n * 2 * LINE, [(60, code), (120, name), (300, "See the manual")], conf=0.9)])
    found = _entries(page)
    assert sorted(found, key=int) == ["1", "2", "3", "4", "5", "6"]
    assert found["2"][0].fault.title == "EXCESS SPEED" and found["5"][0].fault.title == "PHASE LOSS"


def test_a_text_layer_keeps_the_numbers_it_prints():
    """The repair is for OCR only: a text layer's '20' is what the manual prints."""
    names = ["MOTOR OVERHEAT", "EXCESS SPEED", "FAN FAILURE", "BREAKER TRIP", "PHASE LOSS"]
    page = (_heading(40, "List of alarm signals")
            + _row(70, [(60, "Alarm no."), (120, "Alarm"), (300, "Cause")])
            + [seg for n, (code, name) in enumerate(zip(["1", "20", "3", "4", "5"], names))
               for seg in _row(90 + n * 2 * LINE, [(60, code), (120, name), (300, "See the manual")])])
    assert sorted(_entries(page), key=int) == ["1", "3", "4", "5", "20"]


def test_a_value_inside_a_list_gives_the_list_no_fault_context():
    """'4: fault' among a register's values ('0: waiting', '1: normal', ...) is one of them, not a
    caption naming the list."""
    values = ["waiting", "normal", "charging", "discharging", "upgrade", "fault", "self test"]
    page = _heading(40, "Working status information") + [
        seg for n, value in enumerate(values) for seg in _row(70 + n * 2.2 * LINE, [(60, f"{n}: {value}")])]
    assert _entries(page, title="Communication protocol") == {}


def test_a_cell_centred_on_its_row_in_a_table_of_top_aligned_rows():
    """Most rows put every cell's first line on the code's line; one row's name wraps and is
    centred on its code: the line above that code is its name's first line."""
    page = (_heading(40, "Temperature sensor failure")
            + _row(80, [(60, "Error code"), (125, "Description"), (290, "Solution")])
            + _row(100, [(290, "1). Wiring")])
            + _row(116, [(60, "P3"), (125, "Gas exhaust sensor failure"), (290, "2). Gas exhaust sensor")])
            + _row(132, [(290, "3). Replace PC board")])
            + _row(150, [(290, "1). Wiring")])
            + _row(158, [(125, "Evaporator coil pipe sensor")])
            + _row(166, [(60, "P4"), (290, "2). Evaporator coil sensor")])
            + _row(174, [(125, "failure")])
            + _row(182, [(290, "3). Replace PC board")])
            + _row(200, [(290, "1). Wiring")])
            + _row(216, [(60, "P5"), (125, "Gas return sensor failure"), (290, "2). Gas return sensor")])
            + _row(232, [(290, "3). Replace PC board")])
            + [seg for n, code in enumerate(("P6", "P7", "P8"))
               for seg in _row(250 + n * 50, [(290, "1). Wiring")]) + _row(266 + n * 50, [
                   (60, code), (125, f"Sensor {code} failure"), (290, "2). Sensor")]) + _row(282 + n * 50, [
                   (290, "3). Replace PC board")])])
    found = _entries(page)
    assert [found[c][0].fault.title for c in ("P3", "P4", "P5", "P6")] == [
        "Gas exhaust sensor failure", "Evaporator coil pipe sensor failure", "Gas return sensor failure",
        "Sensor P6 failure"]
