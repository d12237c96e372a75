"""Which sessions need a reviewer ("Needs review"): the one definition, used by the store's
dashboard and filter (as SQL) and by the app for a listed row (as Python).

A session needs review when it has no verdict yet and at least one of: its lowest answer
confidence is low; it raised an uncertainty flag that asks for a reviewer's eye (safety notes and
offline answers are normal work, not doubts, and photo-quality flags are already reflected in the
reading and the confidence); or it ended escalated or not fixed.

Owns: `REVIEW_FLAGS`, `UNRESOLVED_OUTCOMES`, `needs_review()` and `needs_review_clause()`.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from assistant.domain import Confidence, FlagCode, Outcome, SessionSummary
from assistant.sessions import schema

REVIEW_FLAGS = frozenset({FlagCode.READING_UNCERTAIN, FlagCode.NO_SOURCE, FlagCode.UNGROUNDED_STEP,
                          FlagCode.CITATION_INVALID, FlagCode.CONFLICTING_SOURCES,
                          FlagCode.MODEL_OUTPUT_REPAIRED, FlagCode.EQUIPMENT_UNIDENTIFIED})
UNRESOLVED_OUTCOMES = frozenset({Outcome.ESCALATED, Outcome.NOT_FIXED})


def _value(v) -> str:
    return str(getattr(v, "value", v))


_FLAG_VALUES = frozenset(_value(f) for f in REVIEW_FLAGS)
_OUTCOME_VALUES = frozenset(_value(o) for o in UNRESOLVED_OUTCOMES)


def needs_review(summary: SessionSummary) -> bool:
    """Whether a listed session needs a reviewer (see the module docstring)."""
    if summary.verdict is not None:
        return False
    doubtful = any(_value(f) in _FLAG_VALUES for f in summary.flag_codes)
    low = summary.confidence is not None and _value(summary.confidence) == Confidence.LOW.value
    unresolved = summary.outcome is not None and _value(summary.outcome) in _OUTCOME_VALUES
    return doubtful or low or unresolved


def needs_review_clause() -> ColumnElement:
    """The same rule as a WHERE condition over `schema.sessions` (portable SQL). Never NULL (an open
    session's outcome is), so that its negation selects exactly the other sessions."""
    s, flags = schema.sessions, schema.session_flags
    return and_(s.c.verdict.is_(None), or_(
        func.coalesce(s.c.confidence, "") == Confidence.LOW.value,
        func.coalesce(s.c.outcome, "").in_(sorted(_OUTCOME_VALUES)),
        s.c.id.in_(select(flags.c.session_id).where(flags.c.code.in_(sorted(_FLAG_VALUES)))),
    ))


__all__ = ["REVIEW_FLAGS", "UNRESOLVED_OUTCOMES", "needs_review", "needs_review_clause"]
