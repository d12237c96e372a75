"""The app shell: navigation (a rail on a tablet, a bottom bar on a phone),
the header with the provider indicator, the SnackBar for plain-sentence
errors, and the bridge that runs service calls off the Flet event loop.

The shell also works without a page (`page=None`): views can be built and
their handlers awaited in unit tests, with toasts collected in `messages`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from app import theme
from app.components.common import sem
from app.state import AppState, ServiceHost, plain_sentence
from app.theme import fs
from assistant.errors import FieldlensError

log = logging.getLogger("fieldlens.app")

NAV: list[tuple[str, str, ft.IconData, ft.IconData]] = [
    ("home", "Home", ft.Icons.HOME_OUTLINED, ft.Icons.HOME),
    ("capture", "Capture", ft.Icons.PHOTO_CAMERA_OUTLINED, ft.Icons.PHOTO_CAMERA),
    ("answer", "Ask", ft.Icons.QUESTION_ANSWER_OUTLINED, ft.Icons.QUESTION_ANSWER),
    ("library", "Library", ft.Icons.MENU_BOOK_OUTLINED, ft.Icons.MENU_BOOK),
    ("sessions", "History", ft.Icons.HISTORY, ft.Icons.HISTORY),
    ("review", "Review", ft.Icons.FACT_CHECK_OUTLINED, ft.Icons.FACT_CHECK),
    ("settings", "Settings", ft.Icons.SETTINGS_OUTLINED, ft.Icons.SETTINGS),
]


class Shell:
    def __init__(self, page: ft.Page | None, host: ServiceHost) -> None:
        from app.views.answer import AnswerView
        from app.views.capture import CaptureView
        from app.views.home import HomeView
        from app.views.library import LibraryView
        from app.views.review import ReviewView
        from app.views.sessions import SessionsView
        from app.views.settings import SettingsView

        self.page = page
        self.host = host
        self.state = AppState(host)
        self.messages: list[tuple[str, str]] = []  # (kind, text): every toast, newest last
        self.views: dict[str, Any] = {
            "home": HomeView(self),
            "capture": CaptureView(self),
            "answer": AnswerView(self),
            "library": LibraryView(self),
            "sessions": SessionsView(self),
            "review": ReviewView(self),
            "settings": SettingsView(self),
        }
        self.current = "home"
        self.width = float(page.width or 1280) if page is not None else 1280.0
        self.body = ft.Container(expand=True)
        self.header_slot = ft.Container()
        self.nav_slot = ft.Container(bgcolor=ft.Colors.SURFACE_CONTAINER)
        self._wide_root: ft.Control | None = None
        self._narrow_root: ft.Control | None = None
        self.file_picker: Any = None
        self.launcher: Any = None
        self._busy = 0

    # ------------------------------------------------------------------ layout

    @property
    def wide(self) -> bool:
        return self.width >= theme.WIDE_MIN

    @property
    def web(self) -> bool:
        return bool(self.page is not None and self.page.web)

    async def start(self) -> None:
        page = self.page
        if page is not None:
            page.title = "Fieldlens"
            page.padding = 0
            page.spacing = 0
            page.on_resize = self._on_resize
            self.file_picker = ft.FilePicker()
            self.launcher = ft.UrlLauncher()
        await self.run(self.state.refresh_status)
        settings = await self.run(self.state.settings)
        self.apply_theme(settings.dark_theme, settings.large_text)
        await self.go("home")
        for problem in getattr(settings, "load_problems", []):  # unusable settings or secrets: defaults, and say so
            self.toast(problem, "error")

    def apply_theme(self, dark: bool, large_text: bool) -> None:
        if self.page is not None:
            theme.apply(self.page, dark=dark, large_text=large_text)
        else:
            theme.set_large_text(large_text)

    async def _on_resize(self, e: ft.PageResizeEvent) -> None:
        was_wide = self.wide
        self.width = float(e.width)
        if was_wide != self.wide:
            self.render()

    def header(self) -> ft.Control:
        view = self.views[self.current]
        st = self.state.status or {}
        provider = st.get("provider", "offline")
        if provider == "offline":
            status = ("Offline engine", theme.INFO_BG, theme.INFO_FG, ft.Icons.CLOUD_OFF)
        elif not st.get("configured"):
            status = (f"{provider}: not configured", theme.SAFETY_BG, theme.SAFETY_FG, ft.Icons.CLOUD_OFF)
        elif st.get("reachable") is False:
            status = (f"{provider} unreachable: offline answers", theme.SAFETY_BG, theme.SAFETY_FG,
                      ft.Icons.CLOUD_OFF)
        else:
            model = st.get("model") or ""
            status = (f"Online · {provider}" + (f" · {model}" if model else ""), theme.OK_BG, theme.OK_FG,
                      ft.Icons.CLOUD_DONE)
        text, bg, fg, icon = status
        pill = ft.Container(
            content=ft.Row([ft.Icon(icon, color=fg, size=18), ft.Text(text, color=fg, size=fs(13),
                                                                       weight=ft.FontWeight.W_600)],
                           spacing=6, tight=True),
            bgcolor=bg, border_radius=20, padding=ft.Padding.symmetric(horizontal=12, vertical=8),
            tooltip="Model provider",
        )
        eq = self.state.equipment
        right: list[ft.Control] = []
        if eq is not None:
            right.append(ft.Container(
                content=ft.Row([ft.Icon(ft.Icons.PRECISION_MANUFACTURING, size=18),
                                ft.Text(eq.model or eq.name, size=fs(13), weight=ft.FontWeight.W_600,
                                        max_lines=1, overflow=ft.TextOverflow.ELLIPSIS)], spacing=6, tight=True),
                bgcolor=ft.Colors.SECONDARY_CONTAINER, border_radius=20,
                padding=ft.Padding.symmetric(horizontal=12, vertical=8),
            ))
        right.append(sem("provider-status", pill, label=text))
        return ft.Container(
            content=ft.Row(
                [ft.Text(view.title, size=fs(22), weight=ft.FontWeight.W_700, expand=True,
                         max_lines=1, overflow=ft.TextOverflow.ELLIPSIS),
                 ft.Row(right, spacing=8, tight=True)],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            ),
            padding=ft.Padding.only(left=20, right=16, top=12, bottom=12),
            bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
            border=ft.Border.only(bottom=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
        )

    def nav_item(self, key: str, label: str, icon: ft.IconData, selected_icon: ft.IconData, compact: bool) -> ft.Control:
        selected = key == self.current
        fg = ft.Colors.ON_SECONDARY_CONTAINER if selected else ft.Colors.ON_SURFACE_VARIANT
        item = ft.Container(
            content=ft.Column(
                [ft.Container(ft.Icon(selected_icon if selected else icon, color=fg, size=26),
                              bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else None,
                              border_radius=16, padding=ft.Padding.symmetric(horizontal=16, vertical=4)),
                 ft.Text(label, size=11 if compact else fs(12), color=fg, no_wrap=True,
                         weight=ft.FontWeight.W_700 if selected else ft.FontWeight.W_500)],
                spacing=4, horizontal_alignment=ft.CrossAxisAlignment.CENTER, tight=True,
            ),
            on_click=self.handler(self.go, key),
            padding=ft.Padding.symmetric(vertical=8),
            height=72 if not compact else 64,
            width=theme.RAIL_WIDTH if not compact else None,
            expand=compact,
            alignment=ft.Alignment.CENTER,
            border_radius=12,
            ink=True,
        )
        return sem(f"nav-{key}", item, label=label, button=True, selected=selected)

    def _skeleton(self, wide: bool) -> ft.Control:
        """The persistent frame (built once per mode): only slot contents change on render."""
        if wide and self._wide_root is None:
            main = ft.Column([self.header_slot, self.body], spacing=0, expand=True)
            self._wide_root = ft.SafeArea(ft.Row([self.nav_slot, main], spacing=0, expand=True,
                                                 vertical_alignment=ft.CrossAxisAlignment.STRETCH), expand=True)
        if not wide and self._narrow_root is None:
            main = ft.Column([self.header_slot, self.body], spacing=0, expand=True)
            self._narrow_root = ft.SafeArea(ft.Column([main, self.nav_slot], spacing=0, expand=True), expand=True)
        return self._wide_root if wide else self._narrow_root

    def layout(self) -> ft.Control:
        view = self.views[self.current]
        self.body.content = view.build()
        self.header_slot.content = self.header()
        if self.wide:
            self.nav_slot.content = ft.Column(
                [ft.Container(ft.Icon(ft.Icons.CENTER_FOCUS_STRONG, size=34, color=ft.Colors.PRIMARY),
                              padding=ft.Padding.only(top=14, bottom=10)),
                 *[self.nav_item(*n, compact=False) for n in NAV]],
                spacing=2, horizontal_alignment=ft.CrossAxisAlignment.CENTER, scroll=ft.ScrollMode.AUTO,
            )
            self.nav_slot.width = theme.RAIL_WIDTH + 8
            self.nav_slot.border = None
        else:
            self.nav_slot.content = ft.Row([self.nav_item(*n, compact=True) for n in NAV], spacing=0)
            self.nav_slot.width = None
            self.nav_slot.border = ft.Border.only(top=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT))
        return self._skeleton(self.wide)

    def render(self) -> None:
        """Rebuild the current view from state and push it to the browser."""
        root = self.layout()
        if self.page is not None:
            if not self.page.controls or self.page.controls[0] is not root:
                self.page.controls = [root]
            self.page.update()

    # ------------------------------------------------------------------ navigation and feedback

    async def go(self, name: str) -> None:
        self.current = name
        view = self.views[name]
        if hasattr(view, "on_show"):
            await view.on_show()
        self.render()

    def toast(self, text: str, kind: str = "info") -> None:
        self.messages.append((kind, text))
        if self.page is None:
            return
        bg = {"error": theme.CRITICAL_BG, "ok": theme.OK_BG}.get(kind, theme.INFO_BG)
        fg = {"error": theme.CRITICAL_FG, "ok": theme.OK_FG}.get(kind, theme.INFO_FG)
        icon = {"error": ft.Icons.ERROR_OUTLINE, "ok": ft.Icons.CHECK_CIRCLE_OUTLINE}.get(kind, ft.Icons.INFO_OUTLINE)
        bar = ft.SnackBar(
            content=sem("snackbar", ft.Row([ft.Icon(icon, color=fg), ft.Text(text, color=fg, size=fs(15), expand=True)]),
                        label=text),
            bgcolor=bg, behavior=ft.SnackBarBehavior.FLOATING, show_close_icon=True, close_icon_color=fg,
            duration=ft.Duration(seconds=6),
        )
        self.page.show_dialog(bar)

    def error(self, err: BaseException | str) -> None:
        self.toast(plain_sentence(err), "error")

    def show_dialog(self, dialog: ft.DialogControl) -> None:
        if self.page is not None:
            self.page.show_dialog(dialog)

    def close_dialog(self, dialog: ft.DialogControl | None) -> None:
        """Close this dialog (not just the topmost one: a SnackBar may be above it)."""
        if self.page is not None and dialog is not None and dialog.open:
            dialog.open = False
            dialog.update()

    # ------------------------------------------------------------------ running service calls

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call on the service worker and await it (raises what it raises)."""
        return await asyncio.wrap_future(self.host.submit(fn, *args, **kwargs))

    async def attempt(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run a service call; a user-caused error becomes a SnackBar and (False, err)."""
        try:
            return True, await self.run(fn, *args, **kwargs)
        except FieldlensError as exc:
            self.error(exc)
            return False, exc
        except Exception as exc:  # a bug below the UI must not kill the session
            log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
            self.error(f"Something went wrong ({exc.__class__.__name__}); your session is saved.")
            return False, exc

    def handler(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Callable[[Any], Awaitable[None]]:
        """An event handler that awaits `fn(*args)` (binds loop variables safely)."""

        async def _handle(e: Any = None) -> None:
            await fn(*args)

        return _handle

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Start a coroutine without waiting (streaming work); headless: no-op scheduling."""
        if self.page is not None:
            self.page.run_task(fn, *args)
        else:
            asyncio.get_event_loop().create_task(fn(*args))

    async def pick_images(self, multiple: bool = True) -> list[tuple[str, bytes]]:
        """Open the file picker for photos; returns (name, bytes) for each picked file."""
        if self.file_picker is None:
            return []
        files = await self.file_picker.pick_files(
            dialog_title="Choose photos", file_type=ft.FilePickerFileType.IMAGE,
            allow_multiple=multiple, with_data=True,
        )
        out: list[tuple[str, bytes]] = []
        for f in files or []:
            data = f.bytes
            if data is None and f.path:
                with open(f.path, "rb") as fh:
                    data = fh.read()
            if data is not None:
                out.append((f.name, data))
        return out
