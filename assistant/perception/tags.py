"""Asset tags: QR, DataMatrix, Code128, Code39 and EAN/UPC read with zxing-cpp,
with rotation retries for skewed 1D codes, mapped to equipment through the
catalog. Boxes are in original-photo pixels."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import zxingcpp

from assistant.domain import Box, Observation, ObservationKind
from assistant.perception.catalog import CatalogLookup

_F = zxingcpp.BarcodeFormat
MATRIX_FORMATS = (_F.QRCode, _F.DataMatrix)
LINEAR_FORMATS = (_F.Code128, _F.Code39, _F.EAN13, _F.EAN8, _F.UPCA, _F.UPCE)
ALL_FORMATS = MATRIX_FORMATS + LINEAR_FORMATS
RETRY_ANGLES = (15, -15, 30, -30, 45, -45)
MAX_SIDE = 1600
RETRY_SIDE = 1024  # rotation retries run on a smaller copy: they are only for tag-sized 1D codes


def _format_name(fmt) -> str:
    name = getattr(fmt, "name", None) or str(fmt).split(".")[-1]
    return name.replace("BarcodeFormat.", "")


def _points(position) -> np.ndarray:
    return np.array([[p.x, p.y] for p in (position.top_left, position.top_right,
                                          position.bottom_right, position.bottom_left)], dtype=np.float64)


def _to_box(pts: np.ndarray, size: tuple[int, int]) -> Box:
    w, h = size
    x0, y0 = max(0, int(np.floor(pts[:, 0].min()))), max(0, int(np.floor(pts[:, 1].min())))
    x1, y1 = min(w, int(np.ceil(pts[:, 0].max()))), min(h, int(np.ceil(pts[:, 1].max())))
    return Box(x=x0, y=y0, width=max(1, x1 - x0), height=max(1, y1 - y0))


def read_barcodes(image: np.ndarray, *, max_side: int = MAX_SIDE) -> list[tuple[str, str, Box]]:
    """(text, format name, box in `image` pixels) for each code found."""
    h, w = image.shape[:2]
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    s = min(1.0, max_side / max(h, w))
    work = grey if s >= 1.0 else cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    found: dict[str, tuple[str, str, Box]] = {}
    for bc in zxingcpp.read_barcodes(work, formats=ALL_FORMATS):
        if bc.text and bc.valid:
            found.setdefault(bc.text, (bc.text, _format_name(bc.format), _to_box(_points(bc.position) / s, (w, h))))
    if not found:
        r = min(1.0, RETRY_SIDE / max(work.shape[:2]))
        small = work if r >= 1.0 else cv2.resize(work, (round(work.shape[1] * r), round(work.shape[0] * r)),
                                                 interpolation=cv2.INTER_AREA)
        found.update(_rotated_linear(small, s * r, (w, h)))
    if not found:  # glossy or unevenly lit labels: a contrast-normalised retry (one more read on the real set)
        even = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(work)
        for bc in zxingcpp.read_barcodes(even, formats=ALL_FORMATS):
            if bc.text and bc.valid:
                found.setdefault(bc.text, (bc.text, _format_name(bc.format),
                                           _to_box(_points(bc.position) / s, (w, h))))
    return list(found.values())


def _rotated_linear(work: np.ndarray, s: float, size: tuple[int, int]) -> dict[str, tuple[str, str, Box]]:
    """Retry skewed 1D codes on rotated copies; map positions back through the inverse rotation."""
    wh, ww = work.shape[:2]
    centre = (ww / 2.0, wh / 2.0)
    for angle in RETRY_ANGLES:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(wh * sin + ww * cos), int(wh * cos + ww * sin)
        m[0, 2] += nw / 2.0 - centre[0]
        m[1, 2] += nh / 2.0 - centre[1]
        rotated = cv2.warpAffine(work, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)
        results = [bc for bc in zxingcpp.read_barcodes(rotated, formats=LINEAR_FORMATS, try_rotate=False,
                                                       try_downscale=False) if bc.text and bc.valid]
        if results:
            inv = cv2.invertAffineTransform(m)
            out = {}
            for bc in results:
                pts = _points(bc.position)
                back = np.hstack([pts, np.ones((4, 1))]) @ inv.T
                out[bc.text] = (bc.text, _format_name(bc.format), _to_box(back / s, size))
            return out
    return {}


def upce_digits(upca: str) -> str | None:
    """The 8 digits printed under a UPC-E symbol, from the 12-digit UPC-A it stands for
    (the standard zero-suppression rules), or None when that UPC-A has no UPC-E form."""
    if len(upca) != 12 or not upca.isdigit() or upca[0] not in "01":
        return None
    ns, m, p, check = upca[0], upca[1:6], upca[6:11], upca[11]
    if m[2:] in ("000", "100", "200") and p[:2] == "00":
        body = m[:2] + p[2:] + m[2]
    elif m[3:] == "00" and p[:3] == "000":
        body = m[:3] + p[3:] + "3"
    elif m[4] == "0" and p[:4] == "0000":
        body = m[:4] + p[4] + "4"
    elif p[:4] == "0000" and p[4] in "56789":
        body = m + p[4]
    else:
        return None
    return ns + body + check


def as_printed(text: str, fmt: str) -> tuple[str, str]:
    """A code as printed under its bars. A UPC-A symbol as its 12 digits: EAN-13 readers report it
    with a leading 0 (an EAN-13 that starts with 0 is a UPC-A by definition). A UPC-E symbol as its
    8 digits: zxing-cpp 3 reports it expanded to the 13-digit GTIN."""
    name = fmt.replace("-", "").upper()
    if name == "UPCE" and text.isdigit() and len(text) in (12, 13):
        short = upce_digits(text[-12:])
        if short is not None:
            return short, fmt
    if fmt.replace("-", "").upper() == "EAN13" and len(text) == 13 and text.startswith("0") and text.isdigit():
        return text[1:], "UPCA"
    return text, fmt


def read_tags(image: np.ndarray, photo_id: str, catalog: CatalogLookup | None) -> list[Observation]:
    """Asset-tag observations, each mapped to equipment when the catalog knows the tag."""
    out: list[Observation] = []
    for raw_text, raw_fmt, box in read_barcodes(image):
        text, fmt = as_printed(raw_text.strip(), raw_fmt)
        equipment = None
        if catalog is not None:
            equipment = catalog.equipment_for_tag(text) or (
                catalog.equipment_for_tag(raw_text.strip()) if text != raw_text.strip() else None)
        out.append(Observation(photo=photo_id, kind=ObservationKind.ASSET_TAG, value=text, raw=raw_text,
                               confidence=0.99, box=box, source=f"barcode:{fmt}",
                               equipment_id=equipment.id if equipment is not None else None))
    return out


def tag_equipment(observations: Sequence[Observation]) -> str | None:
    for obs in observations:
        if obs.kind == ObservationKind.ASSET_TAG and obs.equipment_id:
            return obs.equipment_id
    return None
