"""The camera sheet: a live preview (flet-camera, web and mobile) in a dialog,
so re-rendering the screen underneath never tears the camera down. Each shot
goes to `on_photo(bytes)`; the sheet stays open for several shots."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from app.components.common import primary, secondary, sem
from app.theme import fs

log = logging.getLogger("fieldlens.app")


def camera_supported(page: ft.Page | None) -> bool:
    if page is None:
        return False
    try:
        return bool(page.web or page.platform in (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS))
    except AttributeError:
        return False


class CameraSheet:
    def __init__(self, shell: Any, title: str, on_photo: Callable[[bytes], Awaitable[None]], prefix: str,
                 hint: str = "") -> None:
        self.shell = shell
        self.title = title
        self.on_photo = on_photo
        self.prefix = prefix
        self.hint = hint
        self.camera: Any = None
        self.dialog: ft.AlertDialog | None = None
        self.status = ft.Text("Starting the camera…", size=fs(14))
        self.shots = 0

    async def open(self) -> None:
        import flet_camera as fc

        self.shots = 0
        self.camera = fc.Camera(width=640, height=420, preview_enabled=True)
        self.status.value = "Starting the camera…"
        content = ft.Column(
            [
                ft.Container(self.camera, width=640, height=420, bgcolor=ft.Colors.BLACK, border_radius=12,
                             clip_behavior=ft.ClipBehavior.HARD_EDGE, alignment=ft.Alignment.CENTER),
                ft.Text(self.hint, size=fs(13), color=ft.Colors.ON_SURFACE_VARIANT) if self.hint else ft.Container(),
                sem("camera-status", self.status),
            ],
            tight=True, spacing=10, width=640,
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
        await self._init_camera()

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

    async def shoot(self) -> None:
        if self.camera is None:
            return
        self.status.value = "Taking the photo…"
        self._update()
        try:
            data = await self.camera.take_picture()
        except Exception as exc:  # browser-side failure: keep the sheet usable
            log.warning("take_picture failed: %r", exc)
            self.status.value = "The photo could not be taken: try again."
            self._update()
            return
        self.shots += 1
        self.status.value = f"Reading photo {self.shots}…"
        self._update()
        await self.on_photo(bytes(data))
        self.status.value = f"{self.shots} photo{'s' if self.shots != 1 else ''} taken. Take another or tap Done."
        self._update()

    async def close(self) -> None:
        self.shell.close_dialog(self.dialog)
        self.camera = None
        self.dialog = None
        self.shell.render()

    def _update(self) -> None:
        if self.dialog is not None and self.shell.page is not None:
            self.shell.page.update()


def camera_button(shell: Any, sheet: CameraSheet, identifier: str, text: str = "Camera") -> ft.Control:
    return primary(text, identifier, shell.handler(sheet.open), icon=ft.Icons.PHOTO_CAMERA,
                   disabled=not camera_supported(shell.page))


__all__ = ["CameraSheet", "camera_button", "camera_supported", "sem"]
