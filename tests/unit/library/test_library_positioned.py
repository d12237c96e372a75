"""What a column header over positioned lines says (`positioned`): a fault list even of one
row, a value table, or the codes in a later column; and which lines are header lines."""

from __future__ import annotations

import pytest

from assistant.library.ingest.base import Line, Seg
from assistant.library.ingest.positioned import (
    ColumnHeader,
    codes_in_later_column,
    header_line,
    header_names,
    value_table,
)


def _line(*cells: str) -> Line:
    segs = [Seg(text, 60.0 + 120 * n, 60.0 + 120 * n + 5 * len(text), 100.0, 110.0, 10.0, False, None)
            for n, text in enumerate(cells)]
    return Line(segs, "  ".join(cells))


@pytest.mark.parametrize(("cells", "col", "expected"), [
    (["Model", "DTC code"], 1, True),
    (["No.", "Description", "Setting range"], 0, True),
    (["Terminal", "Signal"], 0, True),
    (["Error code", "Description", "Solution"], 0, False),  # the cell over the codes says error
    (["Code", "Parameter", "Cause"], 0, False),  # a cause column: faults, whatever else it names
    (["Code", "Description"], 0, False),
])
def test_a_header_naming_models_terminals_or_settings_marks_a_value_table(cells, col, expected):
    assert value_table(ColumnHeader(cells, col, 0)) is expected


@pytest.mark.parametrize(("cells", "col", "expected"), [
    (["Fault code", "Description"], 0, True),
    (["Alarm", "Cause", "Remedy"], 0, True),
    (["Code", "Description", "Remedy"], 0, True),  # a bare 'Code' needs a cause or remedy column
    (["Code", "Description"], 0, False),
    (["No.", "Description", "Remedy"], 0, False),  # 'No.' says nothing of faults
    (["Fault code", "Setting"], 0, False),  # no title, cause or remedy column
])
def test_a_fault_header_with_a_title_cause_or_remedy_column_makes_a_fault_table(cells, col, expected):
    assert header_names(ColumnHeader(cells, col, 0)) is expected


@pytest.mark.parametrize(("cells", "col", "expected"), [
    (["No.", "Code", "Name"], 0, True),
    (["Item", "Código", "Descripción"], 0, True),
    (["Code", "No.", "Name"], 0, False),  # the cell over this column is the code header
    (["No.", "Name", "Value"], 0, False),  # no column is named for codes
    (["Name", "No.", "Code"], 2, False),  # no code header after this column
])
def test_a_code_header_over_a_later_column_puts_the_codes_there(cells, col, expected):
    assert codes_in_later_column(ColumnHeader(cells, col, 0)) is expected


@pytest.mark.parametrize(("cells", "expected"), [
    (("Code", "Fault", "Cause"), True),
    (("Fehlercode", "Ursache", "Abhilfe"), True),
    (("AL8", "AL4", "Alarm", "Cause"), True),  # cells with digits where several cells name their columns
    (("E01", "Overcurrent"), False),
    (("Code",), False),  # one cell is no table header
    (("The motor overheats after a long run", "Cause"), False),  # a sentence is no header cell
])
def test_a_header_line_is_short_label_cells_that_name_columns(cells, expected):
    assert header_line(_line(*cells)) is expected
