"""The session event vocabulary and how each event changes a Session.

Owns: event type names, `apply_event` (Session + event -> Session; pure by
default, in place for callers that own the session), `replay` (rebuild a
Session from its log, folding into one private copy) and the derived columns of the
sessions row (`row_fields`, `search_text_of`).

The event log is the record; the snapshot in the sessions row is the same
thing folded, written in the same transaction, so `replay(events) == get()`
always holds (the crash test checks it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from assistant.domain import (
    Answer,
    Confidence,
    Note,
    Observation,
    Outcome,
    Photo,
    Review,
    Session,
    Severity,
    StepOutcome,
    Turn,
)

CREATED = "created"
IMPORTED = "imported"
PHOTO_ADDED = "photo_added"
OBSERVATIONS_ADDED = "observations_added"
OBSERVATION_CORRECTED = "observation_corrected"
EQUIPMENT_SET = "equipment_set"
TURN_ADDED = "turn_added"
ANSWER_SET = "answer_set"
STEP_RECORDED = "step_recorded"
NOTE_ADDED = "note_added"
CLOSED = "closed"
REVIEWED = "reviewed"
PHOTO_REMOVED = "photo_removed"  # the technician took a photo out (its bytes and the log keep it)

EVENT_TYPES = (CREATED, IMPORTED, PHOTO_ADDED, OBSERVATIONS_ADDED, OBSERVATION_CORRECTED, EQUIPMENT_SET,
               TURN_ADDED, ANSWER_SET, STEP_RECORDED, NOTE_ADDED, CLOSED, REVIEWED, PHOTO_REMOVED)

_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


def dump(model) -> Any:
    """A pydantic model as plain JSON-able data."""
    return model.model_dump(mode="json")


def apply_event(session: Session | None, etype: str, payload: dict, at: datetime, *,
                in_place: bool = False) -> Session:
    """Return the session after one event. `session` is None only for created/imported.

    By default `session` is left untouched (the result is a deep copy). With `in_place=True` the
    event is folded into `session` itself and that same object is returned: for callers that own a
    private copy (the stores load one from the snapshot per transaction, replay builds its own), where
    the per-event deep copy was most of the cost of ingesting. The payload is read (and validated)
    before anything changes, so a refused event leaves `session` as it was in either mode."""
    if etype == CREATED or etype == IMPORTED:
        return Session.model_validate(payload["session"])
    if session is None:
        raise ValueError(f"event {etype!r} before the session was created")
    s = session if in_place else session.model_copy(deep=True)
    if etype == PHOTO_ADDED:
        photo = Photo.model_validate(payload["photo"])
        if not any(p.id == photo.id and p.role == photo.role for p in s.photos):
            s.photos.append(photo)
    elif etype == PHOTO_REMOVED:
        photo_id = payload["photo_id"]
        s.photos = [p for p in s.photos if not (p.id == photo_id and p.role == "capture")]
        s.observations = [o for o in s.observations if o.photo != photo_id]
    elif etype == OBSERVATIONS_ADDED:
        s.observations.extend([Observation.model_validate(o) for o in payload["observations"]])
    elif etype == OBSERVATION_CORRECTED:
        position = payload["position"]
        corrected = Observation.model_validate(payload["observation"])
        s.observations[position] = corrected
    elif etype == EQUIPMENT_SET:
        s.equipment_id = payload["equipment_id"]
    elif etype == TURN_ADDED:
        s.turns.append(Turn.model_validate(payload["turn"]))
    elif etype == ANSWER_SET:
        for turn in s.turns:
            if turn.id == payload["turn_id"]:
                answer = Answer.model_validate(payload["answer"]) if payload.get("answer") else None
                turn.answer, turn.error = answer, payload.get("error")
                break
        else:
            raise ValueError(f"answer for an unknown turn {payload['turn_id']}")
    elif etype == STEP_RECORDED:
        s.step_outcomes.append(StepOutcome.model_validate(payload["outcome"]))
    elif etype == NOTE_ADDED:
        s.notes.append(Note.model_validate(payload["note"]))
    elif etype == CLOSED:
        outcome, closed_at = Outcome(payload["outcome"]), datetime.fromisoformat(payload["closed_at"])
        s.outcome, s.closed_at = outcome, closed_at
    elif etype == REVIEWED:
        s.reviews.append(Review.model_validate(payload["review"]))
    else:
        raise ValueError(f"unknown event type {etype!r}")
    if etype != REVIEWED:
        s.updated_at = at
    return s


def replay(log: Iterable[dict]) -> Session | None:
    """Fold an ordered event log (dicts with type, payload, at) into a Session."""
    session = None
    for ev in log:  # the first event builds a fresh Session, which is then ours to fold into
        session = apply_event(session, ev["type"], ev["payload"], as_utc(ev["at"]), in_place=True)
    return session


def as_utc(value: datetime) -> datetime:
    """Naive datetimes from the database are UTC; give them their zone back."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def naive_utc(value: datetime | None) -> datetime | None:
    """The form the database columns keep: naive UTC (portable across SQLite and PostgreSQL)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def session_flags(session: Session) -> list:
    """Every flag raised in the session: photo quality, answers, steps."""
    flags = []
    for photo in session.photos:
        if photo.quality:
            flags.extend(photo.quality.flags)
    for turn in session.turns:
        if turn.answer:
            flags.extend(turn.answer.flags)
            for step in turn.answer.steps:
                flags.extend(step.flags)
    return flags


def lowest_confidence(session: Session) -> Confidence | None:
    levels = [t.answer.confidence for t in session.turns if t.answer]
    if not levels:
        return None
    return min(levels, key=lambda c: _RANK[Confidence(c)])


def search_text_of(session: Session) -> str:
    """Lower-case text of questions, answers, notes and step notes, for full-text search."""
    parts: list[str] = []
    for turn in session.turns:
        parts.append(turn.question)
        if turn.answer:
            a = turn.answer
            parts.append(a.summary)
            parts.extend(a.unsure_because)
            for step in a.steps:
                parts.append(step.action)
                parts.append(step.detail)
        if turn.error:
            parts.append(turn.error)
    parts.extend(n.text for n in session.notes)
    parts.extend(o.note for o in session.step_outcomes if o.note)
    return "\n".join(p for p in parts if p).lower()


def row_fields(session: Session) -> dict:
    """The sessions-row columns derived from a Session (everything but id/snapshot/last_seq)."""
    flags = session_flags(session)
    codes = sorted({str(f.code) for f in flags})
    conf = lowest_confidence(session)
    latest_review = session.reviews[-1] if session.reviews else None
    return {
        "equipment_id": session.equipment_id,
        "technician": session.technician,
        "device": session.device,
        "created_at": naive_utc(session.created_at),
        "updated_at": naive_utc(session.updated_at),
        "closed_at": naive_utc(session.closed_at),
        "outcome": str(session.outcome) if session.outcome else None,
        "first_question": session.turns[0].question if session.turns else "",
        "turn_count": len(session.turns),
        "confidence": str(conf) if conf else None,
        "confidence_rank": _RANK[Confidence(conf)] if conf else None,
        "flag_codes": json.dumps(codes),
        "flagged": any(Severity(f.severity) != Severity.INFO for f in flags),
        "verdict": str(latest_review.verdict) if latest_review and latest_review.verdict else None,
        "reviewed": bool(session.reviews),
        "search_text": search_text_of(session),
    }
