"""Equipment an admin adds with the CLI is what photos and searches identify: a catalog built
with `fieldlens equipment add` and `library add --equipment`, photos rendered here (nameplates,
a QR asset tag, fault displays) read through `fieldlens inspect` / `ask`, and
`Fieldlens.find_equipment` over names, tags and the fault codes the documents list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from assistant.cli import main

ZX_MANUAL = """\
# ZX-700 chiller service manual

## Alarm list

| Code | Alarm | Cause | Remedy |
|------|-------|-------|--------|
| ZA-31 | Condenser fan failure | Fan motor seized or its fuse blown | Replace the fuse, then the fan motor |
| ZA-32 | Water flow low | Strainer blocked | Clean the strainer |
| E-05 | Supply phase missing | A supply fuse blown | Check the three supply phases |
"""

KC_MANUAL = """\
# KC-90 compressor manual

## Fault codes

| Code | Fault | Remedy |
|------|-------|--------|
| KC-11 | Oil pressure low | Top up the oil and check the oil filter |
| E-05 | Supply phase missing | Check the supply fuses |
"""


def cli(*args: str) -> tuple[int, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    assert code == 0, err.getvalue()
    return code, out.getvalue()


def cli_json(*args: str):
    return json.loads(cli(*args, "--json")[1])


def panel(lines: list[tuple[str, float]]) -> np.ndarray:
    """A printed label: dark text on a light grey plate."""
    img = np.full((960, 1280, 3), (205, 208, 200), np.uint8)
    y = 150
    for text, scale in lines:
        cv2.putText(img, text, (80, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (25, 25, 25), max(2, int(scale * 2.2)),
                    cv2.LINE_AA)
        y += int(45 * scale) + 45
    return img


def display(code: str) -> np.ndarray:
    """A backlit controller display showing one fault code."""
    img = np.full((720, 1280, 3), (40, 40, 40), np.uint8)
    cv2.rectangle(img, (240, 200), (1040, 520), (60, 170, 90), -1)
    cv2.putText(img, "FAULT", (300, 300), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (10, 30, 10), 5, cv2.LINE_AA)
    cv2.putText(img, code, (300, 450), cv2.FONT_HERSHEY_SIMPLEX, 3.2, (10, 30, 10), 8, cv2.LINE_AA)
    return img


def qr_tag(payload: str) -> np.ndarray:
    matrix = np.array(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=12))
    if matrix.ndim == 2:
        matrix = cv2.cvtColor(matrix, cv2.COLOR_GRAY2BGR)
    img = np.full((960, 1280, 3), (180, 185, 190), np.uint8)
    h, w = matrix.shape[:2]
    img[200:200 + h, 400:400 + w] = matrix
    return img


PHOTOS = {
    "plate-full": panel([("ACME COOLING", 2.0), ("Model: ZX-700", 1.6), ("S/N: ZX7-004711", 1.6),
                         ("400 V 3~ 50 Hz  32 A", 1.4), ("IP54", 1.4)]),
    "plate-alias": panel([("Type: CH-7A", 1.6), ("400 V 50 Hz", 1.4), ("IP54", 1.4)]),
    "plate-unlabelled": panel([("CH-7A", 1.8), ("400 V 3~ 50 Hz", 1.4), ("32 A", 1.4), ("IP54", 1.4)]),
    "plate-serial": panel([("S/N: KC912345", 1.6), ("230 V 50 Hz", 1.4), ("10 A", 1.4)]),
    "plate-maker": panel([("Manufacturer: Nordhaven Compressors", 1.3), ("230 V 50 Hz", 1.4), ("10 A", 1.4),
                          ("IP44", 1.4)]),
    "plate-other-model": panel([("Manufacturer: Nordhaven Compressors", 1.3), ("Model: QT-5", 1.6),
                                ("230 V 50 Hz", 1.4), ("10 A", 1.4)]),
    "tag-zx": qr_tag("AC-CH-0007"),
    "display-za31": display("ZA-31"),
    "display-e05": display("E-05"),
}


@pytest.fixture(scope="module")
def catalog_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home with a catalog built only through the CLI, and the rendered photos beside it."""
    root = tmp_path_factory.mktemp("catalog-id")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIELDLENS_HOME", str(root / "home"))
        mp.setenv("FIELDLENS_SAMPLES", "0")
        for name in ("FIELDLENS_PROVIDER", "FIELDLENS_MODEL", "FIELDLENS_BASE_URL", "FIELDLENS_API_KEY",
                     "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            mp.delenv(name, raising=False)
        (root / "zx700.md").write_text(ZX_MANUAL, encoding="utf-8")
        (root / "kc90.md").write_text(KC_MANUAL, encoding="utf-8")
        cli("equipment", "add", "zx-700", "--name", "ZX-700 chiller", "--manufacturer", "Acme Cooling",
            "--model", "ZX-700", "--alias", "CH-7A", "--asset-tag", "AC-CH-0007", "--serial-pattern", r"^ZX7-\d{6}$")
        cli("equipment", "add", "kc-90", "--name", "KC-90 compressor", "--manufacturer", "Nordhaven Compressors",
            "--model", "KC-90", "--serial-pattern", r"^KC9\d{5}$")
        cli("library", "add", str(root / "zx700.md"), "--equipment", "zx-700")
        cli("library", "add", str(root / "kc90.md"), "--equipment", "kc-90")
        for name, img in PHOTOS.items():
            cv2.imwrite(str(root / f"{name}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        yield root


def inspect(root: Path, name: str) -> list[dict]:
    readings = cli_json("inspect", str(root / f"{name}.jpg"))
    assert len(readings) == 1
    return readings[0]["observations"]


def named(observations: list[dict]) -> set[str]:
    return {o["equipment_id"] for o in observations if o.get("equipment_id")}


def field(observations: list[dict], name: str) -> dict:
    return next(o for o in observations if o.get("field") == name)


def test_nameplate_with_model_serial_and_manufacturer(catalog_home: Path) -> None:
    obs = inspect(catalog_home, "plate-full")
    assert field(obs, "model")["value"] == "ZX-700" and field(obs, "model")["equipment_id"] == "zx-700"
    assert field(obs, "serial")["equipment_id"] == "zx-700"
    assert named(obs) == {"zx-700"}


def test_nameplate_alias_names_the_entry(catalog_home: Path) -> None:
    obs = inspect(catalog_home, "plate-alias")
    assert field(obs, "model")["value"] == "CH-7A"
    assert named(obs) == {"zx-700"}


def test_an_unlabelled_line_that_is_an_alias_names_the_entry(catalog_home: Path) -> None:
    obs = inspect(catalog_home, "plate-unlabelled")
    assert field(obs, "model")["value"] == "CH-7A" and field(obs, "model")["equipment_id"] == "zx-700"


def test_serial_pattern_alone_names_the_entry(catalog_home: Path) -> None:
    obs = inspect(catalog_home, "plate-serial")
    assert field(obs, "serial")["value"] == "KC912345"
    assert named(obs) == {"kc-90"}


def test_manufacturer_alone_names_its_only_entry_but_not_against_a_model(catalog_home: Path) -> None:
    assert named(inspect(catalog_home, "plate-maker")) == {"kc-90"}
    obs = inspect(catalog_home, "plate-other-model")
    assert field(obs, "model")["value"] == "QT-5"
    assert named(obs) == set(), "a model the catalog does not know is not overruled by the manufacturer"


def test_asset_tag_follows_catalog_edits(catalog_home: Path) -> None:
    assert named(inspect(catalog_home, "tag-zx")) == {"zx-700"}
    cli("equipment", "edit", "zx-700", "--remove-asset-tag", "AC-CH-0007")
    try:
        obs = inspect(catalog_home, "tag-zx")
        assert [o["value"] for o in obs if o["kind"] == "asset_tag"] == ["AC-CH-0007"] and named(obs) == set()
        cli("equipment", "edit", "kc-90", "--asset-tag", "ac-ch-0007")
        assert named(inspect(catalog_home, "tag-zx")) == {"kc-90"}
    finally:
        cli("equipment", "edit", "kc-90", "--remove-asset-tag", "ac-ch-0007")
        cli("equipment", "edit", "zx-700", "--asset-tag", "AC-CH-0007")


def test_a_code_only_one_entry_knows_names_it(catalog_home: Path) -> None:
    obs = inspect(catalog_home, "display-za31")
    codes = [o for o in obs if o["kind"] == "fault_code"]
    assert [o["value"] for o in codes] == ["ZA-31"] and codes[0]["equipment_id"] == "zx-700"
    shared = [o for o in inspect(catalog_home, "display-e05") if o["kind"] == "fault_code"]
    assert [o["value"] for o in shared] == ["E-05"] and not shared[0].get("equipment_id")


def test_ask_with_a_display_photo_answers_for_the_identified_equipment(catalog_home: Path) -> None:
    answer = cli_json("ask", "--photo", str(catalog_home / "display-za31.jpg"), "what now")
    assert answer["equipment"] and answer["equipment"]["id"] == "zx-700"
    assert any(o["kind"] == "fault_code" and o["value"] == "ZA-31" for o in answer["observations"])
    cited = [c["doc_id"] for s in answer["steps"] for c in s["citations"]]
    assert cited and set(cited) == {cli_json("equipment", "show", "zx-700")["document_ids"][0]}
    unidentified = cli_json("ask", "--photo", str(catalog_home / "display-e05.jpg"), "what now")
    assert unidentified["equipment"] is None
    assert any(f["code"] == "equipment_unidentified" for f in unidentified["flags"])


@pytest.mark.parametrize("query, expected", [
    ("ZX-700 chiller", "zx-700"), ("zx700", "zx-700"), ("Acme", "zx-700"), ("nordhaven", "kc-90"),
    ("CH-7A", "zx-700"), ("ac ch 0007", "zx-700"), ("compressor", "kc-90"), ("ZA-31", "zx-700"),
    ("za31", "zx-700"), ("KC-11", "kc-90"),
])
def test_find_equipment_by_any_name_tag_or_code(catalog_home: Path, query: str, expected: str) -> None:
    from assistant.service import Fieldlens

    with Fieldlens() as fl:
        found = fl.find_equipment(query)
    assert found and found[0].id == expected, (query, [e.id for e in found])


def test_find_equipment_with_a_shared_code_or_nothing(catalog_home: Path) -> None:
    from assistant.service import Fieldlens

    with Fieldlens() as fl:
        assert {e.id for e in fl.find_equipment("E-05")} == {"zx-700", "kc-90"}
        assert fl.find_equipment("hydraulic press 9000") == []
        assert [e.id for e in fl.find_equipment("KC-11", limit=1)] == ["kc-90"]
        assert {e.id for e in fl.find_equipment("")} == {"zx-700", "kc-90"}
