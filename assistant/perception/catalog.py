"""The catalog interface perception needs (`assistant.library.Library` satisfies it), and
which catalog entry a nameplate names: its model or an alias (read as the model field or as
a line of its own), a serial that fits an entry's serial patterns, and the manufacturer, which
corroborates the others and names an entry alone only when no model was read and the catalog
has one entry from that manufacturer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rapidfuzz import fuzz

from assistant.domain import Equipment


@runtime_checkable
class CatalogLookup(Protocol):
    def known_codes(self, equipment_id: str | None = None) -> set[str]: ...

    def equipment_for_tag(self, tag: str) -> Equipment | None: ...

    def match_model(self, text: str) -> list[tuple[Equipment, float]]: ...


SERIAL_SCORE = 0.95  # a serial that fits an entry's pattern: a strong, specific sign
LINE_SCORE = 0.9  # a whole OCR line (or a run of its words) that is exactly a model or alias
MANUFACTURER_ONLY_SCORE = 0.8
EXACT_PIECE = 0.97  # what model matching gives a model/alias found word for word inside a longer line


def serial_fits(serial: str, equipment: Equipment) -> bool:
    for pattern in equipment.serial_patterns:
        try:
            if re.search(pattern, serial.strip()) or re.search(pattern, serial.strip().upper()):
                return True
        except re.error:
            continue
    return False


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _names_index(items: Sequence[Equipment]) -> dict[str, list[Equipment]]:
    index: dict[str, list[Equipment]] = {}
    for item in items:
        for name in {_compact(n) for n in (item.model, *item.aliases)}:
            if len(name) >= 3:
                index.setdefault(name, []).append(item)
    return index


def _named_in_line(line: str, index: Mapping[str, list[Equipment]]) -> list[Equipment]:
    """Entries whose model or an alias is, word for word, in an OCR line ("CP-40 7.5 kW" names CP-40)."""
    tokens = [t for t in re.split(r"[\s:;,/]+", line) if t]
    out: list[Equipment] = []
    for i in range(len(tokens)):
        for j in range(i + 1, min(i + 3, len(tokens)) + 1):
            for item in index.get(_compact(" ".join(tokens[i:j])), ()):
                if item not in out:
                    out.append(item)
    return out


def same_manufacturer(read: str, known: str, *, labelled: bool) -> bool:
    """Does text read off a plate name this manufacturer? A labelled field ("Manufacturer: Acme")
    may be a shortened or slightly misread name; any other line must contain the whole name."""
    a, b = " ".join(read.casefold().split()), " ".join(known.casefold().split())
    if len(a) < 3 or len(b) < 3:
        return False
    if b in a:
        return True
    return labelled and (a in b and len(a) >= 4 or fuzz.token_set_ratio(a, b) >= 90)


@dataclass
class NameplateMatch:
    """The entry a nameplate names, how sure (0..1), which fields named it (model, serial,
    manufacturer) and, when the model was found as a plain line rather than a labelled field, that line."""

    equipment: Equipment
    score: float
    evidence: set[str] = field(default_factory=set)
    model_line: str | None = None


def identify_nameplate(catalog: CatalogLookup, fields: Mapping[str, str], lines: Sequence[str]
                       ) -> NameplateMatch | None:
    """The catalog entry a nameplate's fields and OCR lines name; None when nothing matches or
    two entries match equally well."""
    found: dict[str, NameplateMatch] = {}

    def note(item: Equipment, score: float, evidence: str, line: str | None = None) -> None:
        match = found.setdefault(item.id, NameplateMatch(item, 0.0))
        match.score = max(match.score, score)
        match.evidence.add(evidence)
        match.model_line = match.model_line or line

    model = fields.get("model", "").strip()
    if model:
        for item, score in catalog.match_model(model):
            note(item, score, "model")
    serial = fields.get("serial", "").strip()
    if serial:
        for item, _ in catalog.match_model(serial):
            if serial_fits(serial, item):
                note(item, SERIAL_SCORE, "serial")
    for match in found.values():
        if {"model", "serial"} <= match.evidence and match.score >= 0.75:
            match.score = min(1.0, match.score + 0.03)  # two independent readings agree
    listing = getattr(catalog, "equipment", None)
    everything = list(listing()) if callable(listing) else None
    if not found:
        index = _names_index(everything) if everything is not None else None
        for line in lines:
            if index is not None:  # one pass over the listing instead of a catalog query per line
                for item in _named_in_line(line, index):
                    note(item, LINE_SCORE, "model", line)
                continue
            for item, score in catalog.match_model(line):
                if score >= EXACT_PIECE:
                    note(item, LINE_SCORE, "model", line)
    if everything is None:
        everything = [m.equipment for m in found.values()]

    manufacturer = fields.get("manufacturer", "").strip()
    by_maker = [e for e in everything if e.manufacturer and (
        same_manufacturer(manufacturer, e.manufacturer, labelled=True) if manufacturer
        else any(same_manufacturer(line, e.manufacturer, labelled=False) for line in lines))]
    for item in by_maker:
        match = found.get(item.id)
        if match is not None and match.score >= 0.6:
            match.score = min(0.99, match.score + 0.15)
            match.evidence.add("manufacturer")
    if not found and not model and len(by_maker) == 1:
        found[by_maker[0].id] = NameplateMatch(by_maker[0], MANUFACTURER_ONLY_SCORE, {"manufacturer"})

    ranked = sorted(found.values(), key=lambda m: -m.score)
    if not ranked or len(ranked) > 1 and ranked[0].score - ranked[1].score < 0.02:
        return None  # nothing, or two entries equally: naming either would be a guess
    ranked[0].score = round(ranked[0].score, 3)
    return ranked[0]
