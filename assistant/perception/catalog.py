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


_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "Q": "0", "I": "1", "|": "1"})  # letters OCR reads for digits


def serial_readings(serial: str) -> list[str]:
    """A serial as read and as it may have been printed: upper case, without the spaces OCR put
    in, and with the letters OCR reads for digits (O/0, I/1) turned back into digits."""
    s = serial.strip()
    out = [s, s.upper(), re.sub(r"\s+", "", s.upper())]
    out.append(out[-1].translate(_DIGIT_LOOKALIKES))
    return list(dict.fromkeys(out))


def serial_fits(serial: str, equipment: Equipment) -> bool:
    for pattern in equipment.serial_patterns:
        try:
            if any(re.search(pattern, s) for s in serial_readings(serial)):
                return True
        except re.error:
            continue
    return False


def names_equal(value: str, item: Equipment) -> bool:
    """Is `value` the entry's model or an alias, spaces, dashes and O/0, I/1 look-alikes aside?"""
    folded = _compact(value).translate(_DIGIT_LOOKALIKES)
    return len(folded) >= 3 and any(folded == _compact(n).translate(_DIGIT_LOOKALIKES)
                                    for n in (item.model, *item.aliases) if n)


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


def _words(text: str) -> str:
    return " ".join(text.casefold().split())


def manufacturer_score(read: str, known: str, *, labelled: bool) -> float:
    """How well text read off a plate names this manufacturer (0 = not at all). The whole name,
    spaces and punctuation aside ("S.A.DE C.V" is "S.A. DE C.V."), counts most; a labelled field
    ("Manufacturer: Acme") may also be a shortened or slightly misread name; any other line must
    contain the whole name."""
    a, b = _words(read), _words(known)
    ca, cb = _compact(read), _compact(known)
    if len(ca) < 3 or len(cb) < 3:
        return 0.0
    if ca == cb:
        return 1.0
    if b in a or len(cb) >= 5 and cb in ca:
        return 0.95 if labelled else 0.9
    if not labelled:
        return 0.0
    if a in b and len(ca) >= 4:
        return 0.85
    ratio = fuzz.ratio(ca, cb)
    return 0.8 if ratio >= 92 or fuzz.token_set_ratio(a, b) >= 90 else 0.0


def same_manufacturer(read: str, known: str, *, labelled: bool) -> bool:
    return manufacturer_score(read, known, labelled=labelled) > 0


@dataclass
class NameplateMatch:
    """The entry a nameplate names, how sure (0..1), which fields named it (model, serial,
    manufacturer) and, when the model was found as a plain line rather than a labelled field, that line."""

    equipment: Equipment
    score: float
    evidence: set[str] = field(default_factory=set)
    model_line: str | None = None


MODEL_KINDS = ("model",)  # the fields read as a model, fuzzily matched
EXACT_KINDS = ("type", "part_number", "product_code", "number", "registration")  # word for word only
SERIAL_KINDS = ("serial", "vin", "number")


def _kind(name: str, kinds: Mapping[str, str] | None) -> str:
    return (kinds or {}).get(name, name)


def identify_nameplate(catalog: CatalogLookup, fields: Mapping[str, str], lines: Sequence[str],
                       kinds: Mapping[str, str] | None = None) -> NameplateMatch | None:
    """The catalog entry a nameplate's fields and OCR lines name; None when nothing matches or
    two entries match equally well. `kinds` says what each field is when its name adds a
    qualifier ("regulatory_model" is a model); every model-like field is tried, part and
    reference numbers only word for word (folded: O/0, I/1, spaces, dashes)."""
    found: dict[str, NameplateMatch] = {}

    def note(item: Equipment, score: float, evidence: str, line: str | None = None) -> None:
        match = found.setdefault(item.id, NameplateMatch(item, 0.0))
        match.score = max(match.score, score)
        match.evidence.add(evidence)
        match.model_line = match.model_line or line

    listing = getattr(catalog, "equipment", None)
    everything_now = list(listing()) if callable(listing) else None
    model = fields.get("model", "").strip()
    models_read = False
    for name, value in fields.items():
        kind, value = _kind(name, kinds), value.strip()
        if not value:
            continue
        if kind in MODEL_KINDS:
            models_read = True
            for item, score in catalog.match_model(value):
                note(item, score if name == "model" else score * 0.98, "model")
        elif kind in EXACT_KINDS:
            models_read = models_read or kind == "type"
            exact = [item for item in everything_now if names_equal(value, item)] if everything_now is not None \
                else [item for reading in dict.fromkeys((value, value.upper().translate(_DIGIT_LOOKALIKES)))
                      for item, score in catalog.match_model(reading) if score >= 1.0]
            for item in exact:
                note(item, LINE_SCORE, "model")
        if kind in SERIAL_KINDS:
            candidates = everything_now if everything_now is not None else \
                [item for reading in serial_readings(value) for item, _ in catalog.match_model(reading)]
            for item in candidates:
                if serial_fits(value, item):
                    note(item, SERIAL_SCORE, "serial")
    for match in found.values():
        if {"model", "serial"} <= match.evidence and match.score >= 0.75:
            match.score = min(1.0, match.score + 0.03)  # two independent readings agree
    everything = everything_now
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
    maker_scores: dict[str, float] = {}
    for e in everything:
        if not e.manufacturer:
            continue
        score = manufacturer_score(manufacturer, e.manufacturer, labelled=True) if manufacturer else \
            max((manufacturer_score(line, e.manufacturer, labelled=False) for line in lines), default=0.0)
        if score > 0:
            maker_scores[e.id] = score
    best_maker = max(maker_scores.values(), default=0.0)
    by_maker = [e for e in everything if maker_scores.get(e.id, 0.0) >= best_maker > 0]  # the best-named only
    for item in everything:
        match = found.get(item.id)
        if match is not None and match.score >= 0.6 and item.id in maker_scores:
            match.score = min(0.99, match.score + 0.15)
            match.evidence.add("manufacturer")
    if not found and not (model or models_read and not manufacturer) and len(by_maker) == 1:
        found[by_maker[0].id] = NameplateMatch(by_maker[0], MANUFACTURER_ONLY_SCORE, {"manufacturer"})

    ranked = sorted(found.values(), key=lambda m: -m.score)
    if not ranked or len(ranked) > 1 and ranked[0].score - ranked[1].score < 0.02:
        return None  # nothing, or two entries equally: naming either would be a guess
    ranked[0].score = round(ranked[0].score, 3)
    return ranked[0]
