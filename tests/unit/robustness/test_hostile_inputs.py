"""Hand-made hostile inputs through `fieldlens inspect` and `fieldlens library add`, each in its own child
process: non-regular files (a FIFO, /dev/zero, a folder), images whose header promises absurd sizes,
oversized text, PDFs with huge pages. Each is read or refused within the product's limits (20 s, 1 GB)
with exactly one stderr sentence when refused."""

from __future__ import annotations

import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from harness import MAX_PEAK_MB, MAX_SECONDS, run_fieldlens


def _within_limits(run) -> None:
    assert run.seconds < MAX_SECONDS, f"{run.seconds:.1f} s"
    assert run.peak_mb < MAX_PEAK_MB, f"{run.peak_mb:.0f} MB"
    assert "Traceback" not in run.stderr


def _refused(run, *words: str) -> str:
    _within_limits(run)
    assert run.status == 2, (run.status, run.stderr[-1500:])
    line = run.one_sentence()
    for word in words:
        assert word in line, line
    return line


# ---------------------------------------------------------------------------- photos


def test_fifo_photo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "camera.jpg"
    os.mkfifo(fifo)
    _refused(run_fieldlens(tmp_path / "home", "inspect", str(fifo), timeout=30), "named pipe")


def test_device_and_folder_photos_are_refused(tmp_path):
    _refused(run_fieldlens(tmp_path / "home", "inspect", "/dev/zero", timeout=30), "device")
    _refused(run_fieldlens(tmp_path / "home", "inspect", str(tmp_path), timeout=30), "folder")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header promises width x height, with one tiny compressed row of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def test_strip_and_absurd_headers_are_refused_before_decoding(tmp_path):
    strip = tmp_path / "strip.png"
    cv2.imwrite(str(strip), np.zeros((20, 20000, 3), np.uint8))
    _refused(run_fieldlens(tmp_path / "home", "inspect", str(strip)), "20000x20")
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(60000, 60000))
    _refused(run_fieldlens(tmp_path / "home", "inspect", str(huge)), "too large")


def test_jpeg_header_of_8000x8000_without_its_data_is_refused(tmp_path):
    ok, encoded = cv2.imencode(".jpg", np.full((8000, 8000, 3), 127, np.uint8))
    head = tmp_path / "header-only.jpg"
    head.write_bytes(encoded.tobytes()[:4096])
    _refused(run_fieldlens(tmp_path / "home", "inspect", str(head)), "truncated")


def test_real_8000x8000_jpeg_is_read_reduced_within_limits(tmp_path):
    rng = np.random.default_rng(16)
    image = cv2.resize(rng.integers(0, 255, (500, 500, 3), dtype=np.uint8), (8000, 8000),
                       interpolation=cv2.INTER_NEAREST)
    photo = tmp_path / "big.jpg"
    cv2.imwrite(str(photo), image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    run = run_fieldlens(tmp_path / "home", "inspect", str(photo), "--json")
    _within_limits(run)
    assert run.status == 0 and not run.stderr_lines(), run.stderr[-1500:]


def test_corrupt_jpeg_prints_only_fieldlens(tmp_path):
    """libjpeg prints 'Corrupt JPEG data' from C on fd 2; none of it may reach the terminal."""
    ok, encoded = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))
    data = bytearray(encoded.tobytes())
    sos = data.find(b"\xff\xda")
    data[sos + 40: sos + 400] = bytes(range(256)) + bytes(104)  # garbage entropy data, markers included
    photo = tmp_path / "corrupt.jpg"
    photo.write_bytes(bytes(data))
    run = run_fieldlens(tmp_path / "home", "inspect", str(photo))
    _within_limits(run)
    assert "Corrupt JPEG" not in run.stderr and "libjpeg" not in run.stderr
    assert run.status == 0 and not run.stderr_lines() or run.status == 2 and run.one_sentence()
    log = tmp_path / "home" / "logs" / "fieldlens.log"
    assert run.status == 2 or "libjpeg" in log.read_text()  # caught and logged


# ---------------------------------------------------------------------------- documents


