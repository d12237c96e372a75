"""Text that runs up or down the photo: a plate mounted on its side, a label photographed a
quarter turn off. Decides from the OCR boxes whether much of the text runs vertically and, if it
does, reads the photo turned a quarter each way, with the boxes of each reading mapped back to
the photo as it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from assistant.domain import Box
from assistant.perception.ocr import OcrLine, run_ocr

TALL = 1.5  # a box this many times taller than wide holds text that runs vertically
MIN_TALL_LINES = 3


@dataclass
class TurnedReading:
    """OCR lines read with the photo turned (upright in the turned frame) and how to map a box
    of that frame back into the photo."""

    lines: list[OcrLine]
    to_photo: Callable[[Box], Box]


def runs_vertically(lines: Sequence[OcrLine]) -> bool:
    """Much of the text is in tall boxes: at least a few lines, and at least half as many as the
    lines that run across (a sticker upright beside a plate on its side still counts)."""
    tall = sum(1 for ln in lines if len(ln.text.strip()) >= 3 and ln.box.height >= TALL * ln.box.width)
    wide = sum(1 for ln in lines if len(ln.text.strip()) >= 3 and ln.box.width >= TALL * ln.box.height)
    return tall >= MIN_TALL_LINES and 2 * tall >= wide


def _from_ccw(width: int) -> Callable[[Box], Box]:
    # turned a quarter anticlockwise: photo (x, y) is (y, width - 1 - x) in the turned frame
    return lambda b: Box(x=max(0, width - (b.y + b.height)), y=b.x, width=b.height, height=b.width)


def _from_cw(height: int) -> Callable[[Box], Box]:
    # turned a quarter clockwise: photo (x, y) is (height - 1 - y, x) in the turned frame
    return lambda b: Box(x=b.y, y=max(0, height - (b.x + b.width)), width=b.height, height=b.width)


def quarter_turns(image: np.ndarray, lines: Sequence[OcrLine], key: str | None = None) -> list[TurnedReading]:
    """The photo read turned a quarter each way, when its text runs vertically; else nothing."""
    if not runs_vertically(lines):
        return []
    h, w = image.shape[:2]
    out = []
    for name, code, back in (("ccw", cv2.ROTATE_90_COUNTERCLOCKWISE, _from_ccw(w)),
                             ("cw", cv2.ROTATE_90_CLOCKWISE, _from_cw(h))):
        turned = run_ocr(cv2.rotate(image, code), key=f"{key}:{name}" if key else None)
        out.append(TurnedReading(turned, back))
    return out
