"""Sessions (the technician's history): filters, the list, and a session's
timeline with its questions, answers and ticked steps; continue a session or
export it. `ReviewView` (review.py) builds on this for supervisors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flet as ft

from app import theme
from app.components.chips import confidence_badge, flag_chip
from app.components.common import (
    PaneFrame,
    banner, body, card, empty_state, heading, muted, panes, primary, secondary, sem, subheading, switch, text_field, tonal,
)
from app.state import needs_review
from app.components.words import FLAG_WORDS, OUTCOME_WORDS, STATUS_WORDS, VERDICT_WORDS, words
from app.theme import fs
from assistant.domain import Outcome, Session, SessionSummary

TIMELINE_ICONS = {
    "start": ft.Icons.PLAY_CIRCLE_OUTLINE, "photo": ft.Icons.PHOTO_CAMERA_OUTLINED,
    "question": ft.Icons.CHAT_BUBBLE_OUTLINE, "answer": ft.Icons.LIGHTBULB_OUTLINE, "error": ft.Icons.ERROR_OUTLINE,
    "step": ft.Icons.CHECKLIST, "note": ft.Icons.STICKY_NOTE_2_OUTLINED, "close": ft.Icons.FLAG_OUTLINED,
    "review": ft.Icons.FACT_CHECK_OUTLINED,
}


class SessionsView:
    title = "History"
    review_mode = False

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.state = shell.state
        self.frame = PaneFrame(4, 6)
        self.equipment: list[Any] = []
        self.detail: Session | None = None
        self.export_note = ""
        self.tech_field, self.tech_box = text_field("filter-technician", "Technician",
                                                    on_submit=shell.handler(self.apply_filters), expand=True)

    async def on_show(self) -> None:
        ok, eqs = await self.shell.attempt(self.state.all_equipment)
        if ok:
            self.equipment = eqs
        await self.attempt_source(self.state.list_sessions, **self.source())
        if self.detail is not None:
            ok, s = await self.attempt_source(self.state.open_session, self.detail.id, **self.source())
            self.detail = s if ok else None

    def source(self) -> dict:
        """Which sessions this screen works on (History: always this device's)."""
        return {}

    async def attempt_source(self, fn: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run a call on this screen's sessions: the fleet server's go to their own worker, so a
        slow server never holds up the rest of the app."""
        if kwargs.get("fleet"):
            return await self.shell.attempt_remote(fn, *args, **kwargs)
        return await self.shell.attempt(fn, *args, **kwargs)

    # ------------------------------------------------------------------ handlers

    async def apply_filters(self) -> None:
        self.state.filters.technician = self.tech_field.value or ""
        await self.attempt_source(self.state.list_sessions, **self.source())
        self.shell.render()

    async def set_filter(self, name: str, value: Any) -> None:
        setattr(self.state.filters, name, value)
        await self.apply_filters()

    async def open(self, session_id: str) -> None:
        ok, s = await self.attempt_source(self.state.open_session, session_id, **self.source())
        if ok:
            self.detail = s
            self.export_note = ""
            self.on_open(s)
        self.shell.render()

    def on_open(self, s: Session) -> None:
        pass

    async def resume(self) -> None:
        if self.detail is None:
            return
        ok, _ = await self.shell.attempt(self.state.resume, self.detail.id)
        if ok:
            await self.shell.go("answer")

    async def export(self, fmt: str) -> None:
        if self.detail is None:
            return
        anonymize = bool(getattr(self, "anonymize", False))
        ok, path = await self.attempt_source(self.state.export, fmt, self.detail.id, anonymize, **self.source())
        if not ok:
            return
        path = Path(path)
        self.export_note = f"{fmt.upper()} report ready: {path.name}"  # a file name, never a server folder
        self.shell.toast(f"{fmt.upper()} report saved.", "ok")
        self.shell.render()
        if self.shell.web and self.shell.file_picker is not None:
            try:  # in a browser, also hand the file over as a download
                await self.shell.file_picker.save_file(file_name=path.name, src_bytes=path.read_bytes())
            except Exception as exc:  # the saved file is still there; say so plainly
                self.shell.toast(f"The report {path.name} is saved on this device; the download did not start "
                                 f"({exc.__class__.__name__}).")

    # ------------------------------------------------------------------ build

    def build(self) -> ft.Control:
        return panes(self.list_pane(), self.detail_pane(), self.shell.wide, frame=self.frame, pinned=self.pinned())

    def pinned(self) -> ft.Control | None:
        """What stays in view above the session (the review desk's verdict bar)."""
        return None

    def filters(self) -> ft.Control:
        f, shell = self.state.filters, self.shell
        eq = ft.Dropdown(
            label="Equipment", value=f.equipment_id or "any", dense=True, expand=True,
            options=[ft.DropdownOption(key="any", text="Any equipment")]
            + [ft.DropdownOption(key=e.id, text=e.model or e.name) for e in self.equipment],
            on_select=lambda e: shell.page.run_task(self.set_filter, "equipment_id",
                                                    None if e.control.value == "any" else e.control.value),
        )
        out = ft.Dropdown(
            label="Outcome", value=f.outcome or "any", dense=True, expand=True,
            options=[ft.DropdownOption(key="any", text="Any outcome"), ft.DropdownOption(key="open", text="Still open")]
            + [ft.DropdownOption(key=o.value, text=words(OUTCOME_WORDS, o)) for o in Outcome],
            on_select=lambda e: shell.page.run_task(self.set_filter, "outcome",
                                                    None if e.control.value == "any" else e.control.value),
        )
        sort = ft.Dropdown(
            label="Sort", value=f.sort, dense=True, expand=True,
            options=[ft.DropdownOption(key="latest", text="Latest activity first"),
                     ft.DropdownOption(key="oldest", text="Oldest first"),
                     ft.DropdownOption(key="equipment", text="Equipment A-Z"),
                     ft.DropdownOption(key="confidence", text="Lowest confidence first")],
            on_select=lambda e: shell.page.run_task(self.set_filter, "sort", e.control.value or "latest"),
        )
        flagged = ft.Switch(label="Needs review", value=f.flagged,
                            on_change=lambda e: shell.page.run_task(self.set_filter, "flagged", e.control.value))
        low = ft.Switch(label="Low confidence", value=f.low_confidence,
                        on_change=lambda e: shell.page.run_task(self.set_filter, "low_confidence", e.control.value))
        return card(ft.Column([
            ft.Row([sem("filter-equipment", eq, expand=True), sem("filter-outcome", out, expand=True)], spacing=10),
            ft.Row([self.tech_box, sem("filter-sort", sort, expand=True)], spacing=10),
            ft.Row([switch("filter-flagged", flagged), switch("filter-low-confidence", low)],
                   spacing=16, wrap=True, vertical_alignment=ft.CrossAxisAlignment.CENTER),
        ], spacing=10, tight=True), padding=12)

    def row(self, i: int, s: SessionSummary) -> ft.Control:
        selected = self.detail is not None and self.detail.id == s.id
        when = s.updated_at.astimezone().strftime("%d %b %Y %H:%M")  # the list is ordered by activity
        badges: list[ft.Control] = []
        badges.append(theme_pill(words(OUTCOME_WORDS, s.outcome) if s.outcome else "Open",
                                 "ok" if s.outcome == Outcome.FIXED else "info"))
        if s.confidence is not None:
            badges.append(confidence_badge(s.confidence))
        if s.verdict is not None:
            badges.append(theme_pill("Reviewed: " + words(VERDICT_WORDS, s.verdict), "info"))
        if needs_review(s):
            badges.append(theme_pill("Needs review", "warning"))
        name = self.state.equipment_name(s.equipment_id)
        tile = ft.Container(ft.Column([
            ft.Text(f"{name} · {when}", size=fs(15), weight=ft.FontWeight.W_700),
            muted(" · ".join(x for x in [s.first_question or "No question asked", s.technician,
                                         f"device {s.device}" if getattr(s, "device", "") else ""] if x)),
            ft.Row(badges, wrap=True, spacing=6, run_spacing=6),
        ], spacing=6, tight=True), padding=14, border_radius=12, ink=True,
            bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else ft.Colors.SURFACE_CONTAINER_LOW,
            border=ft.Border.all(2 if selected else 1, ft.Colors.PRIMARY if selected else ft.Colors.OUTLINE_VARIANT),
            on_click=self.shell.handler(self.open, s.id))
        return sem(f"session-row-{i}", tile, button=True, selected=selected)

    def list_pane(self) -> list[ft.Control]:
        out: list[ft.Control] = self.top()
        out.append(self.filters())
        rows = self.state.summaries
        out.append(subheading(f"{len(rows)} session{'s' if len(rows) != 1 else ''}"))
        if not rows:
            out.append(empty_state(ft.Icons.HISTORY, "No sessions match", "Change the filters, or start one from Home."))
        out.extend(self.row(i, s) for i, s in enumerate(rows))
        return out

    def top(self) -> list[ft.Control]:
        return []

    def detail_pane(self) -> list[ft.Control]:
        s = self.detail
        if s is None:
            return [empty_state(ft.Icons.ARTICLE_OUTLINED, "Open a session",
                                "The timeline shows photos, questions, answers with sources, and what was done.")]
        out: list[ft.Control] = [sem("session-title", heading(self.state.equipment_name(s.equipment_id), 19))]
        started = s.created_at.astimezone().strftime("%d %b %Y %H:%M")
        # on the fleet server, the device is the tablet that pushed the session (its token's name)
        device = next((getattr(r, "device", "") for r in self.state.summaries if r.id == s.id), "") or s.device
        out.append(sem("session-meta", muted(" · ".join(x for x in [f"started {started}", s.technician,
                                                                     f"device {device}" if device else ""] if x))))
        if s.reviews:  # the supervisor's word (written here or pulled from the fleet server) comes first
            out.append(self.review_banner(s))
        out.extend(self.detail_actions(s))
        if self.export_note:
            out.append(banner(self.export_note, kind="ok", identifier="export-result"))
        out.append(subheading("Timeline"))
        out.append(sem("session-timeline", ft.Column([self.timeline_row(w, k, t)
                                                      for w, k, t in self.state.timeline(s)], spacing=0)))
        out.extend(self.turns(s))
        return out

    @staticmethod
    def review_banner(s: Session) -> ft.Control:
        last = s.reviews[-1]
        verdict = next((r.verdict for r in reversed(s.reviews) if r.verdict), None)
        kind = {"approved": "ok", "needs_follow_up": "warning", "incorrect": "critical"}.get(
            str(getattr(verdict, "value", verdict)), "info")
        title = "Supervisor's review: " + (words(VERDICT_WORDS, verdict) if verdict else "comment")
        by = [f"by {last.reviewer}" if last.reviewer else "", last.at.astimezone().strftime("%d %b %Y %H:%M")]
        earlier = [f"{r.reviewer or 'Reviewer'}: {r.comment}" for r in s.reviews[:-1] if r.comment][-3:]
        return banner(last.comment or "No comment.", kind=kind, identifier="review-latest",
                      title=title + " · " + " · ".join(x for x in by if x),
                      controls=[ft.Text("Earlier: " + " · ".join(earlier), size=fs(13))] if earlier else ())

    def detail_actions(self, s: Session) -> list[ft.Control]:
        shell = self.shell
        return [ft.Row([
            primary("Continue", "session-resume", shell.handler(self.resume), icon=ft.Icons.PLAY_ARROW,
                    disabled=s.closed_at is not None),
            secondary("Export PDF", "export-pdf", shell.handler(self.export, "pdf"), icon=ft.Icons.PICTURE_AS_PDF),
            secondary("Export JSON", "export-json", shell.handler(self.export, "json"), icon=ft.Icons.DATA_OBJECT),
        ], wrap=True, spacing=8, run_spacing=8)]

    def timeline_row(self, when: Any, kind: str, text: str) -> ft.Control:
        return ft.Row([
            ft.Text(when.astimezone().strftime("%H:%M:%S"), size=fs(12), color=ft.Colors.ON_SURFACE_VARIANT, width=64),
            ft.Icon(TIMELINE_ICONS.get(kind, ft.Icons.CIRCLE), size=18,
                    color=theme.CRITICAL_ICON if kind == "error" else ft.Colors.PRIMARY),
            ft.Text(text, size=fs(14), expand=True),
        ], spacing=10, vertical_alignment=ft.CrossAxisAlignment.START, height=None)

    def turns(self, s: Session) -> list[ft.Control]:
        out: list[ft.Control] = []
        for ti, t in enumerate(s.turns):
            items: list[ft.Control] = [ft.Text(f"Q{ti + 1}: {t.question}", size=fs(16), weight=ft.FontWeight.W_700)]
            a = t.answer
            if a is None:
                items.append(banner(t.error or "No answer.", kind="critical"))
            else:
                items.append(ft.Row([confidence_badge(a.confidence), muted(f"{a.provider} · {a.mode.value}"),
                                     *[flag_chip(f) for f in a.flags[:4]]], wrap=True, spacing=6, run_spacing=6))
                if a.abstained:
                    items.append(banner(a.summary or "Abstained: the manuals do not cover this.", kind="warning"))
                for st in a.steps:
                    items.append(self.step_row(s, t, st, ti))
            out.append(card(ft.Column(items, spacing=8, tight=True)))
        return out

    def step_row(self, s: Session, turn: Any, step: Any, ti: int) -> ft.Control:
        outcome = self.state.outcome_for(turn.id, step.index, s)
        done = words(STATUS_WORDS, outcome.status) + (f" · {outcome.note}" if outcome and outcome.note else "") \
            if outcome else "Not ticked"
        srcs = "; ".join(f"{c.title or c.doc_id}" + (f" p. {c.page}" if c.page else "") for c in step.citations) \
            or "no source"
        return ft.Container(ft.Column([
            ft.Text(f"{step.index}. {step.action}", size=fs(15), weight=ft.FontWeight.W_600),
            muted(f"Source: {srcs}"),
            muted(f"Confidence {step.confidence.value} · {done}"),
            *self.rating_controls(turn, step, ti),
        ], spacing=4, tight=True), padding=ft.Padding.only(left=8, top=6, bottom=6),
            border=ft.Border.only(left=ft.BorderSide(3, ft.Colors.PRIMARY_CONTAINER)))

    def rating_controls(self, turn: Any, step: Any, ti: int) -> list[ft.Control]:
        return []


def theme_pill(text: str, kind: str) -> ft.Control:
    from app.components.common import pill

    bg, fg = {"ok": (theme.OK_BG, theme.OK_FG), "warning": (theme.SAFETY_BG, theme.SAFETY_FG),
              "critical": (theme.CRITICAL_BG, theme.CRITICAL_FG)}.get(kind, (theme.INFO_BG, theme.INFO_FG))
    return pill(text, bgcolor=bg, color=fg, size=12)


__all__ = ["SessionsView", "theme_pill", "FLAG_WORDS", "body", "tonal"]
