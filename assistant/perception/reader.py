"""The on-device read of one photo: quality, OCR, asset tags, nameplate fields
and fault codes, composed into a `domain.PhotoReading` with per-stage timings.

Raises image_* (quality) and reading_uncertain flags; whether the equipment is
identified is for the caller to decide (equipment_unidentified is not raised here).
"""

from __future__ import annotations

import time

import cv2


from assistant.domain import Box, Observation, ObservationKind, Photo, PhotoReading
from assistant.imaging.load import LoadedPhoto
from assistant.imaging.quality import LOW_RESOLUTION_LONG_SIDE, assess_quality
from assistant.perception.catalog import CatalogLookup
from assistant.perception import display
from assistant.perception.codes import CodeMatcher, find_display_regions, read_codes
from assistant.perception.nameplate import read_nameplate_upright
from assistant.perception.ocr import DEFAULT_MAX_SIDE, OcrLine, run_ocr
from assistant.perception.segments import read_segments
from assistant.perception.tags import read_tags, tag_equipment

WORK_SIDE = 2048  # every stage works on a copy no larger than this; boxes are mapped back
TIGHT_SIDE = 120  # a photo whose short side is below this is a crop of a display, not a camera view
TIGHT_SCALE_TO = 160  # such a crop is upscaled to about this short side before it is read


# The order readings are reported in: a fault code is what the technician came for, then what names
# the machine, then the values on its display.
_KIND_ORDER = {kind: rank for rank, kind in enumerate((
    ObservationKind.FAULT_CODE, ObservationKind.UNKNOWN_CODE, ObservationKind.ASSET_TAG,
    ObservationKind.NAMEPLATE, ObservationKind.DISPLAY_VALUE, ObservationKind.TEXT))}


def _text_observations(lines: list[OcrLine], photo_id: str, source: str = "ocr") -> list[Observation]:
    return [Observation(photo=photo_id, kind=ObservationKind.TEXT, value=ln.text, raw=ln.text,
                        confidence=round(min(1.0, max(0.0, ln.confidence)), 4), box=ln.box, source=source)
            for ln in lines]


def _scale_box(obs: Observation, factor: float, w: int, h: int) -> Observation:
    if obs.box is None or factor == 1.0:
        return obs
    b = obs.box
    x0, y0 = int(b.x / factor), int(b.y / factor)
    x1, y1 = min(w, int(round((b.x + b.width) / factor))), min(h, int(round((b.y + b.height) / factor)))
    return obs.model_copy(update={"box": b.model_copy(update={"x": x0, "y": y0, "width": max(1, x1 - x0),
                                                              "height": max(1, y1 - y0)})})


def _barcode_digits(obs: Observation, tags: list[Observation]) -> bool:
    """A display value that is a run of a decoded barcode's digits: the human-readable line
    printed under the bars, not a value shown by a display."""
    digits = obs.value.replace(" ", "")
    return (not obs.unit and digits.isdigit() and len(digits) >= 4
            and any(digits in t.value.replace(" ", "") for t in tags if len(t.value) >= 8))


def read_photo(photo: LoadedPhoto, catalog: CatalogLookup | None, equipment_id: str | None = None, *,
               ocr_side: int = DEFAULT_MAX_SIDE, display_pass: bool = True) -> PhotoReading:
    """Everything that can be read off `photo` on the device."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round((now - since) * 1000, 1)
        return now

    h, w = photo.image.shape[:2]
    work = photo.image
    tight = min(h, w) < TIGHT_SIDE
    if tight:  # a crop of the display itself: read it at a size OCR and the segment reader work at
        up = min(6.0, TIGHT_SCALE_TO / min(h, w))
        work = cv2.resize(work, (round(w * up), round(h * up)), interpolation=cv2.INTER_CUBIC)
    while max(work.shape[:2]) > WORK_SIDE:  # exact halving: INTER_AREA's fast integer path
        work = cv2.resize(work, (work.shape[1] // 2, work.shape[0] // 2), interpolation=cv2.INTER_AREA)
    factor = work.shape[1] / w
    wh, ww = work.shape[:2]
    t = lap("resize", t0)

    quality = assess_quality(photo.image if tight else work, photo.id)
    quality = quality.model_copy(update={"width": w, "height": h})
    if max(h, w) >= LOW_RESOLUTION_LONG_SIDE:  # low resolution judged on the original, not the working copy
        quality.flags = [f for f in quality.flags if f.code.value != "image_low_resolution"]
    t = lap("quality", t)

    if tight:  # digits that fill the frame touch its edges: give the text detector a margin
        pad = TIGHT_SCALE_TO // 4
        padded = cv2.copyMakeBorder(work, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        lines = run_ocr(padded, key=photo.id, scale=1.0, offset=(-pad, -pad), limit=(ww, wh))
    else:
        lines = run_ocr(work, max_side=ocr_side, key=photo.id)
    t = lap("ocr", t)

    tags = read_tags(work, photo.id, catalog)
    t = lap("tags", t)

    plate, plate_flags, plate_equipment = read_nameplate_upright(work, lines, photo.id, catalog)
    t = lap("nameplate", t)

    whole = Box(x=0, y=0, width=ww, height=wh)
    regions = find_display_regions(work, limit=3)
    if tight:
        regions = [whole] + regions[:2]  # the photo is the display
    segs = read_segments(work, regions + ([] if tight else [whole]))
    displays = regions + [s.box for s in segs]
    t = lap("seven_segment", t)

    scope = equipment_id or tag_equipment(tags) or plate_equipment
    known: set[str] = set()
    if catalog is not None:
        known = set(catalog.known_codes(scope)) if scope else set()
        if not known:
            known = set(catalog.known_codes(None))
    codes = read_codes(work, lines, known, photo.id, equipment_id=equipment_id or scope, key=photo.id,
                       allow_display_pass=display_pass, displays=displays, seven_segment=[s.box for s in segs],
                       display_regions=regions[:2])
    t = lap("codes", t)

    shown = display.combine(segs, lines, displays, second_pass=codes.display_lines)
    shown_obs, shown_flags = display.observations(shown, list(lines) + codes.display_lines, CodeMatcher(known),
                                                  photo.id, equipment_id or scope)
    shown_obs, code_obs = display.merge_codes(shown_obs, codes.observations)
    shown_obs = [o for o in shown_obs if not _barcode_digits(o, tags)]
    lap("display", t)

    observations = [_scale_box(o, factor, w, h) for o in shown_obs + code_obs + tags + plate]
    observations.sort(key=lambda o: _KIND_ORDER.get(o.kind, len(_KIND_ORDER)))  # stable: what matters first
    text_lines = [_scale_box(o, factor, w, h) for o in _text_observations(lines, photo.id)]
    flags = list(quality.flags) + codes.flags + shown_flags + plate_flags
    timings["total"] = round((time.perf_counter() - t0) * 1000, 1)
    return PhotoReading(
        photo=Photo(id=photo.id, filename=photo.filename, media_type=photo.media_type, width=w, height=h,
                    quality=quality),
        quality=quality,
        observations=observations,
        text_lines=text_lines,
        flags=flags,
        timings_ms=timings,
    )


__all__ = ["read_photo"]
