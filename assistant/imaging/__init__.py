"""Imaging: safe loading (format sniffing, EXIF orientation, size limits),
quality metrics and soft flags, preparing a photo for a model (downscale,
re-encode, strip EXIF/GPS, optional face blurring) and annotated copies."""

from assistant.imaging.annotate import annotate
from assistant.imaging.load import MAX_PIXELS, LoadedPhoto, load_photo, sniff_media_type
from assistant.imaging.prepare import (
    blur_regions,
    detect_faces,
    face_detector_available,
    prepare_for_model,
    resize_long_side,
)
from assistant.imaging.quality import assess_quality

__all__ = [
    "MAX_PIXELS",
    "LoadedPhoto",
    "annotate",
    "assess_quality",
    "blur_regions",
    "detect_faces",
    "face_detector_available",
    "load_photo",
    "prepare_for_model",
    "resize_long_side",
    "sniff_media_type",
]
