"""Photo quality metrics at a normalised size (long side 1024) and the soft
`image_*` flags they raise. Flags are prompts ("retake?"), never blockers.

Thresholds are set from the real photo set (tests/eval/perception/real_photos.py prints how
often each flag fires on photos read in full and on photos not read): a flag is raised only
where it predicts a failed read or a photo a person would retake. On 255 real display and
barcode photos, Laplacian variance and mean brightness barely separate read from unread
photos (a dark bezel or a plain label is not a bad photo), so those flags fire only at the
extremes a person would retake (about 3 % of the set); a saturated blob over 3 % of the photo
fires twice as often on unread photos; a long side under ~320 px fails 19 of 21 times, while
640x480 photos read fine.
"""

from __future__ import annotations

import cv2
import numpy as np

from assistant.domain import Flag, FlagCode, QualityReport, Severity

NORMALISED_LONG_SIDE = 1024
BLUR_VARIANCE = 45.0  # variance of the Laplacian below this: blurry (100 fired on a quarter of photos read fine)
DARK_MEAN = 45.0  # mean grey below this: dark (60 fired on dark-bezelled displays read fine)
OVEREXPOSED_FRACTION = 0.25  # more than this share of pixels >= 250: overexposed
GLARE_BLOB_FRACTION = 0.03  # largest saturated blob larger than this share: glare (fires 2x as often on unread photos)
LOW_RESOLUTION_LONG_SIDE = 320  # original long side below this: low resolution
SATURATED = 250


def normalised_grey(image: np.ndarray, long_side: int = NORMALISED_LONG_SIDE) -> np.ndarray:
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    scale = long_side / max(h, w)
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return grey


def assess_quality(image: np.ndarray, photo_id: str | None = None) -> QualityReport:
    """Quality metrics of a BGR (or grey) image and the soft flags they raise."""
    h, w = image.shape[:2]
    grey = normalised_grey(image)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    brightness = float(grey.mean())
    saturated = (grey >= SATURATED).astype(np.uint8)
    total = float(grey.size)
    overexposed = float(saturated.sum()) / total
    glare = 0.0
    if overexposed > 0:
        n, _labels, stats, _ = cv2.connectedComponentsWithStats(saturated, connectivity=8)
        if n > 1:
            glare = float(stats[1:, cv2.CC_STAT_AREA].max()) / total

    flags: list[Flag] = []

    def flag(code: FlagCode, message: str) -> None:
        flags.append(Flag(code=code, severity=Severity.WARNING, message=message, photo=photo_id))

    if max(h, w) < LOW_RESOLUTION_LONG_SIDE:
        flag(FlagCode.IMAGE_LOW_RESOLUTION,
             f"The photo is small ({w}x{h} pixels), so small text may not be readable: retake it closer or at full resolution?")
    if sharpness < BLUR_VARIANCE:
        flag(FlagCode.IMAGE_BLURRY, "The photo looks blurry, so readings may be wrong: retake it holding still?")
    if brightness < DARK_MEAN:
        flag(FlagCode.IMAGE_DARK, "The photo is dark, so readings may be wrong: retake it with more light?")
    if overexposed > OVEREXPOSED_FRACTION:
        flag(FlagCode.IMAGE_OVEREXPOSED, "Much of the photo is washed out: retake it with less light or no flash?")
    elif glare > GLARE_BLOB_FRACTION:
        flag(FlagCode.IMAGE_GLARE, "There is glare on the photo that may hide text: retake it from a slight angle?")
    return QualityReport(
        width=w,
        height=h,
        sharpness=round(sharpness, 2),
        brightness=round(brightness, 2),
        overexposed_fraction=round(overexposed, 4),
        glare_fraction=round(glare, 4),
        flags=flags,
    )
