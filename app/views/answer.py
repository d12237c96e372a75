"""Ask and Answer: the symptom in words, Instant or Thinking, progress stage
by stage, steps as they stream with their citations, safety notes,
confidence and flags, the "unsure because" section, abstention, ticking steps
with a note and a result photo, follow-up questions and closing the session."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import flet as ft

from app import theme
from app.components.chips import confidence_badge, flag_chip, flag_line, reading_chip
from app.components.common import (
    PaneFrame,
    banner, body, card, empty_state, heading, muted, panes, primary, secondary, sem, subheading, text_field, tonal,
)
from app.components.page_viewer import PageViewer
from app.components.step_card import is_safety_critical, step_card
from app.components.words import FLAG_WORDS, OUTCOME_WORDS, stage_words, words
from app.state import PendingTurn
from app.theme import fs
from assistant.domain import Answer, FlagCode, Mode, Outcome, ProgressEvent, StepStatus, Turn
from assistant.errors import FieldlensError

log = logging.getLogger("fieldlens.app")


class AnswerView:
    title = "Ask"

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.state = shell.state
        self.frame = PaneFrame(4, 6)
        self.ask_field, self.ask_box = text_field(
            "ask-input", "What is wrong?", multiline=True,
            hint="Describe the symptom: e.g. pump trips after a few seconds, display shows a code",
        )
        self.note_field, self.note_box = text_field("step-note-input", "Note for this step", expand=True,
                                                    on_change=self._note_changed)
        self.note_text = ""
        self.session_note_field, self.session_note_box = text_field("session-note-input", "Note for the session",
                                                                    expand=True,
                                                                    on_submit=shell.handler(self.add_session_note))
        self.viewer = PageViewer(shell)
        self.mode = Mode.INSTANT
        self.viewing: int | None = None  # index of the turn shown; None = latest
        self.note_for: tuple[str, int] | None = None  # (turn id, step) whose note panel is open
        self.note_photo: tuple[str, bytes] | None = None
        self.working = False
        self._last_render = 0.0
        self.stages: dict[str, list[ProgressEvent]] = {}  # turn id -> the stages its answer went through

    async def on_show(self) -> None:
        if self.state.session is not None and not self.working:
            await self.shell.attempt(self.state.reload_session)

    def _note_changed(self, e: Any) -> None:
        self.note_text = e.control.value or ""
        log.debug("note changed %r", self.note_text)

    # ------------------------------------------------------------------ asking

    async def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.shell.render()

    async def submit(self) -> None:
        if self.working:
            return
        question = self.ask_field.value or ""
        try:
            pending = self.state.begin_ask(question, self.mode)
        except FieldlensError as exc:
            self.shell.error(exc)
            return
        self.working = True
        self.viewing = None
        self.shell.render()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ProgressEvent] = asyncio.Queue()

        def on_event(event: ProgressEvent) -> None:  # called on the service worker thread
            loop.call_soon_threadsafe(queue.put_nowait, event)

        future = asyncio.wrap_future(self.shell.host.submit_answer(self.state.ask, pending.question, self.mode, on_event))
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({future, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                pending.apply(getter.result())
                self._throttled_render(pending)
                continue
            getter.cancel()
            break
        while not queue.empty():
            pending.apply(queue.get_nowait())
        self.working = False
        self.state.pending = None
        try:
            answer: Answer = future.result()
        except FieldlensError as exc:
            self.shell.error(exc)
        except Exception as exc:  # a bug below the UI: the question is saved, the session survives
            self.shell.error(f"Something went wrong ({exc.__class__.__name__}); your session is saved.")
        else:
            self.ask_field.value = ""
            self.state.note_answer(answer)
            turns = self.state.turns()
            turn_id = answer.turn_id or (turns[-1].id if turns else "")
            if turn_id and pending.stages:
                self.stages[turn_id] = pending.stages
            if answer.abstained:
                self.shell.toast("The manuals do not cover this question; see why on the right.")
        self.shell.render()

    def _throttled_render(self, pending: PendingTurn) -> None:
        self.state.pending = pending
        now = time.monotonic()
        if now - self._last_render > 0.08 or pending.steps:
            self._last_render = now
            self.shell.render()

    # ------------------------------------------------------------------ steps

    async def cite(self, turn: Turn, step_index: int, k: int) -> None:
        step = next(s for s in turn.answer.steps if s.index == step_index)
        c = step.citations[k]
        await self.viewer.open(c.doc_id, c.page, c.passage_id, c.quote)

    async def set_status(self, turn_id: str, step: int, status: StepStatus) -> None:
        note = ""
        photo = None
        log.debug("set_status %s %s note_for=%s note=%r", turn_id, step, self.note_for, self.note_field.value)
        if self.note_for == (turn_id, step):
            note = self.note_field.value or self.note_text
            photo = self.note_photo[1] if self.note_photo else None
        ok, _ = await self.shell.attempt(self.state.record_step, turn_id, step, status, note, photo)
        if ok:
            if self.note_for == (turn_id, step):
                self.note_for, self.note_photo = None, None
                self.note_field.value = ""
        self.shell.render()

    async def toggle_note(self, turn_id: str, step: int) -> None:
        if self.note_for == (turn_id, step):
            self.note_for = None
        else:
            self.note_for = (turn_id, step)
            self.note_field.value = ""
            self.note_text = ""
            self.note_photo = None
        self.shell.render()

    async def attach_photo(self) -> None:
        files = await self.shell.pick_images(multiple=False)
        if files:
            self.note_photo = files[0]
            self.shell.render()

    # ------------------------------------------------------------------ session

    async def close_session(self, outcome: Outcome) -> None:
        ok, _ = await self.shell.attempt(self.state.close, outcome)
        if ok:
            self.shell.toast(f"Session closed: {words(OUTCOME_WORDS, outcome)}. Everything is saved.", "ok")
        self.shell.render()

    async def add_session_note(self) -> None:
        ok, _ = await self.shell.attempt(self.state.add_note, self.session_note_field.value or "")
        if ok:
            self.session_note_field.value = ""
            self.shell.toast("Note saved.", "ok")
        self.shell.render()

    async def new_session(self) -> None:
        self.state.new_session()
        self.viewing = None
        self.shell.views["capture"].selected = None
        await self.shell.go("capture")

    async def view_turn(self, index: int) -> None:
        self.viewing = index
        self.shell.render()

    # ------------------------------------------------------------------ build

    def build(self) -> ft.Control:
        ask, answer = self.ask_pane(), self.answer_pane()
        if not self.shell.wide and (self.working or self.state.turns()):
            # one column on a phone: the answer first, the follow-up and closing below it
            return panes(answer, ask, False, frame=self.frame)
        return panes(ask, answer, self.shell.wide, frame=self.frame)

    def ask_pane(self) -> list[ft.Control]:
        st, shell = self.state, self.shell
        out: list[ft.Control] = []
        eq = st.equipment
        out.append(ft.Row([ft.Icon(ft.Icons.PRECISION_MANUFACTURING, color=ft.Colors.PRIMARY),
                           body(eq.name if eq else "Equipment not identified", weight=ft.FontWeight.W_600)], wrap=True))
        readings = [o for p in st.capture_photos() for _, o in st.photo_observations(p.id)]
        if readings:
            out.append(muted("Read from your photos"))
            out.append(ft.Row([reading_chip(o, f"ask-reading-{k}") for k, o in enumerate(readings[:8])],
                              wrap=True, spacing=6, run_spacing=6))
        elif not st.capture_photos():
            out.append(muted("No photos yet: you can still ask, or add a photo of the display first."))
        if st.is_closed:
            out.append(banner(f"Closed: {words(OUTCOME_WORDS, st.session.outcome)}. Start a new session for "
                              "another job.", kind="ok", title="Session closed", identifier="session-closed",
                              controls=[primary("New session", "session-new", shell.handler(self.new_session),
                                                icon=ft.Icons.ADD)]))
        else:
            label = "Follow-up question" if st.turns() else "Symptom or question"
            out.append(subheading(label))
            out.append(self.ask_box)
            out.append(ft.Row([self.mode_button(Mode.INSTANT, "Instant", ft.Icons.BOLT),
                               self.mode_button(Mode.THINKING, "Thinking", ft.Icons.PSYCHOLOGY)], spacing=8))
            out.append(sem("ask-mode-note", muted(
                "Thinking: splits the work and checks each step against its source; slower."
                if self.mode == Mode.THINKING else "Instant: one grounded answer from the manuals; fast.")))
            out.append(primary("Ask" if not st.turns() else "Ask follow-up", "ask-submit",
                               shell.handler(self.submit), icon=ft.Icons.SEND, disabled=self.working))
        if self.working and st.pending is not None:
            out.append(self.progress(st.pending))
        turns = st.turns()
        if len(turns) > 1:
            out.append(subheading("Questions in this session"))
            for i, t in enumerate(turns):
                shown = (self.viewing if self.viewing is not None else len(turns) - 1) == i and not self.working
                out.append(sem(f"turn-{i + 1}", ft.Container(
                    ft.Row([ft.Icon(ft.Icons.CHAT_BUBBLE_OUTLINE, size=18),
                            ft.Text(t.question, size=fs(14), expand=True, max_lines=2,
                                    overflow=ft.TextOverflow.ELLIPSIS)]),
                    padding=12, border_radius=10, on_click=shell.handler(self.view_turn, i), ink=True,
                    bgcolor=ft.Colors.SECONDARY_CONTAINER if shown else None,
                    border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT)), button=True))
        if st.session is not None and not st.is_closed and turns:
            out.append(self.close_card())
        return out

    def mode_button(self, mode: Mode, label: str, icon: ft.IconData) -> ft.Control:
        handler = self.shell.handler(self.set_mode, mode)
        ident = f"ask-mode-{mode.value}"
        if self.mode == mode:
            return tonal(label, ident, handler, icon=icon, expand=True)
        return secondary(label, ident, handler, icon=icon, expand=True)

    @staticmethod
    def stage_rows(stages: list[ProgressEvent], live: bool) -> list[ft.Control]:
        rows: list[ft.Control] = []
        for i, e in enumerate(stages):
            last = i == len(stages) - 1
            rows.append(ft.Row([
                ft.ProgressRing(width=18, height=18, stroke_width=2.5) if live and last and e.stage != "done"
                else ft.Icon(ft.Icons.CHECK_CIRCLE, color=theme.OK_ICON, size=20),
                ft.Text(stage_words(e.stage, "" if not live and e.stage == "done" else e.message), size=fs(14),
                        expand=True),
            ], spacing=10))
        return rows

    def progress(self, pending: PendingTurn) -> ft.Control:
        rows = self.stage_rows(pending.stages, live=True)
        if not rows:
            rows.append(ft.Row([ft.ProgressRing(width=18, height=18, stroke_width=2.5),
                                ft.Text("Starting…", size=fs(14))], spacing=10))
        bar = ft.ProgressBar(value=pending.fraction, bar_height=6, border_radius=3)
        return sem("ask-progress", card(ft.Column([subheading("Working on it"), bar, *rows], spacing=8, tight=True)))

    def close_card(self) -> ft.Control:
        buttons = []
        icons = {Outcome.FIXED: ft.Icons.TASK_ALT, Outcome.ESCALATED: ft.Icons.SUPPORT_AGENT,
                 Outcome.PARTS_NEEDED: ft.Icons.BUILD_CIRCLE_OUTLINED, Outcome.NOT_FIXED: ft.Icons.CANCEL_OUTLINED}
        for outcome in Outcome:
            buttons.append(secondary(words(OUTCOME_WORDS, outcome), f"close-{outcome.value}",
                                     self.shell.handler(self.close_session, outcome), icon=icons[outcome]))
        notes = self.state.session.notes if self.state.session else []
        return card(ft.Column([
            subheading("Notes"),
            *[muted(f"• {n.text}") for n in notes[-3:]],
            ft.Row([self.session_note_box, secondary("Add", "session-note-add", self.shell.handler(self.add_session_note),
                                                     icon=ft.Icons.NOTE_ADD_OUTLINED)],
                   vertical_alignment=ft.CrossAxisAlignment.CENTER),
            ft.Divider(height=8),
            subheading("Close the session"), muted("How did it end? Everything is saved."),
            ft.Row(buttons, wrap=True, spacing=8, run_spacing=8)], spacing=8, tight=True))

    def answer_pane(self) -> list[ft.Control]:
        st = self.state
        if self.working and st.pending is not None:
            return self.pending_answer(st.pending)
        turns = st.turns()
        if not turns:
            return [empty_state(ft.Icons.TIPS_AND_UPDATES_OUTLINED, "Ask about the machine",
                                "Steps come from the manuals on this tablet, each with its source.")]
        index = self.viewing if self.viewing is not None and self.viewing < len(turns) else len(turns) - 1
        turn = turns[index]
        prefix = "step" if index == len(turns) - 1 else f"t{index + 1}-step"
        return self.turn_answer(turn, prefix)

    def pending_answer(self, pending: PendingTurn) -> list[ft.Control]:
        out: list[ft.Control] = [heading(pending.question, 19)]
        if not pending.steps:
            out.append(muted("Steps appear here as they are ready."))
        for s in pending.steps:
            out.append(step_card(s, f"step-{s.index}", outcome=None, on_cite=None, on_status=None, on_note=None,
                                 streaming=True))
        return out

    def turn_answer(self, turn: Turn, prefix: str) -> list[ft.Control]:
        shell = self.shell
        out: list[ft.Control] = [sem("answer-question", heading(turn.question, 19))]
        a = turn.answer
        if a is None:
            out.append(banner(turn.error or "This question has no answer yet.", kind="critical",
                              title="Could not answer", identifier="answer-error"))
            return out
        meta: list[ft.Control] = [confidence_badge(a.confidence, "Overall confidence")]
        mode_text = "Thinking" if a.mode == Mode.THINKING else "Instant"
        meta.append(muted(f"{mode_text} · {a.provider}" + (f" · {a.model}" if a.model else "")))
        out.append(sem("answer-meta", ft.Row(meta, wrap=True, spacing=10,
                                             vertical_alignment=ft.CrossAxisAlignment.CENTER)))
        if any(f.code == FlagCode.OFFLINE_FALLBACK for f in a.flags):
            out.append(banner("No model was reachable, so these steps come straight from the manuals.",
                              kind="info", title="Answered offline", icon=ft.Icons.CLOUD_OFF,
                              identifier="answer-offline"))
        if a.abstained:
            out.append(banner(a.summary or "The manuals on this tablet do not cover this question, so Fieldlens "
                              "will not guess.", kind="warning", title="Not covered by the manuals",
                              icon=ft.Icons.DO_NOT_DISTURB_ON_OUTLINED, identifier="answer-abstained"))
        elif a.summary:
            out.append(sem("answer-summary", ft.Text(a.summary, size=fs(16))))
        safety_steps = [s.index for s in a.steps if is_safety_critical(s)]
        if safety_steps or any(f.code == FlagCode.SAFETY_CRITICAL for f in a.flags):
            which = ", ".join(str(i) for i in safety_steps)
            out.append(banner(
                "Hazardous energy, pressure or heat is involved" + (f" in step {which}" if len(safety_steps) == 1
                                                                    else f" in steps {which}" if which else "")
                + ". Lock out and tag out, and wear the PPE the manual names before you start.",
                kind="critical", title="Safety critical", identifier="answer-safety"))
        for s in a.steps:
            outcome = self.state.outcome_for(turn.id, s.index)
            note_open = self.note_for == (turn.id, s.index)
            out.append(step_card(
                s, f"{prefix}-{s.index}", outcome=outcome,
                on_cite=lambda k, s=s: shell.page.run_task(self.cite, turn, s.index, k) if shell.page else None,
                on_status=None if self.state.is_closed else
                (lambda status, s=s: shell.page.run_task(self.set_status, turn.id, s.index, status)
                 if shell.page else None),
                on_note=lambda s=s: shell.page.run_task(self.toggle_note, turn.id, s.index) if shell.page else None,
                note_panel=self.note_panel(prefix, s.index) if note_open else None,
            ))
        if turn.id in self.stages:  # asked on this screen: how the work went, stage by stage
            out.append(sem("answer-stages", card(ft.Column(
                [subheading("How this answer was worked out"), *self.stage_rows(self.stages[turn.id], live=False)],
                spacing=6, tight=True))))
        unsure = list(a.unsure_because)
        flags = [f for f in a.flags if f.code not in (FlagCode.SAFETY_CRITICAL,)]
        if unsure or flags:
            items: list[ft.Control] = [subheading("Unsure because…")]
            items.extend(ft.Row([ft.Icon(ft.Icons.HELP_OUTLINE, size=18, color=theme.SAFETY_ICON),
                                 ft.Text(u, size=fs(15), expand=True)], vertical_alignment=ft.CrossAxisAlignment.START)
                         for u in unsure)
            items.extend(flag_line(f) for f in flags)
            out.append(sem("answer-unsure", card(ft.Column(items, spacing=8, tight=True))))
        return out

    def note_panel(self, prefix: str, step: int) -> ft.Control:
        photo = self.note_photo[0] if self.note_photo else "No result photo"
        return ft.Container(ft.Column([
            self.note_box,
            ft.Row([secondary("Result photo", f"{prefix}-{step}-photo", self.shell.handler(self.attach_photo),
                              icon=ft.Icons.ADD_A_PHOTO_OUTLINED), muted(photo)], wrap=True),
            muted("Then tap Done, Did not help or Skipped to save the note with the step."),
        ], spacing=8, tight=True), padding=ft.Padding.only(top=4))


__all__ = ["AnswerView", "flag_chip", "FLAG_WORDS", "card"]
