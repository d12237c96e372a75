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
              note_panel: ft.Control | None = None, streaming: bool = False,
              revisions: dict[str, str] | None = None, big: bool = False,
              cited: int | None = None) -> ft.Control:
    """`prefix` is e.g. "step-2"; ids: <prefix>-done|nohelp|skip|note|cite-<k>.
    `big`: the step-at-a-time layout with large status buttons; `cited`: the citation shown
    in the source pane; `revisions`: passage id -> document revision for the chips."""
    revisions = revisions or {}
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
    parts: list[ft.Control] = []
    if step.danger:  # a step that would defeat a safety function: the warning comes before the step itself
        parts.append(banner(step.danger, kind="critical", title="Danger: do not do this as written",
                            identifier=f"{prefix}-danger"))
    parts.append(ft.Row([number, ft.Column(head, spacing=4, expand=True, tight=True)],
                        vertical_alignment=ft.CrossAxisAlignment.START, spacing=14))
    if critical or step.safety:
        notes = step.safety or [f.message for f in step.flags if f.code == FlagCode.SAFETY_CRITICAL]
        parts.append(banner("\n".join(f"• {n}" for n in notes), kind="critical" if critical else "warning",
                            title="Safety" if not critical else "Safety critical: read before you start",
                            identifier=f"{prefix}-safety"))
    if step.citations:
        parts.append(ft.Column([citation_chip(c, f"{prefix}-cite-{k}", (lambda e, k=k: on_cite(k)) if on_cite else None,
                                              revision=revisions.get(c.passage_id, ""), selected=cited == k)
                                for k, c in enumerate(step.citations)], spacing=6, tight=True))
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
            ident = f"{prefix}-{STATUS_IDS[status]}"
            if big:
                buttons.append(big_status_button(label, ident, handler, status, chosen))
            elif chosen:
                buttons.append(tonal(label, ident, handler, icon=STATUS_ICONS[status],
                                     bgcolor=theme.OK_BG if status == StepStatus.DONE else theme.SAFETY_BG,
                                     color=theme.OK_FG if status == StepStatus.DONE else theme.SAFETY_FG))
            else:
                buttons.append(secondary(label, ident, handler, icon=STATUS_ICONS[status]))
        note = secondary("Note / photo", f"{prefix}-note", (lambda e: on_note()) if on_note else None,
                         icon=ft.Icons.NOTE_ADD_OUTLINED)
        if big:
            parts.append(ft.Row(buttons, spacing=10))
            parts.append(note)
        else:
            buttons.append(note)
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
        key=ft.ScrollKey(prefix),
        content=ft.Column(parts, spacing=10, tight=True),
        padding=16, border_radius=14,
        bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
        border=ft.Border.all(2 if critical else 1, theme.CRITICAL_ICON if critical else ft.Colors.OUTLINE_VARIANT),
    ))


def big_status_button(label: str, identifier: str, handler: Callable, status: StepStatus, chosen: bool) -> ft.Control:
    """A large status button for gloved hands (step-at-a-time mode): 72 px tall, a third of the row."""
    if status == StepStatus.DONE:
        bg, fg = (theme.OK_ICON, "#FFFFFF") if chosen else (theme.OK_BG, theme.OK_FG)
    else:
        bg, fg = (theme.SAFETY_ICON, "#FFFFFF") if chosen else (theme.SAFETY_BG, theme.SAFETY_FG)
    box = ft.Container(
        ft.Column([ft.Icon(STATUS_ICONS[status], color=fg, size=fs(28)),
                   ft.Text(label, size=fs(17), weight=ft.FontWeight.W_700, color=fg, text_align=ft.TextAlign.CENTER)],
                  spacing=4, tight=True, horizontal_alignment=ft.CrossAxisAlignment.CENTER),
        bgcolor=bg, border_radius=14, padding=ft.Padding.symmetric(horizontal=8, vertical=12), ink=True,
        on_click=handler, alignment=ft.Alignment.CENTER, height=max(84, fs(17) * 2 + fs(28) + 32),
        border=ft.Border.all(3, fg) if chosen else None,
    )
    return sem(identifier, box, label=label, button=True, selected=chosen, expand=True)
