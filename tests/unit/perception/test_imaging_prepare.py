"""Preparing photos for a model: downsizing, JPEG re-encoding without EXIF/GPS, face blurring, annotation."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from perception_fakes import jpeg, text_photo

from assistant.config import PhotoPolicy
from assistant.domain import Box, Observation, ObservationKind
from assistant.imaging import (
    annotate,
    blur_regions,
    detect_faces,
    face_detector_available,
    load_photo,
    prepare_for_model,
)


def gps_jpeg(w=3000, h=2000) -> bytes:
    arr = cv2.cvtColor(cv2.resize(text_photo([("FAULT F004", 2.0)]), (w, h)), cv2.COLOR_BGR2RGB)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:11:22 03:00:00"
    gps = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 7.25)}
    exif[0x8825] = gps  # GPS IFD
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", exif=exif.tobytes(), quality=90)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "fixture must carry GPS"
    return data


def test_prepare_downsizes_and_strips_exif_and_gps():
    photo = load_photo(gps_jpeg(), "gps.jpg")
    prepared = prepare_for_model(photo, PhotoPolicy())
    assert max(prepared.width, prepared.height) == 1568
    assert prepared.photo_id == photo.id and prepared.media_type == "image/jpeg"
    assert prepared.byte_count == len(prepared.data) > 1000
    out = Image.open(io.BytesIO(prepared.data))
    assert out.format == "JPEG" and out.size == (prepared.width, prepared.height)
    exif = out.getexif()
    assert len(exif) == 0 and not exif.get_ifd(0x8825)
    assert b"Exif" not in prepared.data[:4096] and b"PhoneMaker" not in prepared.data


def test_prepare_respects_policy_and_never_upscales():
    photo = load_photo(jpeg(text_photo([("A12", 2.0)], size=(800, 600))), "small.jpg")
    prepared = prepare_for_model(photo, PhotoPolicy(long_side=1024, jpeg_quality=60))
    assert (prepared.width, prepared.height) == (800, 600)
    big = load_photo(gps_jpeg(2400, 1600), "big.jpg")
    p2 = prepare_for_model(big, PhotoPolicy(long_side=1024))
    assert (p2.width, p2.height) == (1024, 683)


def test_blur_regions_changes_only_the_region():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (400, 600, 3), dtype=np.uint8)
    box = Box(x=200, y=100, width=120, height=150)
    out = blur_regions(img, [box], pad=0.0)
    inside = (slice(100, 250), slice(200, 320))
    assert np.abs(out[inside].astype(int) - img[inside].astype(int)).mean() > 30  # detail destroyed
    assert out[inside].std() < img[inside].std() / 3
    mask = np.ones(img.shape[:2], bool)
    mask[inside] = False
    assert np.array_equal(out[mask], img[mask])  # nothing else touched
    assert not np.array_equal(out, img)


def test_face_blurring_when_a_detector_is_available():
    if not face_detector_available():
        pytest.skip("this OpenCV build ships no face detector (OpenCV 5 dropped the Haar cascades; "
                    "set FIELDLENS_FACE_MODEL to a YuNet ONNX file to enable it)")
    img = np.full((480, 640, 3), 180, np.uint8)
    assert detect_faces(img) == []


def test_blur_faces_without_detector_leaves_photo_unblurred_and_says_so():
    photo = load_photo(jpeg(text_photo([("F004", 2.0)])), "p.jpg")
    prepared = prepare_for_model(photo, PhotoPolicy(blur_faces=True))
    if not face_detector_available():
        assert prepared.faces_blurred == 0


def test_annotate_draws_boxes_on_a_copy():
    img = text_photo([("ALARM E-21", 2.0)])
    before = img.copy()
    obs = [Observation(photo="p", kind=ObservationKind.FAULT_CODE, value="E-21", confidence=0.9,
                       box=Box(x=50, y=60, width=400, height=90)),
           Observation(photo="p", kind=ObservationKind.TEXT, value="no box", confidence=0.5)]
    data = annotate(img, obs)
    assert np.array_equal(img, before)
    drawn = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == img.shape
    edge = drawn[100, 50:53].astype(int)  # left edge of the box: red-ish (BGR)
    assert edge[:, 2].mean() > 150 and edge[:, 0].mean() < 120
    assert np.abs(drawn[600:700, 600:700].astype(int) - img[600:700, 600:700].astype(int)).mean() < 4
