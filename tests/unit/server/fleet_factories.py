"""Builders for the fleet tests: sessions with real photos and many events on a tablet's store."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.domain import Note, Outcome, StepOutcome, StepStatus, Turn
from assistant.sessions import SessionStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sessions"))
from sessions_factories import make_answer, make_jpeg, make_observation, make_photo  # noqa: E402


def build_session(store: SessionStore, *, seed: int = 0, notes: int = 3, technician: str = "Ana",
                  device: str = "tab", photos: int = 1, close: bool = True) -> str:
    """A realistic session: photos, readings, a question with an answer, step ticks, notes, an outcome."""
    session = store.create(equipment_id="pump-cp40", technician=technician, device=device)
    photo_ids = []
    for i in range(photos):
        data = make_jpeg(seed * 100 + i)
        photo = make_photo(data)
        store.add_photo(session.id, photo, data)
        store.add_observations(session.id, [make_observation(photo.id)])
        photo_ids.append(photo.id)
    turn = store.add_turn(session.id, Turn(question=f"pump {seed} trips on start", photo_ids=photo_ids))
    store.set_answer(session.id, turn.id, make_answer(f"pump {seed} trips on start"))
    store.record_step(session.id, StepOutcome(turn_id=turn.id, step=1, status=StepStatus.DONE))
    for n in range(notes):
        store.add_note(session.id, Note(text=f"note {n} of session {seed}"))
    if close:
        store.close_session(session.id, Outcome.FIXED)
    return session.id
