"""Look and feel: the colour scheme (light and dark), type sizes with the
large-text option, touch-target sizes, and the fixed colours that carry
meaning (safety, critical, confidence). Nothing here talks to the service.
"""

from __future__ import annotations

import contextvars

import flet as ft

from assistant.domain import Confidence, Severity

SEED = "#1D4E89"  # deep industrial blue
TOUCH = 48  # minimum touch target, logical pixels
WIDE_MIN = 900  # at or above this page width the app uses two panes
RAIL_WIDTH = 96

# Colours that carry meaning; readable on both light and dark surfaces.
SAFETY_BG = "#FFF3D6"
SAFETY_FG = "#5C3B00"
SAFETY_ICON = "#B26A00"
CRITICAL_BG = "#FDE2E0"
CRITICAL_FG = "#6B0F0A"
CRITICAL_ICON = "#C62828"
INFO_BG = "#E3EEFA"
INFO_FG = "#0D3461"
OK_BG = "#DDF3E2"
OK_FG = "#0F4D1E"
OK_ICON = "#2E7D32"

# The type scale of the client being drawn. A context variable, not a global: each browser
# tab's handlers run in their own asyncio tasks, so one device's large text never leaks to another.
_scale: contextvars.ContextVar[float] = contextvars.ContextVar("fieldlens_type_scale", default=1.0)
LARGE_SCALE = 1.3


def set_large_text(on: bool) -> None:
    """Switch the type scale for the current client (task); views re-render afterwards."""
    _scale.set(LARGE_SCALE if on else 1.0)


def scale() -> float:
    return _scale.get()


def fs(size: float) -> int:
    """A font size with the large-text option applied."""
    return round(size * _scale.get())


def build_theme(dark: bool = False) -> ft.Theme:
    return ft.Theme(
        color_scheme_seed=SEED,
        use_material3=True,
        visual_density=ft.VisualDensity.STANDARD,
    )


def apply(page: ft.Page, *, dark: bool, large_text: bool) -> None:
    """Theme one client's page (dark or light); the type scale is set per client by the shell."""
    set_large_text(large_text)
    page.theme = build_theme(False)
    page.dark_theme = build_theme(True)
    page.theme_mode = ft.ThemeMode.DARK if dark else ft.ThemeMode.LIGHT


def confidence_colors(conf: Confidence | str | None) -> tuple[str, str]:
    """(background, foreground) for a confidence badge."""
    value = str(conf.value if isinstance(conf, Confidence) else conf or "")
    if value == Confidence.HIGH.value:
        return OK_BG, OK_FG
    if value == Confidence.MEDIUM.value:
        return SAFETY_BG, SAFETY_FG
    return CRITICAL_BG, CRITICAL_FG


def severity_colors(sev: Severity | str) -> tuple[str, str, ft.IconData]:
    value = str(sev.value if isinstance(sev, Severity) else sev)
    if value == Severity.CRITICAL.value:
        return CRITICAL_BG, CRITICAL_FG, ft.Icons.REPORT
    if value == Severity.WARNING.value:
        return SAFETY_BG, SAFETY_FG, ft.Icons.WARNING_AMBER
    return INFO_BG, INFO_FG, ft.Icons.INFO_OUTLINE


def button_style() -> ft.ButtonStyle:
    return ft.ButtonStyle(
        padding=ft.Padding.symmetric(horizontal=20, vertical=14),
        text_style=ft.TextStyle(size=fs(15), weight=ft.FontWeight.W_600),
        shape=ft.RoundedRectangleBorder(radius=10),
    )
