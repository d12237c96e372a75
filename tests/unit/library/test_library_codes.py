"""Code schemes end to end: every scheme a manual prints is recognised as an entry, stored as
printed, found by lookup in the forms a display shows or a technician types, and put first
by search when the query is that code (with the code in the snippet)."""

from __future__ import annotations

import pytest

from assistant.library.codes import code_key, head_code, looks_like_code

SCHEMES = [  # (as printed, title, forms it is looked up by)
    ("error:22", "Soft limit reached", ["error:22", "Error 22", "ERROR:22", "err 22"]),
    ("ALARM:9", "Homing fail", ["ALARM:9", "alarm 9", "Alarm:09"]),
    ("Er.07", "Low supply voltage", ["Er.07", "ER07", "er 7", "Er-07"]),
    ("0x0F0001", "Generic device fault", ["0x0F0001", "0xF0001", "0X0f0001"]),
    ("17", "Relay test failed", ["17", "017"]),
    ("E902.1", "Encoder channel A lost", ["E902.1", "e902.1", "E 902.1"]),
    ("E.S.", "Emergency stop active", ["E.S.", "ES", "e.s."]),
    ("OC", "Overcurrent", ["OC", "oc"]),
]


def test_code_shapes():
    for code, _, _ in SCHEMES:
        assert looks_like_code(code), code
    assert head_code("Err 44 - Motor blocked") == ("Err 44", "Motor blocked")
    assert head_code("1. Check the fuse") is None  # list numbering is not a code
    assert code_key("Err 07") == code_key("error:7") == "7"
    assert code_key("0x0F0001") == code_key("0xF0001") and code_key("3210h") == code_key("0x3210")


@pytest.fixture
def code_library(lib, tmp_path):
    rows = "\n".join(f"| {c} | {t} |" for c, t, _ in SCHEMES)
    prose = " ".join(f"Code {c} may also show." for c, _, _ in SCHEMES)
    (tmp_path / "codes.md").write_text(
        f"# Controller guide\n\n## Introduction\n\n{prose} See the table below.\n\n"
        f"## Error codes\n\n| Code | Description |\n|---|---|\n{rows}\n", encoding="utf-8")
    lib.add(tmp_path / "codes.md", equipment_ids=["vx9"])
    return lib


def test_every_scheme_is_an_entry_stored_as_printed(code_library):
    faults = {f.code: f for f in code_library.fault_codes("vx9")}
    assert set(faults) == {c for c, _, _ in SCHEMES}
    for code, title, _ in SCHEMES:
        assert faults[code].title == title and faults[code].section.endswith("Error codes")


def test_lookup_in_every_form(code_library):
    for code, _, forms in SCHEMES:
        for form in forms:
            assert [f.code for f in code_library.lookup_code(form)] == [code], form


def test_search_puts_the_entry_first(code_library):
    for code, title, _ in SCHEMES:
        hits = code_library.search(code)
        assert hits and hits[0].kind.value == "fault_code", code
        assert title in code_library.passage(hits[0].passage_id).text
        assert code.lower().replace("[", "") in hits[0].snippet.lower().replace("[", "").replace("]", ""), hits[0]



def test_a_quantity_in_a_sentence_is_not_looked_up_as_a_code(lib, tmp_path):
    """'at 7 bar' must not put AL07 first; 'alarm 7' and 'the panel shows 7' still do."""
    (tmp_path / "unit.md").write_text(
        "# Compressor manual\n\n## Technical data\n\nFree air delivery at 7 bar: 3.9 m3/min. "
        "Use a 22 mm spanner on the drain.\n\n## Alarm codes\n\n| Code | Alarm |\n|---|---|\n"
        "| AL07 | Low pressure |\n| AL22 | Drain blocked |\n", encoding="utf-8")
    lib.add(tmp_path / "unit.md")
    for question in ("free air delivery at 7 bar", "spanner size 22 mm for the drain"):
        top = lib.passage(lib.search(question)[0].passage_id)
        assert top.section.endswith("Technical data"), (question, top.text)
    for question in ("what is alarm 7", "the panel shows 7", "7"):
        top = lib.passage(lib.search(question)[0].passage_id)
        assert top.text.startswith("AL07"), (question, top.text)
