"""Quality flags on synthetic photos: sharp, blurry, dark, overexposed, glare, low resolution."""

from __future__ import annotations

import cv2
import numpy as np
from perception_fakes import text_photo

from assistant.domain import FlagCode, Severity
from assistant.imaging import assess_quality


def codes(report) -> set[FlagCode]:
    return {f.code for f in report.flags}


def sharp() -> np.ndarray:
    return text_photo([("ALARM E-21", 2.0), ("Model CP-40 S/N 123", 1.2), ("400 V 50 Hz 7.5 kW", 1.2)])


def test_sharp_well_lit_photo_has_no_flags():
    report = assess_quality(sharp())
    assert codes(report) == set(), report
    assert report.sharpness > 100 and 60 < report.brightness < 240


def test_blurry_photo_is_flagged_with_a_retake_hint():
    report = assess_quality(cv2.GaussianBlur(sharp(), (0, 0), 6), photo_id="p1")
    assert FlagCode.IMAGE_BLURRY in codes(report)
    flag = next(f for f in report.flags if f.code == FlagCode.IMAGE_BLURRY)
    assert flag.severity == Severity.WARNING and "retake" in flag.message.lower() and flag.photo == "p1"


def test_dark_photo_is_flagged():
    report = assess_quality((sharp() * 0.12).astype(np.uint8))
    assert FlagCode.IMAGE_DARK in codes(report)


def test_overexposed_photo_is_flagged():
    img = sharp()
    img[:, : img.shape[1] // 2] = 255
    report = assess_quality(img)
    assert FlagCode.IMAGE_OVEREXPOSED in codes(report)


def test_glare_blob_is_flagged():
    img = sharp()
    cv2.circle(img, (600, 400), 160, (255, 255, 255), -1)
    report = assess_quality(img)
    assert FlagCode.IMAGE_GLARE in codes(report) and report.glare_fraction > 0.03
    assert FlagCode.IMAGE_OVEREXPOSED not in codes(report)


def test_low_resolution_is_flagged():
    small = cv2.resize(sharp(), (240, 180), interpolation=cv2.INTER_AREA)
    report = assess_quality(small)
    assert FlagCode.IMAGE_LOW_RESOLUTION in codes(report)
    assert (report.width, report.height) == (240, 180)
    vga = assess_quality(cv2.resize(sharp(), (640, 480), interpolation=cv2.INTER_AREA))
    assert FlagCode.IMAGE_LOW_RESOLUTION not in codes(vga)  # real 640x480 photos read fine


def test_metrics_do_not_depend_much_on_resolution():
    big = cv2.resize(sharp(), (2048, 1536), interpolation=cv2.INTER_CUBIC)
    a, b = assess_quality(sharp()), assess_quality(big)
    assert abs(a.brightness - b.brightness) < 3
