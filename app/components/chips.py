"""Chips and badges: readings off a photo, quality hints, flags in plain words,
citations, confidence."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app import theme
from app.components.common import pill, sem
from app.components.words import FLAG_WORDS, KIND_WORDS, QUALITY_HINTS, field_words, words
from app.theme import fs
from assistant.domain import Citation, Confidence, Flag, Observation, ObservationKind, QualityReport

KIND_ICONS = {
    ObservationKind.FAULT_CODE: ft.Icons.ERROR_OUTLINE,
    ObservationKind.ASSET_TAG: ft.Icons.QR_CODE_2,
    ObservationKind.NAMEPLATE: ft.Icons.BADGE_OUTLINED,
    ObservationKind.TEXT: ft.Icons.TEXT_FIELDS,
}


def reading_label(obs: Observation) -> str:
    kind = words(KIND_WORDS, obs.kind)
    if obs.field:
        kind = field_words(obs.field)
    unit = f" {obs.unit}" if getattr(obs, "unit", "") else ""
    return f"{kind}: {obs.value}{unit}"


def reading_chip(obs: Observation, identifier: str, on_click: Callable | None = None) -> ft.Control:
    uncertain = obs.confidence < 0.6 or bool(obs.alternatives)
    if obs.confirmed:
        bg, fg, lead = theme.OK_BG, theme.OK_FG, ft.Icons.VERIFIED
    elif uncertain:
        bg, fg, lead = theme.SAFETY_BG, theme.SAFETY_FG, ft.Icons.HELP_OUTLINE
    else:
        bg, fg, lead = theme.INFO_BG, theme.INFO_FG, KIND_ICONS.get(obs.kind, ft.Icons.LABEL_OUTLINE)
    label = reading_label(obs)
    if uncertain and not obs.confirmed:
        label += " ?"
    if on_click is None:  # a plain badge: a Chip without a handler looks disabled
        chip = ft.Container(
            content=ft.Row([ft.Icon(lead, color=fg, size=fs(18)),
                            ft.Text(label, size=fs(14), color=fg, weight=ft.FontWeight.W_600)], spacing=6, tight=True),
            bgcolor=bg, border_radius=8, padding=ft.Padding.symmetric(horizontal=10, vertical=7),
        )
    else:
        chip = ft.Chip(
            label=ft.Text(label, size=fs(14), color=fg, weight=ft.FontWeight.W_600),
            leading=ft.Icon(lead, color=fg, size=fs(18)),
            bgcolor=bg,
            on_click=on_click,
            border_side=ft.BorderSide(0, ft.Colors.TRANSPARENT),
            padding=ft.Padding.symmetric(horizontal=6, vertical=8),
        )
    return sem(identifier, chip, label=label, button=on_click is not None)


def quality_chips(quality: QualityReport | None) -> list[ft.Control]:
    if quality is None:
        return []
    if not quality.flags:
        return [pill("Good photo", bgcolor=theme.OK_BG, color=theme.OK_FG, icon=ft.Icons.CHECK, size=12)]
    return [
        pill(words(QUALITY_HINTS, f.code), bgcolor=theme.SAFETY_BG, color=theme.SAFETY_FG,
             icon=ft.Icons.CAMERA_ALT_OUTLINED, size=12)
        for f in quality.flags
    ]


def flag_chip(flag: Flag) -> ft.Control:
    bg, fg, icon = theme.severity_colors(flag.severity)
    return pill(words(FLAG_WORDS, flag.code), bgcolor=bg, color=fg, icon=icon, size=12)


def flag_line(flag: Flag) -> ft.Control:
    """A flag in plain words with its own message underneath."""
    bg, fg, icon = theme.severity_colors(flag.severity)
    title = words(FLAG_WORDS, flag.code)
    lines = [ft.Text(title, size=fs(14), weight=ft.FontWeight.W_700, color=fg)]
    if flag.message and flag.message.strip().lower() != title.lower():
        lines.append(ft.Text(flag.message, size=fs(13), color=fg))
    return ft.Container(
        content=ft.Row([ft.Icon(icon, color=fg, size=20), ft.Column(lines, spacing=2, tight=True, expand=True)],
                       vertical_alignment=ft.CrossAxisAlignment.START),
        bgcolor=bg, border_radius=10, padding=ft.Padding.symmetric(horizontal=12, vertical=8),
    )


def citation_label(c: Citation, revision: str = "") -> str:
    """Document, revision and page (or section) in full: a technician checks all three."""
    where = f"p. {c.page}" if c.page else (c.section.split(" > ")[-1] if c.section else "")
    parts = [c.title or c.doc_id]
    if revision:
        parts.append(f"rev. {revision}")
    if where:
        parts.append(where)
    return " · ".join(parts)


def citation_chip(c: Citation, identifier: str, on_click: Callable | None, revision: str = "",
                  selected: bool = False) -> ft.Control:
    """A full-width source button (never cut off; wraps on a phone), at least 48 px tall."""
    label = citation_label(c, revision)
    chip = ft.Container(
        content=ft.Row([ft.Icon(ft.Icons.MENU_BOOK_OUTLINED, size=fs(20), color=ft.Colors.PRIMARY),
                        ft.Text(label, size=fs(14), weight=ft.FontWeight.W_600, expand=True),
                        ft.Icon(ft.Icons.CHEVRON_RIGHT, size=fs(20), color=ft.Colors.OUTLINE)],
                       spacing=10, vertical_alignment=ft.CrossAxisAlignment.CENTER),
        padding=ft.Padding.symmetric(horizontal=12, vertical=14), border_radius=10, ink=True,
        on_click=on_click,
        bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else ft.Colors.SURFACE_CONTAINER_HIGH,
        border=ft.Border.all(2 if selected else 1, ft.Colors.PRIMARY if selected else ft.Colors.OUTLINE_VARIANT),
    )
    return sem(identifier, chip, label=f"Source: {label}", button=True, selected=selected)


def confidence_badge(conf: Confidence | str | None, prefix: str = "Confidence") -> ft.Control:
    bg, fg = theme.confidence_colors(conf)
    value = getattr(conf, "value", conf) or "unknown"
    return pill(f"{prefix}: {value}", bgcolor=bg, color=fg, icon=ft.Icons.SPEED, size=12)
