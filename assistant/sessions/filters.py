"""What a supervisor can filter saved sessions by, and how that becomes SQL.

Owns: `SessionFilter` (pydantic) and `where_clauses()` (SQLAlchemy Core, portable).
Each list-valued field also accepts a single value; an empty list means "any".
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from assistant.domain import Confidence, FlagCode, Outcome, Verdict
from assistant.sessions import schema
from assistant.sessions.review_rule import needs_review_clause

_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
_TOKEN = re.compile(r"\w+", re.UNICODE)


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


class SessionFilter(BaseModel):
    """Filters for `SessionStore.list()` and `dashboard()`; every field is optional and they AND together."""

    model_config = ConfigDict(extra="forbid")

    equipment_id: list[str] = Field(default_factory=list, description="any of these equipment ids")
    technician: list[str] = Field(default_factory=list, description="any of these names (case-insensitive)")
    date_from: datetime | None = Field(None, description="created at or after (naive = UTC)")
    date_to: datetime | None = Field(None, description="created before (naive = UTC)")
    outcome: list[Outcome] = Field(default_factory=list, description="any of these outcomes")
    open: bool | None = Field(None, description="True: not closed yet; False: closed")
    flag_codes: list[FlagCode] = Field(default_factory=list, description="raised any of these flag codes")
    flagged: bool | None = Field(None, description="has (or has not) a warning or critical flag")
    needs_review: bool | None = Field(None, description="needs (or does not need) a reviewer, the rule of "
                                                        "assistant.sessions.review_rule")
    confidence: list[Confidence] = Field(default_factory=list,
                                         description="the session's lowest answer confidence is one of these")
    max_confidence: Confidence | None = Field(None, description="lowest answer confidence at most this")
    reviewed: bool | None = None
    verdict: list[Verdict] = Field(default_factory=list, description="current (latest) review verdict")
    query: str = Field("", description="full-text search over questions, answers and notes")

    @field_validator("equipment_id", "technician", "outcome", "flag_codes", "confidence", "verdict",
                     mode="before")
    @classmethod
    def _listify(cls, value):
        return _as_list(value)

    def is_empty(self) -> bool:
        return self == SessionFilter()


def _naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def query_tokens(query: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(query or "")]


def where_clauses(f: SessionFilter, *, fts: bool) -> list[ColumnElement]:
    """The WHERE conditions for a filter over `schema.sessions`."""
    s = schema.sessions
    out: list[ColumnElement] = []
    if f.equipment_id:
        out.append(s.c.equipment_id.in_(f.equipment_id))
    if f.technician:
        out.append(func.lower(s.c.technician).in_([t.lower() for t in f.technician]))
    if f.date_from is not None:
        out.append(s.c.created_at >= _naive(f.date_from))
    if f.date_to is not None:
        out.append(s.c.created_at < _naive(f.date_to))
    if f.outcome:
        out.append(s.c.outcome.in_([str(o) for o in f.outcome]))
    if f.open is True:
        out.append(s.c.outcome.is_(None))
    elif f.open is False:
        out.append(s.c.outcome.is_not(None))
    if f.flag_codes:
        sub = select(schema.session_flags.c.session_id).where(
            schema.session_flags.c.code.in_([str(c) for c in f.flag_codes]))
        out.append(s.c.id.in_(sub))
    if f.flagged is not None:
        out.append(s.c.flagged.is_(True) if f.flagged else s.c.flagged.is_(False))
    if f.needs_review is not None:
        out.append(needs_review_clause() if f.needs_review else ~needs_review_clause())
    if f.confidence:
        out.append(s.c.confidence.in_([str(c) for c in f.confidence]))
    if f.max_confidence is not None:
        out.append(s.c.confidence_rank <= _RANK[Confidence(f.max_confidence)])
    if f.reviewed is not None:
        out.append(s.c.reviewed.is_(True) if f.reviewed else s.c.reviewed.is_(False))
    if f.verdict:
        out.append(s.c.verdict.in_([str(v) for v in f.verdict]))
    tokens = query_tokens(f.query)
    if tokens:
        if fts:
            # FTS5: every token must occur; the last one may be a prefix (typing in progress). Tokens are
            # quoted so no FTS syntax leaks in. Whole-token matching for the others keeps the query cheap.
            quoted = ['"' + t.replace('"', '""') + '"' for t in tokens]
            quoted[-1] += "*"
            match = " ".join(quoted)
            sub = text(f"SELECT session_id FROM {schema.FTS_KEYS} WHERE k IN "
                       f"(SELECT rowid FROM {schema.FTS_TABLE} WHERE {schema.FTS_TABLE} MATCH :fts_q)")
            sub = sub.bindparams(fts_q=match).columns(session_id=schema.ID)
            out.append(s.c.id.in_(select(sub.subquery().c.session_id)))
        else:
            st = schema.session_state
            likes = [st.c.search_text.like(f"%{_escape_like(t)}%", escape="\\") for t in tokens]
            out.append(s.c.id.in_(select(st.c.session_id).where(and_(*likes))))
    return out


def _escape_like(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = ["SessionFilter", "where_clauses", "query_tokens"]
