"""The camera sheet: a live preview in a dialog, so re-rendering the screen
underneath never tears the camera down. In a browser and on a phone or tablet
the preview is flet-camera; in the desktop app it is OpenCV
(app/components/desktop_camera.py: frames grabbed on a background thread into
an ft.Image). Each shot goes to `on_photo(bytes)` either way; the sheet stays
open for several shots."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from app.components.common import primary, secondary, sem
from app.components.desktop_camera import CameraUnavailable, FrameGrabber
from app.theme import fs

log = logging.getLogger("fieldlens.app")


def camera_backend(page: ft.Page | None) -> str | None:
    """The camera to use: "flet" (flet-camera: web, Android, iOS), "opencv" (the desktop app),
    or None (no page)."""
    if page is None:
        return None
    try:
        if page.web or page.platform in (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS):
            return "flet"
    except AttributeError:
        return None
    return "opencv"


def camera_supported(page: ft.Page | None) -> bool:
    return camera_backend(page) is not None


class CameraSheet:
    """The camera dialog. Without a page (unit tests) it uses the OpenCV backend."""

    PREVIEW = (640, 420)

    def __init__(self, shell: Any, title: str, on_photo: Callable[[bytes], Awaitable[None]], prefix: str,
                 hint: str = "") -> None:
        self.shell = shell
        self.title = title
        self.on_photo = on_photo
        self.prefix = prefix
        self.hint = hint
        self.backend: str = "flet"
        self.camera: Any = None  # flet_camera.Camera (web, mobile)
        self.grabber: FrameGrabber | None = None  # OpenCV (desktop)
        self.preview: ft.Image | None = None
        self.frame_box = self._frame_box()
        self.dialog: ft.AlertDialog | None = None
        self.status = ft.Text("Starting the camera…", size=fs(14))
        self._told: str | None = None
        self.shots = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._frame_lock = threading.Lock()
        self._next_frame: bytes | None = None

    def _frame_box(self) -> ft.Container:
        return ft.Container(width=self.PREVIEW[0], height=self.PREVIEW[1], bgcolor=ft.Colors.BLACK,
                            border_radius=12, clip_behavior=ft.ClipBehavior.HARD_EDGE,
                            alignment=ft.Alignment.CENTER)

    @property
    def ready(self) -> bool:
        return self.camera is not None or (self.grabber is not None and self.grabber.is_open)

    async def open(self) -> None:
        self.shots = 0
        self.backend = camera_backend(self.shell.page) or "opencv"
        self.status.value = "Starting the camera…"
        self.frame_box = self._frame_box()  # a fresh one per dialog: a control has one parent
        if self.backend == "flet":
            import flet_camera as fc

            self.camera = fc.Camera(width=self.PREVIEW[0], height=self.PREVIEW[1], preview_enabled=True)
            self.frame_box.content = self.camera
        else:
            self.frame_box.content = ft.ProgressRing(width=36, height=36, color=ft.Colors.WHITE)
        content = ft.Column(
            [
                self.frame_box,
                ft.Text(self.hint, size=fs(13), color=ft.Colors.ON_SURFACE_VARIANT) if self.hint else ft.Container(),
                sem("camera-status", self.status),
            ],
            tight=True, spacing=10, width=self.PREVIEW[0],
        )
        self.dialog = ft.AlertDialog(
            modal=True,
            title=ft.Text(self.title, size=fs(20), weight=ft.FontWeight.W_700),
            content=content,
            actions=[
                secondary("Done", f"{self.prefix}-camera-close", self.shell.handler(self.close), icon=ft.Icons.CLOSE),
                primary("Take photo", f"{self.prefix}-camera-shoot", self.shell.handler(self.shoot),
                        icon=ft.Icons.CAMERA),
            ],
            actions_alignment=ft.MainAxisAlignment.END,
        )
        self.shell.show_dialog(self.dialog)
        if self.backend == "flet":
            await self._init_camera()
        else:
            await self._init_desktop()

    async def _init_camera(self) -> None:
        import flet_camera as fc

        try:
            cams = []
            for _ in range(20):  # the control needs a moment to mount in the browser
                try:
                    cams = await self.camera.get_available_cameras()
                    break
                except (RuntimeError, TimeoutError):
                    await asyncio.sleep(0.25)
            if not cams:
                self.status.value = "No camera found: use Choose photos instead."
                self._update()
                return
            back = [c for c in cams if getattr(c.lens_direction, "value", "") == "back"]
            await self.camera.initialize(back[0] if back else cams[0], fc.ResolutionPreset.VERY_HIGH,
                                         enable_audio=False)
            self.status.value = "Camera ready: frame the display, label or tag and tap Take photo."
        except Exception as exc:  # camera errors come from the browser; show them plainly
            log.warning("camera start failed: %r", exc)
            self.status.value = "The camera could not start: use Choose photos instead."
        self._update()

    async def _init_desktop(self) -> None:
        """Open the OpenCV camera off the event loop, show its first frame, then stream previews."""
        self._loop = asyncio.get_running_loop()
        grabber = FrameGrabber()
        self.grabber = grabber
        try:
            first = await asyncio.to_thread(grabber.open)
            jpeg = await asyncio.to_thread(grabber.preview_jpeg, first)
        except CameraUnavailable as exc:
            self.grabber = None
            self.frame_box.content = ft.Icon(ft.Icons.NO_PHOTOGRAPHY_OUTLINED, color=ft.Colors.WHITE, size=48)
            self.status.value = str(exc)
            self._update()
            return
        if self.grabber is not grabber:  # closed while opening
            await asyncio.to_thread(grabber.stop)
            return
        self.preview = ft.Image(src=jpeg, width=self.PREVIEW[0], height=self.PREVIEW[1], fit=ft.BoxFit.CONTAIN,
                                gapless_playback=True)
        self.frame_box.content = self.preview
        self.status.value = "Camera ready: frame the display, label or tag and tap Take photo."
        self._update()
        grabber.start(self._on_frame, self._on_camera_error)

    def _on_frame(self, jpeg: bytes) -> None:
        """Grabber thread: keep only the newest frame and wake the event loop once per batch."""
        with self._frame_lock:
            waiting = self._next_frame is not None
            self._next_frame = jpeg
        if not waiting and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._show_frame)

    def _show_frame(self) -> None:
        with self._frame_lock:
            jpeg, self._next_frame = self._next_frame, None
        if jpeg is None or self.preview is None or self.dialog is None:
            return
        self.preview.src = jpeg
        if self.shell.page is not None:
            try:
                self.preview.update()
            except RuntimeError as exc:  # the dialog is gone (page closed): stop the camera
                log.info("camera preview detached: %s", exc)
                if self.grabber is not None:
                    self.grabber.stop()

    def _on_camera_error(self, sentence: str) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._show_status, sentence)

    def _show_status(self, sentence: str) -> None:
        self.status.value = sentence
        self._update()

    async def _take(self) -> bytes:
        if self.backend == "flet":
            return bytes(await self.camera.take_picture())
        assert self.grabber is not None
        return await asyncio.to_thread(self.grabber.snapshot)

    async def shoot(self) -> None:
        if not self.ready:
            return
        self.status.value = "Taking the photo…"
        self._update()
        try:
            data = await self._take()
        except CameraUnavailable as exc:
            self.status.value = str(exc)
            self._update()
            return
        except Exception as exc:  # browser-side failure: keep the sheet usable
            log.warning("take_picture failed: %r", exc)
            self.status.value = "The photo could not be taken: try again."
            self._update()
            return
        self.shots += 1
        self.status.value = f"Reading photo {self.shots}…"
        self._told = None
        self._update()
        await self.on_photo(data)
        if self.dialog is None:  # on_photo closed the sheet
            return
        self.status.value = self._told or (
            f"{self.shots} photo{'s' if self.shots != 1 else ''} taken. Take another or tap Done.")
        self._update()

    def tell(self, sentence: str) -> None:
        """Say something about the photo just taken inside the sheet (a SnackBar would be hidden by it)."""
        self._told = sentence
        self.status.value = sentence
        self._update()

    async def close(self) -> None:
        self.shell.close_dialog(self.dialog)
        self.camera = None
        self.dialog = None
        self.preview = None
        grabber, self.grabber = self.grabber, None
        if grabber is not None:
            await asyncio.to_thread(grabber.stop)
        self.shell.render()

    def _update(self) -> None:
        if self.dialog is not None and self.shell.page is not None:
            self.shell.page.update()


def camera_button(shell: Any, sheet: CameraSheet, identifier: str, text: str = "Camera") -> ft.Control:
    return primary(text, identifier, shell.handler(sheet.open), icon=ft.Icons.PHOTO_CAMERA,
                   disabled=not camera_supported(shell.page))


__all__ = ["CameraSheet", "camera_backend", "camera_button", "camera_supported", "sem"]
