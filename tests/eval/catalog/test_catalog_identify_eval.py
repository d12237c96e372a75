"""Equipment identification on real photos (../shared/corpus/photos): a catalog holding the
bundled sample equipment plus one entry per distinct machine on the corpus nameplates (made
from each plate's manufacturer and model, as an admin would type them), then every nameplate,
photo and every tenth barcode and display photo (they carry no catalog entry) read against it. Prints right / wrong / unidentified per kind;
asserts that no photo names the wrong entry (a wrong machine means the wrong manuals), and a
floor under the catalogued nameplates named right."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.domain import Equipment
from assistant.imaging import load_photo
from assistant.library import Library
from assistant.library import catalog as catalog_admin
from assistant.perception import read_photo, warm_up

ROOT = Path(__file__).resolve().parents[3]
PHOTOS = ROOT.parent / "shared" / "corpus" / "photos"

pytestmark = pytest.mark.timeout(1200)


def _entries(cases: list[dict]) -> dict[str, Equipment]:
    """One catalog entry per (manufacturer, model) on the nameplates; the photo file -> entry id."""
    by_key: dict[tuple[str, str], Equipment] = {}
    for case in cases:
        expected = case.get("expected") or {}
        maker, model = expected.get("manufacturer", "").strip(), expected.get("model", "").strip()
        if not maker and not model:
            continue
        key = (maker.casefold(), model.casefold())
        if key not in by_key:
            slug = catalog_admin.suggest_id(f"{maker} {model}") or f"machine-{len(by_key) + 1}"
            by_key[key] = Equipment(id=f"{slug[:50]}-{len(by_key) + 1}", name=f"{maker} {model}".strip(),
                                    manufacturer=maker, model=model)
    return {case["file"]: by_key[(case["expected"].get("manufacturer", "").strip().casefold(),
                                  case["expected"].get("model", "").strip().casefold())]
            for case in cases if (case.get("expected") or {}).get("manufacturer") or
            (case.get("expected") or {}).get("model")}


def test_real_photos_never_name_the_wrong_equipment(tmp_path: Path) -> None:
    if not (PHOTOS / "cases.json").exists():
        pytest.skip("the real photo corpus (../shared/corpus/photos) is not beside this checkout")
    cases = json.loads((PHOTOS / "cases.json").read_text(encoding="utf-8"))
    plates = [c for c in cases if c["kind"] == "nameplate"]
    expected = _entries(plates)
    lib = Library(tmp_path / "lib")
    catalog_admin.import_catalog(lib, ROOT / "assets" / "library" / "catalog.yaml")
    for item in {e.id: e for e in expected.values()}.values():
        catalog_admin.add_equipment(lib, item)
    warm_up()
    tally: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []
    outcomes: list[str] = []
    others = [c for c in cases if c["kind"] != "nameplate"][::10]
    for case in plates + others:
        reading = read_photo(load_photo(PHOTOS / case["file"]), lib)
        named = {o.equipment_id for o in reading.observations if o.equipment_id}
        want = expected.get(case["file"])
        if not named:
            outcome = "unidentified"
        elif want is not None and named == {want.id}:
            outcome = "right"
        else:
            outcome = "wrong"
            wrong.append(f"{case['file']}: named {sorted(named)}, expected {want.id if want else 'nothing'}")
        kind = case["kind"] if want is not None or case["kind"] != "nameplate" else "nameplate (not in catalog)"
        tally[(kind, outcome)] += 1
        if case["kind"] == "nameplate":
            outcomes.append(f"  {outcome:<13}{case['file']}")
    lib.close()
    kinds = sorted({k for k, _ in tally})
    print(f"\ncatalog: {len(lib_ids := {e.id for e in expected.values()})} corpus entries + 4 samples")
    print(f"{'kind':<28}{'right':>7}{'wrong':>7}{'unidentified':>14}")
    for kind in kinds:
        print(f"{kind:<28}{tally[(kind, 'right')]:>7}{tally[(kind, 'wrong')]:>7}{tally[(kind, 'unidentified')]:>14}")
    print("\n".join(outcomes))
    for line in wrong:
        print("  wrong:", line)
    assert lib_ids
    assert not wrong, "\n".join(wrong)
    # a floor under today's figure (17 of 17 catalogued nameplates named right; 8 before)
    assert tally[("nameplate", "right")] >= 16, tally
