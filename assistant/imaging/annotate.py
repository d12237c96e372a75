"""An annotated copy of a photo: each observation's box and a short label drawn
on it, returned as JPEG bytes for the app. The original is never modified.

Labels use plain field names ("IP rating", not "ip_rating"), a type size that stays
legible when the photo is shown on a tablet (about 2.4 % of the long side), and are
placed so they never overlap each other: above the box, else below it, else pushed
down past the labels already drawn."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from assistant.domain import Observation, ObservationKind
from assistant.imaging.prepare import encode_jpeg

_COLOURS = {  # BGR
    ObservationKind.FAULT_CODE: (40, 40, 230),
    ObservationKind.ASSET_TAG: (200, 120, 20),
    ObservationKind.NAMEPLATE: (40, 160, 40),
    ObservationKind.TEXT: (150, 150, 150),
}
_FIELD_WORDS = {"ip_rating": "IP rating", "serial": "serial no."}
_KIND_WORDS = {"fault_code": "code", "unknown_code": "code (not in manuals)", "asset_tag": "tag",
               "display_value": "display", "nameplate": "nameplate", "text": "text"}
_UPPER = {"ip", "kw", "kva", "hz", "rpm", "ac", "dc", "vin"}
_FONT = cv2.FONT_HERSHEY_SIMPLEX

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


def field_name(obs: Observation) -> str:
    """The reading's name in plain words."""
    if obs.field:
        if obs.field in _FIELD_WORDS:
            return _FIELD_WORDS[obs.field]
        return " ".join(p.upper() if p.lower() in _UPPER else p for p in obs.field.split("_") if p)
    kind = getattr(obs.kind, "value", str(obs.kind))
    return _KIND_WORDS.get(kind, kind.replace("_", " "))


def _label(obs: Observation) -> str:
    unit = f" {obs.unit}" if getattr(obs, "unit", "") else ""
    text = f"{field_name(obs)}: {obs.value}{unit}"
    if len(text) > 36:
        text = text[:35] + "~"
    sure = "confirmed" if obs.confirmed else f"{obs.confidence:.0%}"
    return f"{text} ({sure})".encode("ascii", "replace").decode()


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_label(box: Rect, size: tuple[int, int], canvas: tuple[int, int], taken: Sequence[Rect]) -> Rect:
    """Where a label of `size` (w, h) goes for `box` on a canvas (w, h): above, else below,
    else moved down until it overlaps no label already placed; always inside the canvas."""
    (tw, th), (cw, ch) = size, canvas
    x = max(0, min(box[0], cw - tw))
    candidates = [box[1] - th - 2, box[3] + 2]
    for y in candidates:
        rect = (x, y, x + tw, y + th)
        if y >= 0 and y + th <= ch and not any(_overlaps(rect, t) for t in taken):
            return rect
    y = max(0, min(box[1], ch - th))
    rect = (x, y, x + tw, y + th)
    for _ in range(200):  # bounded: slide down past whatever is in the way, then wrap to the top
        hit = next((t for t in taken if _overlaps(rect, t)), None)
        if hit is None:
            return rect
        y = hit[3] + 2
        if y + th > ch:
            y = 0 if rect[1] != 0 else ch - th
        rect = (x, y, x + tw, y + th)
    return rect


def annotate(image: np.ndarray, observations: Sequence[Observation], *, max_long_side: int = 2048,
             quality: int = 85) -> bytes:
    """JPEG bytes of a copy of `image` with every boxed observation drawn and labelled."""
    h, w = image.shape[:2]
    scale = min(1.0, max_long_side / max(h, w))
    canvas = image.copy() if scale >= 1.0 else cv2.resize(
        image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    if canvas.ndim == 2:
        canvas = cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
    ch, cw = canvas.shape[:2]
    long_side = max(ch, cw)
    thick = max(2, round(long_side / 450))
    text_px = max(16, round(long_side * 0.024))  # cap height of the label text, in pixels
    font_scale = text_px / 22.0  # Hershey simplex is ~22 px tall at scale 1
    weight = max(1, round(text_px / 12))
    pad = max(3, text_px // 4)
    boxed = [o for o in observations if o.box is not None]
    rects = []
    for obs in boxed:
        x0, y0 = round(obs.box.x * scale), round(obs.box.y * scale)
        x1, y1 = round((obs.box.x + obs.box.width) * scale), round((obs.box.y + obs.box.height) * scale)
        rects.append((x0, y0, x1, y1))
        cv2.rectangle(canvas, (x0, y0), (x1, y1), _COLOURS.get(obs.kind, (0, 160, 230)), thick)
    taken: list[Rect] = []
    for obs, box in sorted(zip(boxed, rects), key=lambda pair: (pair[1][1], pair[1][0])):
        colour = _COLOURS.get(obs.kind, (0, 160, 230))
        label = _label(obs)
        (tw, th), base = cv2.getTextSize(label, _FONT, font_scale, weight)
        size = (min(cw, tw + 2 * pad), min(ch, th + base + 2 * pad))
        rect = place_label(box, size, (cw, ch), taken)
        taken.append(rect)
        cv2.rectangle(canvas, rect[:2], rect[2:], colour, -1)
        cv2.putText(canvas, label, (rect[0] + pad, rect[1] + pad + th), _FONT, font_scale, (255, 255, 255),
                    weight, cv2.LINE_AA)
    return encode_jpeg(canvas, quality)
