"""Equipment matching: asset-tag normalisation and model-string matching that
tolerates OCR confusions (O/0, I/l/1, S/5, B/8, Z/2) and spacing or dashes.
Pure functions over `Equipment` lists; storage lives in the façade."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from assistant.domain import Equipment

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_FOLD = str.maketrans({"O": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})


def norm_tag(tag: str) -> str:
    """Asset tags compare without case, spaces, dashes or other punctuation."""
    return _NON_ALNUM.sub("", tag.upper())


def fold(text: str) -> str:
    """Upper-case alphanumerics with look-alike characters folded together."""
    return norm_tag(text).translate(_FOLD)


def tag_matches(payload: str, tags: dict[str, str]) -> str | None:
    """Equipment id for a scanned payload. `tags` maps normalised tag -> equipment id.
    Exact first, then look-alike folding, then a known tag inside a longer payload (URLs)."""
    key = norm_tag(payload)
    if not key:
        return None
    if key in tags:
        return tags[key]
    folded = fold(payload)
    for tag, equipment_id in tags.items():
        if fold(tag) == folded:
            return equipment_id
    best = None
    for tag, equipment_id in tags.items():
        if len(tag) >= 5 and (tag in key or fold(tag) in folded):
            if best is None or len(tag) > best[0]:
                best = (len(tag), equipment_id)
    return best[1] if best else None


def model_score(text: str, candidate: str) -> float:
    """0..1 similarity of a model string read off a nameplate to a catalog model/alias."""
    a, b = fold(text), fold(candidate)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    score = fuzz.ratio(a, b) / 100
    if len(a) > len(b) + 1 and len(b) >= 3:
        # a longer OCR line that contains the model ("MODEL CP-40 7.5kW")
        tokens = re.split(r"[\s:;,/]+", text.upper())
        for i in range(len(tokens)):
            for j in range(i + 1, min(i + 4, len(tokens)) + 1):
                piece = fold(" ".join(tokens[i:j]))
                if piece == b:
                    return 0.97
        score = max(score, fuzz.partial_ratio(b, a) / 100 * 0.9 if len(b) >= 4 else 0.0)
    return score


def match_models(text: str, equipment: Iterable[Equipment], threshold: float = 0.6) -> list[tuple[Equipment, float]]:
    out = []
    for item in equipment:
        best = 0.0
        for candidate in [item.model, *item.aliases]:
            if candidate:
                best = max(best, model_score(text, candidate))
        for pattern in item.serial_patterns:
            try:
                if re.search(pattern, text.strip()):
                    best = max(best, 0.95)
            except re.error:
                continue
        if best >= threshold:
            out.append((item, round(best, 3)))
    out.sort(key=lambda pair: -pair[1])
    return out


def search_equipment(query: str, equipment: Iterable[Equipment], limit: int = 10) -> list[Equipment]:
    items = list(equipment)
    q = query.strip().lower()
    if not q:
        return items[:limit]
    scored = []
    for item in items:
        fields = [item.id, item.name, item.model, item.manufacturer, item.category, *item.aliases, *item.asset_tags]
        best = 0.0
        for field in fields:
            if not field:
                continue
            f = field.lower()
            if q == f:
                best = max(best, 100.0)
            elif q in f:
                best = max(best, 90.0)
            else:
                best = max(best, fuzz.WRatio(q, f), model_score(q, field) * 100 if len(q) <= 24 else 0.0)
        if best >= 70:
            scored.append((best, item))
    scored.sort(key=lambda pair: -pair[0])
    return [item for _, item in scored[:limit]]
