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
from app.components.answer_top import answer_top
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
        # the cited page shown beside the steps (tablet) or full screen (phone), and where it came from
        self.source_frame = PaneFrame(5, 5)
        self.holder = ft.Column([self.frame.root, self.source_frame.root], spacing=0, expand=True)
        self.source: Any = None
        self.source_from: tuple[str, int, int] | None = None  # (turn id, step, citation index)
        self.one_at_a_time = False
        self.current_step: dict[str, int] = {}  # turn id -> the step shown in step-at-a-time mode
        self.revisions: dict[str, dict[str, str]] = {}  # turn id -> passage id -> revision
        self.closing: Outcome | None = None  # an outcome waiting for confirmation (unticked steps)
        self.unsure_open: set[str] = set()  # turn ids whose "Unsure because…" card is unfolded

    async def on_show(self) -> None:
        if self.state.session is not None and not self.working:
            await self.shell.attempt(self.state.reload_session)
        await self._load_revisions()

    async def _load_revisions(self) -> None:
        for t in self.state.turns():
            if t.answer is not None and t.id not in self.revisions:
                ok, rev = await self.shell.attempt(self.state.revisions_for, t.answer)
                if ok:
                    self.revisions[t.id] = rev

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
            await self._load_revisions()
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
        """Open the cited page beside the steps (tablet) or full screen (phone), quote highlighted."""
        step = next(s for s in turn.answer.steps if s.index == step_index)
        c = step.citations[k]
        ok, viewer = await self.shell.attempt(self.state.open_page, c.doc_id, c.page, c.passage_id, c.quote)
        if ok:
            self.source, self.source_from = viewer, (turn.id, step_index, k)
            self.current_step[turn.id] = step_index
            self.shell.render()

    async def source_page(self, delta: int) -> None:
        v = self.source
        if v is None or v.page is None:
            return
        ok, viewer = await self.shell.attempt(self.state.open_page, v.doc.id, v.page + delta, None, v.quote)
        if ok:
            self.source = viewer
            self.shell.render()

    async def close_source(self) -> None:
        """Back to the steps, at the step the source was opened from."""
        back = self.source_from
        self.source, self.source_from = None, None
        self.shell.render()
        if back is None or self.one_at_a_time or self.shell.page is None:
            return
        turns = self.state.turns()
        latest = bool(turns) and turns[-1].id == back[0]
        index = next((i for i, t in enumerate(turns) if t.id == back[0]), 0)
        key = f"step-{back[1]}" if latest else f"t{index + 1}-step-{back[1]}"
        column = self.frame.left if self.shell.wide else self.frame.single
        try:
            await column.scroll_to(scroll_key=key, duration=0)
        except Exception:  # the step is still on screen, only not scrolled to
            log.debug("could not scroll back to %s", key, exc_info=True)

    async def jump_to_close(self) -> None:
        if self.shell.page is None:
            return
        try:
            await self.frame.single.scroll_to(scroll_key="close-card", duration=300)
        except Exception:  # the card is still further down the screen
            log.debug("could not scroll to the close card", exc_info=True)

    async def set_step_mode(self, one: bool) -> None:
        if one and not self.one_at_a_time:
            self.current_step.clear()  # start at the first step not ticked yet
        self.one_at_a_time = one
        self.shell.render()

    async def show_step(self, turn_id: str, index: int) -> None:
        self.current_step[turn_id] = index
        self.shell.render()

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
            if self.one_at_a_time:  # on to the next step not ticked yet
                turn = next((t for t in self.state.turns() if t.id == turn_id), None)
                if turn is not None and turn.answer is not None:
                    later = [s.index for s in turn.answer.steps
                             if s.index > step and self.state.outcome_for(turn_id, s.index) is None]
                    if later:
                        self.current_step[turn_id] = later[0]
        self.shell.render()

    async def save_note(self, turn_id: str, step: int) -> None:
        """Save the step's note / photo on its own: with the step's status if it has one, else as
        a session note that names the step."""
        note = (self.note_field.value or self.note_text).strip()
        photo = self.note_photo[1] if self.note_photo else None
        if not note and photo is None:
            self.shell.error("Type a note or add a result photo first.")
            return
        outcome = self.state.outcome_for(turn_id, step)
        if outcome is not None:
            ok, _ = await self.shell.attempt(self.state.record_step, turn_id, step, outcome.status, note, photo)
        else:
            ok, _ = await self.shell.attempt(self.state.add_note, f"Step {step}: {note}".strip(), photo)
        if ok:
            self.note_for, self.note_photo = None, None
            self.note_field.value = ""
            self.note_text = ""
            self.shell.toast(f"Note saved with step {step}.", "ok")
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
        if self.note_for is not None and self.shell.page is not None:  # the panel opens in view
            column = self.frame.right if self.shell.wide else self.frame.single
            if self.one_at_a_time:
                column = self.frame.right if self.shell.wide else self.frame.single
            try:
                await column.scroll_to(scroll_key="step-note-panel", duration=200)
            except Exception:  # still opened, only not scrolled
                log.debug("could not scroll to the note panel", exc_info=True)

    async def attach_photo(self) -> None:
        files = await self.shell.pick_images(multiple=False)
        if files:
            self.note_photo = files[0]
            self.shell.render()

    # ------------------------------------------------------------------ session

    def unticked(self) -> list[int]:
        """Step numbers of the latest answer that have no status yet."""
        turns = [t for t in self.state.turns() if t.answer is not None]
        if not turns:
            return []
        t = turns[-1]
        return [s.index for s in t.answer.steps if self.state.outcome_for(t.id, s.index) is None]

    async def close_session(self, outcome: Outcome) -> None:
        """Close; with steps still unticked, list them first and ask to confirm."""
        if self.unticked() and self.closing != outcome:
            self.closing = outcome
            self.shell.render()
            return
        self.closing = outcome
        await self.confirm_close()

    async def confirm_close(self) -> None:
        outcome = self.closing
        self.closing = None
        if outcome is None:
            return
        ok, _ = await self.shell.attempt(self.state.close, outcome)
        if ok:
            self.shell.toast(f"Session closed: {words(OUTCOME_WORDS, outcome)}. Everything is saved.", "ok")
        self.shell.render()

    async def cancel_close(self) -> None:
        self.closing = None
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
        wide = self.shell.wide
        reading = self.source is not None and not self.working
        self.frame.root.visible = not reading
        self.source_frame.root.visible = reading
        if reading:  # the cited page beside the steps (tablet) or full screen (phone)
            panes([], [], wide, frame=self.frame)
            if wide:
                panes(self.answer_pane(), self.source_pane(), True, frame=self.source_frame)
            else:
                self.source_frame.show(False)
                self.source_frame.left.controls, self.source_frame.right.controls = [], []
                self.source_frame.single.controls = self.source_pane()
            return self.holder
        panes([], [], wide, frame=self.source_frame)
        ask, answer = self.ask_pane(), self.answer_pane()
        if not wide and (self.working or self.state.turns()):
            # one column on a phone: the answer first, the follow-up and closing below it
            panes(answer, ask, False, frame=self.frame)
        else:
            panes(ask, answer, wide, frame=self.frame)
        return self.holder

    def source_pane(self) -> list[ft.Control]:
        v, back = self.source, self.source_from
        step = back[1] if back else None
        shell = self.shell
        nav: list[ft.Control] = []
        if shell.wide:
            nav.append(secondary("Close source", "source-close", shell.handler(self.close_source), icon=ft.Icons.CLOSE))
        else:
            nav.append(primary(f"Back to step {step}" if step else "Back to the steps", "source-back",
                               shell.handler(self.close_source), icon=ft.Icons.ARROW_BACK))
        paged = v.page is not None and bool(v.doc.page_count)
        nav.append(secondary("Previous page", "source-prev", shell.handler(self.source_page, -1),
                             icon=ft.Icons.CHEVRON_LEFT, disabled=not paged or v.page <= 1))
        nav.append(secondary("Next page", "source-next", shell.handler(self.source_page, 1),
                             icon=ft.Icons.CHEVRON_RIGHT, disabled=not paged or v.page >= (v.doc.page_count or 0)))
        return [ft.Row(nav, wrap=True, spacing=8, run_spacing=8), self.viewer.title(v),
                self.viewer.content(v, embedded=True)]

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
        confirm: list[ft.Control] = []
        if self.closing is not None:
            left = self.unticked()
            confirm.append(banner(
                f"Step{'s' if len(left) != 1 else ''} {', '.join(str(i) for i in left)} "
                f"{'are' if len(left) != 1 else 'is'} not ticked yet. Close as "
                f"“{words(OUTCOME_WORDS, self.closing)}” anyway?", kind="warning", title="Steps not ticked",
                identifier="close-unticked",
                controls=[ft.Row([primary(f"Close as {words(OUTCOME_WORDS, self.closing)}", "close-confirm",
                                          self.shell.handler(self.confirm_close), icon=ft.Icons.CHECK),
                                  secondary("Keep working", "close-cancel", self.shell.handler(self.cancel_close))],
                                 wrap=True, spacing=8, run_spacing=8)]))
        box = card(ft.Column([
            subheading("Notes"),
            *[muted(f"• {n.text}") for n in notes[-3:]],
            ft.Row([self.session_note_box, secondary("Add", "session-note-add", self.shell.handler(self.add_session_note),
                                                     icon=ft.Icons.NOTE_ADD_OUTLINED)],
                   vertical_alignment=ft.CrossAxisAlignment.CENTER),
            ft.Divider(height=8),
            subheading("Close the session"), muted("How did it end? Everything is saved."),
            ft.Row(buttons, wrap=True, spacing=8, run_spacing=8), *confirm], spacing=8, tight=True))
        box.key = ft.ScrollKey("close-card")
        return sem("close-card", box)

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
        out.append(answer_top(a))  # what matters first: the code read, confidence, why unsure
        unsure_card = self.unsure_card(turn)
        if unsure_card is not None:
            out.append(unsure_card)
        mode_text = "Thinking" if a.mode == Mode.THINKING else "Instant"
        out.append(sem("answer-meta", muted(f"{mode_text} · {a.provider}" + (f" · {a.model}" if a.model else ""))))
        if any(f.code == FlagCode.OFFLINE_FALLBACK for f in a.flags):
            out.append(banner("No model was reachable, so these steps come straight from the manuals.",
                              kind="info", title="Answered offline", icon=ft.Icons.CLOUD_OFF,
                              identifier="answer-offline"))
        if a.abstained:
            out.append(banner(a.summary or "The manuals on this tablet do not cover this question, so Fieldlens "
                              "will not guess.", kind="warning", title="Not covered by the manuals",
                              icon=ft.Icons.DO_NOT_DISTURB_ON_OUTLINED, identifier="answer-abstained"))
        elif a.summary:
            out.append(sem("answer-summary", ft.Text(a.summary, size=fs(15))))
        safety_steps = [s.index for s in a.steps if is_safety_critical(s)]
        if safety_steps or any(f.code == FlagCode.SAFETY_CRITICAL for f in a.flags):
            which = ", ".join(str(i) for i in safety_steps)
            out.append(banner(
                "Hazardous energy, pressure or heat is involved" + (f" in step {which}" if len(safety_steps) == 1
                                                                    else f" in steps {which}" if which else "")
                + ". Lock out and tag out, and wear the PPE the manual names before you start.",
                kind="critical", title="Safety critical", identifier="answer-safety"))
        if not shell.wide and not self.state.is_closed:  # a phone: closing is one tap away, not six screens
            out.append(secondary("Notes and close the session", "answer-jump-close",
                                 shell.handler(self.jump_to_close), icon=ft.Icons.FLAG_OUTLINED))
        if a.steps:
            out.append(ft.Row([
                self._mode_toggle("All steps", "answer-mode-list", not self.one_at_a_time, False, ft.Icons.LIST),
                self._mode_toggle("One step at a time", "answer-mode-steps", self.one_at_a_time, True,
                                  ft.Icons.VIEW_CAROUSEL_OUTLINED),
            ], spacing=8, wrap=True, run_spacing=8))
        steps = list(a.steps)
        if self.one_at_a_time and steps:
            current = self.current_step.get(turn.id)
            if current is None or all(s.index != current for s in steps):
                untouched = [s.index for s in steps if self.state.outcome_for(turn.id, s.index) is None]
                current = untouched[0] if untouched else steps[0].index
                self.current_step[turn.id] = current
            pos = next(i for i, s in enumerate(steps) if s.index == current)
            done = sum(1 for s in steps if self.state.outcome_for(turn.id, s.index) is not None)
            out.append(sem("step-progress", ft.Column([
                ft.Text(f"Step {pos + 1} of {len(steps)} · {done} ticked", size=fs(15), weight=ft.FontWeight.W_600),
                ft.ProgressBar(value=done / len(steps), bar_height=8, border_radius=4)], spacing=6, tight=True)))
            steps = [steps[pos]]
            nav = ft.Row([
                secondary("Previous step", "step-prev", shell.handler(self.show_step, turn.id, a.steps[pos - 1].index)
                          if pos > 0 else None, icon=ft.Icons.CHEVRON_LEFT, disabled=pos == 0, expand=True),
                secondary("Next step", "step-next", shell.handler(self.show_step, turn.id, a.steps[pos + 1].index)
                          if pos + 1 < len(a.steps) else None, icon=ft.Icons.CHEVRON_RIGHT,
                          disabled=pos + 1 >= len(a.steps), expand=True),
            ], spacing=8)
        else:
            nav = None
        cited = self.source_from if self.source is not None else None
        for s in steps:
            outcome = self.state.outcome_for(turn.id, s.index)
            note_open = self.note_for == (turn.id, s.index)
            out.append(step_card(
                s, f"{prefix}-{s.index}", outcome=outcome,
                on_cite=lambda k, s=s: shell.page.run_task(self.cite, turn, s.index, k) if shell.page else None,
                on_status=None if self.state.is_closed else
                (lambda status, s=s: shell.page.run_task(self.set_status, turn.id, s.index, status)
                 if shell.page else None),
                on_note=lambda s=s: shell.page.run_task(self.toggle_note, turn.id, s.index) if shell.page else None,
                note_panel=self.note_panel(prefix, turn.id, s.index) if note_open else None,
                revisions=self.revisions.get(turn.id), big=self.one_at_a_time,
                cited=cited[2] if cited and cited[0] == turn.id and cited[1] == s.index else None,
            ))
        if nav is not None:
            out.append(nav)
        if turn.id in self.stages:  # asked on this screen: how the work went, stage by stage
            out.append(sem("answer-stages", card(ft.Column(
                [subheading("How this answer was worked out"), *self.stage_rows(self.stages[turn.id], live=False)],
                spacing=6, tight=True))))
        return out

    def unsure_card(self, turn: Turn) -> ft.Control | None:
        """Every reason to doubt the answer, right under the one-line summary: folded to its
        heading with a count until the technician opens it."""
        a = turn.answer
        if a is None:
            return None
        unsure = list(a.unsure_because)
        flags = [f for f in a.flags if f.code not in (FlagCode.SAFETY_CRITICAL,)]
        count = len(unsure) + len(flags)
        if not count:
            return None
        opened = turn.id in self.unsure_open
        head = ft.Row([
            ft.Icon(ft.Icons.HELP_OUTLINE, color=theme.SAFETY_ICON, size=fs(22)),
            ft.Text(f"Unsure because… ({count})", size=fs(16), weight=ft.FontWeight.W_700, expand=True),
            secondary("Hide" if opened else "Show all", "answer-unsure-toggle",
                      self.shell.handler(self.toggle_unsure, turn.id),
                      icon=ft.Icons.EXPAND_LESS if opened else ft.Icons.EXPAND_MORE),
        ], vertical_alignment=ft.CrossAxisAlignment.CENTER, spacing=8)
        items: list[ft.Control] = [head]
        if opened:
            items.extend(ft.Row([ft.Icon(ft.Icons.HELP_OUTLINE, size=18, color=theme.SAFETY_ICON),
                                 ft.Text(u, size=fs(15), expand=True)], vertical_alignment=ft.CrossAxisAlignment.START)
                         for u in unsure)
            items.extend(flag_line(f) for f in flags)
        return sem("answer-unsure", card(ft.Column(items, spacing=8, tight=True), padding=12))

    async def toggle_unsure(self, turn_id: str) -> None:
        self.unsure_open ^= {turn_id}
        self.shell.render()

    def _mode_toggle(self, label: str, identifier: str, chosen: bool, one: bool, icon: ft.IconData) -> ft.Control:
        handler = self.shell.handler(self.set_step_mode, one)
        return tonal(label, identifier, handler, icon=icon) if chosen else secondary(label, identifier, handler,
                                                                                     icon=icon)

    def note_panel(self, prefix: str, turn_id: str, step: int) -> ft.Control:
        photo = self.note_photo[0] if self.note_photo else "No result photo"
        return ft.Container(ft.Column([
            subheading(f"Note for step {step}"),
            self.note_box,
            ft.Row([secondary("Result photo", f"{prefix}-{step}-photo", self.shell.handler(self.attach_photo),
                              icon=ft.Icons.ADD_A_PHOTO_OUTLINED), muted(photo)], wrap=True),
            ft.Row([primary("Save note", f"{prefix}-{step}-note-save", self.shell.handler(self.save_note, turn_id, step),
                            icon=ft.Icons.SAVE),
                    secondary("Cancel", f"{prefix}-{step}-note-cancel",
                              self.shell.handler(self.toggle_note, turn_id, step))], wrap=True, spacing=8),
            muted("Or tap Done, Did not help or Skipped: the note is saved with that status."),
        ], spacing=8, tight=True), padding=ft.Padding.only(top=4), key=ft.ScrollKey("step-note-panel"))


__all__ = ["AnswerView", "flag_chip", "FLAG_WORDS", "card"]
