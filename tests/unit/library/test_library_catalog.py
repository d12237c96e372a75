"""Catalog: seeding from catalog.yaml, asset-tag lookup, nameplate model matching, equipment search."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from assistant.domain import Equipment
from assistant.errors import MalformedFile, UnknownEquipment


def _catalog(tmp_path: Path, docs: Path) -> Path:
    (tmp_path / "cat").mkdir()
    catalog = tmp_path / "cat" / "catalog.yaml"
    catalog.write_text(textwrap.dedent(f"""\
        equipment:
          - id: vx9
            name: "VX-9 drive"
            manufacturer: Kestrel
            model: VX-9
            aliases: ["VX9", "VX 9-4K0"]
            asset_tags: ["FL-VFD-0009"]
            serial_patterns: ["^VX9-\\\\d{{5}}$"]
          - id: ch2
            name: "CH-2 chiller"
            model: CH-2
        documents:
          - path: {docs / 'vx9-manual.pdf'}
            title: "VX-9 manual"
            kind: manual
            revision: "B"
            equipment: [vx9]
          - path: {docs / 'ch2.html'}
            equipment: [ch2]
        """))
    return catalog


def test_seed_links_equipment_and_documents(lib, docs, tmp_path):
    catalog = _catalog(tmp_path, docs)
    seeded = lib.seed(catalog)
    assert [d.title for d in seeded] == ["VX-9 manual", "Chiller CH-2 service notes"]
    vx9 = lib.get_equipment("vx9")
    assert vx9.document_ids == [seeded[0].id] and seeded[0].revision == "B"
    assert lib.documents("ch2")[0].id == seeded[1].id
    assert lib.seed(catalog) == seeded or [d.id for d in lib.seed(catalog)] == [d.id for d in seeded]  # idempotent
    assert len(lib.documents()) == 2


def test_seed_reports_broken_documents_after_adding_the_rest(lib, docs, tmp_path):
    catalog = _catalog(tmp_path, docs)
    (tmp_path / "cat" / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    catalog.write_text(catalog.read_text() + "  - path: broken.pdf\n")
    with pytest.raises(MalformedFile, match="broken.pdf"):
        lib.seed(catalog)
    assert len(lib.documents()) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("equipment: [unclosed")
    with pytest.raises(MalformedFile, match="bad.yaml"):
        lib.seed(bad)


def test_asset_tags_are_normalised(lib):
    for payload in ("FL-VFD-0009", "fl-vfd-0009", "FL VFD 0009", "FLVFD0009", "FL-VFD-OOO9",
                    "https://assets.example.com/tag/FL-VFD-0009"):
        found = lib.equipment_for_tag(payload)
        assert found is not None and found.id == "vx9", payload
    assert lib.equipment_for_tag("FL-VFD-0010") is None
    assert lib.equipment_for_tag("") is None


@pytest.mark.parametrize("text", ["VX-9", "vx9", "VX 9", "Type: VX-9 4.0kW", "VX-9-4K0", "V X-9", "VX-g"])
def test_match_model_tolerates_ocr_and_spacing(lib, text):
    matches = lib.match_model(text)
    assert matches and matches[0][0].id == "vx9" and 0.6 <= matches[0][1] <= 1.0, (text, matches)


def test_match_model_scores_and_serials(lib):
    exact = lib.match_model("VX-9")[0][1]
    fuzzy = lib.match_model("VX-8")
    assert exact == 1.0 and (not fuzzy or fuzzy[0][1] < exact)
    assert lib.match_model("VX9-12345")[0][0].id == "vx9"
    assert lib.match_model("Totally different 1234") == []
    assert lib.match_model("") == []


def test_find_and_get_equipment(lib):
    assert lib.find_equipment("compressor")[0].id == "rs5"
    assert lib.find_equipment("kestrel")[0].id == "vx9"
    assert lib.find_equipment("vx 9")[0].id == "vx9"
    assert {e.id for e in lib.find_equipment("")} == {"vx9", "rs5"}
    with pytest.raises(UnknownEquipment, match="nope"):
        lib.get_equipment("nope")
    updated = lib.upsert_equipment(Equipment(id="vx9", name="VX-9 drive", model="VX-9", asset_tags=["NEW-TAG-1"]))
    assert updated.asset_tags == ["NEW-TAG-1"]
    assert lib.equipment_for_tag("FL-VFD-0009") is None and lib.equipment_for_tag("new tag 1").id == "vx9"
