"""Loading photos: real formats sniffed from bytes, EXIF orientation, size limits, broken input."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from assistant.errors import UnreadablePhoto
from assistant.imaging import load_photo, sniff_media_type


def _pil_image(w=64, h=48) -> Image.Image:
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (255, 0, 0)  # left half red (RGB)
    arr[:, w // 2:] = (0, 0, 255)  # right half blue
    return Image.fromarray(arr)


def _encode(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    _pil_image().save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,media", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"),
                                       ("BMP", "image/bmp"), ("TIFF", "image/tiff")])
def test_loads_each_format_as_bgr(fmt, media):
    data = _encode(fmt)
    photo = load_photo(data, "p")
    assert photo.media_type == media
    assert (photo.width, photo.height) == (64, 48)
    assert photo.id == hashlib.sha256(data).hexdigest()
    b, g, r = photo.image[24, 5].astype(int)
    assert r > 200 and b < 60  # red stays red: channels are BGR
    b, g, r = photo.image[24, 60].astype(int)
    assert b > 200 and r < 60


def test_loads_heic():
    pillow_heif = pytest.importorskip("pillow_heif")
    heif = pillow_heif.from_pillow(_pil_image())
    buf = io.BytesIO()
    heif.save(buf, quality=90)
    data = buf.getvalue()
    assert sniff_media_type(data) in ("image/heic", "image/heif")
    photo = load_photo(data, "ipad.heic")
    assert (photo.width, photo.height) == (64, 48)
    assert photo.image[24, 5, 2] > 180  # red channel on the left


def test_sniffs_content_not_extension(tmp_path):
    path = tmp_path / "photo.png"  # actually a JPEG
    path.write_bytes(_encode("JPEG"))
    photo = load_photo(path)
    assert photo.media_type == "image/jpeg" and photo.filename == "photo.png"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    _pil_image().save(buf, format=fmt, exif=exif.tobytes())
    photo = load_photo(buf.getvalue(), "rot")
    assert (photo.width, photo.height) == (48, 64)
    # stored left half red -> displayed top half red
    assert photo.image[5, 24, 2] > 200 and photo.image[60, 24, 0] > 200


def _png_with_size(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims w x h pixels (a decompression-bomb header)."""
    small = io.BytesIO()
    Image.new("L", (8, 8)).save(small, format="PNG")
    data = bytearray(small.getvalue())
    ihdr = data[12:29]  # b'IHDR' + 13 bytes
    ihdr[4:12] = struct.pack(">II", w, h)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


def test_refuses_decompression_bomb_before_decoding():
    with pytest.raises(UnreadablePhoto, match="too large"):
        load_photo(_png_with_size(20000, 20000), "bomb.png")  # 400 MP


def test_pixel_limit_is_configurable():
    with pytest.raises(UnreadablePhoto, match="bomb.jpg is too large"):
        load_photo(_encode("JPEG"), "bomb.jpg", max_pixels=1000)


def test_truncated_jpeg_is_refused_with_the_file_name():
    data = _encode("JPEG")
    with pytest.raises(UnreadablePhoto, match=r"cut\.jpg.*(truncated|damaged)"):
        load_photo(data[: len(data) // 2], "cut.jpg")


def test_truncated_png_is_refused():
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(buf, "PNG")
    data = buf.getvalue()
    with pytest.raises(UnreadablePhoto, match="cut.png"):
        load_photo(data[: len(data) // 2], "cut.png")


def test_zero_bytes_text_and_missing_files(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnreadablePhoto, match="empty.jpg is empty"):
        load_photo(empty)
    notes = tmp_path / "notes.jpg"
    notes.write_text("pump was noisy on Monday\n")
    with pytest.raises(UnreadablePhoto, match="notes.jpg is not an image"):
        load_photo(notes)
    with pytest.raises(UnreadablePhoto, match="gone.jpg does not exist"):
        load_photo(tmp_path / "gone.jpg")
    with pytest.raises(UnreadablePhoto, match="is a folder"):
        load_photo(tmp_path)


def test_corrupt_jpeg_body():
    data = bytearray(_encode("JPEG"))
    sos = data.find(b"\xff\xda")
    data[sos + 20: sos + 60] = b"\xff\x00" * 20  # garbage scan data, markers intact
    try:
        photo = load_photo(bytes(data), "noisy.jpg")
    except UnreadablePhoto as exc:
        assert "noisy.jpg" in str(exc)
    else:  # a decoder may recover a damaged scan; it must still be a real image
        assert photo.image.shape == (48, 64, 3)
