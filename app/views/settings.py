"""Settings: provider, model, base URL, API key (never shown back in full),
technician name, photo policy, large text and dark theme. Invalid values are
shown as one plain sentence and nothing is saved."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.components.common import (
    PaneFrame, banner, card, heading, muted, panes, primary, sem, subheading, switch, text_field,
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
        self.error: str = ""
        self.masked = ""
        self.loaded = False

    async def on_show(self) -> None:
        ok, s = await self.shell.attempt(self.state.settings)
        if ok:
            self.load(s)

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
        ]
        return panes(left, right, self.shell.wide, frame=self.frame)


__all__ = ["SettingsView", "fs"]
