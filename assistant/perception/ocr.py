"""OCR with rapidocr (bundled PP-OCR weights): one process-wide engine created
lazily (`warm_up()` creates it and runs it once), text lines with their box in
the original photo's pixels and their confidence, and a cache of results keyed
by image hash (in-process LRU, optionally backed by a diskcache directory).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from assistant.domain import Box

DEFAULT_MAX_SIDE = 1152  # OCR input long side: display and nameplate text stay legible; det memory ~ area

_engine = None
_engine_lock = threading.Lock()
_run_lock = threading.Lock()  # rapidocr keeps per-call settings on the engine: one call at a time
_cache: OrderedDict[str, list[OcrLine]] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 256
_disk = None


@dataclass(frozen=True)
class OcrLine:
    """One line of text: what was read, how sure, and where (original-photo pixels)."""

    text: str
    confidence: float
    box: Box
    quad: tuple[tuple[float, float], ...] = ()

    def to_json(self) -> dict:
        return {"text": self.text, "confidence": self.confidence, "box": self.box.model_dump(),
                "quad": [list(p) for p in self.quad]}

    @classmethod
    def from_json(cls, d: dict) -> OcrLine:
        return cls(d["text"], float(d["confidence"]), Box(**d["box"]), tuple(tuple(p) for p in d.get("quad", ())))


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def get_engine():
    """The process-wide rapidocr engine, created on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                from rapidocr import RapidOCR

                # "No text found" is a normal result here, not something to print on the technician's terminal.
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)
                _engine = RapidOCR(params={
                    "Global.log_level": "error",
                    "Global.max_side_len": 2048,
                    "Det.limit_type": "max",  # we size inputs ourselves: never upscale crops to 736 px
                    "Det.limit_side_len": 1536,
                    "EngineConfig.onnxruntime.intra_op_num_threads": _threads(),
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                })
    return _engine


def warm_up() -> None:
    """Create the engine and run it once on a small image with text, so the first real read is fast."""
    img = np.full((96, 320, 3), 255, np.uint8)
    cv2.putText(img, "F004 230V", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    engine = get_engine()
    with _run_lock:
        engine(img)


def set_cache_dir(directory: Path | str | None) -> None:
    """Back the OCR cache with a diskcache directory (None: in-process only)."""
    global _disk
    if _disk is not None:
        _disk.close()
        _disk = None
    if directory is not None:
        import diskcache

        Path(directory).mkdir(parents=True, exist_ok=True)
        _disk = diskcache.Cache(str(directory), size_limit=256 * 2**20)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def image_key(image: np.ndarray) -> str:
    h = hashlib.sha1(np.ascontiguousarray(image).data)
    h.update(str(image.shape).encode())
    return h.hexdigest()


def _quad_to_box(quad: np.ndarray, scale: float, offset: tuple[int, int], limit: tuple[int, int]) -> Box:
    xs = quad[:, 0] / scale + offset[0]
    ys = quad[:, 1] / scale + offset[1]
    x0, y0 = max(0, int(np.floor(xs.min()))), max(0, int(np.floor(ys.min())))
    x1, y1 = min(limit[0], int(np.ceil(xs.max()))), min(limit[1], int(np.ceil(ys.max())))
    return Box(x=x0, y=y0, width=max(1, x1 - x0), height=max(1, y1 - y0))


def run_ocr(image: np.ndarray, *, max_side: int = DEFAULT_MAX_SIDE, key: str | None = None,
            scale: float | None = None, offset: tuple[int, int] = (0, 0),
            limit: tuple[int, int] | None = None, min_score: float = 0.3) -> list[OcrLine]:
    """OCR `image` (BGR or grey). Boxes are mapped back by `scale` (image px per original px,
    computed from `max_side` when None) and `offset` into the original photo, clipped to `limit`
    (w, h). `key` identifies the image content for the cache (e.g. the photo's sha256)."""
    h, w = image.shape[:2]
    limit = limit or (w, h)
    if scale is None:
        s = min(1.0, max_side / max(h, w))
        work = image if s >= 1.0 else cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        scale_used = s
    else:
        work, scale_used = image, scale
    cache_key = None
    if key is not None:
        cache_key = f"ocr1:{key}:{max_side}:{scale_used:.5f}:{offset}:{limit}:{min_score}"
        with _cache_lock:
            hit = _cache.get(cache_key)
            if hit is not None:
                _cache.move_to_end(cache_key)
                return list(hit)
        if _disk is not None:
            stored = _disk.get(cache_key)
            if stored is not None:
                lines = [OcrLine.from_json(d) for d in stored]
                _remember(cache_key, lines)
                return lines
    if work.ndim == 2:
        work = cv2.cvtColor(work, cv2.COLOR_GRAY2BGR)
    engine = get_engine()
    with _run_lock:
        result = engine(np.ascontiguousarray(work), text_score=min_score)
    lines: list[OcrLine] = []
    boxes = getattr(result, "boxes", None)
    txts = getattr(result, "txts", None)
    scores = getattr(result, "scores", None)
    if boxes is not None and txts:
        for quad, text, score in zip(boxes, txts, scores, strict=False):
            text = str(text).strip()
            if not text:
                continue
            q = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
            pts = tuple((round(float(x) / scale_used + offset[0], 1), round(float(y) / scale_used + offset[1], 1))
                        for x, y in q)
            lines.append(OcrLine(text, round(float(score), 4), _quad_to_box(q, scale_used, offset, limit), pts))
    if cache_key is not None:
        _remember(cache_key, lines)
        if _disk is not None:
            _disk.set(cache_key, [ln.to_json() for ln in lines])
    return lines


def _remember(key: str, lines: list[OcrLine]) -> None:
    with _cache_lock:
        _cache[key] = list(lines)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
