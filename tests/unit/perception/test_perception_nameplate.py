"""Nameplate fields from OCR lines with their boxes: any labelled field alone is a reading, in
several languages and punctuations, with its value on the same line, to the right (also split
by OCR) or below; a label with no readable value gets none; VINs and vehicle types on vehicle
labels; plates on their side; catalog entries named by part numbers,
serials read with O/0 confusions, and the manufacturer."""

from __future__ import annotations

import cv2
import pytest
from perception_fakes import PUMP, FakeCatalog, catalog, jpeg, text_photo

from assistant.domain import Box, Equipment, ObservationKind
from assistant.imaging import load_photo
from assistant.perception import read_photo, warm_up
from assistant.perception.catalog import identify_nameplate
from assistant.perception.nameplate import looks_like_nameplate, parse_nameplate, read_nameplate
from assistant.perception.ocr import OcrLine
from assistant.perception.orientation import _from_ccw, _from_cw, runs_vertically


def ln(text: str, y: float, x: float = 40, h: float = 30, conf: float = 0.96) -> OcrLine:
    return OcrLine(text, conf, Box(x=x, y=y, width=max(1, int(0.6 * h * len(text))), height=h))


def fields_of(lines: list[OcrLine]) -> dict[str, str]:
    return {f.name: f.value for f in parse_nameplate(lines)}


@pytest.mark.parametrize(("text", "field", "value"), [
    ("SERIAL #: CNK8181G2C", "serial", "CNK8181G2C"),
    ("PART NO EF224-60001", "part_number", "EF224-60001"),
    ("P/N: 0815-4711", "part_number", "0815-4711"),
    ("S/N 20231104-77", "serial", "20231104-77"),
    ("Ser.-Nr. 4711 0815", "serial", "4711 0815"),
    ("Art.-Nr.: 8.8830.18", "part_number", "8.8830.18"),
    ("Typ: KX-220", "model", "KX-220"),
    ("N° de série : AB12345", "serial", "AB12345"),
    ("REF 6A/6732", "part_number", "6A/6732"),
    ("Nr. 104562", "serial", "104562"),
    ("型号GTM7180CE", "model", "GTM7180CE"),
    ("出厂编号: 2019-0815", "serial", "2019-0815"),
    ("V.I.N.2HGFG1B86BH501831", "vin", "2HGFG1B86BH501831"),
    ("Regulatory Model #HSTNS-PL01", "regulatory_model", "HSTNS-PL01"),
    ("DVGW-Reg.-Nr. NG-4701BN0089", "dvgw_registration", "NG-4701BN0089"),
])
def test_one_labelled_field_alone_is_a_nameplate_reading(text: str, field: str, value: str) -> None:
    lines = [ln(text, 100)]
    assert fields_of(lines).get(field) == value, fields_of(lines)
    assert looks_like_nameplate(parse_nameplate(lines))
    obs, _flags, _eq = read_nameplate(lines, "p", None)
    assert [(o.field, o.value) for o in obs if o.field == field] == [(field, value)]


def test_two_labels_on_one_line_each_keep_their_value() -> None:
    fields = fields_of([ln("V.I.N.:JHMGE8H42AS021233 TYPE:PASSENGER CAR", 100)])
    assert fields["vin"] == "JHMGE8H42AS021233" and fields["type"] == "PASSENGER CAR"
    fields = fields_of([ln("Model: PS-3701-1C  Part No.: 382175-501", 100)])
    assert fields["model"] == "PS-3701-1C" and fields["part_number"] == "382175-501"


def test_value_right_of_a_label_split_by_ocr_is_joined() -> None:
    lines = [ln("Serial No.", 100, x=40), ln("4711", 102, x=300), ln("0815", 101, x=390)]
    assert fields_of(lines)["serial"] == "4711 0815"


