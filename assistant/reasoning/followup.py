"""What a follow-up question knows about its session: the steps the technician
already tried (marked done or "did not help") and what earlier answers were
about, so a follow-up neither offers a tried step again as new nor loses the
topic ("still trips after raising the ramp" continues the fault of the first
question).

`session_context` builds it from a stored `Session`; `is_tried` decides whether
a new step repeats a tried one (same cited passage and a matching quote, or
the same action in other words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from assistant.domain import Session, Step, StepStatus

SAME_ACTION = 88.0
SAME_QUOTE = 90.0
TRIED_STATUSES = (StepStatus.DONE, StepStatus.DID_NOT_HELP)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower()))


@dataclass
class TriedStep:
    action: str
    status: StepStatus
    citations: list[tuple[str, str]] = field(default_factory=list)  # (passage_id, quote)
    note: str = ""


@dataclass
class SessionContext:
    tried: list[TriedStep] = field(default_factory=list)
    previous_codes: list[str] = field(default_factory=list)  # codes earlier answers were about
    previous_text: str = ""  # what earlier answers said (their steps), for the follow-up's topic

    @property
    def is_follow_up(self) -> bool:
        return bool(self.previous_text or self.previous_codes)


def session_context(session: Session | None) -> SessionContext | None:
    """The context of the session's earlier turns (None for a new session)."""
    if session is None or not session.turns:
        return None
    ctx = SessionContext()
    answers = {t.id: t.answer for t in session.turns if t.answer is not None}
    latest: dict[tuple[str, int], StepStatus] = {}
    notes: dict[tuple[str, int], str] = {}
    for outcome in session.step_outcomes:  # the latest outcome of a step counts
        latest[(outcome.turn_id, outcome.step)] = outcome.status
        notes[(outcome.turn_id, outcome.step)] = outcome.note
    for (turn_id, index), status in latest.items():
        answer = answers.get(turn_id)
        if status not in TRIED_STATUSES or answer is None:
            continue
        step = next((s for s in answer.steps if s.index == index), None)
        if step is not None:
            ctx.tried.append(TriedStep(action=step.action, status=status, note=notes.get((turn_id, index), ""),
                                       citations=[(c.passage_id, c.quote) for c in step.citations]))
    texts: list[str] = []
    for answer in answers.values():
        if answer.code_read is not None and answer.code_read.value not in ctx.previous_codes:
            ctx.previous_codes.append(answer.code_read.value)
        texts += [f"{s.action} {s.detail}" for s in answer.steps]
    ctx.previous_text = " ".join(texts)
    return ctx


def is_tried(step: Step, tried: list[TriedStep]) -> TriedStep | None:
    """The tried step that `step` repeats, if any."""
    action = _norm(step.action)
    for t in tried:
        if action and fuzz.token_sort_ratio(action, _norm(t.action)) >= SAME_ACTION:
            return t
        for c in step.citations:
            for pid, quote in t.citations:
                if pid == c.passage_id and fuzz.ratio(_norm(c.quote), _norm(quote)) >= SAME_QUOTE:
                    return t
    return None
