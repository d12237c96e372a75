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
PREF_DARK = "fieldlens.dark_theme"
PREF_LARGE = "fieldlens.large_text"
BAR_HEIGHT = 80  # the phone's bottom bar, large text included
BAR_KEYS = ("home", "capture", "answer", "sessions")  # a phone's bottom bar: these four and "More"


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
            "more": MoreView(self),
        }
        self.current = "home"
        self.width = float(page.width or 1280) if page is not None else 1280.0
        # One slot per view, all mounted; only the current one is visible (see PaneFrame).
        self.view_slots: dict[str, ft.Container] = {
            key: ft.Container(expand=True, visible=False) for key in self.views}
        self.body = ft.Column(list(self.view_slots.values()), spacing=0, expand=True,
                              horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self.header_slot = ft.Container()
        self.rail_slot = ft.Container(bgcolor=ft.Colors.SURFACE_CONTAINER, width=theme.RAIL_WIDTH + 8)
        self.bar_slot = ft.Container(bgcolor=ft.Colors.SURFACE_CONTAINER,
                                     border=ft.Border.only(top=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)))
        self._root: ft.Control | None = None
        self.file_picker: Any = None
        self.launcher: Any = None
        self.prefs: Any = None  # this device's own storage (display settings)
        self.dark = False
        self.large_text = False
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
            self.prefs = ft.SharedPreferences()
        await self.run(self.state.refresh_status)
        settings = await self.run(self.state.settings)
        dark, large = await self.device_display(settings.dark_theme, settings.large_text)
        self.apply_theme(dark, large)
        await self.go("home")
        for problem in getattr(settings, "load_problems", []):  # unusable settings or secrets: defaults, and say so
            self.toast(problem, "error")
        self.spawn(self.probe_provider)
        if page is not None:
            self.spawn(self.watch_pulled_reviews)

    def apply_theme(self, dark: bool, large_text: bool) -> None:
        """Theme and type size for this client only."""
        self.dark, self.large_text = bool(dark), bool(large_text)
        if self.page is not None:
            theme.apply(self.page, dark=self.dark, large_text=self.large_text)
        else:
            theme.set_large_text(self.large_text)

    def use_scale(self) -> None:
        """Make this client's type size the one `fs()` uses in the running task."""
        theme.set_large_text(self.large_text)

    async def device_display(self, dark: bool, large: bool) -> tuple[bool, bool]:
        """This device's dark-theme and large-text choice (the saved settings are the default)."""
        if self.prefs is None:
            return dark, large
        try:
            stored_dark = await self.prefs.get(PREF_DARK)
            stored_large = await self.prefs.get(PREF_LARGE)
        except Exception:  # storage unavailable in this browser: the defaults stand
            log.warning("device storage unavailable", exc_info=True)
            return dark, large
        return (dark if stored_dark is None else bool(stored_dark),
                large if stored_large is None else bool(stored_large))

    async def save_device_display(self, dark: bool, large: bool) -> None:
        """Apply and remember a display choice on this device only."""
        self.apply_theme(dark, large)
        if self.prefs is not None:
            try:
                await self.prefs.set(PREF_DARK, bool(dark))
                await self.prefs.set(PREF_LARGE, bool(large))
            except Exception:  # the choice still holds for this visit
                log.warning("could not store display settings on this device", exc_info=True)

    async def _on_resize(self, e: ft.PageResizeEvent) -> None:
        was_wide = self.wide
        self.width = float(e.width)
        if was_wide != self.wide:
            self.render()

    def status_words(self) -> tuple[str, str, str, ft.IconData]:
        """(text, background, foreground, icon) for the provider pill: only ever what is known."""
        st = self.state.status or {}
        provider = st.get("provider", "offline")
        model = st.get("model") or ""
        name = provider + (f" · {model}" if model else "")
        state = st.get("state") or ("offline" if provider == "offline" else "checking")
        if state == "offline":
            return "Offline engine", theme.INFO_BG, theme.INFO_FG, ft.Icons.CLOUD_OFF
        if state == "not configured":
            return f"{provider}: not configured", theme.SAFETY_BG, theme.SAFETY_FG, ft.Icons.CLOUD_OFF
        if state == "unreachable":
            return f"{name}: unreachable", theme.SAFETY_BG, theme.SAFETY_FG, ft.Icons.CLOUD_OFF
        if state == "reachable":
            return f"{name}: reachable", theme.OK_BG, theme.OK_FG, ft.Icons.CLOUD_DONE
        return f"{name}: checking…", theme.INFO_BG, theme.INFO_FG, ft.Icons.CLOUD_SYNC

    def header(self) -> ft.Control:
        view = self.views[self.current]
        text, bg, fg, icon = self.status_words()
        pill = ft.Container(
            content=ft.Row([ft.Icon(icon, color=fg, size=fs(18)), ft.Text(text, color=fg, size=fs(13),
                                                                          weight=ft.FontWeight.W_600)],
                           spacing=6, tight=True),
            bgcolor=bg, border_radius=20, padding=ft.Padding.symmetric(horizontal=12, vertical=8),
            tooltip=(self.state.status or {}).get("problem") or "Model provider",
        )
        eq = self.state.equipment
        right: list[ft.Control] = []
        if eq is not None:
            right.append(ft.Container(
                content=ft.Row([ft.Icon(ft.Icons.PRECISION_MANUFACTURING, size=fs(18)),
                                ft.Text(eq.model or eq.name, size=fs(13), weight=ft.FontWeight.W_600)],
                               spacing=6, tight=True),
                bgcolor=ft.Colors.SECONDARY_CONTAINER, border_radius=20,
                padding=ft.Padding.symmetric(horizontal=12, vertical=8),
            ))
        right.append(sem("provider-status", pill, label=text))
        title = sem("screen-title", ft.Text(view.title, size=fs(22), weight=ft.FontWeight.W_700), label=view.title)
        if self.wide:
            content: ft.Control = ft.Row([ft.Container(title, expand=True), ft.Row(right, spacing=8, tight=True)],
                                         vertical_alignment=ft.CrossAxisAlignment.CENTER)
        else:  # a phone: the title on its own line, never cut, the pills below it
            content = ft.Column([title, ft.Row(right, spacing=8, wrap=True, run_spacing=6)], spacing=6, tight=True)
        return ft.Container(
            content=content,
            padding=ft.Padding.only(left=20, right=16, top=12, bottom=12),
            bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
            border=ft.Border.only(bottom=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
        )

    async def probe_provider(self) -> None:
        """Probe the provider on its own thread (never the UI loop, never the service worker) and
        redraw the header with the answer."""
        self.state.status = {**(self.state.status or {})}
        if self.state.status.get("state") not in ("checking", "unreachable", "reachable"):
            return
        self.state.status["state"] = "checking"
        self.render_header()
        try:
            await asyncio.to_thread(self.state.probe_status)
        except Exception:  # a probe that fails for any reason leaves an honest "unreachable"
            log.exception("provider probe failed")
            self.state.status = {**self.state.status, "state": "unreachable", "reachable": False}
        if self.page is not None and self.page.controls:
            self.render()  # the header and any status card on the screen

    async def watch_pulled_reviews(self, every_s: float = 15.0) -> None:
        """Redraw History (or Home) when the background sync has brought reviews back, so the
        technician sees a verdict without leaving the screen. Reads what the sync thread recorded
        (no I/O); ends when this client's page is gone."""
        seen = None
        while True:
            await asyncio.sleep(every_s)
            syncer = self.host.syncer
            report = (syncer.status().get("last_report") or {}) if syncer is not None else {}
            stamp = report.get("finished_at")
            if stamp == seen:
                continue
            seen = stamp
            if not report.get("reviews_pulled") or self.current not in ("sessions", "home"):
                continue
            try:
                await self.views[self.current].on_show()
                self.render()
            except Exception:  # the page closed: this client is gone
                log.debug("stopped watching for pulled reviews", exc_info=True)
                return

    def render_header(self) -> None:
        self.use_scale()
        self.header_slot.content = self.header()
        if self.page is not None and self.page.controls:
            self.page.update()

    def nav_item(self, key: str, label: str, icon: ft.IconData, selected_icon: ft.IconData, compact: bool) -> ft.Control:
        selected = key == self.current
        fg = ft.Colors.ON_SECONDARY_CONTAINER if selected else ft.Colors.ON_SURFACE_VARIANT
        item = ft.Container(
            content=ft.Column(
                [ft.Container(ft.Icon(selected_icon if selected else icon, color=fg, size=26),
                              bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else None,
                              border_radius=16, padding=ft.Padding.symmetric(horizontal=16, vertical=4)),
                 ft.Text(label, size=fs(12), color=fg, no_wrap=True,
                         weight=ft.FontWeight.W_700 if selected else ft.FontWeight.W_500)],
                spacing=4, horizontal_alignment=ft.CrossAxisAlignment.CENTER, tight=True,
            ),
            on_click=self.handler(self.go, key),
            padding=ft.Padding.symmetric(vertical=8),
            height=72 if not compact else None,
            width=theme.RAIL_WIDTH if not compact else None,
            expand=compact,
            alignment=ft.Alignment.CENTER,
            border_radius=12,
            ink=True,
        )
        return sem(f"nav-{key}", item, label=label, button=True, selected=selected)

    def _skeleton(self) -> ft.Control:
        """The persistent frame (built once): the rail and the bottom bar are both mounted and
        shown by width, so nothing is ever detached and re-attached between renders."""
        if self._root is None:
            main = ft.Column([self.header_slot, self.body, self.bar_slot], spacing=0, expand=True,
                             horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
            self._root = ft.SafeArea(ft.Row([self.rail_slot, main], spacing=0, expand=True,
                                            vertical_alignment=ft.CrossAxisAlignment.STRETCH), expand=True)
        return self._root

    def layout(self) -> ft.Control:
        self.use_scale()
        view = self.views[self.current]
        for key, slot in self.view_slots.items():
            slot.visible = key == self.current
        self.view_slots[self.current].content = view.build()
        self.header_slot.content = self.header()
        wide = self.wide
        self.rail_slot.visible = wide
        self.bar_slot.visible = not wide
        if wide:
            self.bar_slot.content = None
            self.rail_slot.content = ft.Column(
                [ft.Container(ft.Icon(ft.Icons.CENTER_FOCUS_STRONG, size=34, color=ft.Colors.PRIMARY),
                              padding=ft.Padding.only(top=14, bottom=10)),
                 *[self.nav_item(*n, compact=False) for n in NAV]],
                spacing=2, horizontal_alignment=ft.CrossAxisAlignment.CENTER, scroll=ft.ScrollMode.AUTO,
            )
        else:
            self.rail_slot.content = None
            self.bar_slot.content = self.bottom_bar()
        return self._skeleton()

    def bottom_bar(self) -> ft.Control:
        """At most five items on a phone: the technician's four screens and "More" for the rest."""
        items = [self.nav_item(*n, compact=True) for n in NAV if n[0] in BAR_KEYS]
        in_more = self.current not in BAR_KEYS  # "more" itself, library, review, settings
        fg = ft.Colors.ON_SECONDARY_CONTAINER if in_more else ft.Colors.ON_SURFACE_VARIANT
        more = ft.Container(
            content=ft.Column(
                [ft.Container(ft.Icon(ft.Icons.MORE_HORIZ, color=fg, size=26),
                              bgcolor=ft.Colors.SECONDARY_CONTAINER if in_more else None,
                              border_radius=16, padding=ft.Padding.symmetric(horizontal=16, vertical=4)),
                 ft.Text("More", size=fs(12), color=fg, no_wrap=True,
                         weight=ft.FontWeight.W_700 if in_more else ft.FontWeight.W_500)],
                spacing=4, horizontal_alignment=ft.CrossAxisAlignment.CENTER, tight=True),
            on_click=self.handler(self.open_more), padding=ft.Padding.symmetric(vertical=8),
            expand=True, alignment=ft.Alignment.CENTER, border_radius=12, ink=True,
        )
        items.append(sem("nav-more", more, label="More", button=True, selected=in_more))
        return ft.Row(items, spacing=0)

    async def open_more(self) -> None:
        """The screens that do not fit the phone's bottom bar, as a screen of big rows."""
        await self.go("more")

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
        self.use_scale()
        bg = {"error": theme.CRITICAL_BG, "ok": theme.OK_BG}.get(kind, theme.INFO_BG)
        fg = {"error": theme.CRITICAL_FG, "ok": theme.OK_FG}.get(kind, theme.INFO_FG)
        icon = {"error": ft.Icons.ERROR_OUTLINE, "ok": ft.Icons.CHECK_CIRCLE_OUTLINE}.get(kind, ft.Icons.INFO_OUTLINE)
        bar = ft.SnackBar(
            content=sem("snackbar", ft.Row([ft.Icon(icon, color=fg), ft.Text(text, color=fg, size=fs(15), expand=True)]),
                        label=text),
            bgcolor=bg, behavior=ft.SnackBarBehavior.FLOATING, show_close_icon=True, close_icon_color=fg,
            duration=ft.Duration(seconds=6 if kind == "error" else 4),
            # on a phone the message floats above the bottom bar, never over it
            margin=None if self.wide else ft.Margin.only(left=12, right=12, bottom=BAR_HEIGHT + 12),
        )
        self.page.show_dialog(bar)

    def error(self, err: BaseException | str) -> None:
        self.toast(plain_sentence(err), "error")

    def show_dialog(self, dialog: ft.DialogControl) -> None:
        self.use_scale()
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
        return await self._attempt(self.run(fn, *args, **kwargs), fn)

    async def attempt_remote(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Like `attempt`, for calls to the fleet server: on their own worker, never in the queue
        of the technician's calls."""
        future = self.host.submit_remote(fn, *args, **kwargs)
        return await self._attempt(asyncio.wrap_future(future), fn)

    async def _attempt(self, call: Awaitable[Any], fn: Callable[..., Any]) -> tuple[bool, Any]:
        try:
            return True, await call
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
            self.use_scale()
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


class MoreView:
    """A phone's "More": the screens beyond the bottom bar's four, as big rows."""

    title = "More"

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def build(self) -> ft.Control:
        rows: list[ft.Control] = []
        for key, label, icon, _selected_icon in NAV:
            if key in BAR_KEYS:
                continue
            row = ft.Container(
                ft.Row([ft.Icon(icon, size=fs(28)),
                        ft.Text(label, size=fs(18), weight=ft.FontWeight.W_600, expand=True),
                        ft.Icon(ft.Icons.CHEVRON_RIGHT, color=ft.Colors.OUTLINE)], spacing=16),
                padding=ft.Padding.symmetric(horizontal=20, vertical=16), border_radius=12, ink=True,
                on_click=self.shell.handler(self.shell.go, key), bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
                border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
            rows.append(sem(f"nav-{key}", row, label=label, button=True))
        return ft.Container(ft.Column(rows, spacing=10, scroll=ft.ScrollMode.AUTO), padding=14, expand=True)