def test_value_on_the_line_below_a_label() -> None:
    lines = [ln("Regulatory Model", 100, x=500), ln("#HSTNS-PL01", 128, x=500)]
    assert fields_of(lines)["regulatory_model"] == "HSTNS-PL01"


def test_a_column_of_labels_whose_values_are_unreadable_gets_no_values() -> None:
    # the stamped values of CODE and SER. No. are worn off; the line below each label is another label
    lines = [ln("CODE", 225, x=227, h=22), ln("SER. No.", 248, x=226, h=29), ln("REF. No.", 273, x=226, h=25),
             ln("6A/6732", 279, x=343, h=21), ln("MADE IN", 320, x=263, h=26)]
    fields = fields_of(lines)
    assert fields == {"part_number": "6A/6732"}


def test_words_in_sentences_are_not_labels() -> None:
    lines = [ln("Replace only with a fuse of the same type and rating", 100),
             ln("Ask your dealer for the part number of the filter", 140)]
    assert read_nameplate(lines, "p", None) == ([], [], None)


def test_vin_and_vehicle_type_on_a_vehicle_label_without_labels() -> None:
    lines = [ln("GVWR 3795LB GAWR FR 2335LB RR 2250LB", 60), ln("JTDKB2OU887718156", 120, x=300),
             ln("PASS.CAR", 120, x=760)]
    fields = fields_of(lines)
    assert fields["vin"] == "JTDKB20U887718156"  # O read for 0: a VIN has no O
    assert fields["type"] == "PASS.CAR"


def test_a_17_character_code_off_a_vehicle_label_is_not_a_vin() -> None:
    assert "vin" not in fields_of([ln("E364D021900000916", 100), ln("25-2402", 160)])


def test_ratings_inside_a_labelled_code_are_not_ratings() -> None:
    fields = fields_of([ln("BODY COLOR CODE;16W", 100), ln("MFD. BY ACME MOTOR CORP 05/07", 40)])
    assert "power" not in fields and fields["manufacturer"] == "ACME MOTOR CORP"


def test_quarter_turn_boxes_map_back_to_the_photo() -> None:
    w, h = 800, 600
    box = Box(x=100, y=50, width=40, height=200)
    # photo box -> ccw frame: x' = y, y' = w - (x + width); mapping back must give the photo box
    turned = Box(x=box.y, y=w - (box.x + box.width), width=box.height, height=box.width)
    assert _from_ccw(w)(turned) == box
    turned = Box(x=h - (box.y + box.height), y=box.x, width=box.height, height=box.width)
    assert _from_cw(h)(turned) == box
    tall = [OcrLine("ABC123", 0.9, Box(x=i * 50, y=0, width=30, height=200)) for i in range(3)]
    assert runs_vertically(tall) and not runs_vertically([ln("Model: CP-40", 10), ln("S/N: 1234", 50)])


@pytest.fixture(scope="module")
def warm():
    warm_up()


def test_a_plate_photographed_on_its_side_is_read(warm) -> None:
    img = text_photo([("NORDWERK PUMPS", 1.4), ("Model: CP-40", 1.3), ("S/N: CP40-123456", 1.3),
                      ("Part No. 88-1204", 1.3), ("400 V 50 Hz", 1.2)], size=(1100, 700))
    side = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    reading = read_photo(load_photo(jpeg(side), "side.jpg"), catalog())
    plate = {o.field: o for o in reading.observations if o.kind == ObservationKind.NAMEPLATE}
    assert plate["model"].value == "CP-40" and plate["model"].equipment_id == PUMP.id
    assert plate["serial"].value == "CP40-123456"
    box = plate["model"].box  # in the photo as it is: a tall box on the turned photo
    assert box is not None and box.height > box.width and box.x + box.width <= side.shape[1]


