"""The sessions database schema: the current tables (SQLAlchemy Core) and the
ordered, versioned migrations that build them.

Owns: table definitions, the `schema_version` table, `migrate()`.

Each migration is a function of an open Connection inside a transaction; a
migration never uses the *current* table objects (they evolve), only its own
frozen definitions or plain standard SQL, so migrating a database created by
the first release always replays the same steps. `schema_version` holds one
row per applied migration. Only the SQLite-specific full-text index (FTS5) is
dialect-specific, and it is optional: without it search falls back to a
portable LIKE over `session_state.search_text`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)

ID = String(36)  # UUIDs (sessions, events, reviews); photos are sha256 hex (64)

# --------------------------------------------------------------------------- current tables

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("equipment_id", String(200)),
    Column("technician", String(200), nullable=False, default=""),
    Column("device", String(200), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),  # naive UTC
    Column("updated_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("outcome", String(20)),
    Column("first_question", Text, nullable=False, default=""),
    Column("turn_count", Integer, nullable=False, default=0),
    Column("confidence", String(10)),  # the lowest confidence of the session's answers
    Column("confidence_rank", Integer),  # 0 low, 1 medium, 2 high (for ordering / ranges)
    Column("flag_codes", Text, nullable=False, default="[]"),  # JSON list, for the summary row
    Column("flagged", Boolean, nullable=False, default=False),  # any warning/critical flag
    Column("verdict", String(20)),  # latest review's verdict
    Column("reviewed", Boolean, nullable=False, default=False),
    Column("last_seq", Integer, nullable=False, default=0),
)

# v3: the bulky part of the current state, apart, so list/filter/dashboard scan small rows
session_state = Table(
    "session_state",
    metadata,
    Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("snapshot", Text, nullable=False),  # the Session as JSON: the current state
    Column("search_text", Text, nullable=False, default=""),  # questions, answers, notes (lower case)
)

events = Table(
    "events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("session_id", ID, nullable=False),  # no FK: the log outlives nothing but a delete
    Column("seq", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("at", DateTime, nullable=False),
    UniqueConstraint("session_id", "seq", name="uq_events_session_seq"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", ID, primary_key=True),
    Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("reviewer", String(200), nullable=False, default=""),
    Column("verdict", String(20)),
    Column("comment", Text, nullable=False, default=""),
    Column("step_ratings", Text, nullable=False, default="{}"),
    Column("turn_id", ID),
    Column("at", DateTime, nullable=False),
)

photos = Table(
    "photos",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the original bytes
    Column("media_type", String(60), nullable=False),
    Column("ext", String(10), nullable=False),
    Column("byte_count", Integer, nullable=False),
    Column("has_prepared", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

session_photos = Table(
    "session_photos",
    metadata,
    Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", String(64), ForeignKey("photos.id"), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("added_at", DateTime, nullable=False),
)

session_flags = Table(
    "session_flags",
    metadata,
    Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(40), primary_key=True),
)

Index("ix_sessions_updated", sessions.c.updated_at)
Index("ix_sessions_created", sessions.c.created_at)
Index("ix_sessions_equipment", sessions.c.equipment_id, sessions.c.updated_at)
Index("ix_sessions_outcome", sessions.c.outcome)
Index("ix_sessions_technician", func.lower(sessions.c.technician), sessions.c.updated_at)  # v4
Index("ix_sessions_id_updated", sessions.c.id, sessions.c.updated_at)  # v4
Index("ix_events_session", events.c.session_id, events.c.seq)
Index("ix_reviews_session", reviews.c.session_id, reviews.c.at)
Index("ix_session_photos_photo", session_photos.c.photo_id)
Index("ix_session_flags_code", session_flags.c.code)

FTS_TABLE = "sessions_fts"
FTS_KEYS = "session_fts_keys"  # v5: integer key (the FTS rowid) <-> session id

# --------------------------------------------------------------------------- migrations


def _v1_initial(conn: Connection) -> None:
    """The first schema: sessions (current state), the event log, reviews, photos."""
    md = MetaData()
    Table("schema_version", md,
          Column("version", Integer, primary_key=True, autoincrement=False),
          Column("description", String(200), nullable=False),
          Column("applied_at", DateTime, nullable=False))
    s = Table("sessions", md,
              Column("id", ID, primary_key=True),
              Column("equipment_id", String(200)),
              Column("technician", String(200), nullable=False, default=""),
              Column("device", String(200), nullable=False, default=""),
              Column("created_at", DateTime, nullable=False),
              Column("updated_at", DateTime, nullable=False),
              Column("closed_at", DateTime),
              Column("outcome", String(20)),
              Column("first_question", Text, nullable=False, default=""),
              Column("turn_count", Integer, nullable=False, default=0),
              Column("confidence", String(10)),
              Column("confidence_rank", Integer),
              Column("flag_codes", Text, nullable=False, default="[]"),
              Column("flagged", Boolean, nullable=False, default=False),
              Column("verdict", String(20)),
              Column("reviewed", Boolean, nullable=False, default=False),
              Column("last_seq", Integer, nullable=False, default=0),
              Column("snapshot", Text, nullable=False))
    e = Table("events", md,
              Column("id", ID, primary_key=True),
              Column("session_id", ID, nullable=False),
              Column("seq", Integer, nullable=False),
              Column("type", String(40), nullable=False),
              Column("payload", Text, nullable=False),
              Column("at", DateTime, nullable=False),
              UniqueConstraint("session_id", "seq", name="uq_events_session_seq"))
    r = Table("reviews", md,
              Column("id", ID, primary_key=True),
              Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
              Column("reviewer", String(200), nullable=False, default=""),
              Column("verdict", String(20)),
              Column("comment", Text, nullable=False, default=""),
              Column("step_ratings", Text, nullable=False, default="{}"),
              Column("turn_id", ID),
              Column("at", DateTime, nullable=False))
    Table("photos", md,
          Column("id", String(64), primary_key=True),
          Column("media_type", String(60), nullable=False),
          Column("ext", String(10), nullable=False),
          Column("byte_count", Integer, nullable=False),
          Column("has_prepared", Boolean, nullable=False, default=False),
          Column("created_at", DateTime, nullable=False))
    sp = Table("session_photos", md,
               Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
               Column("photo_id", String(64), ForeignKey("photos.id"), primary_key=True),
               Column("role", String(10), nullable=False),
               Column("added_at", DateTime, nullable=False))
    sf = Table("session_flags", md,
               Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
               Column("code", String(40), primary_key=True))
    Index("ix_sessions_updated", s.c.updated_at)
    Index("ix_sessions_created", s.c.created_at)
    Index("ix_sessions_equipment", s.c.equipment_id, s.c.updated_at)
    Index("ix_sessions_outcome", s.c.outcome)
    Index("ix_events_session", e.c.session_id, e.c.seq)
    Index("ix_reviews_session", r.c.session_id, r.c.at)
    Index("ix_session_photos_photo", sp.c.photo_id)
    Index("ix_session_flags_code", sf.c.code)
    md.create_all(conn)


def fts_available(conn: Connection) -> bool:
    """True when the database has the SQLite FTS5 index over sessions."""
    if conn.dialect.name != "sqlite":
        return False
    if not inspect(conn).has_table(FTS_TABLE):
        return False
    # a database made where SQLite had FTS5, opened where it has not: search falls back to LIKE
    options = {row[0] for row in conn.exec_driver_sql("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def _v2_full_text(conn: Connection) -> None:
    """Full-text search over questions, answers and notes: a portable
    `sessions.search_text` column, plus an FTS5 index on SQLite when the
    library has it. Existing sessions are backfilled from their snapshots."""
    from assistant.domain import Session
    from assistant.sessions.events import search_text_of  # local: avoids an import cycle

    conn.execute(text("ALTER TABLE sessions ADD COLUMN search_text TEXT NOT NULL DEFAULT ''"))
    use_fts = False
    if conn.dialect.name == "sqlite":
        options = {row[0] for row in conn.exec_driver_sql("PRAGMA compile_options")}
        use_fts = "ENABLE_FTS5" in options
        if use_fts:
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
                "session_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')"
            )
    for sid, snap in conn.execute(text("SELECT id, snapshot FROM sessions")).all():
        body = search_text_of(Session.model_validate_json(snap))
        conn.execute(text("UPDATE sessions SET search_text = :body WHERE id = :sid"), {"sid": sid, "body": body})
        if use_fts:
            conn.execute(text(f"INSERT INTO {FTS_TABLE}(session_id, body) VALUES (:sid, :body)"),
                         {"sid": sid, "body": body})


def _v3_split_state(conn: Connection) -> None:
    """Move the JSON snapshot and the search text out of the sessions row into
    `session_state` (one row per session), so listing, filtering and the
    dashboard scan rows of a few hundred bytes instead of many kilobytes."""
    md = MetaData()
    Table("sessions", md, Column("id", ID, primary_key=True))
    Table("session_state", md,
          Column("session_id", ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
          Column("snapshot", Text, nullable=False),
          Column("search_text", Text, nullable=False, default=""))
    md.tables["session_state"].create(conn)
    conn.execute(text("INSERT INTO session_state (session_id, snapshot, search_text) "
                      "SELECT id, snapshot, search_text FROM sessions"))
    conn.execute(text("ALTER TABLE sessions DROP COLUMN snapshot"))
    conn.execute(text("ALTER TABLE sessions DROP COLUMN search_text"))


def _v4_list_indexes(conn: Connection) -> None:
    """Indexes measured on 10,000 sessions: the (case-insensitive) technician filter in list order
    (without it the filter walks every session), and (id, updated_at) so that filters given as a set
    of ids (flag codes, full text) sort by recency from the index alone (5x faster)."""
    md = MetaData()
    s = Table("sessions", md, Column("id", ID, primary_key=True), Column("technician", String(200)),
              Column("updated_at", DateTime))
    Index("ix_sessions_technician", func.lower(s.c.technician), s.c.updated_at).create(conn)
    Index("ix_sessions_id_updated", s.c.id, s.c.updated_at).create(conn)


def _v5_fts_keys(conn: Connection) -> None:
    """SQLite only, when the FTS5 index exists: key the index by an integer rowid mapped to the
    session id in a small table, instead of storing the session id in the index. Reading a stored
    column back made every match fetch the whole indexed text: a full-text filter over 10,000
    sessions spent 7 of its 8 ms doing that."""
    if not fts_available(conn):
        return
    conn.exec_driver_sql(f"CREATE TABLE {FTS_KEYS} (k INTEGER PRIMARY KEY, "
                         "session_id VARCHAR(36) NOT NULL UNIQUE)")
    conn.exec_driver_sql(f"DROP TABLE {FTS_TABLE}")
    conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
                         "body, tokenize = 'unicode61 remove_diacritics 2')")
    conn.exec_driver_sql(f"INSERT INTO {FTS_KEYS}(session_id) SELECT session_id FROM session_state "
                         "WHERE search_text != '' ORDER BY session_id")
    conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}(rowid, body) SELECT k.k, st.search_text FROM {FTS_KEYS} k "
                         "JOIN session_state st ON st.session_id = k.session_id")


Migration = tuple[int, str, Callable[[Connection], None]]

MIGRATIONS: list[Migration] = [
    (1, "initial schema: sessions, events, reviews, photos", _v1_initial),
    (2, "full-text search over questions, answers and notes", _v2_full_text),
    (3, "session snapshots and search text in their own table", _v3_split_state),
    (4, "indexes for the technician filter and for sorting id sets", _v4_list_indexes),
    (5, "full-text index keyed by integer rowid", _v5_fts_keys),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    """The highest applied migration, 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())
                         .limit(1)).scalar()
    return int(value or 0)


def migrate(conn: Connection, *, target: int | None = None, now=None) -> list[int]:
    """Apply every migration above the database's version, up to `target`
    (default: the latest), inside the caller's transaction. Returns the
    versions applied. Raises ValueError if the database is newer than this code."""
    from assistant.domain import utc_now

    target = LATEST_VERSION if target is None else target
    have = current_version(conn)
    if have > LATEST_VERSION:
        raise ValueError(f"database schema version {have} is newer than this program's {LATEST_VERSION}")
    applied = []
    for version, description, fn in MIGRATIONS:
        if have < version <= target:
            fn(conn)
            stamp = (now or utc_now)().replace(tzinfo=None)
            conn.execute(schema_version.insert().values(version=version, description=description,
                                                        applied_at=stamp))
            applied.append(version)
    return applied
