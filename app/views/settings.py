"""Settings: provider, model, base URL, API key (never shown back in full),
technician name, photo policy, large text and dark theme, and the tablet's
enrolment with the fleet server (its token never shown back in full) with
the last sync state in one line. Invalid values are
shown as one plain sentence and nothing is saved."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from app import theme
from app.components.common import (
    PaneFrame, banner, card, heading, muted, panes, primary, secondary, sem, subheading, switch, text_field,
)
from app.theme import fs
from assistant.domain import ProviderName
from assistant.errors import ConfigError

PROVIDER_WORDS = {
    ProviderName.OFFLINE: "Offline engine (manuals only)",
    ProviderName.OPENAI: "OpenAI-compatible server",
    ProviderName.ANTHROPIC: "Anthropic",
    ProviderName.OLLAMA: "Ollama",
}


class SettingsView:
    title = "Settings"

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.state = shell.state
        self.frame = PaneFrame(5, 6)
        self.model_field, self.model_box = text_field("settings-model", "Model", hint="e.g. gpt-4o-mini, llava")
        self.url_field, self.url_box = text_field("settings-base-url", "Base URL",
                                                  hint="http://127.0.0.1:8000/v1 (leave empty for the default)")
        self.key_field, self.key_box = text_field("settings-api-key", "API key", password=True,
                                                  hint="Leave empty to keep the saved key")
        self.tech_field, self.tech_box = text_field("settings-technician", "Technician name")
        self.side_field, self.side_box = text_field("settings-long-side", "Downscale photos to (pixels, long side)",
                                                    keyboard=ft.KeyboardType.NUMBER)
        self.provider = ft.Dropdown(label="Provider", options=[
            ft.DropdownOption(key=p.value, text=PROVIDER_WORDS[p]) for p in ProviderName], expand=True)
        self.blur = ft.Switch(label="Blur faces before sending photos")
        self.never_send = ft.Switch(label="Never send photos to a model")
        self.large = ft.Switch(label="Large text")
        self.dark = ft.Switch(label="Dark theme")
        self.server_field, self.server_box = text_field("settings-server-url", "Fleet server address",
                                                        hint="https://fleet.example.com")
        self.token_field, self.token_box = text_field("settings-server-token", "Device token", password=True,
                                                      hint="Given by the fleet administrator; shown once")
        self.enrolled_url = ""
        self.enrolled_token = ""  # masked: the token is never shown again in full
        self.sync_line = "not enrolled"
        self._watching = False
        self.error: str = ""
        self.masked = ""
        self.loaded = False

    async def on_show(self) -> None:
        ok, s = await self.shell.attempt(self.state.settings)
        if ok:
            self.load(s)
        await self.refresh_sync()

    async def refresh_sync(self) -> None:
        ok, words = await self.shell.attempt(self.state.enrolment_words)
        if ok:
            self.enrolled_url, self.enrolled_token = words
            if not self.server_field.value:
                self.server_field.value = self.enrolled_url
        ok, line = await self.shell.attempt(self.state.host.sync_line)
        if ok:
            self.sync_line = line

    async def enrol(self) -> None:
        ok, url = await self.shell.attempt(self.state.enrol, self.server_field.value or "",
                                           self.token_field.value or "")
        if ok:
            self.token_field.value = ""  # the token is kept by the service, never shown again
            self.shell.toast(f"This tablet syncs with {url} whenever it is reachable.", "ok")
            await self.refresh_sync()
            self.shell.spawn(self.watch_sync)
        self.shell.render()

    async def sync_now(self) -> None:
        ok, line = await self.shell.attempt(self.state.sync_soon)
        if ok:
            self.sync_line = line
            self.shell.spawn(self.watch_sync)
        self.shell.render()

    async def watch_sync(self, seconds: int = 20) -> None:
        """Redraw the sync line for a little while after enrolling or "Sync now" (never blocks)."""
        if self._watching:
            return
        self._watching = True
        try:
            for _ in range(seconds):
                await asyncio.sleep(1)
                line = self.state.host.sync_line()  # reads what the sync thread recorded: no I/O to the server
                if line != self.sync_line:
                    self.sync_line = line
                    if self.shell.current == "settings":
                        self.shell.render()
                    if not line.startswith("syncing"):
                        return
        finally:
            self._watching = False

    def load(self, s: Any) -> None:
        self.provider.value = s.provider.value
        self.model_field.value = s.model
        self.url_field.value = s.base_url
        self.key_field.value = ""
        self.masked = s.masked_key()
        self.tech_field.value = s.technician
        self.side_field.value = str(s.photo_policy.long_side)
        self.blur.value = s.photo_policy.blur_faces
        self.never_send.value = not s.photo_policy.send_photos
        self.large.value = self.shell.large_text  # display choices belong to this device
        self.dark.value = self.shell.dark
        self.loaded = True

    def changes(self) -> dict:
        side_text = (self.side_field.value or "").strip()
        if not side_text.isdigit():
            raise ConfigError("The photo size must be a whole number of pixels, for example 1568.")
        current = self.state.fl.settings.photo_policy
        return {
            "provider": self.provider.value or ProviderName.OFFLINE.value,
            "model": (self.model_field.value or "").strip(),
            "base_url": (self.url_field.value or "").strip(),
            "api_key": (self.key_field.value or "").strip() or None,
            "technician": (self.tech_field.value or "").strip(),
            "photo_policy": {"long_side": int(side_text), "jpeg_quality": current.jpeg_quality,
                             "blur_faces": bool(self.blur.value), "send_photos": not bool(self.never_send.value)},
        }

    async def save(self) -> None:
        try:
            changes = self.changes()
        except ConfigError as exc:
            self.error = str(exc)
            self.shell.error(exc)
            self.shell.render()
            return
        ok, res = await self.shell.attempt(self.state.save_settings, **changes)
        if ok:
            self.error = ""
            await self.shell.save_device_display(bool(self.dark.value), bool(self.large.value))
            self.load(res)
            self.shell.toast("Settings saved.", "ok")
        else:
            self.error = str(res)
        self.shell.render()
        if ok:
            self.shell.spawn(self.shell.probe_provider)

    def build(self) -> ft.Control:
        shell = self.shell
        left: list[ft.Control] = [heading("Model provider", 19),
                                  muted("Without a model, the offline engine answers from the manuals alone.")]
        if self.error:
            left.append(banner(self.error, kind="critical", title="Not saved", identifier="settings-error"))
        left += [
            sem("settings-provider", self.provider),
            self.model_box, self.url_box, self.key_box,
            muted(f"Saved key for this provider: {self.masked}" if self.masked
                  else "No API key saved for this provider."),
            sem("settings-status", muted("Status: " + shell.status_words()[0])),
        ]
        right: list[ft.Control] = [
            heading("Technician and photos", 19), self.tech_box,
            card(ft.Column([subheading("Photo policy"), self.side_box,
                            switch("settings-blur-faces", self.blur), switch("settings-never-send", self.never_send),
                            muted("Photos sent to a model are downscaled and stripped of EXIF and GPS.")],
                           spacing=10, tight=True)),
            card(ft.Column([subheading("Display on this device"), switch("settings-large-text", self.large),
                            switch("settings-dark-theme", self.dark)], spacing=10, tight=True)),
            primary("Save settings", "settings-save", shell.handler(self.save), icon=ft.Icons.SAVE),
            self.fleet_card(),
        ]
        return panes(left, right, self.shell.wide, frame=self.frame)

    def fleet_card(self) -> ft.Control:
        shell = self.shell
        parts: list[ft.Control] = [subheading("Fleet server")]
        if self.enrolled_url:
            parts.append(sem("settings-enrolment", muted(f"Enrolled with {self.enrolled_url} · token "
                                                          f"{self.enrolled_token}")))
        else:
            parts.append(muted("Enrol this tablet to send its sessions to the fleet server and get the "
                               "supervisor's reviews back. The tablet works the same without it."))
        line = self.sync_line
        bad = line.startswith(("server unreachable", "sync refused"))
        parts.append(sem("settings-sync-status", ft.Row([
            ft.Icon(ft.Icons.CLOUD_OFF if bad or line == "not enrolled" else ft.Icons.CLOUD_DONE,
                    color=theme.SAFETY_ICON if bad else ft.Colors.PRIMARY, size=fs(20)),
            ft.Text("Sync: " + line, size=fs(15), weight=ft.FontWeight.W_600, expand=True)],
            vertical_alignment=ft.CrossAxisAlignment.CENTER), label="Sync: " + line))
        parts += [self.server_box, self.token_box]
        buttons = [primary("Enrol this tablet" if not self.enrolled_url else "Save server", "settings-enrol",
                           shell.handler(self.enrol), icon=ft.Icons.LINK)]
        if self.enrolled_url:
            buttons.append(secondary("Sync now", "settings-sync-now", shell.handler(self.sync_now),
                                     icon=ft.Icons.SYNC))
        parts.append(ft.Row(buttons, wrap=True, spacing=8, run_spacing=8))
        return sem("settings-fleet", card(ft.Column(parts, spacing=10, tight=True)))


__all__ = ["SettingsView", "fs"]
