"""Nameplate fields from OCR lines with their boxes: manufacturer, model, type, serial,
part / reference / registration numbers and VIN, found by a grammar of label head words in
several languages (value on the same line, to the right or below), VINs and vehicle types on
vehicle labels, tyre and rim sizes, electrical and meter ratings (voltage, current, frequency,
power, speed, IP rating, phases, flow and pressure), and plates on their side read turned a
quarter. The catalog entry is named by `perception.catalog.identify_nameplate`
(model or alias, serial pattern, manufacturer); the serial is checked against
the matched equipment's serial patterns when it has any."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.domain import Box, Equipment, Flag, FlagCode, Observation, ObservationKind, Severity
from assistant.perception.catalog import CatalogLookup, identify_nameplate, names_equal, serial_fits
from assistant.perception.ocr import OcrLine
from assistant.perception.orientation import TALL, quarter_turns

# ----------------------------------------------------------------------------- labels
# A label is a head word ("Model", "S/N", "Ser. No.", "Art.-Nr.", "REF", "V.I.N.", "型号" ...) at the
# start of a line (after at most a known qualifier: "Regulatory Model", "Engine model", "DVGW-Reg.-Nr.")
# or inside a line when a separator follows it ("... TYPE: MPV"). Its value runs to the next label.
_NO = r"(?:no|nr|n[°º]|number|num|#)\.?"
_HEADS: list[tuple[str, str]] = [
    ("vin", r"v\s*\.\s*i\s*\.\s*n\s*\.?|vin(?=\s*[:#.]|\s+[A-Z0-9])|vehicle\s+identification\s+" + _NO
     + r"|fin(?=\s*[:#])"),
    ("serial", r"s\s*/\s*n|s\s*n(?=\s*[:#.])|serial\s*" + _NO + r"|serial|ser\s*\.?\s*-?\s*" + _NO
     + r"|fab(?:r)?\s*\.?\s*-?\s*" + _NO + r"|serien\s*-?\s*" + _NO + r"|seriennummer|"
     r"n[°ºo]\s*\.?\s*de\s+s[eé]rie|num[eé]ro\s+de\s+s[eé]rie|n[úu]mero\s+de\s+serie|matr(?:icola|\.)|"
     r"v\s*\.\s*[cč]\s*[.\-]|herstell\s*-?\s*" + _NO),
    ("part_number", r"part\s*" + _NO + r"|p\s*/\s*n|art(?:ikel)?\s*\.?\s*-?\s*" + _NO
     + r"|spare\s*(?:part\s*)?" + _NO + r"|item\s*" + _NO + r"|order\s*(?:" + _NO + r"|code)"
     + r"|best(?:ell)?\s*\.?\s*-?\s*" + _NO + r"|mat(?:erial)?\s*\.?\s*-?\s*" + _NO + r"|sach\s*-?\s*" + _NO
     + r"|id\s*-?\s*" + _NO + r"|cat(?:alog(?:ue)?)?\s*\.?\s*" + _NO + r"|r[eé]f\s*\.?\s*(?:" + _NO + r")?"),
    ("registration", r"reg(?:istration)?\s*\.?\s*-?\s*" + _NO + r"|approval\s*" + _NO
     + r"|zul(?:assungs)?\s*\.?\s*-?\s*" + _NO + r"|cert(?:ificate)?\s*\.?\s*" + _NO),
    ("model", r"model(?:l|e|o)?\s*(?:" + _NO + r"|code)?|mod\s*\.|mod[eè]le"),
    ("type", r"type|typ(?:e)?\s*(?:" + _NO + r")?"),
    ("product_code", r"code"),
    ("tire_size", r"t[iy]re\s+size"),
    ("rim_size", r"rim\s+size"),
    ("manufacturer", r"manufacturer|manufactured\s+(?:in\s+\w+\s+)?by|mfd\s*\.?\s*(?:in\s+\w+\s+)?by|"
     r"mfr\s*\.?(?=\s*:)|mfg\s*\.?\s*by|made\s+by|hersteller|fabricant|fabricante|maker"),
    ("number", r"no\s*\.|nr\s*\.|n[°º]"),
]
_KIND_OF = {f"k{i}": kind for i, (kind, _pat) in enumerate(_HEADS)}
_HEAD = re.compile("|".join(f"(?P<k{i}>{pat})" for i, (_kind, pat) in enumerate(_HEADS)), re.I)
# Words that may stand before a head at the start of a line and name which model/number it is.
_QUALIFIERS = {"regulatory", "engine", "motor", "pump", "product", "vehicle", "unit", "device", "base",
               "body", "color", "colour", "paint", "trim", "article", "catalog", "catalogue", "hardware",
               "software", "firmware", "controller", "drive", "compressor", "equipment", "machine"}
_SEPARATOR = re.compile(r"\s*[:#=：]")
_CJK = r"[\u3400-\u9fff]"
# A CJK label is the run of CJK characters that starts a line; its last characters say what it is.
_CJK_LABEL = re.compile(r"^(" + _CJK + r"{2,10})\s*[:：]?\s*(?=[A-Za-z0-9]|$)")
_CJK_KINDS: list[tuple[str, str]] = [
    ("vin", r"(?:识别代号|識別代號)$"), ("model", r"(?:型号|型號|型式|规格)$"),
    ("serial", r"(?:出厂编号|出廠編號|序列号|序號|编号|編號|序号)$"),
    ("manufacturer", r"(?:厂名|廠名|厂家|制造商|製造商|生产厂|製造廠)$"),
    ("number", r"(?:代号|代號|号|號|号码)$"),
]
IDENTITY = {"vin", "serial", "part_number", "registration", "number", "product_code"}  # values hold a digit
LABELLED = IDENTITY | {"model", "type", "manufacturer", "tire_size", "rim_size"}

RATINGS: list[tuple[str, re.Pattern[str]]] = [
    ("voltage", re.compile(r"(?<![\w.])(?<!\w-)(?!0\d)(\d{2,4}(?:\s*[/\-]\s*\d{2,4})?(?:\s*[±]\s*\d+\s*%)?)"
                           r"\s*V(?:AC|DC)?\b", re.I)),
    ("current", re.compile(r"(?<![\w.])(?<!\w-)(?!0\d)(\d{1,4}(?:[.,]\d{1,2})?(?:\s*/\s*\d{1,4}(?:[.,]\d{1,2})?)?)"
                           r"\s*A\b")),
    ("frequency", re.compile(r"(?<![\w.])(?<!\w-)((?:50|60)(?:\s*[/\-]\s*(?:50|60))?)\s*Hz\b", re.I)),
    ("power", re.compile(r"(?<![\w.])(?<!\w-)(?!0\d)(\d{1,4}(?:[.,]\d{1,3})?)\s*(kW|HP|hp|W)\b")),
    ("speed", re.compile(r"(?<![\w.])(?<!\w-)(\d{3,5})\s*(?:rpm|r/min|min-1|min⁻¹|1/min)\b", re.I)),
    ("ip_rating", re.compile(r"\bIP\s?([0-6X][0-9X])\b(?![.,]\d)")),
    ("phase", re.compile(r"(?:\b([13])\s*(?:~|ph\b|phase\b|-phase\b))", re.I)),
]
_RATING_TOKEN = re.compile(r"^\d+(?:[.,]\d+)?\s*(?:V|VAC|VDC|A|Hz|kW|W|HP|rpm|bar|MPa|kPa|kg|mm)$", re.I)
# Meter ratings: a flow or pressure symbol and its value (Qmax 6,00 m³/h, Q3=4, pmax 0,10 bar).
_METER_RATING = re.compile(r"(?<![A-Za-z])(Q\s?(?:max|min|t|n|r|[1-4])|[pP]\s?max|PN|MOP)(?![a-z])\s*[.:=]?\s*"
                           r"(\d+(?:[.,]\d+)?)\s*(m[³²3]\s*/\s*h|[lL]\s*/\s*h|bar|kPa|MPa)?(?![A-Za-z0-9])")
_UNITS = {"voltage": "V", "current": "A", "frequency": "Hz", "speed": "rpm"}
_DATE_TAIL = re.compile(r"\s+\d{1,2}\s*/\s*'?\s*[0-9O]{2,4}\s*$")

# A vehicle identification number (ISO 3779): 17 characters, no I, O or Q, the last four digits.
_VIN = re.compile(r"(?<![A-Z0-9])([A-HJ-NPR-Z0-9]{13}[0-9]{4})(?![A-Z0-9])")
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
               **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
_VEHICLE_CONTEXT = re.compile(r"\b(?:GVWR|GAWR|GVW|VEHICLE|V\.?I\.?N|TIRE|TYRE)\b|车辆|車輛", re.I)
# The vehicle types a certification label states (49 CFR 567.4; "PASS. CAR" abbreviated).
_VEHICLE_TYPE = re.compile(r"(?<![A-Z])(PASS(?:ENGER)?\.?\s*CAR|MULTIPURPOSE\s+PASSENGER\s+VEHICLE|MPV|"
                           r"PASSENGER|TRUCK|BUS|TRAILER|MOTORCYCLE|LOW[\s-]SPEED\s+VEHICLE)(?![A-Z])")


@dataclass
class _Field:
    name: str
    value: str
    line: OcrLine
    confidence: float
    kind: str = ""  # what the label says it is (model, serial, ...); the name may add a qualifier

    def __post_init__(self) -> None:
        self.kind = self.kind or self.name


@dataclass
class _Label:
    kind: str
    name: str  # the field name: the kind, or qualifier + kind ("regulatory_model")
    start: int
    end: int


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def find_labels(text: str) -> list[_Label]:
    """The labels in one OCR line, left to right."""
    cjk = _CJK_LABEL.match(text)
    if cjk:
        for kind, pat in _CJK_KINDS:
            if re.search(pat, cjk.group(1)):
                return [_Label(kind, kind, 0, cjk.end())]
    out: list[_Label] = []
    for m in _HEAD.finditer(text):
        if m.start() > 0 and text[m.start() - 1].isalnum() or m.end() < len(text) and text[m.end() - 1].isalpha() \
                and text[m.end()].isalpha():
            continue  # inside a word ("TYPEWRITER", "SNAP")
        kind = _KIND_OF[m.lastgroup or ""]
        before = text[:m.start()]
        qualifier = before.strip(" -")
        at_start = not qualifier or (
            len(qualifier.split()) <= 2 and all(w.casefold() in _QUALIFIERS for w in qualifier.split())
            or kind == "registration" and re.fullmatch(r"[A-ZÄÖÜ]{2,6}", qualifier) is not None)
        after = text[m.end():]
        dotted = m.group(0).rstrip().endswith(".") and bool(after[:1].isalnum())
        # "SERIAL NO. 4455" or "P/N 0815" inside a line: a number word or a slash says it is a label
        strong = bool(re.search(r"(?:\b(?:no|nr|number)\.?|[#°º]|/.)$", m.group(0).strip(), re.I)) \
            and bool(re.match(r"\s+[A-Z0-9]", after, re.I))
        if not at_start and not (before.endswith((" ", "\t")) and (_SEPARATOR.match(after) or dotted or strong)):
            continue
        if kind in ("number", "product_code") and not at_start:
            continue  # a bare "No." or "CODE" inside a sentence is not a label
        if kind == "product_code" and not qualifier:
            continue  # "Code: E21" on a display is a fault code; a plate's code is a product or order code
        if kind == "number":  # a bare "No." / "Nr." starting a line numbers the unit: its serial
            if not re.match(r"\s*[:#.]?\s*(?=[A-Z0-9\-/]*\d)[A-Z0-9\-/]{4,}", after, re.I):
                continue  # "No. 2" is a position, not a serial
            kind = "serial"
        name = kind if not qualifier or not at_start else f"{_slug(qualifier)}_{kind.replace('product_', '')}"
        if out and out[-1].end > m.start():
            continue
        out.append(_Label(kind, name, m.start(), m.end()))
    return out


def _clean_value(kind: str, raw: str) -> str:
    value = raw.strip(" :.#=;,-—_|")
    value = value.lstrip("#: ").strip()
    if kind == "manufacturer":
        return _DATE_TAIL.sub("", value).strip(" ,;")
    tokens = value.split()
    if not tokens:
        return ""
    if kind in IDENTITY:
        kept = [tokens[0]]
        for tok in tokens[1:]:  # an identifier OCR split at a space: more digit groups
            if re.fullmatch(r"[A-Z0-9\-/]*\d[A-Z0-9\-/]*", tok) and not _RATING_TOKEN.match(tok) and len(tok) <= 6:
                kept.append(tok)
            else:
                break
        value = " ".join(kept)
        return value if re.search(r"\d", value) else ""
    kept = []
    for tok in tokens[:4]:  # a model or type: a few words, not the ratings after it
        if _RATING_TOKEN.match(tok) or kept and re.fullmatch(r"\d+(?:[.,]\d+)?", tok) and len(tokens) > len(kept) + 1 \
                and _RATING_TOKEN.match(f"{tok} {tokens[len(kept) + 1]}"):
            break
        kept.append(tok)
    value = " ".join(kept).strip(" ,;")
    return value if len(re.sub(r"\W", "", value)) >= 2 else ""


def _plausible_model(value: str, raw: str) -> bool:
    """A model or type printed after its label holds a digit, is in capitals, or follows a
    separator ("Typ: Kompakt"); "Model and serial number ..." is a sentence."""
    letters = [c for c in value if c.isalpha()]
    return (any(c.isdigit() for c in value) or bool(letters) and all(c.isupper() for c in letters)
            or bool(re.match(r"\s*[:#=：]", raw)))


def _row_center(b: Box) -> float:
    return b.y + b.height / 2


def _neighbour_value(line: OcrLine, lines: Sequence[OcrLine], labelled: set[int]) -> OcrLine | None:
    """The value of a label that stands alone: the nearest box to its right in the same row (table
    layout), else the line just below it; nothing when that neighbour is itself a label."""
    b = line.box
    right: OcrLine | None = None
    below: OcrLine | None = None
    for other in lines:
        if other is line:
            continue
        ob = other.box
        same_row = abs(_row_center(ob) - _row_center(b)) < 0.6 * max(b.height, ob.height)
        if same_row and b.x + b.width * 0.8 < ob.x < b.x + b.width + 14 * b.height:
            if right is None or ob.x < right.box.x:
                right = other
        elif not same_row and -0.5 * b.height <= ob.y - (b.y + b.height) < 1.5 * b.height \
                and ob.x < b.x + b.width and ob.x + ob.width > b.x and ob.x > b.x - 2 * b.height:
            if below is None or ob.y < below.box.y:
                below = other
    if right is not None and id(right) not in labelled:
        return right
    if below is not None and id(below) not in labelled:  # a row of headers has its values below
        return below
    return None


def _right_run(first: OcrLine, lines: Sequence[OcrLine], labelled: set[int]) -> list[OcrLine]:
    """`first` and the boxes that continue it in the same row with a small gap (a value OCR split)."""
    run = [first]
    while True:
        last = run[-1].box
        nxt = [o for o in lines if id(o) not in labelled and o not in run
               and abs(_row_center(o.box) - _row_center(last)) < 0.5 * max(last.height, o.box.height)
               and 0 <= o.box.x - (last.x + last.width) < 1.2 * last.height]
        if not nxt:
            return run
        run.append(min(nxt, key=lambda o: o.box.x))


def _vin_check_digit_ok(vin: str) -> bool:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS))
    check = total % 11
    return vin[8] == ("X" if check == 10 else str(check))


def _find_vin(text: str) -> str | None:
    folded = text.upper().replace("O", "0").replace("Q", "0").replace("I", "1")  # never in a VIN
    for m in _VIN.finditer(folded):
        value = m.group(1)
        if sum(c.isalpha() for c in value) >= 2:
            return value
    return None


def parse_nameplate(lines: Sequence[OcrLine]) -> list[_Field]:
    """Labelled fields, unlabelled VINs and vehicle types (on vehicle labels) and ratings from OCR
    lines (no catalog involved). The first value for each field name wins."""
    fields: dict[str, _Field] = {}
    found = [(line, find_labels(line.text.strip())) for line in lines]
    labelled = {id(line) for line, labels in found if labels}
    for line, labels in found:
        text = line.text.strip()
        for i, label in enumerate(labels):
            stop = labels[i + 1].start if i + 1 < len(labels) else len(text)
            value, source = _clean_value(label.kind, text[label.end:stop]), line
            if label.kind in ("model", "type") and not _plausible_model(value, text[label.end:stop]):
                value = ""
            if not text[label.end:stop].strip(" :.#=;,-") and i + 1 == len(labels):
                neighbour = _neighbour_value(line, lines, labelled)
                if neighbour is not None:
                    run = _right_run(neighbour, lines, labelled) if label.kind in IDENTITY else [neighbour]
                    value = _clean_value(label.kind, " ".join(o.text.strip() for o in run))
                    source = neighbour
            if label.kind == "vin":
                value = _find_vin(value.replace(" ", "")) or value
            name = label.name
            if name in fields:
                name = _slug(text[label.start:label.end]) or name
                if name in fields:
                    name = f"{label.kind}_{sum(f.kind == label.kind for f in fields.values()) + 1}"
            if value and name not in fields:  # a second label of a kind keeps its own words ("spare_no")
                conf = min(line.confidence, source.confidence)
                fields[name] = _Field(name, value, source, conf, label.kind)
    if "type" in fields and "model" not in fields and not _VEHICLE_TYPE.fullmatch(fields["type"].value.upper()):
        typed = fields.pop("type")
        fields["model"] = _Field("model", typed.value, typed.line, typed.confidence)
    if any(_VEHICLE_CONTEXT.search(line.text) for line in lines):
        for line in lines:
            vin = _find_vin(line.text)
            if vin and "vin" not in fields:
                sure = _vin_check_digit_ok(vin)
                fields["vin"] = _Field("vin", vin, line, line.confidence * (1.0 if sure else 0.9))
            kind = _VEHICLE_TYPE.search(line.text.upper())
            if kind and "type" not in fields and not (
                    "model" in fields and _loose(fields["model"].value) == _loose(kind.group(1))):
                fields["type"] = _Field("type", kind.group(1), line, line.confidence * 0.9)
    for line in lines:
        for m in _METER_RATING.finditer(line.text):
            name = _slug(m.group(1))
            unit = re.sub(r"\s+", "", m.group(3) or "").replace("m²", "m³").replace("m3/", "m³/")
            if name not in fields and (unit or name.startswith("q")):
                fields[name] = _Field(name, f"{m.group(2)} {unit}".strip(), line, line.confidence, "meter_rating")
    values = [f.value for f in fields.values() if f.kind in IDENTITY | {"model", "type"}]
    for line in _rows(lines):
        text = line.text
        for value in values:  # "CODE: 16W" is a code, not a power rating
            text = text.replace(value, " ")
        for name, pattern in RATINGS:
            if name in fields:
                continue
            m = pattern.search(text)
            if not m:
                continue
            if name == "power":
                value = f"{m.group(1)} {m.group(2)}"
            elif name == "ip_rating":
                value = f"IP{m.group(1)}"
            elif name == "phase":
                value = f"{m.group(1)}~"
            else:
                compact = re.sub(r"\s+", "", m.group(1))
                value = f"{compact} {_UNITS[name]}"
            fields[name] = _Field(name, value, line, line.confidence)
    return list(fields.values())


def _loose(text: str) -> str:
    return re.sub(r"[^0-9A-Z]+", "", text.upper())


def _rows(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """Lines of the same row joined left to right (a rating like "400" | "V 3~ 50 Hz" is often split)."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: ln.box.y + ln.box.height / 2):
        cy = line.box.y + line.box.height / 2
        for row in rows:
            r = row[0].box
            if abs(cy - (r.y + r.height / 2)) < 0.5 * max(r.height, line.box.height):
                row.append(line)
                break
        else:
            rows.append([line])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln.box.x)
        box = box_union([ln.box for ln in row])
        out.append(OcrLine(" ".join(ln.text for ln in row), min(ln.confidence for ln in row), box))
    return out


