"""Review (supervisor): a small dashboard, the filtered session list, the
timeline, per-step ratings, a verdict and comment, and export to PDF/JSON."""

from __future__ import annotations

from typing import Any

import flet as ft

from app import theme
from app.components.common import (
    banner, card, empty_state, heading, muted, primary, secondary, sem, subheading, switch, text_field, tonal,
)
from app.components.words import OUTCOME_WORDS, VERDICT_WORDS, words
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
        self.fleet = False  # False: this device's sessions; True: the fleet server's
        self.fleet_url_field, self.fleet_url_box = text_field("review-server-url", "Fleet server address",
                                                              hint="https://fleet.example.com")
        self.fleet_token_field, self.fleet_token_box = text_field(
            "review-server-token", "Supervisor token", password=True, hint="Leave empty to use the saved one")
        self.fleet_problem = ""

    def source(self) -> dict:
        return {"fleet": self.fleet}

    @property
    def connected(self) -> bool:
        return self.state.fleet is not None

    async def on_show(self) -> None:
        if self.fleet and not self.connected:
            return  # the connect form is shown; nothing to list yet
        await super().on_show()
        ok, d = await self.attempt_source(self.state.dashboard, **self.source())
        if ok:
            self.dash = d

    async def use_source(self, fleet: bool) -> None:
        """Switch the desk between this device's sessions and the fleet server's."""
        if fleet == self.fleet:
            return
        self.fleet = fleet
        self.detail = None
        self.dash = {}
        self.state.summaries = []
        if fleet and not self.connected and not self.fleet_url_field.value:
            ok, url = await self.shell.attempt(self.state.saved_review_server)
            if ok:
                self.fleet_url_field.value = url
        await self.on_show()
        self.shell.render()

    async def connect(self) -> None:
        ok, res = await self.shell.attempt_remote(self.state.connect_fleet, self.fleet_url_field.value or "",
                                           self.fleet_token_field.value or "")
        self.fleet_problem = "" if ok else str(res)
        if ok:
            self.fleet_token_field.value = ""  # saved by the service, never shown again
            self.detail = None
            await self.on_show()
            self.shell.toast(f"The review desk shows the sessions on {self.state.fleet_url}.", "ok")
        self.shell.render()

    async def disconnect(self) -> None:
        """Show the connect form again (to use another server or token)."""
        self.state.fleet = None
        self.detail = None
        self.state.summaries = []
        self.shell.render()

    def on_open(self, s: Session) -> None:
        """Start from what is saved: the latest verdict and every step's latest rating."""
        self.verdict = next((r.verdict for r in reversed(s.reviews) if r.verdict), None)
        self.ratings = {}
        last_turn = s.turns[-1].id if s.turns else None
        for r in s.reviews:
            for step, rating in r.step_ratings.items():
                self.ratings[(r.turn_id or last_turn, int(step))] = rating
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
        ok, _ = await self.attempt_source(self.state.submit_review, self.verdict, self.comment_field.value or "",
                                         ratings, turn_id, self.reviewer_field.value or "", **self.source())
        if ok:
            self.detail = self.state.selected
            self.shell.toast("Review saved.", "ok")
            self.on_open(self.detail)
            await self.attempt_source(self.state.list_sessions, **self.source())
            ok, d = await self.attempt_source(self.state.dashboard, **self.source())
            if ok:
                self.dash = d
        self.shell.render()

    # ------------------------------------------------------------------ build

    def top(self) -> list[ft.Control]:
        out = [self.source_switch()]
        if self.detail is not None:
            out.append(secondary("Dashboard", "review-dashboard", self.shell.handler(self.close_detail),
                                 icon=ft.Icons.INSIGHTS))
        return out

    def source_switch(self) -> ft.Control:
        shell = self.shell
        buttons = []
        for fleet, label, ident, icon in ((False, "This device", "review-source-device", ft.Icons.TABLET_ANDROID),
                                          (True, "Fleet server", "review-source-fleet", ft.Icons.CLOUD_OUTLINED)):
            make = tonal if self.fleet == fleet else secondary
            buttons.append(make(label, ident, shell.handler(self.use_source, fleet), icon=icon, expand=True))
        parts: list[ft.Control] = [ft.Row(buttons, spacing=8)]
        if self.fleet and self.connected:
            parts.append(ft.Row([sem("review-source-line", muted(f"Sessions on the fleet server {self.state.fleet_url}")),
                                 secondary("Change", "review-server-change", shell.handler(self.disconnect),
                                           icon=ft.Icons.EDIT)],
                                vertical_alignment=ft.CrossAxisAlignment.CENTER, wrap=True))
        elif self.fleet:
            parts += [muted("The fleet server's sessions from every tablet: its address and a supervisor token "
                            "(saved on this device, never shown again)."),
                      self.fleet_url_box, self.fleet_token_box,
                      primary("Connect", "review-server-connect", shell.handler(self.connect), icon=ft.Icons.LINK)]
            if self.fleet_problem:
                parts.append(banner(self.fleet_problem, kind="critical", identifier="review-server-problem"))
        return sem("review-source", card(ft.Column(parts, spacing=10, tight=True), padding=12))

    def list_pane(self) -> list[ft.Control]:
        if self.fleet and not self.connected:
            return self.top()
        return super().list_pane()

    async def close_detail(self) -> None:
        self.detail = None
        self.shell.render()

    def dashboard(self) -> list[ft.Control]:
        """The fleet's figures, with room: tiles, then bars per equipment, outcome and verdict."""
        d = self.dash or {}

        def pct(v: Any) -> str:
            return "–" if v is None else f"{v:.0%}"

        tiles = [("Sessions", str(d.get("sessions", 0)), "dash-sessions"),
                 ("Open", str(d.get("open", 0)), "dash-open"),
                 ("Fixed", pct(d.get("fix_rate")), "dash-fix-rate"),
                 ("Needs review", str(d.get("needs_review", 0)), "dash-needs-review"),
                 ("Low confidence", str(d.get("low_confidence", 0)), "dash-low-confidence"),
                 ("Not reviewed yet", str(d.get("unreviewed", 0)), "dash-unreviewed")]
        tile_controls = [sem(ident, ft.Container(ft.Column([
            ft.Text(value, size=fs(28), weight=ft.FontWeight.W_800, color=ft.Colors.PRIMARY),
            ft.Text(label, size=fs(14), color=ft.Colors.ON_SURFACE_VARIANT)], spacing=2, tight=True),
            padding=ft.Padding.symmetric(horizontal=16, vertical=12), border_radius=12, width=180,
            bgcolor=ft.Colors.SURFACE_CONTAINER_LOW, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT)),
            label=f"{label}: {value}") for label, value, ident in tiles]
        out: list[ft.Control] = [heading("Dashboard", 19),
                                 muted("“Needs review”: not reviewed yet, and low confidence, an uncertainty flag "
                                       "or not fixed. Safety notes alone do not count."),
                                 ft.Row(tile_controls, wrap=True, spacing=10, run_spacing=10)]
        for key, title in (("per_equipment", "Sessions per equipment"), ("outcomes", "Outcomes"),
                           ("verdicts", "Verdicts")):
            value = {k: v for k, v in (d.get(key) or {}).items() if k and isinstance(v, (int, float)) and v}
            if not value:
                continue
            total = max(sum(value.values()), 1)
            names = OUTCOME_WORDS if key == "outcomes" else VERDICT_WORDS if key == "verdicts" else {}
            rows: list[ft.Control] = [subheading(title)]
            for k, v in value.items():
                rows.append(ft.Row([ft.Text(words(names, k) if names else k, size=fs(14), expand=2),
                                    ft.ProgressBar(value=v / total, expand=3, bar_height=10, border_radius=5),
                                    ft.Text(str(v), size=fs(14), width=44, text_align=ft.TextAlign.RIGHT)],
                                   vertical_alignment=ft.CrossAxisAlignment.CENTER))
            out.append(card(ft.Column(rows, spacing=8, tight=True)))
        return [sem("dashboard", ft.Column(out, spacing=12, tight=True))]

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
        current = self.ratings.get((turn.id, step.index))  # saved ratings are loaded in on_open
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
        return [ft.Row(buttons, spacing=8, wrap=True, vertical_alignment=ft.CrossAxisAlignment.CENTER)]

    def draft_text(self) -> str:
        verdict = words(VERDICT_WORDS, self.verdict) if self.verdict else "no verdict yet"
        good = sum(1 for r in self.ratings.values() if r == StepRating.GOOD)
        bad = sum(1 for r in self.ratings.values() if r == StepRating.BAD)
        return f"Your review: {verdict} · {good} good, {bad} bad step ratings"

    def detail_pane(self) -> list[ft.Control]:
        if self.fleet and not self.connected:
            return [empty_state(ft.Icons.CLOUD_OUTLINED, "Connect to the fleet server",
                                "Then the desk lists every tablet's sessions, with the device and technician.")]
        if self.detail is None:
            return self.dashboard()
        out = super().detail_pane()
        s = self.detail
        out.append(card(ft.Column([
            subheading("Comment"), self.comment_box,
            ft.Row([self.reviewer_box], vertical_alignment=ft.CrossAxisAlignment.CENTER),
        ], spacing=10, tight=True)))
        return out

    def pinned(self) -> ft.Control | None:
        """The verdict bar: always in view above the session, however far down the steps go."""
        s = self.detail
        if s is None:
            return None
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
        return sem("verdict-bar", ft.Container(ft.Column([
            ft.Row([*verdicts, primary("Save review", "review-submit", shell.handler(self.submit), icon=ft.Icons.SAVE)],
                   wrap=True, spacing=8, run_spacing=8),
            sem("review-draft", muted(self.draft_text())),
        ], spacing=6, tight=True), padding=12, border_radius=12, bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), margin=ft.Margin.only(bottom=10)))


__all__ = ["ReviewView"]
