"""Safe photo loading: sniff the real format from the bytes, refuse decompression
bombs from the header before decoding, decode with EXIF orientation applied, and
turn every kind of broken input into one plain `UnreadablePhoto` sentence.

Owns `LoadedPhoto` (the decoded photo every later stage works on) and
`load_photo`. Nothing here talks to the library or the sessions store.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from assistant.errors import UnreadablePhoto
from assistant.limits import quiet_native_stderr

MAX_PIXELS = 64_000_000  # 64 MP: larger than any phone or tablet camera, small enough to decode safely
MAX_BYTES = 80 * 1024 * 1024
DECODE_PIXELS = 16_000_000  # photos are worked on at no more than this (a 16 MP photo reads as well as 64 MP)
MAX_SIDE = 8192  # and no side longer than this (a 20000x20 strip would make every later stage allocate widely)
MAX_ASPECT = 40  # a photo of a machine is not a 1:40 strip; such a file is refused before decoding

_heif_registered = False


def _register_heif() -> bool:
    global _heif_registered
    if not _heif_registered:
        try:
            import pillow_heif
        except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
            return False
        pillow_heif.register_heif_opener()
        _heif_registered = True
    return True


@dataclass(eq=False)
class LoadedPhoto:
    """A decoded photo. `image` is BGR uint8 with EXIF orientation applied; `id` is the
    sha256 of the original bytes (the photo's identity everywhere)."""

    id: str
    data: bytes = field(repr=False)
    image: np.ndarray = field(repr=False)
    media_type: str
    width: int
    height: int
    filename: str = ""


def sniff_media_type(data: bytes) -> str | None:
    """The real media type from the magic bytes, or None when it is not an image we read."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"):
            return "image/heic"
        if brand in (b"mif1", b"msf1"):
            return "image/heif"
        if brand in (b"avif", b"avis"):
            return "image/avif"
        return None
    if head[:2] == b"BM":
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def _name(filename: str) -> str:
    return f"The photo {filename}" if filename else "The photo"


def load_photo(source: Path | str | bytes, filename: str = "", *, max_pixels: int = MAX_PIXELS) -> LoadedPhoto:
    """Read and decode a photo from a path or bytes. Raises `UnreadablePhoto`."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        try:
            size = _regular_size(path)  # FIFOs, devices and folders are refused before anything opens them
            if size > MAX_BYTES:
                raise UnreadablePhoto(f"{_name(filename)} is too large to open ({size // 2**20} MB).")
            with path.open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)  # bounded even if the file grows meanwhile
        except FileNotFoundError:
            raise UnreadablePhoto(f"{_name(filename)} does not exist.") from None
        except IsADirectoryError:
            raise UnreadablePhoto(f"{_name(filename)} is a folder, not a photo.") from None
        except OSError as exc:
            raise UnreadablePhoto(f"{_name(filename)} cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    else:
        data = bytes(source)
    who = _name(filename)
    if not data:
        raise UnreadablePhoto(f"{who} is empty (zero bytes).")
    if len(data) > MAX_BYTES:
        raise UnreadablePhoto(f"{who} is too large to open ({len(data) // 2**20} MB).")
    media_type = sniff_media_type(data)
    if media_type is None:
        raise UnreadablePhoto(f"{who} is not an image Fieldlens can read (use JPEG, PNG, WebP or HEIC).")
    if media_type in ("image/heic", "image/heif", "image/avif"):
        _register_heif()

    width, height = _header_size(data, who)
    if width <= 0 or height <= 0:
        raise UnreadablePhoto(f"{who} has no pixels.")
    if width * height > max_pixels:
        raise UnreadablePhoto(
            f"{who} is too large ({width}x{height} pixels, more than {max_pixels // 1_000_000} megapixels)."
        )

    if max(width, height) > MAX_ASPECT * min(width, height):
        raise UnreadablePhoto(f"{who} is a {width}x{height} strip, not a photo Fieldlens can read.")
    if media_type == "image/jpeg":
        image = _decode_jpeg(data, who, width * height)
    else:
        image = _decode_pillow(data, who)
    image = _bounded(image)
    h, w = image.shape[:2]
    return LoadedPhoto(
        id=hashlib.sha256(data).hexdigest(),
        data=data,
        image=image,
        media_type=media_type,
        width=w,
        height=h,
        filename=filename,
    )


def _regular_size(path: Path) -> int:
    from assistant.errors import MalformedFile
    from assistant.limits import regular_file_size

    try:
        return regular_file_size(path, "a photo")
    except MalformedFile as exc:
        raise UnreadablePhoto(f"The photo {exc}") from None


def _header_size(data: bytes, who: str) -> tuple[int, int]:
    """Width and height from the header only (Pillow opens lazily)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                return im.size
    except Image.DecompressionBombError:
        raise UnreadablePhoto(f"{who} is too large (more than {MAX_PIXELS // 1_000_000} megapixels).") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise UnreadablePhoto(f"{who} is damaged or not a real image.") from None


def _jpeg_complete(data: bytes) -> bool:
    """A JPEG is complete when an end-of-image marker follows its last scan."""
    sos = data.rfind(b"\xff\xda")
    eoi = data.rfind(b"\xff\xd9")
    return sos >= 0 and eoi > sos


def _decode_jpeg(data: bytes, who: str, pixels: int) -> np.ndarray:
    if not _jpeg_complete(data):
        raise UnreadablePhoto(f"{who} is truncated or damaged (the file ends too early).")
    buf = np.frombuffer(data, dtype=np.uint8)
    # Big photos are decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself: memory stays near DECODE_PIXELS.
    flag = cv2.IMREAD_COLOR  # IMREAD_COLOR and IMREAD_REDUCED_COLOR_* apply the EXIF orientation
    for reduced, factor in ((cv2.IMREAD_REDUCED_COLOR_8, 8), (cv2.IMREAD_REDUCED_COLOR_4, 4),
                            (cv2.IMREAD_REDUCED_COLOR_2, 2)):
        if pixels / (factor * factor) >= DECODE_PIXELS:
            flag = reduced
            break
    with quiet_native_stderr("libjpeg"):  # "Corrupt JPEG data" warnings go to the log, not the terminal
        image = cv2.imdecode(buf, flag)
    if image is None:
        raise UnreadablePhoto(f"{who} is damaged and cannot be decoded.")
    return image


def _decode_pillow(data: bytes, who: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im, quiet_native_stderr("image decoder"):
                im.load()
                factor = int(np.ceil((im.width * im.height / DECODE_PIXELS) ** 0.5))
                if factor > 1:  # shrink before the colour conversions copy it
                    im = im.reduce(factor)
                im = ImageOps.exif_transpose(im)
                if im.mode not in ("RGB", "L"):
                    im = im.convert("RGBA").convert("RGB") if "A" in im.getbands() else im.convert("RGB")
                arr = np.asarray(im)
    except Image.DecompressionBombError:
        raise UnreadablePhoto(f"{who} is too large to decode safely.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise UnreadablePhoto(f"{who} is truncated or damaged and cannot be decoded.") from None
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)


def _bounded(image: np.ndarray) -> np.ndarray:
    """Downscale (INTER_AREA) so the photo has at most DECODE_PIXELS and no side over MAX_SIDE."""
    h, w = image.shape[:2]
    scale = min(1.0, (DECODE_PIXELS / (w * h)) ** 0.5, MAX_SIDE / max(w, h))
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