def test_catalog_named_by_part_number_serial_with_lookalikes_and_manufacturer() -> None:
    psu = Equipment(id="psu-725", name="PSU 725 W", manufacturer="Hewlett Packard", model="PS-3701-1C",
                    aliases=["382175-501"], serial_patterns=[r"^5ANLD0\d{6}$"])
    car = Equipment(id="car", name="Car", manufacturer="VOLKSWAGEN DE MEXICO S.A. DE C.V.")
    other = Equipment(id="car2", name="Other car", manufacturer="VOLKSWAGEN AG")
    class ListingCatalog(FakeCatalog):  # lists its entries, as the library does
        def equipment(self) -> list[Equipment]:
            return list(self.items.values())

    cat = ListingCatalog([PUMP, psu, car, other], {})
    match = identify_nameplate(cat, {"spare_no": "382175"}, [], kinds={"spare_no": "part_number"})
    assert match is None  # a part number matches only whole, not as a piece of an alias
    match = identify_nameplate(cat, {"spare_no": "382-175 501"}, [], kinds={"spare_no": "part_number"})
    assert match is not None and match.equipment.id == "psu-725"  # spaces and dashes aside
    match = identify_nameplate(cat, {"part_number": "382175-5O1"}, [], kinds={"part_number": "part_number"})
    assert match is not None and match.equipment.id == "psu-725"
    match = identify_nameplate(cat, {"serial": "5ANLDO 123456"}, [])
    assert match is not None and match.equipment.id == "psu-725" and "serial" in match.evidence
    match = identify_nameplate(cat, {"manufacturer": "VOLKSWAGEN DE MEXICO S.A.DE C.V"}, [])
    assert match is not None and match.equipment.id == "car"
    match = identify_nameplate(cat, {"manufacturer": "VOLKSWAGEN"}, [])
    assert match is None  # names both makers' entries equally: no guess


def test_a_row_of_headers_has_its_values_below() -> None:
    lines = [ln("TIRE SIZE", 51, x=346, h=30), ln("RIM SIZE", 52, x=507, h=27),
             ln("235/65R16 103T", 79, x=325, h=27), ln("16X7J", 77, x=541, h=29)]
    fields = fields_of(lines)
    assert fields["tire_size"] == "235/65R16 103T" and fields["rim_size"] == "16X7J"


def test_meter_ratings_are_a_reading_together_not_alone() -> None:
    lines = [ln("Qmax.6,00 m³/h", 100), ln("pmax. 0,10 bar", 140), ln("Qmin 0,04 m²/h", 180)]
    fields = fields_of(lines)
    assert fields == {"qmax": "6,00 m³/h", "pmax": "0,10 bar", "qmin": "0,04 m³/h"}  # ² is OCR's ³
    assert looks_like_nameplate(parse_nameplate(lines))
    assert not looks_like_nameplate(parse_nameplate([ln("Q3=4", 100)]))


def test_numbers_with_a_leading_zero_or_inside_a_code_are_not_ratings() -> None:
    fields = fields_of([ln("070FA40K311 -02A", 100), ln("ZGR21L-10A", 140)])
    assert "current" not in fields


def test_display_words_are_not_plate_labels() -> None:
    for text in ("Code: E21", "CODE 03", "Pump No. 2", "Fuse type: T 3.15A"):
        assert read_nameplate([ln(text, 100)], "p", None) == ([], [], None), text


def test_labels_without_punctuation_inside_one_line() -> None:
    fields = fields_of([ln("MODEL NO. XJ-900 SERIAL NO. 4455-77", 100)])
    assert fields["model"] == "XJ-900" and fields["serial"] == "4455-77"
    fields = fields_of([ln("Fabr.-Nr.: 12345678", 100), ln("Typ: Kompakt", 140), ln("U 400 V  I 15,2 A", 180)])
    assert fields["serial"] == "12345678" and fields["model"] == "Kompakt" and fields["current"] == "15,2 A"


def test_a_sentence_that_starts_with_a_label_word_is_not_a_field() -> None:
    lines = [ln("Model and serial number are on the plate of the unit", 100)]
    assert read_nameplate(lines, "p", None) == ([], [], None)
