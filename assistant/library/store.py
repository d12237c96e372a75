"""The library's SQLite database (`<root>/index.sqlite`): schema and migrations,
one connection guarded by a lock, and transactions. Tables: equipment and
their asset tags, documents and their equipment links, passages with an FTS5
index (title, section, codes, text; BM25), fault codes with normalised keys,
the outline, per-page info, and per-URL sync validators."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import StorageError

SCHEMA_VERSION = 4

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS equipment (
        id TEXT PRIMARY KEY, data TEXT NOT NULL, name TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',
        manufacturer TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS asset_tags (
        tag TEXT PRIMARY KEY, equipment_id TEXT NOT NULL REFERENCES equipment(id) ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS documents (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, format TEXT NOT NULL, kind TEXT NOT NULL,
        source_key TEXT NOT NULL UNIQUE, source TEXT NOT NULL, sha256 TEXT NOT NULL, revision TEXT NOT NULL DEFAULT '',
        page_count INTEGER, passage_count INTEGER NOT NULL DEFAULT 0, ingested_at TEXT NOT NULL,
        family TEXT NOT NULL, original TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0)""",
    """CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256)""",
    """CREATE INDEX IF NOT EXISTS documents_family ON documents(family)""",
    """CREATE TABLE IF NOT EXISTS doc_equipment (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, equipment_id TEXT NOT NULL,
        PRIMARY KEY (doc_id, equipment_id))""",
    """CREATE INDEX IF NOT EXISTS doc_equipment_eq ON doc_equipment(equipment_id)""",
    """CREATE TABLE IF NOT EXISTS passages (
        rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
        page INTEGER, section TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
        start INTEGER NOT NULL, end INTEGER NOT NULL, codes TEXT NOT NULL DEFAULT '',
        x0 REAL, top REAL, x1 REAL, bottom REAL)""",
    """CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, seq)""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
        title, section, codes, text, scope, tokenize = 'porter unicode61 remove_diacritics 2')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS passages_vocab USING fts5vocab(passages_fts, 'row')""",
    """CREATE TABLE IF NOT EXISTS fault_codes (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, passage_id TEXT NOT NULL,
        code TEXT NOT NULL, compact TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL, cause TEXT NOT NULL,
        remedy TEXT NOT NULL, page INTEGER, section TEXT NOT NULL, seq INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT '', confidence REAL)""",
    """CREATE INDEX IF NOT EXISTS fault_codes_compact ON fault_codes(compact)""",
    """CREATE INDEX IF NOT EXISTS fault_codes_key ON fault_codes(key)""",
    """CREATE INDEX IF NOT EXISTS fault_codes_doc ON fault_codes(doc_id)""",
    """CREATE TABLE IF NOT EXISTS outline (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
        section TEXT NOT NULL, level INTEGER NOT NULL, page INTEGER, passage_id TEXT, PRIMARY KEY (doc_id, seq))""",
    """CREATE TABLE IF NOT EXISTS pages (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, page INTEGER NOT NULL,
        chars INTEGER NOT NULL, ocr INTEGER NOT NULL DEFAULT 0, confidence REAL, width REAL, height REAL,
        PRIMARY KEY (doc_id, page))""",
    """CREATE TABLE IF NOT EXISTS texts (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, page INTEGER NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (doc_id, page))""",
    """CREATE TABLE IF NOT EXISTS sync_state (
        url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, sha256 TEXT, body BLOB, checked_at TEXT)""",
]


class Store:
    """One SQLite connection shared by threads behind an RLock (SQLite serialises writes anyway)."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise StorageError(f"The library index at {path} cannot be opened ({err}).") from None

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute(_SCHEMA[0])
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StorageError(f"The library index at {self.path} was written by a newer Fieldlens.")
            self.fts_rebuild = False
            if 0 < version < 3:  # v3: the FTS table gained a scope column; rebuilt from passages
                conn.execute("DROP TABLE IF EXISTS passages_vocab")
                conn.execute("DROP TABLE IF EXISTS passages_fts")
                self.fts_rebuild = True
            for statement in _SCHEMA[1:]:
                conn.execute(statement)
            if version == 1:  # v2: passage boxes and page sizes
                for table, column in (("passages", "x0"), ("passages", "top"), ("passages", "x1"),
                                      ("passages", "bottom"), ("pages", "width"), ("pages", "height")):
                    columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                    if column not in columns:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} REAL")
            if "authority" not in {r[1] for r in conn.execute("PRAGMA table_info(documents)")}:
                # who stands behind a document: 'manufacturer' (default) or 'third_party' notes
                conn.execute("ALTER TABLE documents ADD COLUMN authority TEXT NOT NULL DEFAULT 'manufacturer'")
            if 0 < version < 4:  # v4: fault entries keep their unlabelled text and OCR confidence
                columns = {r[1] for r in conn.execute("PRAGMA table_info(fault_codes)")}
                if "description" not in columns:
                    conn.execute("ALTER TABLE fault_codes ADD COLUMN description TEXT NOT NULL DEFAULT ''")
                if "confidence" not in columns:
                    conn.execute("ALTER TABLE fault_codes ADD COLUMN confidence REAL")
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def close(self) -> None:
        with self.lock:
            self.conn.close()