def test_fifo_device_and_folder_documents_are_refused(tmp_path):
    fifo = tmp_path / "manual.md"
    os.mkfifo(fifo)
    _refused(run_fieldlens(tmp_path / "home", "library", "add", str(fifo), timeout=30), "named pipe")
    _refused(run_fieldlens(tmp_path / "home", "library", "add", "/dev/zero", timeout=30), "device")
    _refused(run_fieldlens(tmp_path / "home", "library", "add", str(tmp_path), timeout=30), "folder")


def test_30_mb_text_is_refused_by_its_size_limit(tmp_path):
    text = tmp_path / "log.txt"
    with text.open("w") as fh:
        for _ in range(480_000):
            fh.write("Fault E21 means the discharge temperature is high. Check the fan.\n")
    _refused(run_fieldlens(tmp_path / "home", "library", "add", str(text)), "too large", "16 MB")


def test_huge_yaml_work_instruction_is_refused_by_its_size_limit(tmp_path):
    wi = tmp_path / "wi.yaml"
    wi.write_text("title: Huge\nsteps:\n" + "".join(f"  - text: Step {i} check the seal\n" for i in range(200_000)))
    _refused(run_fieldlens(tmp_path / "home", "library", "add", str(wi)), "too large", "4 MB")


@pytest.mark.slow
def test_10_mb_one_line_markdown_is_read_within_limits(tmp_path):
    md = tmp_path / "one-line.md"
    md.write_text("word " * 2_000_000)
    run = run_fieldlens(tmp_path / "home", "library", "add", str(md), timeout=25)
    _within_limits(run)
    assert run.status in (0, 2)


def _pdf(objects: list[bytes]) -> bytes:
    """A minimal PDF from its numbered objects (1 = catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.6\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _scanned_page_pdf(media_box: tuple[float, float], user_unit: float | None = None) -> bytes:
    """One page holding only an image (a scan: no text layer), so ingest renders it for OCR."""
    pixels = bytes(np.full((64, 64), 200, np.uint8))
    image = zlib.compress(pixels)
    w, h = media_box
    unit = b" /UserUnit %g" % user_unit if user_unit else b""
    content = b"q %g 0 0 %g 0 0 cm /Im0 Do Q" % (w, h)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g]%s /Resources << /XObject << /Im0 4 0 R >> >> "
        b"/Contents 5 0 R >>" % (w, h, unit),
        b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % len(image) + image + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


def _memory_cap(limit_bytes: int = 3 * 1024**3):
    """Keep a child that tries to allocate gigabytes from taking them from everyone on this machine."""
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


@pytest.mark.slow
@pytest.mark.parametrize("name, box, unit", [
    pytest.param("page-200-inch.pdf", (14400, 14400), None),  # 200 x 200 inches
    pytest.param("page-userunit.pdf", (1000, 1000), 75.0),  # over 1000 inches
])
def test_scanned_pdf_with_a_huge_page_stays_within_limits(tmp_path, name, box, unit):
    pdf = tmp_path / name
    pdf.write_bytes(_scanned_page_pdf(box, unit))
    run = run_fieldlens(tmp_path / "home", "library", "add", str(pdf), timeout=60, preexec=_memory_cap())
    _within_limits(run)
    assert run.status in (0, 2) and (run.status == 0 or run.one_sentence())


@pytest.mark.slow
def test_many_glyph_pdf_stays_within_limits(tmp_path):
    """A page with 200,000 glyphs (tiny text): ingest reads it or refuses it, within the limits."""
    line = b"(F004 Overcurrent check the motor cable ) Tj 0 -1 Td " * 1
    content = b"BT /F1 1 Tf 1 0 0 1 0 790 Tm " + line * 5000 + b"ET"
    pdf = tmp_path / "glyphs.pdf"
    pdf.write_bytes(_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]))
    run = run_fieldlens(tmp_path / "home", "library", "add", str(pdf), timeout=60, preexec=_memory_cap())
    _within_limits(run)
    assert run.status in (0, 2) and (run.status == 0 or run.one_sentence())
