"""Desktop capture with OpenCV: the frame grabber read from a real MJPG video
file (written here with cv2.VideoWriter from a demo photo), and the camera
sheet's desktop path handing its photo to the Home asset-tag scan."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from app.components.desktop_camera import CameraUnavailable, FrameGrabber, camera_source, encode_jpeg
from app.state import ServiceHost

FRAME_SIZE = (1280, 960)  # width, height
TAG_PHOTO = "vfd-vx500-asset-tag-qr.jpg"


def _frame_from(photo: Path, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    assert image is not None, photo
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def write_clip(out: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write MJPG .avi here"
    for f in frames:
        writer.write(f)
    writer.release()
    assert out.stat().st_size > 10_000
    return out


@pytest.fixture(scope="module")
def manifest(photos: Path) -> dict[str, dict]:
    return {m["file"]: m for m in json.loads((photos / "manifest.json").read_text())}


@pytest.fixture(scope="module")
def tag_frame(photos: Path) -> np.ndarray:
    return _frame_from(photos / TAG_PHOTO)


@pytest.fixture(scope="module")
def tag_clip(tmp_path_factory: pytest.TempPathFactory, tag_frame: np.ndarray) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "asset-tag.avi", [tag_frame] * 6)


@pytest.fixture(scope="module")
def mixed_clip(tmp_path_factory: pytest.TempPathFactory, photos: Path) -> Path:
    """Four different photos, one frame each: which one a preview shows tells where the clip is."""
    names = ["vfd-vx500-display-f004.jpg", "pump-cp40-nameplate.jpg", "scene-pipe-flange.jpg", TAG_PHOTO]
    return write_clip(tmp_path_factory.mktemp("clips") / "mixed.avi",
                      [_frame_from(photos / n, (640, 480)) for n in names])


def _decode(jpeg: bytes) -> np.ndarray:
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _plain(sentence: str) -> None:
    assert sentence.endswith(".") and "\n" not in sentence and "Traceback" not in sentence
    assert "cv2" not in sentence and "VIDEOIO" not in sentence


# --------------------------------------------------------------------------- source


def test_camera_source_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FIELDLENS_CAMERA", raising=False)
    assert camera_source() == 0
    monkeypatch.setenv("FIELDLENS_CAMERA", " 2 ")
    assert camera_source() == 2
    clip = tmp_path / "clip.avi"
    monkeypatch.setenv("FIELDLENS_CAMERA", str(clip))
    assert camera_source() == str(clip)
    monkeypatch.setenv("FIELDLENS_CAMERA", "rtsp://10.0.0.5/stream")
    assert camera_source() == "rtsp://10.0.0.5/stream"
    assert FrameGrabber().source == "rtsp://10.0.0.5/stream"
    assert camera_source("") == 0


# --------------------------------------------------------------------------- photos


def test_snapshot_is_the_full_frame_and_holds_the_tag(tag_clip: Path, tag_frame: np.ndarray,
                                                     manifest: dict[str, dict]) -> None:
    with FrameGrabber(str(tag_clip)) as grabber:
        jpeg = grabber.snapshot()
    assert not grabber.is_open
    image = _decode(jpeg)
    assert image.shape[:2] == (FRAME_SIZE[1], FRAME_SIZE[0])
    # the same picture that went into the video (MJPG and JPEG losses only)
    assert float(np.mean(cv2.absdiff(image, tag_frame))) < 12.0
    found = {r.text for r in zxingcpp.read_barcodes(image)}
    expected = set(manifest[TAG_PHOTO]["asset_tags"])
    assert expected and expected <= found, (expected, found)


def test_photo_can_be_read_by_the_engine(tag_clip: Path) -> None:
    from assistant.imaging import load_photo

    with FrameGrabber(str(tag_clip)) as grabber:
        photo = load_photo(grabber.snapshot(), "camera.jpg")
    assert (photo.width, photo.height) == FRAME_SIZE


# --------------------------------------------------------------------------- live preview


def test_preview_thread_streams_small_frames_and_replays_the_clip(mixed_clip: Path, photos: Path) -> None:
    sources = [_frame_from(photos / n, (640, 480)) for n in
               ["vfd-vx500-display-f004.jpg", "pump-cp40-nameplate.jpg", "scene-pipe-flange.jpg", TAG_PHOTO]]
    previews: list[bytes] = []
    enough = threading.Event()

    def on_preview(jpeg: bytes) -> None:
        previews.append(jpeg)
        if len(previews) >= 10:
            enough.set()

    grabber = FrameGrabber(str(mixed_clip), fps=25, preview_long_side=320)
    grabber.open()
    grabber.start(on_preview)
    try:
        assert enough.wait(20), f"only {len(previews)} previews arrived"
        assert grabber.running
    finally:
        grabber.stop()
    assert not grabber.running and not grabber.is_open
    seen_after_stop = len(previews)
    time.sleep(0.3)
    assert len(previews) == seen_after_stop, "previews kept coming after stop()"

    order = []
    for jpeg in previews[:10]:
        image = _decode(jpeg)
        assert max(image.shape[:2]) == 320
        big = cv2.resize(image, (640, 480), interpolation=cv2.INTER_LINEAR)
        order.append(int(np.argmin([np.mean(cv2.absdiff(big, s)) for s in sources])))
    # open() read frame 0; the preview shows 1, 2, 3, then the clip starts over: 0, 1, 2, ...
    assert order == [(1 + k) % 4 for k in range(10)], order


def test_preview_is_paced_at_the_frame_rate(tag_clip: Path) -> None:
    count = 0

    def on_preview(jpeg: bytes) -> None:
        nonlocal count
        count += 1

    grabber = FrameGrabber(str(tag_clip), fps=4)
    grabber.open()
    grabber.start(on_preview)
    time.sleep(1.5)
    grabber.stop()
    # a free-running loop would read hundreds of frames of a local clip in 1.5 s
    assert 1 <= count <= 9, count


def test_snapshot_while_previewing_uses_the_newest_full_frame(tag_clip: Path) -> None:
    got = threading.Event()
    grabber = FrameGrabber(str(tag_clip), fps=10)
    grabber.open()
    grabber.start(lambda jpeg: got.set())
    try:
        assert got.wait(10)
        image = _decode(grabber.snapshot())
    finally:
        grabber.stop()
    assert image.shape[:2] == (FRAME_SIZE[1], FRAME_SIZE[0])
    with pytest.raises(CameraUnavailable):
        grabber.snapshot()  # closed


# --------------------------------------------------------------------------- failures


def test_sources_that_cannot_open_give_one_plain_sentence(tmp_path: Path) -> None:
    not_video = tmp_path / "notes.avi"
    not_video.write_text("this is not a video\n" * 50)
    for source in (str(tmp_path / "missing.avi"), str(not_video), 97):
        with pytest.raises(CameraUnavailable) as err:
            FrameGrabber(source).open()
        _plain(str(err.value))


def test_a_stream_that_ends_stops_the_preview_with_a_sentence(tmp_path: Path, tag_frame: np.ndarray) -> None:
    clip = write_clip(tmp_path / "short.avi", [tag_frame] * 3)
    errors: list[str] = []
    ended = threading.Event()

    def on_error(sentence: str) -> None:
        errors.append(sentence)
        ended.set()

    grabber = FrameGrabber(str(clip), fps=30, loop=False)  # like a live stream that drops
    grabber.open()
    grabber.start(lambda jpeg: None, on_error)
    try:
        assert ended.wait(10), "the end of the stream was not reported"
        assert grabber.error == errors[0]
        _plain(errors[0])
        with pytest.raises(CameraUnavailable):
            grabber.snapshot()  # nothing left to read
    finally:
        grabber.stop()


def test_encode_jpeg_never_upscales() -> None:
    frame = np.full((120, 200, 3), 128, np.uint8)
    assert _decode(encode_jpeg(frame, long_side=640)).shape[:2] == (120, 200)
    assert _decode(encode_jpeg(frame, long_side=100)).shape[:2] == (60, 100)


# --------------------------------------------------------------------------- the camera sheet, desktop path


def test_desktop_camera_sheet_scans_the_asset_tag(seeded_host: ServiceHost, tag_clip: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import flet as ft

    from app.shell import Shell

    monkeypatch.setenv("FIELDLENS_CAMERA", str(tag_clip))
    shell = Shell(None, seeded_host)  # no page: the sheet uses OpenCV, as in the desktop app
    home = shell.views["home"]
    sheet = home.camera

    async def run() -> None:
        await shell.go("home")
        await sheet.open()
        assert sheet.backend == "opencv"
        assert "ready" in sheet.status.value.lower(), sheet.status.value
        assert isinstance(sheet.preview, ft.Image) and _decode(sheet.preview.src).shape[1] == 640
        frames = sheet.grabber.frames
        for _ in range(50):
            await asyncio.sleep(0.1)
            if sheet.grabber.frames > frames + 2:
                break
        assert sheet.grabber.frames > frames + 2, "the preview is not live"
        grabber = sheet.grabber
        await sheet.shoot()  # the photo goes to Home's on_photo, like the web camera's
        assert shell.state.equipment is not None and shell.state.equipment.id == "vfd-vx500"
        assert sheet.dialog is None and sheet.grabber is None and not grabber.is_open  # closed on a match
        assert shell.current == "capture"

    asyncio.run(run())


def test_desktop_camera_sheet_without_a_camera_says_so(seeded_host: ServiceHost, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from app.shell import Shell

    monkeypatch.setenv("FIELDLENS_CAMERA", str(tmp_path / "no-camera.avi"))
    shell = Shell(None, seeded_host)
    taken: list[bytes] = []
    capture = shell.views["capture"]
    capture.camera.on_photo = lambda data: taken.append(data)  # type: ignore[assignment,misc]

    async def run() -> None:
        await capture.camera.open()
        _plain(capture.camera.status.value)
        assert "Choose photos" in capture.camera.status.value
        await capture.camera.shoot()
        await capture.camera.close()

    asyncio.run(run())
    assert taken == []
