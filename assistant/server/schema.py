"""The fleet server's own tables (beside the sessions tables it shares with every tablet) and the
ordered migrations that build them.

Owns: `fleet_schema_version`, `fleet_tokens` (hashed API tokens and their roles), `fleet_sessions`
(which device pushed a session, and how far its log has arrived), `fleet_review_log` (a
monotonically numbered list of reviews, the cursor tablets pull reviews by) and `fleet_documents`
(the manual feed). Portable SQL only: the same migrations run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, DateTime, Index, Integer, MetaData, String, Table, Text, inspect, select

NAME = String(100)

metadata = MetaData()

fleet_schema_version = Table(
    "fleet_schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

tokens = Table(
    "fleet_tokens", metadata,
    Column("name", NAME, primary_key=True),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("feed_hash", String(64), nullable=False, unique=True),  # sha256 of its read-only feed key
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

fleet_sessions = Table(
    "fleet_sessions", metadata,
    Column("session_id", String(36), primary_key=True),
    Column("owner", NAME, nullable=False),  # the device token that pushed it
    Column("device_seq", Integer, nullable=False),  # the highest tablet-side seq received
    Column("first_seen", DateTime, nullable=False),
    Column("last_push", DateTime, nullable=False),
)

review_log = Table(
    "fleet_review_log", metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("review_id", String(36), nullable=False, unique=True),
    Column("session_id", String(36), nullable=False),
)

documents = Table(
    "fleet_documents", metadata,
    Column("doc_key", String(120), primary_key=True),  # stable per document: its feed URL
    Column("filename", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("ext", String(10), nullable=False),
    Column("byte_count", Integer, nullable=False),
    Column("title", String(300), nullable=False, default=""),
    Column("version", String(60), nullable=False, default=""),
    Column("kind", String(30)),
    Column("equipment", Text, nullable=False, default="[]"),  # JSON list of equipment ids
    Column("added_at", DateTime, nullable=False),
)

Index("ix_fleet_sessions_owner_session", fleet_sessions.c.owner, fleet_sessions.c.session_id)  # v2
Index("ix_fleet_review_log_session", review_log.c.session_id)


def _v1_initial(conn: Connection) -> None:
    """Tokens, session ownership and push cursors, the review log, the manual feed."""
    md = MetaData()
    Table("fleet_schema_version", md,
          Column("version", Integer, primary_key=True, autoincrement=False),
          Column("description", String(200), nullable=False),
          Column("applied_at", DateTime, nullable=False))
    Table("fleet_tokens", md,
          Column("name", NAME, primary_key=True),
          Column("role", String(20), nullable=False),
          Column("token_hash", String(64), nullable=False, unique=True),
          Column("feed_hash", String(64), nullable=False, unique=True),
          Column("created_at", DateTime, nullable=False),
          Column("revoked_at", DateTime))
    fs = Table("fleet_sessions", md,
               Column("session_id", String(36), primary_key=True),
               Column("owner", NAME, nullable=False),
               Column("device_seq", Integer, nullable=False),
               Column("first_seen", DateTime, nullable=False),
               Column("last_push", DateTime, nullable=False))
    rl = Table("fleet_review_log", md,
               Column("n", Integer, primary_key=True, autoincrement=True),
               Column("review_id", String(36), nullable=False, unique=True),
               Column("session_id", String(36), nullable=False))
    Table("fleet_documents", md,
          Column("doc_key", String(120), primary_key=True),
          Column("filename", String(200), nullable=False),
          Column("sha256", String(64), nullable=False),
          Column("ext", String(10), nullable=False),
          Column("byte_count", Integer, nullable=False),
          Column("title", String(300), nullable=False, default=""),
          Column("version", String(60), nullable=False, default=""),
          Column("kind", String(30)),
          Column("equipment", Text, nullable=False, default="[]"),
          Column("added_at", DateTime, nullable=False))
    Index("ix_fleet_sessions_owner", fs.c.owner)
    Index("ix_fleet_review_log_session", rl.c.session_id)
    md.create_all(conn)


def _v2_owner_covering_index(conn: Connection) -> None:
    """The device filter over 100,000 sessions on PostgreSQL was the slowest (p95 107 ms): an index of
    (owner, session_id) gives a device's session ids from the index alone, without the table."""
    md = MetaData()
    fs = Table("fleet_sessions", md, Column("session_id", String(36)), Column("owner", NAME))
    Index("ix_fleet_sessions_owner_session", fs.c.owner, fs.c.session_id).create(conn)
    Index("ix_fleet_sessions_owner", fs.c.owner).drop(conn)


Migration = tuple[int, str, Callable[[Connection], None]]

MIGRATIONS: list[Migration] = [
    (1, "fleet: tokens, session owners and push cursors, review log, manual feed", _v1_initial),
    (2, "covering index of a device's sessions", _v2_owner_covering_index),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("fleet_schema_version"):
        return 0
    value = conn.execute(select(fleet_schema_version.c.version)
                         .order_by(fleet_schema_version.c.version.desc()).limit(1)).scalar()
    return int(value or 0)


def migrate(conn: Connection, now) -> list[int]:
    """Apply the fleet migrations above the database's version, in the caller's transaction."""
    have = current_version(conn)
    if have > LATEST_VERSION:
        raise ValueError(f"fleet schema version {have} is newer than this program's {LATEST_VERSION}")
    applied = []
    for version, description, fn in MIGRATIONS:
        if version > have:
            fn(conn)
            conn.execute(fleet_schema_version.insert().values(version=version, description=description,
                                                              applied_at=now().replace(tzinfo=None)))
            applied.append(version)
    return applied