def looks_like_nameplate(fields: Sequence[_Field]) -> bool:
    """Any labelled field is a reading, even alone ("SERIAL #: CNK8181G2C"), and so is a VIN on a
    vehicle label; ratings without a label need company (two of them: "230 V 50 Hz"), a lone
    "12 V" is just text."""
    kinds = {f.kind for f in fields}
    return bool(kinds & LABELLED) or len({f.name for f in fields if f.kind not in LABELLED}) >= 2


def _serial_ok(serial: str, equipment: Equipment) -> bool | None:
    if not equipment.serial_patterns:
        return None
    return serial_fits(serial, equipment)


MIN_MATCH = 0.75


def read_nameplate(lines: Sequence[OcrLine], photo_id: str, catalog: CatalogLookup | None
                   ) -> tuple[list[Observation], list[Flag], str | None]:
    """Nameplate observations, flags, and the equipment id the plate names (if any). A photo with
    no labelled field still names its equipment when a line (or a row of boxes) is word for word a
    catalog model or alias, or holds the whole name of the only catalog entry's manufacturer."""
    fields = parse_nameplate(lines)
    plate = looks_like_nameplate(fields)
    if not plate and catalog is None:
        return [], [], None
    equipment: Equipment | None = None
    match_score = 0.0
    evidence: set[str] = set()
    if catalog is not None:
        rows = [r for r in _rows(lines) if r.text not in {ln.text for ln in lines}]
        match = identify_nameplate(catalog, {f.name: f.value for f in fields}, [ln.text for ln in [*lines, *rows]],
                                   kinds={f.name: f.kind for f in fields})
        if match is not None and match.score >= MIN_MATCH:
            equipment, match_score, evidence = match.equipment, match.score, match.evidence
            if not plate:
                fields = []  # what named the machine is the reading, not stray ratings
            source = next((ln for ln in [*lines, *rows] if ln.text == match.model_line), None)
            if source is not None and not any(f.kind in ("model", "type") and names_equal(f.value, equipment)
                                              for f in fields):
                fields.append(_Field("model" if "model" not in {f.name for f in fields} else "catalog_model",
                                     source.text.strip(), source, source.confidence, "model"))
    if not plate and equipment is None:
        return [], [], None
    by_name = {f.name: f for f in fields}
    observations: list[Observation] = []
    flags: list[Flag] = []
    if equipment is not None and "manufacturer" not in by_name and equipment.manufacturer:
        needle = _loose(equipment.manufacturer)
        for line in lines:
            if needle and needle in _loose(line.text):
                fields.append(_Field("manufacturer", equipment.manufacturer, line, line.confidence))
                break
    for f in fields:
        conf = f.confidence
        eq_id = None
        if equipment is not None and (f.kind in ("model", "type") and "model" in evidence
                                      or names_equal(f.value, equipment)):
            conf = conf * (0.5 + 0.5 * match_score)
            eq_id = equipment.id
        if f.kind == "manufacturer" and "manufacturer" in evidence:
            eq_id = equipment.id if equipment is not None else None
        if f.kind in ("serial", "vin", "number") and equipment is not None and "serial" in evidence:
            eq_id = equipment.id
        if f.kind == "serial" and equipment is not None:
            ok = _serial_ok(f.value, equipment)
            eq_id = equipment.id
            if ok is False:
                conf *= 0.6
                flags.append(Flag(code=FlagCode.READING_UNCERTAIN, severity=Severity.WARNING, photo=photo_id,
                                  message=f"The serial number {f.value} does not look like a {equipment.name} "
                                          f"serial: check the nameplate and confirm."))
        observations.append(Observation(photo=photo_id, kind=ObservationKind.NAMEPLATE, field=f.name,
                                        value=f.value, raw=f.line.text, confidence=round(min(1.0, conf), 3),
                                        box=f.line.box, source="ocr", equipment_id=eq_id))
    return observations, flags, equipment.id if equipment is not None else None


