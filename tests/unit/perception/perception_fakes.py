"""Test helpers for perception: a small real in-memory CatalogLookup and image makers."""

from __future__ import annotations

import re

import cv2
import numpy as np

from assistant.domain import Equipment


class FakeCatalog:
    """In-memory catalog: known codes per equipment, tag -> equipment, model matching by normalised text."""

    def __init__(self, equipment: list[Equipment], codes: dict[str, set[str]]) -> None:
        self.items = {e.id: e for e in equipment}
        self.codes = codes

    def known_codes(self, equipment_id: str | None = None) -> set[str]:
        if equipment_id is not None:
            return set(self.codes.get(equipment_id, set()))
        return set().union(*self.codes.values()) if self.codes else set()

    def equipment_for_tag(self, tag: str) -> Equipment | None:
        for eq in self.items.values():
            if tag.strip().upper() in (t.upper() for t in eq.asset_tags):
                return eq
        return None

    def match_model(self, text: str) -> list[tuple[Equipment, float]]:
        def norm(s: str) -> str:
            return re.sub(r"[^A-Z0-9]", "", s.upper())

        key = norm(text)
        out = []
        for eq in self.items.values():
            for name in (eq.model, *eq.aliases):
                n = norm(name)
                if n and key == n:
                    out.append((eq, 1.0))
                    break
                if n and (n in key or key in n) and min(len(n), len(key)) >= 3:
                    out.append((eq, 0.8))
                    break
        return sorted(out, key=lambda t: -t[1])


PUMP = Equipment(id="pump-cp40", name="Centrifugal pump CP-40", manufacturer="Nordwerk", model="CP-40",
                 aliases=["CP40"], asset_tags=["FL-PMP-0001"], serial_patterns=[r"^CP40-\d{6}$"])
DRIVE = Equipment(id="drive-kx220", name="Drive KX-220", manufacturer="Helvar", model="KX-220",
                  asset_tags=["FL-VSD-0107"])


def catalog() -> FakeCatalog:
    return FakeCatalog([PUMP, DRIVE], {"pump-cp40": {"E-21", "E-07", "A12", "2310"},
                                       "drive-kx220": {"F004", "F012", "OC1", "Err 07"}})


def text_photo(lines: list[tuple[str, float]], size=(1024, 768), bg=(200, 200, 200)) -> np.ndarray:
    """A grey panel with lines of dark text (text, scale)."""
    img = np.full((size[1], size[0], 3), bg, np.uint8)
    y = 120
    for text, scale in lines:
        cv2.putText(img, text, (60, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20), max(2, int(scale * 2)),
                    cv2.LINE_AA)
        y += int(60 * scale) + 40
    return img


def jpeg(img: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()
