"""Home: pick the equipment (catalog search, recent equipment, asset tag by
camera, photo or typed), recent sessions, and the provider indicator."""

from __future__ import annotations

from typing import Any

import flet as ft

from app import theme
from app.components.camera import CameraSheet, camera_supported
from app.components.common import (
    PaneFrame,
    banner, body, card, empty_state, heading, muted, panes, primary, secondary, sem, subheading, text_field,
)
from app.components.words import OUTCOME_WORDS, words
from app.theme import fs
from assistant.domain import Equipment, SessionSummary


class HomeView:
    title = "Fieldlens"

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.state = shell.state
        self.frame = PaneFrame(5, 6)
        self.search_field, self.search_box = text_field(
            "home-equipment-search", "Find equipment", hint="Name, model, asset tag or fault code",
            on_submit=shell.handler(self.search), on_change=shell.handler(self.search),
            prefix_icon=ft.Icons.SEARCH,
        )
        self.tag_field, self.tag_box = text_field("home-tag-input", "Asset tag", hint="e.g. FL-PMP-0001",
                                                  on_submit=shell.handler(self.enter_tag), expand=True)
        self.results: list[Equipment] = []
        self.recent_eq: list[Equipment] = []
        self.recent: list[SessionSummary] = []
        self.scan_note: str = ""
        self.scan_ok = True  # whether the last scan found the equipment
        self.camera = CameraSheet(shell, "Scan the asset tag", self.on_tag_photo, "home-scan",
                                  hint="Hold the QR code or barcode label flat and fill the frame.")

    async def on_show(self) -> None:
        ok, res = await self.shell.attempt(self._load)
        if ok:
            self.results, self.recent_eq, self.recent = res

    def _load(self) -> tuple[list[Equipment], list[Equipment], list[SessionSummary]]:
        self.state.refresh_status()
        return (self.state.search_equipment(self.search_field.value or ""), self.state.recent_equipment(),
                self.state.recent_sessions())

    # ------------------------------------------------------------------ handlers

    async def search(self) -> None:
        ok, res = await self.shell.attempt(self.state.search_equipment, self.search_field.value or "")
        if ok:
            self.results = res
            self.shell.render()

    async def pick(self, equipment_id: str) -> None:
        ok, eq = await self.shell.attempt(self.state.select_equipment, equipment_id)
        if ok:
            self.shell.toast(f"Working on {eq.name}.", "ok")
            await self.shell.go("capture")

    async def enter_tag(self) -> None:
        tag = (self.tag_field.value or "").strip()
        if not tag:
            self.shell.error("Type the asset tag printed on the label first.")
            return
        ok, eq = await self.shell.attempt(self.state.identify_by_tag, tag)
        if not ok:
            return
        if eq is None:
            self.scan_note = f"No equipment in the library has the asset tag {tag}."
            self.scan_ok = False
            self.shell.error(self.scan_note)
            self.shell.render()
            return
        self.tag_field.value = ""
        self.scan_note, self.scan_ok = f"Asset tag {tag}: {eq.name}.", True
        self.shell.toast(self.scan_note, "ok")
        await self.shell.go("capture")

    async def scan_photo(self) -> None:
        files = await self.shell.pick_images(multiple=False)
        for name, data in files:
            await self._identify(data, name)

    async def on_tag_photo(self, data: bytes) -> None:
        found = await self._identify(data, "tag-camera.jpg", in_camera=True)
        if found:
            await self.camera.close()
            await self.shell.go("capture")

    async def _identify(self, data: bytes, name: str, in_camera: bool = False) -> bool:
        """Read one tag photo; its message replaces the last scan's, and is shown where the
        technician is looking (inside the camera sheet while it is open)."""
        self.scan_note, self.scan_ok = "Reading the tag…", True
        ok, res = await self.shell.attempt(self.state.identify, data, name)
        if not ok:
            self.scan_note, self.scan_ok = "", True
            return False
        eq, reading = res
        tags = [o.value for o in reading.observations if o.kind.value == "asset_tag"]
        if eq is not None:
            self.scan_note = f"Identified {eq.name}" + (f" from tag {tags[0]}." if tags else ".")
            self.scan_ok = True
            self.shell.toast(self.scan_note, "ok")
        else:
            self.scan_note = (f"Read tag {tags[0]}, but no equipment in the library has it." if tags else
                              "No asset tag or nameplate could be read: try closer, or search the catalog.")
            self.scan_ok = False
            if in_camera:
                self.camera.tell(self.scan_note)
            else:
                self.shell.error(self.scan_note)
        self.shell.render()
        return eq is not None

    async def open_session(self, session_id: str) -> None:
        ok, _ = await self.shell.attempt(self.state.resume, session_id)
        if ok:
            await self.shell.go("answer")

    # ------------------------------------------------------------------ build

    def equipment_tile(self, eq: Equipment, identifier: str) -> ft.Control:
        current = self.state.equipment is not None and self.state.equipment.id == eq.id
        sub = " · ".join(x for x in [eq.manufacturer, eq.model, eq.category] if x)
        tile = ft.Container(
            content=ft.Row([
                ft.Container(ft.Icon(ft.Icons.PRECISION_MANUFACTURING, color=ft.Colors.ON_PRIMARY_CONTAINER),
                             bgcolor=ft.Colors.PRIMARY_CONTAINER, border_radius=10, padding=10),
                ft.Column([ft.Text(eq.name, size=fs(16), weight=ft.FontWeight.W_600),
                           muted(sub)], spacing=2, expand=True, tight=True),
                ft.Icon(ft.Icons.CHECK_CIRCLE if current else ft.Icons.CHEVRON_RIGHT,
                        color=ft.Colors.PRIMARY if current else ft.Colors.OUTLINE),
            ], spacing=14),
            padding=ft.Padding.symmetric(horizontal=14, vertical=10),
            border_radius=12,
            bgcolor=ft.Colors.SECONDARY_CONTAINER if current else ft.Colors.SURFACE_CONTAINER_LOW,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
            on_click=self.shell.handler(self.pick, eq.id),
            ink=True,
        )
        return sem(identifier, tile, label=eq.name, button=True)

    def session_tile(self, s: SessionSummary, identifier: str) -> ft.Control:
        when = s.updated_at.astimezone().strftime("%d %b %H:%M")
        state = words(OUTCOME_WORDS, s.outcome) if s.outcome else "Open"
        tile = ft.Container(
            content=ft.Row([
                ft.Icon(ft.Icons.ASSIGNMENT_OUTLINED, color=ft.Colors.PRIMARY),
                ft.Column([ft.Text(s.first_question or "No question yet", size=fs(15), weight=ft.FontWeight.W_600,
                                   max_lines=1, overflow=ft.TextOverflow.ELLIPSIS),
                           muted(f"{self.state.equipment_name(s.equipment_id)} · {when} · {state}")],
                          spacing=2, expand=True, tight=True),
                ft.Icon(ft.Icons.CHEVRON_RIGHT, color=ft.Colors.OUTLINE),
            ], spacing=14),
            padding=ft.Padding.symmetric(horizontal=14, vertical=10), border_radius=12,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
            on_click=self.shell.handler(self.open_session, s.id), ink=True,
        )
        return sem(identifier, tile, button=True)

    def build(self) -> ft.Control:
        shell = self.shell
        eq = self.state.equipment
        left: list[ft.Control] = [heading("What are you working on?")]
        if eq is not None:
            left.append(sem("home-current-equipment", card(ft.Column([
                ft.Row([ft.Icon(ft.Icons.PRECISION_MANUFACTURING, color=ft.Colors.PRIMARY, size=30),
                        ft.Column([ft.Text(eq.name, size=fs(18), weight=ft.FontWeight.W_700),
                                   muted(" · ".join(x for x in [eq.manufacturer, eq.model] if x))],
                                  spacing=2, expand=True, tight=True)]),
                ft.Row([primary("Capture photos", "home-start", shell.handler(shell.go, "capture"),
                                icon=ft.Icons.PHOTO_CAMERA),
                        secondary("Manuals", "home-manuals", shell.handler(self.open_library, eq.id),
                                  icon=ft.Icons.MENU_BOOK)], wrap=True, spacing=10),
            ], spacing=12), bgcolor=ft.Colors.PRIMARY_CONTAINER), label=f"Working on {eq.name}"))
        left.append(card(ft.Column([
            subheading("Scan the asset tag"),
            muted("Point the camera at the QR code or barcode, or choose a photo of it."),
            ft.Row([
                primary("Scan with camera", "home-scan-camera", shell.handler(self.camera.open),
                        icon=ft.Icons.QR_CODE_SCANNER, disabled=not camera_supported(shell.page)),
                secondary("Tag photo", "home-scan-photo", shell.handler(self.scan_photo), icon=ft.Icons.IMAGE),
            ], wrap=True, spacing=10),
            ft.Row([self.tag_box, primary("Go", "home-tag-submit", shell.handler(self.enter_tag))],
                   vertical_alignment=ft.CrossAxisAlignment.CENTER),
            *([banner(self.scan_note, kind="ok" if self.scan_ok else "warning", identifier="home-scan-note")]
              if self.scan_note else []),
        ], spacing=10)))
        left.append(subheading("Catalog"))
        left.append(self.search_box)
        if self.results:
            left.extend(self.equipment_tile(e, f"equipment-{e.id}") for e in self.results[:12])
        else:
            left.append(empty_state(ft.Icons.SEARCH_OFF, "No equipment matches",
                                    "Try the model number, an alias or the asset tag."))

        right: list[ft.Control] = [self.status_card()]
        if self.recent_eq:
            right.append(subheading("Recent equipment"))
            right.append(ft.Row([
                sem(f"recent-eq-{e.id}", ft.Container(
                    ft.Row([ft.Icon(ft.Icons.PRECISION_MANUFACTURING, size=fs(18)),
                            ft.Text(e.model or e.name, size=fs(15), weight=ft.FontWeight.W_600)],
                           spacing=8, tight=True),
                    on_click=shell.handler(self.pick, e.id), ink=True, border_radius=10,
                    padding=ft.Padding.symmetric(horizontal=14, vertical=14),
                    bgcolor=ft.Colors.SECONDARY_CONTAINER), label=e.model or e.name, button=True)
                for e in self.recent_eq], wrap=True, spacing=8, run_spacing=8))
        right.append(subheading("Recent sessions"))
        if self.recent:
            right.extend(self.session_tile(s, f"recent-session-{i}") for i, s in enumerate(self.recent))
        else:
            right.append(empty_state(ft.Icons.HISTORY, "No sessions yet",
                                     "Pick the equipment, take a photo of the display and ask."))
        return panes(left, right, self.shell.wide, frame=self.frame)

    def status_card(self) -> ft.Control:
        st = self.state.status or {}
        provider = st.get("provider", "offline")
        if provider == "offline":
            return banner("No model is configured: answers come from the cached manuals alone. "
                          "Everything works with the network off.", kind="info", title="Offline engine",
                          icon=ft.Icons.CLOUD_OFF, identifier="home-status")
        if not st.get("configured"):
            return banner(f"{provider} is selected but has no key or server address: answers fall back to the "
                          "manuals alone. Open Settings to finish.", kind="warning", title="Model not configured",
                          identifier="home-status")
        model = st.get("model") or "default model"
        state = st.get("state", "checking")
        if state == "unreachable":
            return banner(f"{st.get('problem') or provider + ' did not answer.'} Until it does, the offline engine "
                          "answers from the manuals alone.", kind="warning", title="Model unreachable",
                          icon=ft.Icons.CLOUD_OFF, identifier="home-status")
        if state == "reachable":
            return banner(f"Answers use {provider} ({model}); if it cannot be reached, the offline engine answers "
                          "from the manuals.", kind="ok", title="Model reachable", icon=ft.Icons.CLOUD_DONE,
                          identifier="home-status")
        return banner(f"Checking whether {provider} ({model}) answers…", kind="info", title="Checking the model",
                      icon=ft.Icons.CLOUD_SYNC, identifier="home-status")

    async def open_library(self, equipment_id: str) -> None:
        await self.shell.views["library"].show_equipment(equipment_id)


__all__ = ["HomeView", "theme", "body"]
