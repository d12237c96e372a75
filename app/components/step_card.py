"""One numbered step of an answer: action, detail, safety notes, citations as
chips, confidence, flags in plain words, and the done / did not help / skipped
controls with a note and a result photo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app import theme
from app.components.chips import citation_chip, confidence_badge, flag_chip
from app.components.common import banner, muted, pill, secondary, sem, tonal
from app.components.words import STATUS_WORDS, words
from app.theme import fs
from assistant.domain import FlagCode, Step, StepOutcome, StepStatus

STATUS_IDS = {StepStatus.DONE: "done", StepStatus.DID_NOT_HELP: "nohelp", StepStatus.SKIPPED: "skip"}
STATUS_ICONS = {StepStatus.DONE: ft.Icons.CHECK_CIRCLE, StepStatus.DID_NOT_HELP: ft.Icons.THUMB_DOWN_ALT_OUTLINED,
                StepStatus.SKIPPED: ft.Icons.SKIP_NEXT}


def is_safety_critical(step: Step) -> bool:
    return any(f.code == FlagCode.SAFETY_CRITICAL for f in step.flags)


def step_card(step: Step, prefix: str, *, outcome: StepOutcome | None, on_cite: Callable[[int], Any] | None,
              on_status: Callable[[StepStatus], Any] | None, on_note: Callable[[], Any] | None,
              note_panel: ft.Control | None = None, streaming: bool = False) -> ft.Control:
    """`prefix` is e.g. "step-2"; ids: <prefix>-done|nohelp|skip|note|cite-<k>."""
    critical = is_safety_critical(step)
    if outcome is None:
        num_bg, num_fg = ft.Colors.PRIMARY, ft.Colors.ON_PRIMARY
    elif outcome.status == StepStatus.DONE:
        num_bg, num_fg = theme.OK_ICON, "#FFFFFF"
    else:
        num_bg, num_fg = theme.SAFETY_BG, theme.SAFETY_FG
    number = ft.Container(
        ft.Text(str(step.index), size=fs(17), weight=ft.FontWeight.W_800, color=num_fg),
        width=40, height=40, border_radius=20, alignment=ft.Alignment.CENTER, bgcolor=num_bg,
    )
    head: list[ft.Control] = [ft.Text(step.action, size=fs(17), weight=ft.FontWeight.W_600)]
    if step.detail:
        head.append(ft.Text(step.detail, size=fs(15), color=ft.Colors.ON_SURFACE_VARIANT))
    parts: list[ft.Control] = [ft.Row([number, ft.Column(head, spacing=4, expand=True, tight=True)],
                                      vertical_alignment=ft.CrossAxisAlignment.START, spacing=14)]
    if critical or step.safety:
        notes = step.safety or [f.message for f in step.flags if f.code == FlagCode.SAFETY_CRITICAL]
        parts.append(banner("\n".join(f"• {n}" for n in notes), kind="critical" if critical else "warning",
                            title="Safety" if not critical else "Safety critical: read before you start",
                            identifier=f"{prefix}-safety"))
    if step.citations:
        parts.append(ft.Row([citation_chip(c, f"{prefix}-cite-{k}", (lambda e, k=k: on_cite(k)) if on_cite else None)
                             for k, c in enumerate(step.citations)], wrap=True, spacing=6, run_spacing=6))
    meta: list[ft.Control] = [confidence_badge(step.confidence)]
    meta.extend(flag_chip(f) for f in step.flags if f.code != FlagCode.SAFETY_CRITICAL)
    parts.append(ft.Row(meta, wrap=True, spacing=6, run_spacing=6))
    if streaming:
        parts.append(muted("Checking…"))
    elif on_status is not None:
        buttons: list[ft.Control] = []
        for status in (StepStatus.DONE, StepStatus.DID_NOT_HELP, StepStatus.SKIPPED):
            chosen = outcome is not None and outcome.status == status
            label = words(STATUS_WORDS, status)
            handler = (lambda e, s=status: on_status(s))
            if chosen:
                buttons.append(tonal(label, f"{prefix}-{STATUS_IDS[status]}", handler, icon=STATUS_ICONS[status],
                                     bgcolor=theme.OK_BG if status == StepStatus.DONE else theme.SAFETY_BG,
                                     color=theme.OK_FG if status == StepStatus.DONE else theme.SAFETY_FG))
            else:
                buttons.append(secondary(label, f"{prefix}-{STATUS_IDS[status]}", handler, icon=STATUS_ICONS[status]))
        buttons.append(secondary("Note / photo", f"{prefix}-note", (lambda e: on_note()) if on_note else None,
                                 icon=ft.Icons.NOTE_ADD_OUTLINED))
        parts.append(ft.Row(buttons, wrap=True, spacing=8, run_spacing=8))
        if outcome is not None:
            text = words(STATUS_WORDS, outcome.status) + (f" · {outcome.note}" if outcome.note else "")
            if outcome.photo_ids:
                text += f" · {len(outcome.photo_ids)} photo"
            parts.append(sem(f"{prefix}-status", pill(text, bgcolor=theme.OK_BG if outcome.status == StepStatus.DONE
                                                       else theme.SAFETY_BG,
                                                       color=theme.OK_FG if outcome.status == StepStatus.DONE
                                                       else theme.SAFETY_FG, icon=STATUS_ICONS[outcome.status]),
                             label=text))
        if note_panel is not None:
            parts.append(note_panel)
    return sem(prefix, ft.Container(
        content=ft.Column(parts, spacing=10, tight=True),
        padding=16, border_radius=14,
        bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
        border=ft.Border.all(2 if critical else 1, theme.CRITICAL_ICON if critical else ft.Colors.OUTLINE_VARIANT),
    ))
