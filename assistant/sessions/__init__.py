"""Sessions: the record of every visit (photos, readings, questions, answers,
step outcomes, notes, outcome), supervisor reviews, and reports.

Public API: `SessionStore`, `SessionFilter`, `UnknownTurn`, and the export
helpers `EXPORT_SCHEMA_VERSION`, `SessionExport`, `export_json_schema`.
"""

from assistant.sessions.export import EXPORT_SCHEMA_VERSION, SessionExport, export_json_schema
from assistant.sessions.filters import SessionFilter
from assistant.sessions.schema import LATEST_VERSION as SCHEMA_VERSION
from assistant.sessions.secrets import scrub_secrets
from assistant.sessions.store import SessionStore, UnknownTurn

__all__ = ["EXPORT_SCHEMA_VERSION", "SCHEMA_VERSION", "SessionExport", "SessionFilter", "SessionStore",
           "UnknownTurn", "export_json_schema", "scrub_secrets"]
