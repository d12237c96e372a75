"""Making a photo ready for a model: downscale to the policy's long side,
optionally blur faces, re-encode as JPEG (which drops EXIF and GPS), and return
the exact bytes that will be sent (`domain.PreparedImage`).

Face detection: OpenCV's Haar cascades when this OpenCV build ships them
(`cv2.CascadeClassifier` + `cv2.data.haarcascades`, OpenCV 4.x); otherwise
`cv2.FaceDetectorYN` with a YuNet ONNX model given by `FIELDLENS_FACE_MODEL`.
OpenCV 5 wheels ship neither, so on such a build `face_detector_available()`
is False and `blur_faces` blurs nothing (`faces_blurred` stays 0).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from assistant.config import PhotoPolicy
from assistant.domain import Box, PreparedImage
from assistant.imaging.load import LoadedPhoto


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Downscale so the long side is at most `long_side` (never upscales). Large reductions first halve
    the image with INTER_AREA's fast integer path, then finish with INTER_AREA: same look, ~3x faster."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return image
    while scale < 0.5 and min(h, w) >= 4:
        image = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        h, w = image.shape[:2]
        scale = long_side / max(h, w)
    if scale >= 1.0:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - imencode only fails on empty arrays
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


# --------------------------------------------------------------------------- faces


@lru_cache(maxsize=1)
def _haar():
    if not hasattr(cv2, "CascadeClassifier"):
        return None
    base = getattr(getattr(cv2, "data", None), "haarcascades", "")
    path = Path(base) / "haarcascade_frontalface_default.xml"
    if not path.is_file():
        return None
    clf = cv2.CascadeClassifier(str(path))
    return None if clf.empty() else clf


def _yunet_model() -> Path | None:
    env = os.environ.get("FIELDLENS_FACE_MODEL")
    if env and Path(env).is_file() and hasattr(cv2, "FaceDetectorYN"):
        return Path(env)
    return None


def face_detector_available() -> bool:
    return _haar() is not None or _yunet_model() is not None


def detect_faces(image: np.ndarray) -> list[Box]:
    """Face boxes in `image` pixels; empty when no detector is available on this build."""
    h, w = image.shape[:2]
    clf = _haar()
    if clf is not None:
        grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        min_size = max(24, min(h, w) // 30)
        found = clf.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size))
        return [Box(x=int(x), y=int(y), width=int(bw), height=int(bh)) for x, y, bw, bh in found]
    model = _yunet_model()
    if model is not None:
        det = cv2.FaceDetectorYN.create(str(model), "", (w, h), 0.7)
        _n, faces = det.detect(image)
        if faces is None:
            return []
        return [Box(x=int(f[0]), y=int(f[1]), width=int(f[2]), height=int(f[3])) for f in faces]
    return []


def blur_regions(image: np.ndarray, boxes: Sequence[Box], pad: float = 0.15) -> np.ndarray:
    """A copy of `image` with each box (grown by `pad`) blurred beyond recognition."""
    out = image.copy()
    h, w = out.shape[:2]
    for b in boxes:
        px, py = int(b.width * pad), int(b.height * pad)
        x0, y0 = max(0, b.x - px), max(0, b.y - py)
        x1, y1 = min(w, b.x + b.width + px), min(h, b.y + b.height + py)
        if x1 <= x0 or y1 <= y0:
            continue
        roi = out[y0:y1, x0:x1]
        k = max(3, (max(x1 - x0, y1 - y0) // 4) | 1)
        small = cv2.resize(roi, (max(1, (x1 - x0) // 12), max(1, (y1 - y0) // 12)), interpolation=cv2.INTER_AREA)
        pixelated = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(pixelated, (k, k), 0)
    return out


# --------------------------------------------------------------------------- prepare


def prepare_for_model(photo: LoadedPhoto, policy: PhotoPolicy | None = None) -> PreparedImage:
    """Downscale, optionally blur faces, re-encode as JPEG (no EXIF, no GPS)."""
    policy = policy or PhotoPolicy()
    image = resize_long_side(photo.image, policy.long_side)
    faces = 0
    if policy.blur_faces:
        boxes = detect_faces(image)
        if boxes:
            image = blur_regions(image, boxes)
            faces = len(boxes)
    data = encode_jpeg(image, policy.jpeg_quality)
    h, w = image.shape[:2]
    return PreparedImage(photo_id=photo.id, media_type="image/jpeg", width=w, height=h, data=data, faces_blurred=faces)
