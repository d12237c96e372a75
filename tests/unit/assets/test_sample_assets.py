"""The bundled sample library and demo photos are complete, consistent and readable.

Checks the catalog against the files, each manual PDF against its source in
build/sample_library/ (pages, text layer, every fault code of its tables), the work
instructions against the YAML shape the library ingests, and each demo photo against its
manifest entry (decodes, size, codes known to the manuals, asset tags that scan).
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pypdfium2
import pytest
import yaml
import zxingcpp

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = ROOT / "assets" / "library"
PHOTOS = ROOT / "assets" / "photos"
BUILD_SCRIPT = ROOT / "build" / "make_sample_library.py"


@cache
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_library", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def catalog() -> dict:
    return yaml.safe_load((LIBRARY / "catalog.yaml").read_text(encoding="utf-8"))


@cache
def manifest() -> list[dict]:
    return json.loads((PHOTOS / "manifest.json").read_text(encoding="utf-8"))


@cache
def pdf_text(path: Path) -> tuple[int, str]:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        pages = []
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return len(pages), "\n".join(pages)
    finally:
        doc.close()


@cache
def sources_by_output() -> dict[str, Path]:
    mod = builder()
    return {mod.load_source(path)["output"]: path for path in mod.manual_sources()}


def codes_for(equipment_id: str) -> set[str]:
    mod = builder()
    codes: set[str] = set()
    for doc in catalog()["documents"]:
        if equipment_id in doc["equipment"] and doc["path"] in sources_by_output():
            codes.update(mod.fault_codes(sources_by_output()[doc["path"]]))
    return codes


def equipment(equipment_id: str) -> dict:
    matches = [e for e in catalog()["equipment"] if e["id"] == equipment_id]
    assert len(matches) == 1, f"{equipment_id} should be in the catalog exactly once"
    return matches[0]


# ---------------------------------------------------------------------------------------------
# catalog


def test_catalog_equipment_is_complete_and_unique(sample_library_dir: Path) -> None:
    assert sample_library_dir == LIBRARY
    items = catalog()["equipment"]
    assert len(items) >= 3
    ids = [e["id"] for e in items]
    assert len(ids) == len(set(ids))
    tags = [t for e in items for t in e["asset_tags"]]
    assert len(tags) == len(set(tags)), "an asset tag must name one machine"
    for item in items:
        for key in ("name", "manufacturer", "model", "category"):
            assert item[key], f"{item['id']}: {key} is empty"
        assert item["asset_tags"] and item["serial_patterns"]
        for pattern in item["serial_patterns"]:
            re.compile(pattern)


def test_catalog_documents_exist_and_name_known_equipment() -> None:
    ids = {e["id"] for e in catalog()["equipment"]}
    docs = catalog()["documents"]
    assert len({d["path"] for d in docs}) == len(docs)
    for doc in docs:
        path = LIBRARY / doc["path"]
        assert path.is_file(), f"{doc['path']} is listed but missing"
        assert doc["kind"] in ("manual", "work_instruction")
        assert doc["title"] and doc["revision"]
        assert doc["equipment"] and set(doc["equipment"]) <= ids
    for equipment_id in ids:
        kinds = {d["kind"] for d in docs if equipment_id in d["equipment"]}
        assert kinds == {"manual", "work_instruction"}, f"{equipment_id} needs a manual and a work instruction"


def test_every_library_file_is_catalogued() -> None:
    listed = {d["path"] for d in catalog()["documents"]}
    on_disk = {p.relative_to(LIBRARY).as_posix() for p in LIBRARY.rglob("*")
               if p.is_file() and p.name != "catalog.yaml"}
    assert on_disk == listed


# ---------------------------------------------------------------------------------------------
# manuals


def manual_docs() -> list[dict]:
    return [d for d in catalog()["documents"] if d["kind"] == "manual"]


@pytest.mark.parametrize("doc", manual_docs(), ids=lambda d: d["path"])
def test_manual_pdf_has_pages_text_and_every_fault_code(doc: dict) -> None:
    path = LIBRARY / doc["path"]
    assert doc["path"] in sources_by_output(), "every manual PDF is built from a source in build/"
    source = sources_by_output()[doc["path"]]
    pages, text = pdf_text(path)
    assert 6 <= pages <= 12
    codes = builder().fault_codes(source)
    assert 8 <= len(codes) <= 20
    assert len(codes) == len(set(codes))
    missing = [c for c in codes if not re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    assert not missing, f"fault codes missing from the PDF text layer: {missing}"
    for word in ("DANGER", "WARNING", "CAUTION", "Figure 1:", "Troubleshooting", "Page 2 of"):
        assert word in text
    src = builder().load_source(source)
    assert f"Rev. {src['revision']}" in text and src["revision"] == doc["revision"]


def test_fault_code_schemes_differ_between_families() -> None:
    schemes = {}
    for item in catalog()["equipment"]:
        codes = codes_for(item["id"])
        assert codes, f"{item['id']} has no fault codes"
        shapes = {re.sub(r"\d", "9", code) for code in codes}
        assert len(shapes) == 1, f"{item['id']} mixes code shapes: {shapes}"
        schemes[item["id"]] = shapes.pop()
    assert len(set(schemes.values())) == len(schemes), schemes


def test_manual_pdfs_are_up_to_date_with_their_sources(tmp_path: Path) -> None:
    # compare the text, not the bytes: another fpdf2 release may serialise the same content differently
    def words(path: Path) -> list[str]:
        return pdf_text(path)[1].split()

    for output, source in sources_by_output().items():
        rebuilt = builder().build_manual(source, out_root=tmp_path)
        assert words(rebuilt) == words(LIBRARY / output), (
            f"{output} differs from its source: run build/make_sample_library.py")


def test_two_revisions_of_one_manual_disagree_on_a_fault_remedy() -> None:
    by_equipment: dict[tuple[str, ...], list[dict]] = {}
    for doc in manual_docs():
        by_equipment.setdefault(tuple(doc["equipment"]), []).append(doc)
    pairs = [docs for docs in by_equipment.values() if len(docs) >= 2]
    assert pairs, "the library needs two revisions of one manual"
    docs = pairs[0]
    assert len({d["revision"] for d in docs}) == len(docs)
    mod = builder()

    def rows(doc: dict) -> dict[str, str]:
        src = mod.load_source(sources_by_output()[doc["path"]])
        found: dict[str, str] = {}

        def walk(blocks: list[dict]) -> None:
            for block in blocks:
                if "faults" in block:
                    found.update({r["code"]: r["remedy"] for r in block["faults"]["rows"]})
                if "section" in block:
                    walk(block["section"].get("blocks", []))

        for section in src["sections"]:
            walk(section.get("blocks", []))
        return found

    first, second = rows(docs[0]), rows(docs[1])
    assert first.keys() == second.keys()
    assert [c for c in first if first[c] != second[c]], "the revisions should differ in a remedy"


# ---------------------------------------------------------------------------------------------
# work instructions


def test_work_instructions_follow_the_library_shape() -> None:
    ids = {e["id"] for e in catalog()["equipment"]}
    for doc in catalog()["documents"]:
        if doc["kind"] != "work_instruction":
            continue
        path = LIBRARY / doc["path"]
        text = path.read_text(encoding="utf-8")
        codes = codes_for(doc["equipment"][0])
        if path.suffix in (".yaml", ".yml", ".json"):
            wi = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            assert wi["title"] == doc["title"]
            assert set(wi["equipment"]) <= ids and wi["equipment"] == doc["equipment"]
            assert str(wi["revision"]) == doc["revision"]
            assert wi["warnings"] and all(isinstance(w, str) for w in wi["warnings"])
            assert isinstance(wi["tools"], list) and isinstance(wi["parts"], list)
            assert len(wi["steps"]) >= 5
            for step in wi["steps"]:
                assert set(step) <= {"text", "warning", "figure"} and step["text"].strip()
        else:
            assert path.suffix == ".md"
            assert text.startswith("# ") and re.search(r"^1\. ", text, re.M)
        mentioned = set(re.findall(r"\b(?:[AF]\d{2,3}|E-\d{2})\b", text))
        assert mentioned <= codes, f"{doc['path']} cites codes its manuals do not list: {mentioned - codes}"


# ---------------------------------------------------------------------------------------------
# demo photos


def test_manifest_lists_every_photo_once(demo_photos_dir: Path) -> None:
    assert demo_photos_dir == PHOTOS
    files = [m["file"] for m in manifest()]
    assert len(files) == len(set(files))
    assert set(files) == {p.name for p in PHOTOS.glob("*.jpg")}
    kinds = [m["kind"] for m in manifest()]
    assert set(kinds) == {"display", "nameplate", "asset_tag", "scene"}
    for item in catalog()["equipment"]:
        mine = {m["kind"] for m in manifest() if m["equipment_id"] == item["id"]}
        assert {"display", "nameplate", "asset_tag"} <= mine, item["id"]
        assert any(m["codes"] for m in manifest() if m["equipment_id"] == item["id"]), item["id"]
    assert any(m["kind"] == "display" and not m["codes"] for m in manifest()), "a display with no fault"


@pytest.mark.parametrize("entry", manifest(), ids=lambda m: m["file"])
def test_photo_decodes_and_matches_its_manifest_entry(entry: dict) -> None:
    path = PHOTOS / entry["file"]
    data = path.read_bytes()
    assert len(data) < 600 * 1024
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    h, w = image.shape[:2]
    assert 1600 <= w <= 2400 and h >= 900
    assert set(entry) >= {"file", "kind", "equipment_id", "codes", "asset_tags", "model", "serial"}
    quality_flags = {"image_blurry", "image_dark", "image_overexposed", "image_glare", "image_low_resolution"}
    assert set(entry.get("expected_flags", [])) <= quality_flags
    if entry["kind"] == "scene":
        assert not entry["codes"] and not entry["asset_tags"]
        return
    item = equipment(entry["equipment_id"])
    if entry["kind"] == "display":  # a display in normal operation shows no code
        assert set(entry["codes"]) <= codes_for(item["id"])
    if entry["kind"] == "nameplate":
        assert entry["model"] == item["model"]
        assert any(re.match(p, entry["serial"]) for p in item["serial_patterns"])
    if entry["kind"] == "asset_tag":
        assert entry["asset_tags"]
    assert set(entry["asset_tags"]) <= set(item["asset_tags"])


def barcode_entries() -> list[dict]:
    return [m for m in manifest() if m["asset_tags"]]


@pytest.mark.parametrize("entry", barcode_entries(), ids=lambda m: m["file"])
def test_asset_tag_photo_scans_to_its_tag(entry: dict) -> None:
    image = cv2.imread(str(PHOTOS / entry["file"]), cv2.IMREAD_GRAYSCALE)
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    found = {b.text for b in zxingcpp.read_barcodes(image, formats=formats)}
    assert found == set(entry["asset_tags"])


def test_photo_set_has_qr_and_code128_tags() -> None:
    kinds = set()
    for entry in barcode_entries():
        image = cv2.imread(str(PHOTOS / entry["file"]), cv2.IMREAD_GRAYSCALE)
        kinds.update(b.format.name for b in zxingcpp.read_barcodes(image))
    assert {"QRCode", "Code128"} <= kinds, kinds