def _plate_weight(fields: Sequence[_Field]) -> int:
    return sum(2 if f.kind in LABELLED else 1 for f in fields)


def read_nameplate_upright(image: np.ndarray, lines: Sequence[OcrLine], photo_id: str,
                           catalog: CatalogLookup | None) -> tuple[list[Observation], list[Flag], str | None]:
    """`read_nameplate` on the photo's lines, or, when its text runs vertically and labels stand
    in tall boxes (a plate on its side), on the lines read with the photo turned a quarter,
    whichever reading holds more fields; boxes are in the photo's own frame."""
    # only a plate on its side is worth two more OCR passes: labels in tall boxes (a book's back
    # cover photographed sideways is read well as it is)
    sideways_labels = any(ln.box.height >= TALL * ln.box.width and find_labels(ln.text.strip()) for ln in lines)
    turns = quarter_turns(image, lines, key=photo_id) if sideways_labels else []
    if not turns:
        return read_nameplate(lines, photo_id, catalog)
    best = max([(0, None), *[(i + 1, t) for i, t in enumerate(turns)]],
               key=lambda it: (_plate_weight(parse_nameplate(it[1].lines if it[1] else lines)), -it[0]))[1]
    if best is None:
        return read_nameplate(lines, photo_id, catalog)
    observations, flags, equipment_id = read_nameplate(best.lines, photo_id, catalog)
    observations = [o.model_copy(update={"box": best.to_photo(o.box)}) if o.box is not None else o
                    for o in observations]
    return observations, flags, equipment_id


def box_union(boxes: Sequence[Box]) -> Box | None:
    if not boxes:
        return None
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.width for b in boxes)
    y1 = max(b.y + b.height for b in boxes)
    return Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)
