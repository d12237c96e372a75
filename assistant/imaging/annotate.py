"""An annotated copy of a photo: each observation's box and a short label drawn
on it, returned as JPEG bytes for the app. The original is never modified."""

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


def _label(obs: Observation) -> str:
    kind = obs.field or obs.kind.value.replace("_", " ")
    text = f"{kind}: {obs.value}"
    if len(text) > 40:
        text = text[:39] + "…"
    return f"{text} ({obs.confidence:.0%})".encode("ascii", "replace").decode()


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
    thick = max(2, round(max(ch, cw) / 500))
    font_scale = max(0.5, max(ch, cw) / 1600)
    for obs in observations:
        if obs.box is None:
            continue
        colour = _COLOURS.get(obs.kind, (0, 200, 255))
        x0, y0 = round(obs.box.x * scale), round(obs.box.y * scale)
        x1, y1 = round((obs.box.x + obs.box.width) * scale), round((obs.box.y + obs.box.height) * scale)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thick)
        label = _label(obs)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, max(1, thick // 2))
        ty = y0 - 4 if y0 - th - base - 4 > 0 else min(ch - base, y1 + th + 4)
        tx = max(0, min(x0, cw - tw - 2))
        cv2.rectangle(canvas, (tx, ty - th - base), (tx + tw + 2, ty + base), colour, -1)
        cv2.putText(canvas, label, (tx + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255),
                    max(1, thick // 2), cv2.LINE_AA)
    return encode_jpeg(canvas, quality)


