"""JSON export: the complete session plus its event log, with a schema version.

Owns: `EXPORT_SCHEMA_VERSION`, `SessionExport` (the export's own pydantic
model, so a reader can validate a file with `SessionExport.model_validate_json`
or with the JSON Schema from `export_json_schema()`), `render_json()`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assistant.domain import Session, utc_now

EXPORT_SCHEMA_VERSION = 1


class ExportEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    type: str
    at: datetime
    payload: dict[str, Any]


class SessionExport(BaseModel):
    """A session report as JSON (format `fieldlens.session`)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["fieldlens.session"]
    schema_version: Literal[1]
    exported_at: datetime
    anonymized: bool
    session: Session
    events: list[ExportEvent]


def export_json_schema() -> dict:
    return SessionExport.model_json_schema()


def render_json(session: Session, events: list[dict], *, anonymized: bool) -> bytes:
    doc = SessionExport(format="fieldlens.session", schema_version=EXPORT_SCHEMA_VERSION, exported_at=utc_now(), anonymized=anonymized, session=session,
                        events=[ExportEvent.model_validate(e) for e in events])
    return json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8")
