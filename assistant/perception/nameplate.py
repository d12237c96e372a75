"""Nameplate fields from OCR lines: manufacturer, model, serial and electrical
ratings (voltage, current, frequency, power, speed, IP rating, phases), found
by label cues ("Model", "Type", "S/N", "Serial", "Ser. No." ...) and value
shapes. The catalog entry is named by `perception.catalog.identify_nameplate`
(model or alias, serial pattern, manufacturer); the serial is checked against
the matched equipment's serial patterns when it has any."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.domain import Box, Equipment, Flag, FlagCode, Observation, ObservationKind, Severity
from assistant.perception.catalog import CatalogLookup, identify_nameplate
from assistant.perception.ocr import OcrLine

_SEP = r"\s*[:.#=\-]?\s*"
LABELS: dict[str, re.Pattern[str]] = {
    "model": re.compile(r"^(?:model\s*(?:no|nr|number|#)\.?|modell|model|mod\.?|type|typ|cat\.?\s*no\.?)"
                        r"(?![a-z])" + _SEP, re.I),
    "serial": re.compile(r"^(?:s\s*/\s*n|s\s*n(?=[\s:.#])|serial(?:\s*(?:no|number|nr))?|ser\.?\s*no|ser\.?\s*nr|"
                         r"fab\.?\s*nr|no\.\s*de\s*s[eé]rie|v\.?\s*i\.?\s*n\.?|nr\.)(?![a-z])" + _SEP, re.I),
    "part_number": re.compile(r"^(?:part\s*(?:no|nr|number|#)\.?|p\s*/\s*n|art\.?\s*-?\s*nr\.?|spare\s*(?:no|part)\.?|"
                              r"item\s*no\.?|ref\.?\s*no\.?|order\s*no\.?|best\.?\s*-?\s*nr\.?)(?![a-z])" + _SEP,
                              re.I),
    "manufacturer": re.compile(r"^(?:manufacturer|mfr|mfg|mfd\.?\s*by|manufactured\s+by|made\s+by|hersteller|fabricant|"
                               r"maker)\b" + _SEP, re.I),
}
LABEL_ANY = re.compile(r"(?:^|\s)(model|mod\.|type|typ|s\s*/\s*n|serial|ser\.\s*no|manufacturer|mfr|mfg|part\s*no|"
                       r"p\s*/\s*n|art\.?-?nr|spare\s*no|vin)\b", re.I)

RATINGS: list[tuple[str, re.Pattern[str]]] = [
    ("voltage", re.compile(r"(?<![\w.])(\d{2,4}(?:\s*[/\-]\s*\d{2,4})?(?:\s*[±]\s*\d+\s*%)?)\s*V(?:AC|DC)?\b")),
    ("current", re.compile(r"(?<![\w.])(\d{1,4}(?:[.,]\d{1,2})?(?:\s*/\s*\d{1,4}(?:[.,]\d{1,2})?)?)\s*A\b")),
    ("frequency", re.compile(r"(?<![\w.])((?:50|60)(?:\s*/\s*(?:50|60))?)\s*Hz\b", re.I)),
    ("power", re.compile(r"(?<![\w.])(\d{1,4}(?:[.,]\d{1,3})?)\s*(kW|HP|hp|W)\b")),
    ("speed", re.compile(r"(?<![\w.])(\d{3,5})\s*(?:rpm|r/min|min-1|min⁻¹|1/min)\b", re.I)),
    ("ip_rating", re.compile(r"\bIP\s?([0-6X][0-9X])\b(?![.,]\d)")),
    ("phase", re.compile(r"(?:\b([13])\s*(?:~|ph\b|phase\b|-phase\b))", re.I)),
]
_UNITS = {"voltage": "V", "current": "A", "frequency": "Hz", "speed": "rpm"}


@dataclass
class _Field:
    name: str
    value: str
    line: OcrLine
    confidence: float


def _after_label(line: OcrLine, lines: Sequence[OcrLine], pattern: re.Pattern[str]) -> tuple[str, OcrLine] | None:
    m = pattern.match(line.text.strip())
    if not m:
        return None
    rest = line.text.strip()[m.end():].strip(" :.#=-")
    # a label followed by another label on the same line ("Model: X  S/N: Y"): cut at the next label
    cut = LABEL_ANY.search(rest)
    if cut and cut.start() > 0:
        rest = rest[: cut.start()].strip(" :.#=-")
    if rest:
        return rest.split("  ")[0].strip(), line
    # the value is in the same row to the right (table layout), else just below
    b = line.box
    right: tuple[float, OcrLine] | None = None
    below: tuple[float, OcrLine] | None = None
    for other in lines:
        if other is line or LABEL_ANY.match(other.text) or LABELS["serial"].match(other.text.strip()):
            continue  # another label is never this label's value
        ob = other.box
        same_row = abs((ob.y + ob.height / 2) - (b.y + b.height / 2)) < 0.6 * max(b.height, ob.height)
        if same_row and b.x + b.width * 0.8 < ob.x < b.x + b.width + 14 * b.height:
            if right is None or ob.x < right[0]:
                right = (ob.x, other)
        elif 0 <= ob.y - (b.y + b.height) < 1.5 * b.height and abs(ob.x - b.x) < 2 * b.height:
            if below is None or ob.y < below[0]:
                below = (ob.y, other)
    chosen = right or below
    if chosen is not None:
        return chosen[1].text.strip(), chosen[1]
    return None


def _inline_label(text: str, name: str) -> str | None:
    """'... Model CP-40 ...' or 'S/N: 1234' inside a longer line."""
    pat = {"model": r"(?:model|type|typ)", "serial": r"(?:s\s*/\s*n|serial(?:\s*no)?|ser\.?\s*no)"}[name]
    m = re.search(r"(?:^|\s)" + pat + r"\s*[:.#]?\s*([A-Za-z0-9][\w\-/.]{1,30})", text, re.I)
    return m.group(1).strip(".") if m else None


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


def parse_nameplate(lines: Sequence[OcrLine]) -> list[_Field]:
    """Labelled fields and ratings from OCR lines (no catalog involved)."""
    fields: dict[str, _Field] = {}
    for line in lines:
        for name, pattern in LABELS.items():
            if name in fields:
                continue
            got = _after_label(line, lines, pattern)
            if got:
                value, src = got
                fields[name] = _Field(name, value, src, min(line.confidence, src.confidence))
        for name in ("model", "serial"):
            if name not in fields and not LABELS[name].match(line.text.strip()):
                inline = _inline_label(line.text, name)
                if inline:
                    fields[name] = _Field(name, inline, line, line.confidence * 0.95)
    for line in _rows(lines):
        for name, pattern in RATINGS:
            if name in fields:
                continue
            m = pattern.search(line.text)
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


LABELLED = {"model", "serial", "manufacturer", "part_number"}


def looks_like_nameplate(fields: Sequence[_Field]) -> bool:
    """Any labelled field is a reading, even alone ("SERIAL #: CNK8181G2C"); ratings without a
    label need company (two of them: "230 V 50 Hz"), a lone "12 V" is just text."""
    names = {f.name for f in fields}
    return bool(names & LABELLED) or len(names - LABELLED) >= 2


def _serial_ok(serial: str, equipment: Equipment) -> bool | None:
    if not equipment.serial_patterns:
        return None
    for pattern in equipment.serial_patterns:
        try:
            if re.fullmatch(pattern, serial) or re.fullmatch(pattern, serial.upper()):
                return True
        except re.error:
            continue
    return False


def read_nameplate(lines: Sequence[OcrLine], photo_id: str, catalog: CatalogLookup | None
                   ) -> tuple[list[Observation], list[Flag], str | None]:
    """Nameplate observations, flags, and the equipment id the model matched (if any)."""
    fields = parse_nameplate(lines)
    if not looks_like_nameplate(fields):
        return [], [], None
    equipment: Equipment | None = None
    match_score = 0.0
    by_name = {f.name: f for f in fields}
    evidence: set[str] = set()
    if catalog is not None:
        match = identify_nameplate(catalog, {f.name: f.value for f in fields}, [ln.text for ln in lines])
        if match is not None and match.score >= 0.75:
            equipment, match_score, evidence = match.equipment, match.score, match.evidence
            source = next((ln for ln in lines if ln.text == match.model_line), None)
            if source is not None and "model" not in by_name:
                fields.append(_Field("model", source.text.strip(), source, source.confidence))
    observations: list[Observation] = []
    flags: list[Flag] = []
    if equipment is not None and "manufacturer" not in by_name and equipment.manufacturer:
        needle = equipment.manufacturer.lower()
        for line in lines:
            if needle and needle in line.text.lower():
                fields.append(_Field("manufacturer", equipment.manufacturer, line, line.confidence))
                break
    for f in fields:
        conf = f.confidence
        eq_id = None
        if f.name == "model" and equipment is not None:
            conf = conf * (0.5 + 0.5 * match_score)
            eq_id = equipment.id
        if f.name == "manufacturer" and "manufacturer" in evidence:
            eq_id = equipment.id if equipment is not None else None
        if f.name == "serial" and equipment is not None:
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


def box_union(boxes: Sequence[Box]) -> Box | None:
    if not boxes:
        return None
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.width for b in boxes)
    y1 = max(b.y + b.height for b in boxes)
    return Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)
