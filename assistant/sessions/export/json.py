"""JSON export: the complete session plus its event log (the audit trail), with a schema version.

Owns: `EXPORT_SCHEMA_VERSION`, `SessionExport` (the export's own pydantic
model, so a reader can validate a file with `SessionExport.model_validate_json`
or with the JSON Schema from `export_json_schema()`), `render_json()`.

Shape (schema version 2): `session` is the session as it is now, every answer in full under
`session.turns[].answer`. `events` is the whole log, oldest first, each event's payload as it was
written, except that an answer which is exactly the one its turn carries now is not repeated: it is
replaced by `null` and the turn's id is listed in that event's `answers_in_session`. That is an
`answer_set` event's `payload.answer`, and the `payload.session.turns[].answer` of a `created` or
`imported` event. An answer that was replaced later (a question answered again) stays in its event, so
the log is complete: `restore_event_answers()` puts the omitted answers back.
Version 1 (before) repeated every answer in the log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.domain import Answer, Session, utc_now

EXPORT_SCHEMA_VERSION = 2
_ANSWER_SET = "answer_set"
_WITH_SESSION = ("created", "imported")


class ExportEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    type: str
    at: datetime
    payload: dict[str, Any]
    answers_in_session: list[str] = Field(
        default_factory=list,
        description="turn ids whose answer this event wrote and that `session.turns[id].answer` holds "
                    "unchanged: left out of the payload (null there) so no answer appears twice")


class SessionExport(BaseModel):
    """A session report as JSON (format `fieldlens.session`)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["fieldlens.session"]
    schema_version: Literal[2]
    exported_at: datetime
    anonymized: bool
    session: Session
    events: list[ExportEvent] = Field(description="the event log, oldest first; answers the session "
                                                  "holds are referenced, not repeated")


def export_json_schema() -> dict:
    return SessionExport.model_json_schema()


def _same_answer(data: Any, current: Answer | None) -> bool:
    if not data or current is None:
        return False
    try:
        return Answer.model_validate(data) == current
    except ValidationError:
        return False  # an answer of an older shape: kept in the log as written


def _without_current_answers(event: dict, answers: dict[str, Answer | None]) -> dict:
    """The event with every answer that the session still holds unchanged replaced by null."""
    payload, omitted = event["payload"], []
    if event["type"] == _ANSWER_SET and _same_answer(payload.get("answer"), answers.get(payload.get("turn_id"))):
        omitted.append(payload["turn_id"])
        payload = {**payload, "answer": None}
    elif event["type"] in _WITH_SESSION and isinstance(payload.get("session"), dict):
        turns = []
        for turn in payload["session"].get("turns") or []:
            if isinstance(turn, dict) and _same_answer(turn.get("answer"), answers.get(turn.get("id"))):
                omitted.append(turn["id"])
                turn = {**turn, "answer": None}
            turns.append(turn)
        if omitted:
            payload = {**payload, "session": {**payload["session"], "turns": turns}}
    return {**event, "payload": payload, "answers_in_session": omitted}


def restore_event_answers(doc: SessionExport) -> list[dict]:
    """The full event log of an export, each omitted answer put back from the session (for audits)."""
    answers = {t.id: t.answer.model_dump(mode="json") for t in doc.session.turns if t.answer is not None}
    out = []
    for e in doc.events:
        payload = json.loads(json.dumps(e.payload))
        for turn_id in e.answers_in_session:
            if e.type == _ANSWER_SET:
                payload["answer"] = answers[turn_id]
            else:
                for turn in payload["session"]["turns"]:
                    if turn.get("id") == turn_id:
                        turn["answer"] = answers[turn_id]
        out.append({"seq": e.seq, "type": e.type, "at": e.at, "payload": payload})
    return out


def render_json(session: Session, events: list[dict], *, anonymized: bool) -> bytes:
    answers = {t.id: t.answer for t in session.turns}
    doc = SessionExport(format="fieldlens.session", schema_version=EXPORT_SCHEMA_VERSION, exported_at=utc_now(),
                        anonymized=anonymized, session=session,
                        events=[ExportEvent.model_validate(_without_current_answers(e, answers)) for e in events])
    return json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8")
