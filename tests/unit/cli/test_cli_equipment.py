"""`fieldlens equipment ...` and `library add --equipment` / `library add catalog.yaml`: exit
statuses 0 and 2, one plain stderr line naming the problem, the --json shapes, and that bad
input leaves the catalog as it was."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from assistant.cli import main

ROOT = Path(__file__).resolve().parents[3]
EQUIPMENT_KEYS = {"id", "name", "manufacturer", "model", "category", "aliases", "asset_tags", "serial_patterns",
                  "document_ids"}

MANUAL = """\
# ZX-700 chiller service manual

## Alarm list

| Code | Alarm | Cause | Remedy |
|------|-------|-------|--------|
| ZA-31 | Condenser fan failure | Fan motor seized or its fuse blown | Replace the fuse, then the fan motor |
| ZA-32 | Water flow low | Strainer blocked | Clean the strainer |
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ok_json(capsys: pytest.CaptureFixture[str], *args: str):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run a command that must fail as bad input; return its one stderr line."""
    code, _, err = run(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("fieldlens: ") and "Traceback" not in err, err
    return lines[0]


def add_chiller(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    return ok_json(capsys, "equipment", "add", "zx-700", "--name", "ZX-700 chiller", "--manufacturer",
                   "Acme Cooling", "--model", "ZX-700", "--alias", "ZX700", "--alias", "ZX 700-B", "--asset-tag",
                   "AC-CH-0007", "--serial-pattern", r"^ZX7-\d{6}$", *extra)


@pytest.fixture
def manual(tmp_path: Path) -> Path:
    path = tmp_path / "zx700-manual.md"
    path.write_text(MANUAL, encoding="utf-8")
    return path


def test_add_show_list_json_shapes(home: Path, capsys) -> None:
    added = add_chiller(capsys)
    assert set(added) == EQUIPMENT_KEYS
    assert added["aliases"] == ["ZX700", "ZX 700-B"] and added["asset_tags"] == ["AC-CH-0007"]
    assert added["serial_patterns"] == [r"^ZX7-\d{6}$"] and added["document_ids"] == []
    assert ok_json(capsys, "equipment", "show", "zx-700") == added
    listed = ok_json(capsys, "equipment", "list")
    assert isinstance(listed, list) and [e["id"] for e in listed] == ["zx-700"]
    code, out, _ = run(capsys, "equipment", "show", "zx-700")
    assert code == 0 and "Acme Cooling" in out and "AC-CH-0007" in out


def test_empty_catalog_lists_nothing(home: Path, capsys) -> None:
    assert ok_json(capsys, "equipment", "list") == []
    code, out, _ = run(capsys, "equipment", "list")
    assert code == 0 and "fieldlens equipment add" in out


@pytest.mark.parametrize("bad_id", ["pump/cp40", "../etc", "<b>pump</b>", "Pump-CP40", "pump cp40", "pump-", "a..b",
                                    "x" * 65, ""])
def test_unsafe_ids_are_refused(home: Path, capsys, bad_id: str) -> None:
    line = refused(capsys, "equipment", "add", bad_id, "--name", "Some pump")
    assert "equipment id" in line
    assert ok_json(capsys, "equipment", "list") == []


def test_bad_regex_is_one_clear_sentence_and_saves_nothing(home: Path, capsys) -> None:
    line = refused(capsys, "equipment", "add", "zx-700", "--name", "ZX-700", "--serial-pattern", "^ZX7-(\\d{6}$")
    assert "^ZX7-(\\d{6}$" in line and "regular expression" in line
    assert ok_json(capsys, "equipment", "list") == []


def test_duplicates_name_the_existing_entry(home: Path, capsys) -> None:
    add_chiller(capsys)
    line = refused(capsys, "equipment", "add", "zx-700", "--name", "Another chiller")
    assert "'zx-700' (ZX-700 chiller)" in line and "fieldlens equipment edit zx-700" in line
    for extra in (["--asset-tag", "ac ch 0007"], ["--alias", "zx-700"], ["--model", "ZX700"]):
        line = refused(capsys, "equipment", "add", "zx-800", "--name", "ZX-800 chiller", *extra)
        assert "'zx-700' (ZX-700 chiller)" in line, (extra, line)
    line = refused(capsys, "equipment", "add", "zx-800", "--name", "zx-700 CHILLER")
    assert "zx-700" in line
    assert [e["id"] for e in ok_json(capsys, "equipment", "list")] == ["zx-700"]


def test_edit_replaces_text_and_adds_or_removes_list_values(home: Path, capsys) -> None:
    add_chiller(capsys)
    edited = ok_json(capsys, "equipment", "edit", "zx-700", "--name", "ZX-700 chiller, 40 kW", "--manufacturer", "",
                     "--alias", "ZX-700-40", "--remove-alias", "zx700", "--asset-tag", "AC-CH-0008",
                     "--remove-serial-pattern", r"^ZX7-\d{6}$", "--serial-pattern", r"^ZX7[A-Z]\d{5}$")
    assert edited["name"] == "ZX-700 chiller, 40 kW" and edited["manufacturer"] == "" and edited["model"] == "ZX-700"
    assert edited["aliases"] == ["ZX 700-B", "ZX-700-40"]
    assert edited["asset_tags"] == ["AC-CH-0007", "AC-CH-0008"]
    assert edited["serial_patterns"] == [r"^ZX7[A-Z]\d{5}$"]
    assert ok_json(capsys, "equipment", "show", "zx-700") == edited


def test_edit_refusals_leave_the_entry_unchanged(home: Path, capsys) -> None:
    before = add_chiller(capsys)
    ok_json(capsys, "equipment", "add", "rs-9", "--name", "RS-9 compressor", "--model", "RS-9",
            "--asset-tag", "AC-CMP-0009")
    assert "not an alias of 'zx-700'" in refused(capsys, "equipment", "edit", "zx-700", "--remove-alias", "nope")
    assert "Nothing to change" in refused(capsys, "equipment", "edit", "zx-700")
    assert "regular expression" in refused(capsys, "equipment", "edit", "zx-700", "--serial-pattern", "[")
    assert "'rs-9'" in refused(capsys, "equipment", "edit", "zx-700", "--asset-tag", "AC-CMP-0009")
    assert "needs a name" in refused(capsys, "equipment", "edit", "zx-700", "--name", "  ")
    assert "no equipment 'nope'" in refused(capsys, "equipment", "edit", "nope", "--name", "X")
    assert ok_json(capsys, "equipment", "show", "zx-700") == before


def test_remove_unlinks_documents_and_keeps_them(home: Path, capsys, manual: Path) -> None:
    add_chiller(capsys)
    docs = ok_json(capsys, "library", "add", str(manual), "--equipment", "zx-700")
    doc_id = docs[0]["id"]
    assert docs[0]["equipment_ids"] == ["zx-700"]
    assert ok_json(capsys, "equipment", "show", "zx-700")["document_ids"] == [doc_id]
    removed = ok_json(capsys, "equipment", "remove", "zx-700")
    assert removed == {"removed": "zx-700", "unlinked_documents": [doc_id]}
    listed = ok_json(capsys, "library", "list")
    assert [d["id"] for d in listed] == [doc_id] and listed[0]["equipment_ids"] == []
    assert ok_json(capsys, "equipment", "list") == []
    assert "no equipment 'zx-700'" in refused(capsys, "equipment", "remove", "zx-700")
    # the tag is free again, and a new entry with the old id does not inherit the documents
    again = add_chiller(capsys)
    assert again["document_ids"] == []
    hits = ok_json(capsys, "library", "search", "condenser", "fan", "--equipment", "zx-700")
    assert hits == []


def test_library_add_links_to_existing_equipment_only(home: Path, capsys, manual: Path) -> None:
    line = refused(capsys, "library", "add", str(manual), "--equipment", "zx-700")
    assert "zx-700" in line and "fieldlens equipment add zx-700" in line
    assert ok_json(capsys, "library", "list") == []
    add_chiller(capsys)
    first = ok_json(capsys, "library", "add", str(manual), "--equipment", "zx-700")
    again = ok_json(capsys, "library", "add", str(manual), "--equipment", "zx-700")
    assert [d["id"] for d in again] == [d["id"] for d in first]
    assert ok_json(capsys, "equipment", "show", "zx-700")["document_ids"] == [first[0]["id"]]
    hits = ok_json(capsys, "library", "search", "ZA-31", "--equipment", "zx-700")
    assert hits and hits[0]["doc_id"] == first[0]["id"]


def _sample_catalog_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(ROOT / "assets" / "library", folder)
    return folder / "catalog.yaml"


def test_library_add_catalog_yaml_imports_it_and_twice_changes_nothing(home: Path, capsys, tmp_path: Path) -> None:
    catalog = _sample_catalog_copy(tmp_path)
    docs = ok_json(capsys, "library", "add", str(catalog))
    equipment = ok_json(capsys, "equipment", "list")
    documents = ok_json(capsys, "library", "list")
    assert {e["id"] for e in equipment} == {"pump-cp40", "vfd-vx500", "compressor-rs22", "refrigeration-mb35"}
    assert len(docs) == len(documents) == 14
    pump = next(e for e in equipment if e["id"] == "pump-cp40")
    assert len(pump["document_ids"]) == 4 and "FL-PMP-0001" in pump["asset_tags"]
    ok_json(capsys, "library", "add", str(catalog))
    assert ok_json(capsys, "equipment", "list") == equipment
    assert ok_json(capsys, "library", "list") == documents
    assert "add it without --equipment" in refused(capsys, "library", "add", str(catalog), "--equipment", "pump-cp40")


def _write_catalog(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_bad_catalog_files_are_refused_whole(home: Path, capsys, tmp_path: Path, manual: Path) -> None:
    assert manual.parent == tmp_path  # the catalogs below sit beside it
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    entry = textwrap.dedent("""\
        equipment:
          - id: zx-700
            name: ZX-700 chiller
            model: ZX-700
            serial_patterns: [{pattern}]
        documents:
          - path: zx700-manual.md
            equipment: [zx-700]
        """)
    cases = {
        "bad-regex": (entry.format(pattern="'^ZX7-(\\d{6}$'"), "regular expression"),
        "bad-id": (entry.format(pattern="x").replace("id: zx-700", "id: ZX/700"), "equipment id"),
        "no-name": (entry.format(pattern="x").replace("name: ZX-700 chiller", "name: ''"), "needs a name"),
        "twice": (entry.format(pattern="x") + "  - path: zx700-manual.md\n    equipment: [zx-9]\n", "zx-9"),
        "missing": (entry.format(pattern="x") + "  - path: missing.pdf\n", "missing.pdf"),
        "unreadable": (entry.format(pattern="x") + "  - path: broken.pdf\n", "broken.pdf"),
        "yaml": ("equipment: [unclosed\n", "not valid YAML"),
    }
    for name, (body, expected) in cases.items():
        catalog = _write_catalog(tmp_path, body)
        line = refused(capsys, "library", "add", str(catalog))
        assert "catalog.yaml" in line and expected in line, (name, line)
        assert ok_json(capsys, "equipment", "list") == [], name
        assert ok_json(capsys, "library", "list") == [], name


def test_a_work_instruction_yaml_is_not_taken_for_a_catalog(home: Path, capsys) -> None:
    wi = ROOT / "assets" / "library" / "pump-cp40" / "wi-cp40-mechanical-seal.yaml"
    ok_json(capsys, "equipment", "add", "pump-cp40", "--name", "CP-40 pump")
    docs = ok_json(capsys, "library", "add", str(wi), "--equipment", "pump-cp40")
    assert len(docs) == 1 and docs[0]["kind"] == "work_instruction"


def test_the_installed_command_fails_cleanly(tmp_path: Path) -> None:
    """The real process: one stderr line and exit 2 for an unknown equipment id."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLENS_") and not k.endswith("_API_KEY")}
    env.update({"FIELDLENS_HOME": str(tmp_path / "home"), "FIELDLENS_SAMPLES": "0"})
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "equipment", "show", "nope"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["fieldlens: There is no equipment 'nope' in the catalog."]


def test_a_session_outlives_the_removal_of_its_equipment(home: Path, capsys, manual: Path) -> None:
    from assistant.service import Fieldlens

    add_chiller(capsys)
    ok_json(capsys, "library", "add", str(manual), "--equipment", "zx-700")
    with Fieldlens() as fl:
        first = fl.ask("condenser fan failure ZA-31", equipment_id="zx-700")
        assert first.equipment is not None and first.equipment.id == "zx-700"
        fl.remove_equipment("zx-700")
        again = fl.ask("condenser fan failure ZA-31, still", session_id=first.session_id)
        assert again.session_id == first.session_id and again.equipment is None
        assert fl.get_session(first.session_id).equipment_id == "zx-700", "history is not rewritten"
