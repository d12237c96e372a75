"""The bundled demo photos (assets/photos, listed in manifest.json) read as the manifest expects,
with a CatalogLookup built from the sample catalog's equipment and the manifest's codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from perception_fakes import FakeCatalog

from assistant.domain import Equipment, FlagCode, ObservationKind
from assistant.imaging import load_photo
from assistant.perception import read_photo, warm_up

ROOT = Path(__file__).resolve().parents[3]
PHOTOS = ROOT / "assets" / "photos"
MANIFEST = PHOTOS / "manifest.json"
CATALOG = ROOT / "assets" / "library" / "catalog.yaml"


def _entries() -> list[dict]:
    if not MANIFEST.exists():
        return []
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _catalog() -> FakeCatalog:
    entries = _entries()
    equipment: list[Equipment] = []
    if CATALOG.exists():
        data = yaml.safe_load(CATALOG.read_text(encoding="utf-8")) or {}
        for raw in data.get("equipment", []):
            equipment.append(Equipment(**{k: v for k, v in raw.items() if k in Equipment.model_fields}))
    codes: dict[str, set[str]] = {}
    for e in entries:
        if e.get("equipment_id"):
            codes.setdefault(e["equipment_id"], set()).update(e.get("codes", []))
    return FakeCatalog(equipment, codes)


@pytest.fixture(scope="module")
def demo_catalog():
    warm_up()
    return _catalog()


@pytest.mark.skipif(not MANIFEST.exists(), reason="assets/photos/manifest.json is not there yet")
@pytest.mark.parametrize("entry", _entries(), ids=lambda e: e["file"])
def test_demo_photo_reads_as_expected(entry, demo_catalog):
    reading = read_photo(load_photo(PHOTOS / entry["file"]), demo_catalog)
    codes = [o.value for o in reading.observations if o.kind == ObservationKind.FAULT_CODE]
    tags = [o.value for o in reading.observations if o.kind == ObservationKind.ASSET_TAG]
    plate = {o.field: o for o in reading.observations if o.kind == ObservationKind.NAMEPLATE}
    assert set(codes) == set(entry.get("codes", [])), (codes, [t.value for t in reading.text_lines])
    assert set(entry.get("asset_tags", [])) <= set(tags)
    for tag in reading.observations:
        if tag.kind == ObservationKind.ASSET_TAG and tag.value in entry.get("asset_tags", []):
            assert tag.equipment_id == entry["equipment_id"]
    if entry.get("model"):
        assert "model" in plate, [t.value for t in reading.text_lines]
        assert plate["model"].equipment_id == entry["equipment_id"]
    if entry.get("serial"):
        assert plate["serial"].value == entry["serial"]
    flags = {f.code.value for f in reading.flags}
    assert set(entry.get("expected_flags", [])) <= flags, flags
    assert FlagCode.EQUIPMENT_UNIDENTIFIED.value not in flags
