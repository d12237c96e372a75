"""Desktop capture with OpenCV, without Flet: open the camera named by
FIELDLENS_CAMERA (a device index, default 0, or a video file / stream URL),
grab frames on a background thread at a few frames per second and hand each
one out as a small preview JPEG, and take a full-size JPEG photo on demand.

The camera sheet (app/components/camera.py) puts the previews in an ft.Image
and passes the photo to the same `on_photo(bytes)` the web camera uses.
Failures are `CameraUnavailable` with one plain sentence for the technician.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from assistant.errors import FieldlensError

log = logging.getLogger("fieldlens.app")

ENV_NAME = "FIELDLENS_CAMERA"


class CameraUnavailable(FieldlensError):
    """The desktop camera cannot be opened or stopped sending pictures."""


def camera_source(value: str | None = None) -> int | str:
    """The capture source: FIELDLENS_CAMERA (or `value`) as a device index, a file path or a URL; default 0."""
    raw = (os.environ.get(ENV_NAME, "") if value is None else value).strip()
    if not raw:
        return 0
    if raw.isdigit():
        return int(raw)
    return os.path.expanduser(raw) if "://" not in raw else raw


def is_file_source(source: int | str) -> bool:
    return isinstance(source, str) and "://" not in source


def encode_jpeg(frame: np.ndarray, quality: int = 92, long_side: int | None = None) -> bytes:
    """A BGR frame as JPEG bytes, scaled down (never up) to `long_side` when given."""
    if long_side:
        h, w = frame.shape[:2]
        scale = long_side / max(h, w)
        if scale < 1:
            frame = cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise CameraUnavailable("The camera picture could not be saved: try again.")
    return buf.tobytes()


class FrameGrabber:
    """One camera: `open()`, then `start(on_preview)` for a live preview, `snapshot()` for a photo,
    `stop()` to release it. Only the background thread reads from the camera while it runs."""

    def __init__(self, source: int | str | None = None, *, fps: float = 5.0, preview_long_side: int = 640,
                 preview_quality: int = 70, photo_quality: int = 92, loop: bool | None = None,
                 opener: Callable[[int | str], Any] = cv2.VideoCapture) -> None:
        self.source: int | str = camera_source() if source is None else source
        self.fps = max(0.5, float(fps))
        self.preview_long_side = preview_long_side
        self.preview_quality = preview_quality
        self.photo_quality = photo_quality
        self.loop = is_file_source(self.source) if loop is None else loop  # a clip plays on repeat
        self._opener = opener
        self._cap: Any = None
        self._lock = threading.Lock()  # guards _cap reads and _latest
        self._latest: np.ndarray | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0  # frames read since open
        self.error = ""  # the plain sentence of the failure that stopped the preview, if any

    # ------------------------------------------------------------------ lifecycle

    @property
    def is_open(self) -> bool:
        return self._cap is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def open(self) -> np.ndarray:
        """Open the source and read its first frame (returned); raises CameraUnavailable."""
        if self._cap is not None:
            return self.latest()
        if is_file_source(self.source) and not os.path.isfile(str(self.source)):
            raise CameraUnavailable("The camera clip named in FIELDLENS_CAMERA does not exist: "
                                    "use Choose photos instead.")
        cap = self._opener(self.source)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise CameraUnavailable("No camera could be opened: check that it is plugged in, "
                                    "or use Choose photos instead.")
        if not is_file_source(self.source):
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # a live camera: keep the newest frame, not a queue
        ok, frame = cap.read()
        if not ok or frame is None or frame.size == 0:
            cap.release()
            raise CameraUnavailable("The camera sent no picture: check that no other program is using it, "
                                    "or use Choose photos instead.")
        self._cap = cap
        self.error = ""
        self.frames = 1
        with self._lock:
            self._latest = frame
        return frame

    def stop(self) -> None:
        """Stop the preview thread and release the camera (safe to call twice)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            if self._cap is not None:
                self._cap.release()
            self._cap = None

    close = stop

    def __enter__(self) -> FrameGrabber:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ frames

    def read(self) -> np.ndarray:
        """Read the next frame (a clip starts over at its end); raises CameraUnavailable."""
        with self._lock:
            cap = self._cap
            if cap is None:
                raise CameraUnavailable("The camera is closed: open it again.")
            ok, frame = cap.read()
            if (not ok or frame is None) and self.loop:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = cap.read()
            if not ok or frame is None or frame.size == 0:
                raise CameraUnavailable("The camera stopped sending pictures: close it and open it again.")
            self._latest = frame
            self.frames += 1
            return frame

    def latest(self) -> np.ndarray:
        with self._lock:
            if self._latest is None:
                raise CameraUnavailable("The camera is closed: open it again.")
            return self._latest

    def preview_jpeg(self, frame: np.ndarray | None = None) -> bytes:
        return encode_jpeg(self.latest() if frame is None else frame, self.preview_quality,
                           self.preview_long_side)

    def snapshot(self) -> bytes:
        """The photo: the newest frame at full size as JPEG (a fresh read when no preview runs)."""
        if self._cap is None:
            raise CameraUnavailable("The camera is closed: open it again.")
        frame = self.latest() if self.running else self.read()
        return encode_jpeg(frame, self.photo_quality)

    # ------------------------------------------------------------------ live preview

    def start(self, on_preview: Callable[[bytes], None],
              on_error: Callable[[str], None] | None = None) -> None:
        """Read frames on a daemon thread at `fps`, calling `on_preview(jpeg)` for each (on that thread).
        If the camera fails, the thread stops, `error` is set and `on_error(sentence)` is called."""
        if self._cap is None:
            raise CameraUnavailable("The camera is closed: open it again.")
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(on_preview, on_error, self._stop),
                                        name="fieldlens-camera", daemon=True)
        self._thread.start()

    def _run(self, on_preview: Callable[[bytes], None], on_error: Callable[[str], None] | None,
             stop: threading.Event) -> None:
        interval = 1.0 / self.fps
        while not stop.is_set():
            started = time.monotonic()
            try:
                jpeg = self.preview_jpeg(self.read())
            except CameraUnavailable as exc:
                if stop.is_set():
                    return
                self.error = str(exc)
                log.warning("desktop camera stopped: %s", exc)
                if on_error is not None:
                    on_error(self.error)
                return
            try:
                on_preview(jpeg)
            except Exception:  # the receiver is gone (page closed): stop grabbing, keep the app alive
                log.exception("camera preview receiver failed; stopping the preview")
                return
            stop.wait(max(0.0, interval - (time.monotonic() - started)))


__all__ = ["CameraUnavailable", "FrameGrabber", "ENV_NAME", "camera_source", "encode_jpeg", "is_file_source"]
