"""Capture: photos by camera or file picker, several per session; each
thumbnail shows its quality hints and readings as chips; the selected photo
is shown annotated with the boxes, and each reading can be confirmed or
corrected."""

from __future__ import annotations

from typing import Any

import flet as ft

from app import theme
from app.components.camera import CameraSheet, camera_supported
from app.components.chips import quality_chips, reading_chip, reading_label
from app.components.common import (
    PaneFrame,
    banner, body, card, empty_state, heading, icon_button, muted, panes, primary, secondary, sem, subheading,
    text_field, tonal,
)
from app.theme import fs


class CaptureView:
    title = "Capture"

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.state = shell.state
        self.frame = PaneFrame(6, 5)
        self.selected: str | None = None  # photo id shown annotated
        self.annotated: dict[str, bytes] = {}
        self.thumbs: dict[str, bytes] = {}
        self.editing: int | None = None  # reading index being corrected
        self.edit_field, self.edit_box = text_field("reading-edit-input", "Correct reading", expand=True,
                                                    on_submit=shell.handler(self.save_edit))
        self.busy = ""
        self.camera = CameraSheet(shell, "Take photos", self.on_camera_photo, "capture",
                                  hint="Display with the fault code, nameplate, asset tag, or the part that looks wrong.")

    async def on_show(self) -> None:
        if self.state.session is not None:
            await self.shell.attempt(self.state.reload_session)
            await self._load_thumbs()

    async def _load_thumbs(self) -> None:
        for p in self.state.capture_photos():
            if p.id not in self.thumbs:
                ok, data = await self.shell.attempt(self.state.thumb, p.id)
                if ok:
                    self.thumbs[p.id] = data

    # ------------------------------------------------------------------ handlers

    async def add(self, data: bytes, name: str) -> bool:
        self.busy = f"Reading {name}…"
        self.shell.render()
        ok, reading = await self.shell.attempt(self.state.add_photo, data, name)
        self.busy = ""
        if ok:
            self.selected = reading.photo.id
            await self._load_thumbs()
            await self._load_annotated(reading.photo.id)
            found = [o for o in reading.observations if o.kind.value != "text"]
            if found:
                self.shell.toast("Read: " + ", ".join(reading_label(o) for o in found[:3]), "ok")
            else:
                self.shell.toast("Nothing readable found on this photo; you can still ask.")
        self.shell.render()
        return ok

    async def on_camera_photo(self, data: bytes) -> None:
        await self.add(data, f"camera-{len(self.state.capture_photos()) + 1}.jpg")

    async def pick(self) -> None:
        for name, data in await self.shell.pick_images(multiple=True):
            await self.add(data, name)

    async def select(self, photo_id: str) -> None:
        self.selected = photo_id
        self.editing = None
        await self._load_annotated(photo_id)
        self.shell.render()

    async def _load_annotated(self, photo_id: str) -> None:
        ok, data = await self.shell.attempt(self.state.annotated, photo_id)
        if ok:
            self.annotated[photo_id] = data

    async def confirm(self, index: int) -> None:
        if self.selected is None:
            return
        ok, _ = await self.shell.attempt(self.state.correct, self.selected, index, None, True)
        if ok:
            self.annotated.pop(self.selected, None)
            await self._load_annotated(self.selected)
            self.shell.toast("Reading confirmed.", "ok")
            self.shell.render()

    async def start_edit(self, index: int, value: str) -> None:
        self.editing = index
        self.edit_field.value = value
        self.shell.render()

    async def save_edit(self) -> None:
        if self.selected is None or self.editing is None:
            return
        ok, obs = await self.shell.attempt(self.state.correct, self.selected, self.editing,
                                           self.edit_field.value or "", True)
        if ok:
            self.editing = None
            self.annotated.pop(self.selected, None)
            await self._load_annotated(self.selected)
            self.shell.toast(f"Reading corrected to {obs.value}.", "ok")
            self.shell.render()

    async def confirm_all(self) -> None:
        ok, count = await self.shell.attempt(self.state.confirm_all, self.selected)
        if ok:
            self.annotated.pop(self.selected, None)
            if self.selected:
                await self._load_annotated(self.selected)
            self.shell.toast(f"{count} reading{'s' if count != 1 else ''} confirmed." if count
                             else "Every reading was already confirmed.", "ok")
            self.shell.render()

    async def remove(self, photo_id: str) -> bool:
        ok, _ = await self.shell.attempt(self.state.remove_photo, photo_id)
        if ok:
            self.thumbs.pop(photo_id, None)
            self.annotated.pop(photo_id, None)
            if self.selected == photo_id:
                remaining = self.state.capture_photos()
                self.selected = remaining[-1].id if remaining else None
                if self.selected:
                    await self._load_annotated(self.selected)
            self.shell.toast("Photo removed from the session.", "ok")
            self.shell.render()
        return ok

    async def retake(self, photo_id: str) -> None:
        """Replace this photo: take it out, then open the camera (or the file picker)."""
        if not await self.remove(photo_id):
            return
        if camera_supported(self.shell.page):
            await self.camera.open()
        else:
            await self.pick()

    async def cancel_edit(self) -> None:
        self.editing = None
        self.shell.render()

    async def new_session(self) -> None:
        self.state.new_session()
        self.selected = None
        self.shell.render()

    # ------------------------------------------------------------------ build

    def photo_card(self, i: int, photo: Any) -> ft.Control:
        obs = self.state.photo_observations(photo.id)
        selected = photo.id == self.selected
        thumb = self.thumbs.get(photo.id)
        img = (ft.Image(src=thumb, width=220, height=150, fit=ft.BoxFit.COVER, border_radius=10)
               if thumb else ft.Container(width=220, height=150, bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                                          border_radius=10))
        chips = [reading_chip(o, f"photo-{i + 1}-reading-{k}") for k, (_, o) in enumerate(obs[:4])]
        text_count = len(self.state.photo_observations(photo.id, include_text=True)) - len(obs)
        closed = self.state.is_closed
        actions = ft.Row([
            icon_button(ft.Icons.CAMERA_ALT_OUTLINED, f"photo-{i + 1}-retake", "Retake this photo",
                        self.shell.handler(self.retake, photo.id)) if not closed else ft.Container(),
            icon_button(ft.Icons.DELETE_OUTLINE, f"photo-{i + 1}-remove", "Remove this photo",
                        self.shell.handler(self.remove, photo.id)) if not closed else ft.Container(),
        ], spacing=4, alignment=ft.MainAxisAlignment.END)
        content = ft.Column([
            img,
            actions,
            ft.Row(quality_chips(self.state.photo_quality(photo.id)), wrap=True, spacing=6, run_spacing=6),
            ft.Row(chips, wrap=True, spacing=6, run_spacing=6) if chips else muted(
                "No codes or tags read" + (f" · {text_count} text lines" if text_count > 0 else "")),
        ], spacing=8, width=220, tight=True)
        box = ft.Container(
            content=content, padding=10, border_radius=14,
            bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else ft.Colors.SURFACE_CONTAINER_LOW,
            border=ft.Border.all(2 if selected else 1, ft.Colors.PRIMARY if selected else ft.Colors.OUTLINE_VARIANT),
            on_click=self.shell.handler(self.select, photo.id), ink=True,
        )
        return sem(f"photo-{i + 1}", box, label=f"Photo {i + 1}", button=True, selected=selected)

    def build(self) -> ft.Control:
        shell, st = self.shell, self.state
        photos = st.capture_photos()
        eq = st.equipment
        left: list[ft.Control] = []
        if st.is_closed:
            left.append(banner("This session is closed. Start a new one to capture more photos.", kind="info",
                               controls=[primary("New session", "capture-new-session",
                                                 shell.handler(self.new_session), icon=ft.Icons.ADD)]))
        left.append(ft.Row([
            ft.Icon(ft.Icons.PRECISION_MANUFACTURING, color=ft.Colors.PRIMARY),
            body(eq.name if eq else "Equipment not chosen yet: a nameplate or asset-tag photo can name it.",
                 weight=ft.FontWeight.W_600),
        ], wrap=True))
        left.append(ft.Row([
            primary("Camera", "capture-camera-open", shell.handler(self.camera.open), icon=ft.Icons.PHOTO_CAMERA,
                    disabled=not camera_supported(shell.page) or st.is_closed),
            secondary("Choose photos", "capture-pick", shell.handler(self.pick), icon=ft.Icons.PHOTO_LIBRARY,
                      disabled=st.is_closed),
        ], wrap=True, spacing=10))
        if self.busy:
            left.append(ft.Row([ft.ProgressRing(width=22, height=22, stroke_width=3), body(self.busy)]))
        if photos:
            left.append(subheading(f"Photos in this session ({len(photos)})"))
            left.append(ft.Row([self.photo_card(i, p) for i, p in enumerate(photos)], wrap=True, spacing=12,
                               run_spacing=12))
            left.append(primary("Ask about these photos", "capture-to-ask", shell.handler(shell.go, "answer"),
                                icon=ft.Icons.ARROW_FORWARD))
        else:
            left.append(empty_state(ft.Icons.ADD_A_PHOTO_OUTLINED, "No photos yet",
                                    "Photograph the display with the fault code, the nameplate or the asset tag. "
                                    "Several photos are fine."))
        return panes(left, self.detail(), self.shell.wide, frame=self.frame)

    def detail(self) -> list[ft.Control]:
        st = self.state
        pid = self.selected
        if pid is None or pid not in {p.id for p in st.capture_photos()}:
            return [empty_state(ft.Icons.CROP_FREE, "Tap a photo",
                                "You will see where each reading came from, and can confirm or correct it.")]
        out: list[ft.Control] = [subheading("Where each reading came from")]
        data = self.annotated.get(pid)
        if data:
            out.append(sem("annotated-photo", ft.InteractiveViewer(
                ft.Image(src=data, fit=ft.BoxFit.CONTAIN, border_radius=10), max_scale=5, min_scale=1),
                label="Photo with the readings boxed"))
        quality = st.photo_quality(pid)
        if quality is not None and quality.flags:
            out.append(banner(" ".join(f.message for f in quality.flags),
                              kind="warning", title="Retake this photo?", icon=ft.Icons.CAMERA_ALT,
                              identifier="retake-hint",
                              controls=[] if st.is_closed else [ft.Row([
                                  primary("Retake", "retake-hint-retake", self.shell.handler(self.retake, pid),
                                          icon=ft.Icons.CAMERA_ALT),
                                  secondary("Remove photo", "retake-hint-remove", self.shell.handler(self.remove, pid),
                                            icon=ft.Icons.DELETE_OUTLINE)], wrap=True, spacing=8, run_spacing=8)]))
        obs = st.photo_observations(pid)
        if not obs:
            out.append(muted("No fault codes, tags or nameplate fields were read on this photo."))
        elif any(not o.confirmed for _, o in obs) and not st.is_closed:
            out.append(primary(f"Confirm all {len(obs)} readings", "readings-confirm-all",
                               self.shell.handler(self.confirm_all), icon=ft.Icons.DONE_ALL))
        for k, (index, o) in enumerate(obs):
            row: list[ft.Control] = [reading_chip(o, f"reading-{k}")]
            extra = []
            if o.alternatives:
                extra.append(muted("Could also be: " + ", ".join(o.alternatives)))
            extra.append(muted(f"Read with {round(o.confidence * 100)} % confidence"
                               + (" · confirmed by you" if o.confirmed else "")))
            actions = ft.Row([
                tonal("Confirm", f"reading-{k}-confirm", self.shell.handler(self.confirm, index), icon=ft.Icons.CHECK,
                      disabled=o.confirmed or st.is_closed),
                secondary("Correct", f"reading-{k}-edit", self.shell.handler(self.start_edit, index, o.value),
                          icon=ft.Icons.EDIT, disabled=st.is_closed),
            ], spacing=8, wrap=True)
            parts: list[ft.Control] = [ft.Row(row, wrap=True), *extra, actions]
            if self.editing == index:
                parts.append(ft.Row([self.edit_box,
                                     primary("Save", "reading-edit-save", self.shell.handler(self.save_edit)),
                                     secondary("Cancel", "reading-edit-cancel", self.shell.handler(self.cancel_edit))],
                                    vertical_alignment=ft.CrossAxisAlignment.CENTER))
            out.append(card(ft.Column(parts, spacing=8, tight=True), padding=12))
        return out


__all__ = ["CaptureView", "theme", "fs", "heading"]
