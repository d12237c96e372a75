"""Review (supervisor): a small dashboard, the filtered session list, the
timeline, per-step ratings, a verdict and comment, and export to PDF/JSON."""

from __future__ import annotations

from typing import Any

import flet as ft

from app import theme
from app.components.common import banner, card, muted, primary, secondary, sem, subheading, switch, text_field, tonal
from app.components.words import VERDICT_WORDS, words
from app.theme import fs
from app.views.sessions import SessionsView
from assistant.domain import Session, StepRating, Verdict


def _label(key: str) -> str:
    return str(key).replace("_", " ").capitalize()


class ReviewView(SessionsView):
    title = "Review"
    review_mode = True

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.dash: dict = {}
        self.verdict: Verdict | None = None
        self.ratings: dict[tuple[str, int], StepRating] = {}
        self.anonymize = False
        self.comment_field, self.comment_box = text_field("review-comment", "Comment for the technician",
                                                          multiline=True)
        self.reviewer_field, self.reviewer_box = text_field("review-reviewer", "Reviewer", expand=True)

    async def on_show(self) -> None:
        await super().on_show()
        ok, d = await self.shell.attempt(self.state.dashboard)
        if ok:
            self.dash = d

    def on_open(self, s: Session) -> None:
        self.verdict = None
        self.ratings = {}
        self.comment_field.value = ""

    async def set_verdict(self, v: Verdict) -> None:
        self.verdict = v  # idempotent: a second tap (or a stray key press) keeps the choice
        self.shell.render()

    async def rate(self, turn_id: str, step: int, r: StepRating) -> None:
        self.ratings[(turn_id, step)] = r  # idempotent, like the verdict
        self.shell.render()

    async def toggle_anonymize(self, value: bool) -> None:
        self.anonymize = bool(value)

    async def submit(self) -> None:
        s = self.detail
        if s is None:
            return
        turn_ids = {k[0] for k in self.ratings}
        turn_id = next(iter(turn_ids)) if len(turn_ids) == 1 else (s.turns[-1].id if s.turns else None)
        ratings = {step: r for (tid, step), r in self.ratings.items() if tid == turn_id}
        ok, _ = await self.shell.attempt(self.state.submit_review, self.verdict, self.comment_field.value or "",
                                         ratings, turn_id, self.reviewer_field.value or "")
        if ok:
            self.detail = self.state.selected
            self.shell.toast("Review saved.", "ok")
            self.on_open(self.detail)
            await self.shell.attempt(self.state.list_sessions)
            ok, d = await self.shell.attempt(self.state.dashboard)
            if ok:
                self.dash = d
        self.shell.render()

    # ------------------------------------------------------------------ build

    def top(self) -> list[ft.Control]:
        d = self.dash or {}
        tiles: list[ft.Control] = []
        extra: list[ft.Control] = []
        for key, value in d.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                shown = f"{value:.0%}" if isinstance(value, float) and 0 <= value <= 1 and "rate" in key else (
                    f"{value:.1f}" if isinstance(value, float) else str(value))
                tiles.append(ft.Container(ft.Column([
                    ft.Text(shown, size=fs(20), weight=ft.FontWeight.W_800, color=ft.Colors.PRIMARY),
                    ft.Text(_label(key), size=fs(11), color=ft.Colors.ON_SURFACE_VARIANT, max_lines=1,
                            overflow=ft.TextOverflow.ELLIPSIS)], spacing=0, tight=True),
                    padding=ft.Padding.symmetric(horizontal=10, vertical=8), border_radius=10,
                    bgcolor=ft.Colors.SURFACE_CONTAINER_LOW, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
                    width=132))
            elif isinstance(value, dict) and value:
                total = max(sum(v for v in value.values() if isinstance(v, (int, float))), 1)
                rows = [muted(_label(key), 12)]
                for k, v in list(value.items())[:6]:
                    if not isinstance(v, (int, float)):
                        continue
                    rows.append(ft.Row([ft.Text(_label(k), size=fs(13), width=130, max_lines=1,
                                                overflow=ft.TextOverflow.ELLIPSIS),
                                        ft.ProgressBar(value=v / total, expand=True, bar_height=8, border_radius=4),
                                        ft.Text(str(v), size=fs(13), width=36, text_align=ft.TextAlign.RIGHT)]))
                extra.append(ft.Container(ft.Column(rows, spacing=4, tight=True), padding=12, border_radius=12,
                                          border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), width=410))
        if not tiles and not extra:
            return []
        tiles, extra = tiles[:9], extra[:2]  # a small dashboard: the list stays in view
        return [sem("dashboard", ft.Column([subheading("Dashboard"),
                                            ft.Row(tiles + extra, wrap=True, spacing=10, run_spacing=10)],
                                           spacing=8))]

    def detail_actions(self, s: Session) -> list[ft.Control]:
        shell = self.shell
        anonym = ft.Switch(label="Anonymize", value=self.anonymize,
                           on_change=lambda e: shell.page.run_task(self.toggle_anonymize, e.control.value))
        return [ft.Row([
            secondary("Export PDF", "export-pdf", shell.handler(self.export, "pdf"), icon=ft.Icons.PICTURE_AS_PDF),
            secondary("Export JSON", "export-json", shell.handler(self.export, "json"), icon=ft.Icons.DATA_OBJECT),
            switch("export-anonymize", anonym),
        ], wrap=True, spacing=8, run_spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER)]

    def rating_controls(self, turn: Any, step: Any, ti: int) -> list[ft.Control]:
        current = self.ratings.get((turn.id, step.index))
        saved = None
        if self.detail is not None:
            for r in self.detail.reviews:
                if (r.turn_id in (None, turn.id)) and step.index in r.step_ratings:
                    saved = r.step_ratings[step.index]
        buttons: list[ft.Control] = []
        prefix = f"rate-{step.index}" if ti == len(self.detail.turns) - 1 else f"rate-t{ti + 1}-{step.index}"
        for r, label, icon in ((StepRating.GOOD, "Good", ft.Icons.THUMB_UP_ALT_OUTLINED),
                               (StepRating.BAD, "Bad", ft.Icons.THUMB_DOWN_ALT_OUTLINED)):
            handler = self.shell.handler(self.rate, turn.id, step.index, r)
            if current == r:
                buttons.append(tonal(label, f"{prefix}-{r.value}", handler, icon=icon,
                                     bgcolor=theme.OK_BG if r == StepRating.GOOD else theme.CRITICAL_BG,
                                     color=theme.OK_FG if r == StepRating.GOOD else theme.CRITICAL_FG))
            else:
                buttons.append(secondary(label, f"{prefix}-{r.value}", handler, icon=icon))
        if saved is not None:
            buttons.append(muted(f"Rated {saved.value} before"))
        return [ft.Row(buttons, spacing=8, wrap=True, vertical_alignment=ft.CrossAxisAlignment.CENTER)]

    def draft_text(self) -> str:
        verdict = words(VERDICT_WORDS, self.verdict) if self.verdict else "no verdict yet"
        good = sum(1 for r in self.ratings.values() if r == StepRating.GOOD)
        bad = sum(1 for r in self.ratings.values() if r == StepRating.BAD)
        return f"Your review: {verdict} · {good} good, {bad} bad step ratings"

    def detail_pane(self) -> list[ft.Control]:
        out = super().detail_pane()
        s = self.detail
        if s is None:
            return out
        shell = self.shell
        verdicts: list[ft.Control] = []
        icons = {Verdict.APPROVED: ft.Icons.VERIFIED, Verdict.NEEDS_FOLLOW_UP: ft.Icons.PENDING_ACTIONS,
                 Verdict.INCORRECT: ft.Icons.GPP_BAD_OUTLINED}
        for v in Verdict:
            handler = shell.handler(self.set_verdict, v)
            if self.verdict == v:
                verdicts.append(tonal(words(VERDICT_WORDS, v), f"verdict-{v.value}", handler, icon=icons[v]))
            else:
                verdicts.append(secondary(words(VERDICT_WORDS, v), f"verdict-{v.value}", handler, icon=icons[v]))
        if s.reviews:
            last = s.reviews[-1]
            out.append(banner(last.comment or "", kind="info", identifier="review-latest",
                              title=f"Latest review: {words(VERDICT_WORDS, last.verdict) if last.verdict else 'comment'}"
                              + (f" by {last.reviewer}" if last.reviewer else "")))
        out.append(card(ft.Column([
            subheading("Your review"),
            muted("Rate the steps above, choose a verdict and leave a comment."),
            ft.Row(verdicts, wrap=True, spacing=8, run_spacing=8),
            sem("review-draft", muted(self.draft_text())),
            self.comment_box,
            ft.Row([self.reviewer_box, primary("Save review", "review-submit", shell.handler(self.submit),
                                               icon=ft.Icons.SAVE)],
                   vertical_alignment=ft.CrossAxisAlignment.CENTER),
        ], spacing=10, tight=True)))
        return out


__all__ = ["ReviewView"]
