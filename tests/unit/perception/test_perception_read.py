"""The on-device read end to end on real rendered images: OCR lines with boxes, fault codes,
no code where there is none, asset tags, nameplates, caching and timings."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import zxingcpp
from perception_fakes import PUMP, catalog, jpeg, text_photo

from assistant.domain import FlagCode, ObservationKind
from assistant.imaging import annotate, load_photo
from assistant.perception import read_photo, run_ocr, warm_up
from assistant.perception.nameplate import parse_nameplate, read_nameplate
from assistant.perception.ocr import OcrLine, clear_cache
from assistant.domain import Box


@pytest.fixture(scope="module", autouse=True)
def warm():
    warm_up()


def by_kind(reading, kind):
    return [o for o in reading.observations if o.kind == kind]


def inside(inner, outer, slack=10) -> bool:
    return (inner.x >= outer[0] - slack and inner.y >= outer[1] - slack
            and inner.x + inner.width <= outer[2] + slack and inner.y + inner.height <= outer[3] + slack)


def test_reads_a_fault_code_with_its_box_in_photo_pixels():
    img = np.full((1500, 2000, 3), 190, np.uint8)  # larger than the OCR size: boxes must be mapped back
    cv2.putText(img, "ALARM E-21", (300, 700), cv2.FONT_HERSHEY_SIMPLEX, 5, (20, 20, 20), 12, cv2.LINE_AA)
    reading = read_photo(load_photo(jpeg(img), "panel.jpg"), catalog())
    codes = by_kind(reading, ObservationKind.FAULT_CODE)
    assert [c.value for c in codes] == ["E-21"]
    assert codes[0].confidence > 0.8 and codes[0].box is not None
    assert inside(codes[0].box, (300, 560, 1400, 720), slack=40)
    assert any("E-21" in t.value for t in reading.text_lines)
    assert not any(f.code == FlagCode.READING_UNCERTAIN for f in reading.flags)
    assert {"ocr", "codes", "tags", "quality", "total"} <= set(reading.timings_ms)


def test_scopes_codes_to_the_given_equipment():
    img = text_photo([("FAULT F004", 2.5)])
    photo = load_photo(jpeg(img), "p.jpg")
    assert [o.value for o in by_kind(read_photo(photo, catalog()), ObservationKind.FAULT_CODE)] == ["F004"]
    scoped = read_photo(photo, catalog(), equipment_id="drive-kx220")
    assert [o.equipment_id for o in by_kind(scoped, ObservationKind.FAULT_CODE)] == ["drive-kx220"]


def test_photo_without_a_code_yields_no_code():
    img = text_photo([("PUMP STATION 2", 1.6), ("READY 50.0 Hz", 1.6), ("Service 2024-03", 1.2), ("230V", 1.2)])
    reading = read_photo(load_photo(jpeg(img), "ok.jpg"), catalog())
    assert by_kind(reading, ObservationKind.FAULT_CODE) == []
    assert len(reading.text_lines) >= 3


def test_without_catalog_nothing_is_called_a_code():
    reading = read_photo(load_photo(jpeg(text_photo([("FAULT F004", 2.5)])), "p.jpg"), None)
    assert by_kind(reading, ObservationKind.FAULT_CODE) == []
    assert any("F004" in t.value for t in reading.text_lines)


def test_seven_segment_display_is_read():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval" / "perception"))
    from generate import draw_seven_segment

    img = np.full((768, 1024, 3), 160, np.uint8)
    cv2.rectangle(img, (180, 180), (760, 420), (20, 20, 24), -1)
    draw_seven_segment(img, "A12", 230, 215, 170, (40, 40, 235), (30, 30, 60), 0.08)
    reading = read_photo(load_photo(jpeg(img), "led.jpg"), catalog())
    assert [o.value for o in by_kind(reading, ObservationKind.FAULT_CODE)] == ["A12"]


def test_reads_qr_asset_tag_and_maps_equipment():
    qr = np.array(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode("FL-PMP-0001", zxingcpp.BarcodeFormat.QRCode), scale=8))
    img = np.full((768, 1024, 3), 210, np.uint8)
    img[200:200 + qr.shape[0], 300:300 + qr.shape[1]] = qr[:, :, None] if qr.ndim == 2 else qr
    reading = read_photo(load_photo(jpeg(img), "tag.jpg"), catalog())
    tags = by_kind(reading, ObservationKind.ASSET_TAG)
    assert [(t.value, t.equipment_id) for t in tags] == [("FL-PMP-0001", "pump-cp40")]
    assert tags[0].source == "barcode:QRCode"
    assert inside(tags[0].box, (200, 200, 300 + qr.shape[1], 200 + qr.shape[0]))


def test_rotated_code128_is_read_by_rotation_retry():
    bc = np.array(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode("FL-VSD-0107", zxingcpp.BarcodeFormat.Code128), scale=3))
    bc = cv2.resize(bc, (bc.shape[1], 120), interpolation=cv2.INTER_NEAREST)
    img = np.full((900, 1200), 235, np.uint8)
    img[380:380 + bc.shape[0], 250:250 + bc.shape[1]] = bc
    m = cv2.getRotationMatrix2D((600, 450), 38, 1.0)
    img = cv2.warpAffine(img, m, (1200, 900), borderValue=235)
    reading = read_photo(load_photo(jpeg(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)), "bc.jpg"), catalog())
    tags = by_kind(reading, ObservationKind.ASSET_TAG)
    assert [(t.value, t.equipment_id) for t in tags] == [("FL-VSD-0107", "drive-kx220")]


def test_nameplate_parsing_from_lines():
    def ln(text, y, x=40):
        return OcrLine(text, 0.97, Box(x=x, y=y, width=18 * len(text), height=30))

    lines = [ln("NORDWERK", 20), ln("Model:", 70), ln("CP-40", 70, x=200), ln("Ser. No. CP40-123456", 120),
             ln("400 V 3~ 50 Hz", 170), ln("15.2 A 7.5 kW", 220), ln("1450 rpm IP55", 270)]
    fields = {f.name: f.value for f in parse_nameplate(lines)}
    assert fields["model"] == "CP-40" and fields["serial"] == "CP40-123456"
    assert fields["voltage"] == "400 V" and fields["frequency"] == "50 Hz" and fields["current"] == "15.2 A"
    assert fields["power"] == "7.5 kW" and fields["speed"] == "1450 rpm" and fields["ip_rating"] == "IP55"
    assert fields["phase"] == "3~"
    obs, flags, eq = read_nameplate(lines, "p", catalog())
    assert eq == PUMP.id and not flags
    model = next(o for o in obs if o.field == "model")
    assert model.equipment_id == PUMP.id
    bad = [ln("Model: CP-40", 70), ln("S/N: 99-XYZ", 120), ln("400 V 50 Hz", 170)]
    obs, flags, _ = read_nameplate(bad, "p", catalog())
    assert [f.code for f in flags] == [FlagCode.READING_UNCERTAIN]  # serial does not fit CP-40's pattern


def test_nameplate_label_variants():
    def ln(text, y):
        return OcrLine(text, 0.95, Box(x=40, y=y, width=18 * len(text), height=30))

    for label in ["Model No.", "Model:", "Type", "Typ:", "Model Nr"]:
        lines = [ln(f"{label} KX-220", 70), ln("Serial No. KX12345678", 120), ln("400 V 50 Hz", 170)]
        fields = {f.name: f.value for f in parse_nameplate(lines)}
        assert fields["model"] == "KX-220", label
        assert fields["serial"] == "KX12345678"


def test_table_nameplate_values_right_of_labels():
    def cell(text, x, y):
        return OcrLine(text, 0.98, Box(x=x, y=y, width=16 * len(text), height=50))

    lines = [cell("Model", 200, 500), cell("CP-40", 630, 495), cell("Serial No.", 200, 580),
             cell("CP40-204117", 630, 578), cell("Impeller / Size", 200, 660), cell("174 mm", 630, 660),
             cell("Motor", 200, 820), cell("7.5 kW", 630, 822), cell("400", 860, 826), cell("V 3~ 50 Hz", 960, 826),
             cell("Current / IP", 200, 900), cell("15.2 A", 630, 905), cell("IP55", 860, 908)]
    fields = {f.name: f.value for f in parse_nameplate(lines)}
    assert fields["model"] == "CP-40" and fields["serial"] == "CP40-204117"
    assert fields["voltage"] == "400 V" and fields["ip_rating"] == "IP55" and fields["current"] == "15.2 A"


def test_text_without_labels_is_not_a_nameplate():
    lines = [OcrLine("START", 0.99, Box(x=0, y=0, width=50, height=20)),
             OcrLine("230V", 0.99, Box(x=0, y=40, width=50, height=20))]
    assert read_nameplate(lines, "p", catalog()) == ([], [], None)


def test_nameplate_photo_end_to_end_and_annotation():
    img = text_photo([("NORDWERK", 1.6), ("Model: CP-40", 1.3), ("S/N: CP40-123456", 1.3),
                      ("400 V  50 Hz  7.5 kW", 1.2)])
    photo = load_photo(jpeg(img), "plate.jpg")
    reading = read_photo(photo, catalog())
    plate = {o.field: o for o in by_kind(reading, ObservationKind.NAMEPLATE)}
    assert plate["model"].value == "CP-40" and plate["model"].equipment_id == "pump-cp40"
    assert plate["serial"].value == "CP40-123456"
    assert plate["voltage"].value == "400 V"
    drawn = annotate(photo.image, reading.observations)
    assert drawn[:3] == b"\xff\xd8\xff"


def test_ocr_results_are_cached_by_image_hash():
    clear_cache()
    img = text_photo([("FAULT F004", 2.0)])
    t0 = time.perf_counter()
    first = run_ocr(img, key="k1")
    t1 = time.perf_counter()
    again = run_ocr(img, key="k1")
    t2 = time.perf_counter()
    assert again == first and first
    assert (t2 - t1) < (t1 - t0) / 5


def test_quality_flags_reach_the_reading():
    img = (text_photo([("FAULT F004", 2.0)]) * 0.15).astype(np.uint8)
    reading = read_photo(load_photo(jpeg(img), "dark.jpg"), catalog())
    assert FlagCode.IMAGE_DARK in {f.code for f in reading.flags}
    assert not any(f.code == FlagCode.EQUIPMENT_UNIDENTIFIED for f in reading.flags)


def test_digits_printed_under_a_barcode_are_not_a_display_value():
    from assistant.perception.reader import _barcode_digits

    def obs(kind, value, unit=""):
        from assistant.domain import Observation
        return Observation(photo="p", kind=kind, value=value, unit=unit, confidence=0.9)

    tags = [obs(ObservationKind.ASSET_TAG, "882428015268")]
    assert _barcode_digits(obs(ObservationKind.DISPLAY_VALUE, "82428"), tags)
    assert not _barcode_digits(obs(ObservationKind.DISPLAY_VALUE, "82428"), [])  # no barcode: a reading
    assert not _barcode_digits(obs(ObservationKind.DISPLAY_VALUE, "2428", "L"), tags)  # a value with its unit
    assert not _barcode_digits(obs(ObservationKind.DISPLAY_VALUE, "66.54"), tags)
    assert not _barcode_digits(obs(ObservationKind.DISPLAY_VALUE, "999"), tags)  # too short to tell
