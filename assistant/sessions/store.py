"""The sessions store: every session event written as it happens, plus the
current state, in one transaction per event.

Owns: `root/sessions.sqlite` (through SQLAlchemy 2 Core; any URL SQLAlchemy
knows, e.g. PostgreSQL, via `url=`) and `root/photos/` (see photos.py).

Write path: each public mutator opens one write transaction, reads the
session's current snapshot (row-locked: `BEGIN IMMEDIATE` on SQLite,
`SELECT ... FOR UPDATE` elsewhere), validates, appends an event row with the
next per-session sequence number, and rewrites the sessions row (snapshot and
the derived filter columns) before committing. A crash at any point leaves
either the whole event or none of it.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, case, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from assistant import redaction
from assistant.domain import (
    Answer,
    Note,
    Observation,
    Outcome,
    Photo,
    Review,
    Session,
    SessionSummary,
    StepOutcome,
    Turn,
    new_id,
    utc_now,
)
from assistant.errors import StorageError, UnknownSession, UnreadablePhoto
from assistant.sessions import events as ev
from assistant.sessions import schema
from assistant.sessions.filters import SessionFilter, where_clauses
from assistant.sessions.photos import PhotoBlobs, ext_for, sha256_hex
from assistant.sessions.review_rule import needs_review_clause
from assistant.sessions.secrets import scrub_secrets

S = schema.sessions
ST = schema.session_state
BUSY_TIMEOUT_MS = 15_000


class UnknownTurn(UnknownSession):
    """A question (turn), step or reading that is not in the session."""


class SessionStore:
    """Sessions, their event log, reviews and photos. Thread-safe; several processes may share a root."""

    def __init__(self, root: Path | str, *, url: str | None = None):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"The sessions folder {self.root} cannot be created ({exc.strerror}).") from None
        self.db_path = self.root / "sessions.sqlite"
        self._local = threading.local()  # the connection of a transaction() block, per thread
        self.blobs = PhotoBlobs(self.root / "photos")
        self.url = url or f"sqlite:///{self.db_path}"
        self._engine = create_engine(self.url)
        self._sqlite = self._engine.dialect.name == "sqlite"
        if self._sqlite:
            _configure_sqlite(self._engine)
        try:
            with self._write() as conn:
                schema.migrate(conn)
                self._fts = schema.fts_available(conn)
        except ValueError:
            self._engine.dispose()
            raise StorageError("The sessions database was written by a newer version of Fieldlens; "
                               "update Fieldlens to open it.") from None
        except StorageError:
            self._engine.dispose()
            raise
        self._recover_trash()
        if self._sqlite:
            self._refresh_stats()

    def _refresh_stats(self) -> None:
        """Give SQLite's query planner row statistics when it has none or they are stale (the sessions
        table has doubled since): with them it sorts id-set filters from the covering index."""
        try:
            with self._read() as conn:  # the check is a read: no write lock on every open
                count = conn.execute(select(func.count()).select_from(S)).scalar() or 0
                analysed = 0
                if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
                    row = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'sessions' "
                                               "AND idx = 'ix_sessions_updated'").first()
                    analysed = int(row[0].split()[0]) if row else 0
            if count >= 200 and count > 2 * analysed:
                with self._write() as conn:
                    conn.exec_driver_sql("ANALYZE sessions")
                    conn.exec_driver_sql("ANALYZE session_flags")
        except StorageError:
            pass  # statistics are an optimisation; a busy or read-only database still works without them

    def close(self) -> None:
        if self._sqlite:
            try:  # keeps the query planner's statistics current; cheap when nothing changed
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA optimize")
            except SQLAlchemyError:
                pass  # closing must not fail because of housekeeping
        self._engine.dispose()

    def __enter__(self) -> "SessionStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return schema.current_version(conn)

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write (and read) of this thread inside the block one transaction: all of them are
        committed together or, when the block raises, none. For steps that must not be left half done,
        such as a first question's new session and its question. Photo files written inside stay on
        disk if it rolls back (content-addressed: unreferenced, and reused by the next add)."""
        if getattr(self._local, "conn", None) is not None:
            yield  # already inside one: the outer block commits
            return
        with self._write() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        active = getattr(self._local, "conn", None)
        if active is not None:  # inside transaction(): part of its one transaction
            yield active
            return
        try:
            with self._engine.connect() as conn:
                conn.execution_options(fieldlens_write=True)
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            raise self._storage_error(exc) from None
        except SQLAlchemyError as exc:
            raise self._storage_error(exc) from None
        except OSError as exc:
            raise self._storage_error(exc) from None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        active = getattr(self._local, "conn", None)
        if active is not None:  # inside transaction(): read what it has written so far
            yield active
            return
        try:
            with self._engine.connect() as conn:
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise self._storage_error(exc) from None
        except OSError as exc:
            raise self._storage_error(exc) from None

    def _storage_error(self, exc: BaseException) -> StorageError:
        orig = getattr(exc, "orig", None) or exc
        message = str(orig).lower()
        where = self.db_path if self._sqlite else "the sessions database"
        if ("disk is full" in message or "database is full" in message or "no space" in message
                or (isinstance(orig, OSError) and orig.errno in (errno.ENOSPC, errno.EDQUOT))):
            return StorageError("The device is full, so the session could not be saved; "
                                "free some space and try again.")
        if "not a database" in message or "malformed" in message or "corrupt" in message:
            return StorageError(f"The sessions database {where} is damaged and cannot be read; move it aside "
                                "or restore it from a backup (no other file was changed).")
        if "locked" in message or "busy" in message:
            return StorageError("The sessions database is busy in another program; try again in a moment.")
        if "readonly" in message or "read-only" in message or isinstance(orig, PermissionError):
            return StorageError(f"The sessions folder {self.root} cannot be written; check its permissions.")
        if isinstance(orig, OSError):
            return StorageError(f"A photo file in {self.root} could not be written ({orig.strerror}).")
        return StorageError(f"The sessions database {where} could not be read or written.")

    # ------------------------------------------------------------------ event plumbing

    def _load_for_update(self, conn: Connection, session_id: str) -> tuple[Session, int, str, str]:
        row = conn.execute(
            select(ST.c.snapshot, S.c.last_seq, ST.c.search_text, S.c.flag_codes)
            .select_from(S.join(ST, ST.c.session_id == S.c.id))
            .where(S.c.id == session_id).with_for_update()
        ).first()
        if row is None:
            raise UnknownSession(f"No saved session has the id {session_id}.")
        return Session.model_validate_json(row.snapshot), row.last_seq, row.search_text, row.flag_codes

    def _insert_event(self, conn: Connection, session_id: str, seq: int, etype: str, payload: dict, at) -> None:
        conn.execute(insert(schema.events).values(
            id=new_id(), session_id=session_id, seq=seq, type=etype,
            payload=json.dumps(payload, ensure_ascii=False), at=ev.naive_utc(at)))

    def _save_state(self, conn: Connection, session: Session, seq: int, old_search: str | None,
                    old_codes: str | None, *, insert_row: bool = False) -> None:
        fields = ev.row_fields(session)
        search = fields.pop("search_text")
        state = {"snapshot": session.model_dump_json(), "search_text": search}
        if insert_row:
            conn.execute(insert(S).values(id=session.id, last_seq=seq, **fields))
            conn.execute(insert(ST).values(session_id=session.id, **state))
        else:
            conn.execute(update(S).where(S.c.id == session.id).values(last_seq=seq, **fields))
            conn.execute(update(ST).where(ST.c.session_id == session.id).values(**state))
        if fields["flag_codes"] != old_codes:
            conn.execute(delete(schema.session_flags).where(schema.session_flags.c.session_id == session.id))
            codes = json.loads(fields["flag_codes"])
            if codes:
                conn.execute(insert(schema.session_flags),
                             [{"session_id": session.id, "code": c} for c in codes])
        if self._fts and search != old_search:
            self._index_text(conn, session.id, search)

    @staticmethod
    def _index_text(conn: Connection, session_id: str, body: str) -> None:
        """Replace a session's row in the SQLite FTS5 index (keyed by an integer, see migration 5)."""
        keys, fts = schema.FTS_KEYS, schema.FTS_TABLE
        key = conn.execute(text(f"SELECT k FROM {keys} WHERE session_id = :sid"), {"sid": session_id}).scalar()
        if key is not None:
            conn.execute(text(f"DELETE FROM {fts} WHERE rowid = :k"), {"k": key})
        if not body:
            return
        if key is None:
            conn.execute(text(f"INSERT INTO {keys}(session_id) VALUES (:sid)"), {"sid": session_id})
            key = conn.execute(text(f"SELECT k FROM {keys} WHERE session_id = :sid"), {"sid": session_id}).scalar()
        conn.execute(text(f"INSERT INTO {fts}(rowid, body) VALUES (:k, :body)"), {"k": key, "body": body})

    def _event(self, session_id: str, build: Callable[[Session], tuple[str, dict]],
               extra: Callable[[Connection, Session], None] | None = None) -> Session:
        """Append one event built from the current session; returns the new session."""
        with self._write() as conn:
            current, last_seq, old_search, old_codes = self._load_for_update(conn, session_id)
            etype, payload = build(current)
            payload = redaction.scrub_data(payload)  # no known secret is ever written to the store
            at = utc_now()
            # `current` was parsed from the snapshot for this transaction alone: fold into it
            new = ev.apply_event(current, etype, payload, at, in_place=True)
            if extra is not None:
                extra(conn, new)
            self._insert_event(conn, session_id, last_seq + 1, etype, payload, at)
            self._save_state(conn, new, last_seq + 1, old_search, old_codes)
        return new

    # ------------------------------------------------------------------ writing

    def create(self, *, equipment_id: str | None = None, technician: str = "", device: str = "") -> Session:
        now = utc_now()
        session = Session(equipment_id=equipment_id, technician=technician or "", device=device or "",
                          created_at=now, updated_at=now)
        with self._write() as conn:
            self._insert_event(conn, session.id, 1, ev.CREATED, {"session": ev.dump(session)}, now)
            self._save_state(conn, session, 1, None, None, insert_row=True)
        return session

    def import_sessions(self, sessions: Iterable[Session]) -> int:
        """Add complete sessions (from another device, or a backup) in one transaction, each as one
        `imported` event. Sessions whose id is already here are skipped. Returns the count added.
        Like every other write, an imported session is scrubbed of every known secret first."""
        added = 0
        with self._write() as conn:
            known_photos = None
            for session in sessions:
                if conn.execute(select(S.c.id).where(S.c.id == session.id)).first() is not None:
                    continue
                data = redaction.scrub_data(ev.dump(session))
                session = Session.model_validate(data)
                self._insert_event(conn, session.id, 1, ev.IMPORTED, {"session": data}, session.updated_at)
                self._save_state(conn, session, 1, None, None, insert_row=True)
                if session.photos:
                    if known_photos is None:
                        known_photos = set(conn.execute(select(schema.photos.c.id)).scalars())
                    for photo in {p.id: p for p in session.photos if p.id in known_photos}.values():
                        conn.execute(insert(schema.session_photos).values(
                            session_id=session.id, photo_id=photo.id, role=photo.role,
                            added_at=ev.naive_utc(photo.added_at)))
                added += 1
        return added

    def add_photo(self, session_id: str, photo: Photo, data: bytes, prepared: bytes | None = None) -> Photo:
        """Store a photo's bytes (content-addressed, shared) and record it in the session."""
        sha = sha256_hex(data)
        if photo.id != sha:
            raise ValueError("a Photo's id must be the sha256 of its original bytes")
        ext = ext_for(photo.media_type)

        def build(_: Session) -> tuple[str, dict]:
            return ev.PHOTO_ADDED, {"photo": ev.dump(photo)}

        def extra(conn: Connection, _: Session) -> None:
            known = conn.execute(select(schema.photos.c.id, schema.photos.c.ext)
                                 .where(schema.photos.c.id == sha).with_for_update()).first()
            stored_ext = known.ext if known else ext
            has_prepared = self.blobs.put(sha, stored_ext, data, prepared)  # under the write lock
            if known is None:
                conn.execute(insert(schema.photos).values(
                    id=sha, media_type=photo.media_type, ext=ext, byte_count=len(data),
                    has_prepared=has_prepared, created_at=ev.naive_utc(utc_now())))
            else:
                conn.execute(update(schema.photos).where(schema.photos.c.id == sha)
                             .values(has_prepared=has_prepared))
            link = schema.session_photos
            if conn.execute(select(link.c.photo_id).where(link.c.session_id == session_id,
                                                          link.c.photo_id == sha)).first() is None:
                conn.execute(insert(link).values(session_id=session_id, photo_id=sha, role=photo.role,
                                                 added_at=ev.naive_utc(photo.added_at)))

        self._event(session_id, build, extra)
        return photo

    def remove_photo(self, session_id: str, photo_id: str) -> None:
        """Take a capture photo and its readings out of the session (an event: nothing is erased)."""
        def build(current: Session) -> tuple[str, dict]:
            if not any(p.id == photo_id and p.role == "capture" for p in current.photos):
                raise UnknownTurn(f"The photo {photo_id[:12]} is not part of this session.")
            return ev.PHOTO_REMOVED, {"photo_id": photo_id}

        self._event(session_id, build)

    def add_observations(self, session_id: str, observations: list[Observation]) -> None:
        def build(current: Session) -> tuple[str, dict]:
            ids = {p.id for p in current.photos}
            for obs in observations:
                if obs.photo not in ids:
                    raise UnknownTurn(f"The photo {obs.photo[:12]} is not part of this session.")
            return ev.OBSERVATIONS_ADDED, {"observations": [ev.dump(o) for o in observations]}

        if observations:
            self._event(session_id, build)

    def correct_observation(self, session_id: str, photo_id: str, index: int, value: str | None,
                            confirmed: bool = True) -> Observation:
        """Correct (value given) or confirm/unconfirm the `index`-th (0-based) reading of a photo."""
        result: dict[str, Observation] = {}

        def build(current: Session) -> tuple[str, dict]:
            positions = [i for i, o in enumerate(current.observations) if o.photo == photo_id]
            if not 0 <= index < len(positions):
                raise UnknownTurn(f"This session has no reading number {index + 1} on that photo.")
            position = positions[index]
            old = current.observations[position]
            changes: dict[str, Any] = {"confirmed": confirmed}
            if value is not None and value != old.value:
                alternatives = list(old.alternatives)
                if old.value not in alternatives:
                    alternatives.append(old.value)
                changes.update(value=value, raw=old.raw or old.value, source="user",
                               alternatives=alternatives, confidence=1.0 if confirmed else old.confidence)
            new = old.model_copy(update=changes)
            result["obs"] = new
            return ev.OBSERVATION_CORRECTED, {"photo_id": photo_id, "index": index, "position": position,
                                              "observation": ev.dump(new)}

        self._event(session_id, build)
        return result["obs"]

    def set_equipment(self, session_id: str, equipment_id: str | None) -> None:
        self._event(session_id, lambda _: (ev.EQUIPMENT_SET, {"equipment_id": equipment_id}))

    def add_turn(self, session_id: str, turn: Turn) -> Turn:
        """Save a question (before it is answered)."""
        def build(current: Session) -> tuple[str, dict]:
            if any(t.id == turn.id for t in current.turns):
                raise ValueError(f"turn {turn.id} is already in the session")
            return ev.TURN_ADDED, {"turn": ev.dump(turn)}

        self._event(session_id, build)
        return turn

    def set_answer(self, session_id: str, turn_id: str, answer: Answer | None, error: str | None = None) -> None:
        """Save the answer to a question in full (or the sentence shown when answering failed)."""
        def build(current: Session) -> tuple[str, dict]:
            turn = _turn(current, turn_id)
            full = None
            if answer is not None:
                full = answer.model_copy(update={"session_id": session_id,
                                                 "question": answer.question or turn.question})
            # defence in depth: a provider's error text must never carry a key into the record
            safe_error = scrub_secrets(error) if error else error
            return ev.ANSWER_SET, {"turn_id": turn_id, "answer": ev.dump(full) if full else None,
                                   "error": safe_error}

        self._event(session_id, build)

    def record_step(self, session_id: str, outcome: StepOutcome) -> None:
        def build(current: Session) -> tuple[str, dict]:
            turn = _turn(current, outcome.turn_id)
            if outcome.step < 1 or (turn.answer and turn.answer.steps and outcome.step > len(turn.answer.steps)):
                raise UnknownTurn(f"Step {outcome.step} is not in the answer to this question.")
            return ev.STEP_RECORDED, {"outcome": ev.dump(outcome)}

        self._event(session_id, build)

    def add_note(self, session_id: str, note: Note) -> None:
        self._event(session_id, lambda _: (ev.NOTE_ADDED, {"note": ev.dump(note)}))

    def close_session(self, session_id: str, outcome: Outcome) -> None:
        outcome = Outcome(outcome)
        self._event(session_id, lambda _: (ev.CLOSED, {"outcome": str(outcome),
                                                       "closed_at": utc_now().isoformat()}))

    def review(self, review: Review) -> Review:
        """Append a supervisor review (the latest one is current; earlier ones stay as the audit trail)."""
        def build(current: Session) -> tuple[str, dict]:
            if review.turn_id is not None:
                _turn(current, review.turn_id)
            if any(int(k) < 1 for k in review.step_ratings):
                raise UnknownTurn("Step numbers in a review start at 1.")
            return ev.REVIEWED, {"review": ev.dump(review)}

        def extra(conn: Connection, _: Session) -> None:
            conn.execute(insert(schema.reviews).values(
                id=review.id, session_id=review.session_id, reviewer=review.reviewer,
                verdict=str(review.verdict) if review.verdict else None, comment=review.comment,
                step_ratings=json.dumps({str(k): str(v) for k, v in review.step_ratings.items()}),
                turn_id=review.turn_id, at=ev.naive_utc(review.at)))

        self._event(review.session_id, build, extra)
        return review

    def delete(self, session_id: str) -> None:
        """Delete a session, its log and reviews, and its photos unless another session shares them."""
        link = schema.session_photos
        moved: list = []
        try:
            with self._write() as conn:
                if conn.execute(select(S.c.id).where(S.c.id == session_id).with_for_update()).first() is None:
                    raise UnknownSession(f"No saved session has the id {session_id}.")
                photo_ids = list(conn.execute(select(link.c.photo_id).where(link.c.session_id == session_id))
                                 .scalars())
                conn.execute(delete(link).where(link.c.session_id == session_id))
                conn.execute(delete(schema.reviews).where(schema.reviews.c.session_id == session_id))
                conn.execute(delete(schema.session_flags).where(schema.session_flags.c.session_id == session_id))
                conn.execute(delete(schema.events).where(schema.events.c.session_id == session_id))
                conn.execute(delete(ST).where(ST.c.session_id == session_id))
                if self._fts:
                    self._index_text(conn, session_id, "")
                    conn.execute(text(f"DELETE FROM {schema.FTS_KEYS} WHERE session_id = :sid"),
                                 {"sid": session_id})
                conn.execute(delete(S).where(S.c.id == session_id))
                for pid in photo_ids:
                    if conn.execute(select(link.c.session_id).where(link.c.photo_id == pid).limit(1)).first():
                        continue  # shared with another session
                    ext = conn.execute(select(schema.photos.c.ext).where(schema.photos.c.id == pid)).scalar()
                    conn.execute(delete(schema.photos).where(schema.photos.c.id == pid))
                    moved.extend(self.blobs.move_to_trash(pid, ext or "bin"))
        except BaseException:
            self.blobs.restore(moved)
            raise
        self.blobs.purge(moved)

    def _recover_trash(self) -> None:
        """Finish deletes a crash interrupted: restore still-referenced photos, purge the rest."""
        pending = self.blobs.pending()
        if not pending:
            return
        with self._read() as conn:
            known = set(conn.execute(select(schema.photos.c.id)
                                     .where(schema.photos.c.id.in_({p[0] for p in pending}))).scalars())
        for sha, trash_path, original in pending:
            try:
                if sha in known and not original.exists():
                    original.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(trash_path, original)
                else:
                    trash_path.unlink(missing_ok=True)
            except OSError:
                continue  # left for the next open; nothing depends on it

    # ------------------------------------------------------------------ reading

    def get(self, session_id: str) -> Session:
        with self._read() as conn:
            snap = conn.execute(select(ST.c.snapshot).where(ST.c.session_id == session_id)).scalar()
        if snap is None:
            raise UnknownSession(f"No saved session has the id {session_id}.")
        return Session.model_validate_json(snap)

    def exists(self, session_id: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(S.c.id).where(S.c.id == session_id)).first() is not None

    def list(self, filters: SessionFilter | None = None, limit: int = 100, offset: int = 0) -> list[SessionSummary]:
        """Session summaries, most recently active first."""
        # two phases: the page of ids first (index-only for id-set filters such as flag codes and
        # full text), then the summary columns of just those rows
        page = (select(S.c.id).where(*self._where(filters))
                .order_by(S.c.updated_at.desc(), S.c.id)
                .limit(max(0, int(limit))).offset(max(0, int(offset))))
        stmt = (select(S.c.id, S.c.equipment_id, S.c.technician, S.c.created_at, S.c.updated_at,
                       S.c.first_question, S.c.turn_count, S.c.confidence, S.c.flag_codes, S.c.outcome,
                       S.c.verdict)
                .where(S.c.id.in_(page.scalar_subquery()))
                .order_by(S.c.updated_at.desc(), S.c.id))
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [SessionSummary(
            id=r.id, equipment_id=r.equipment_id, technician=r.technician,
            created_at=ev.as_utc(r.created_at), updated_at=ev.as_utc(r.updated_at),
            first_question=r.first_question, turn_count=r.turn_count, confidence=r.confidence,
            flag_codes=json.loads(r.flag_codes), outcome=r.outcome, verdict=r.verdict) for r in rows]

    def count(self, filters: SessionFilter | None = None) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(S).where(*self._where(filters))).scalar())

    def _where(self, filters: SessionFilter | dict | None) -> list:
        if filters is None:
            return []
        if isinstance(filters, dict):
            filters = SessionFilter.model_validate(filters)
        return where_clauses(filters, fts=self._fts)

    def dashboard(self, filters: SessionFilter | None = None) -> dict:
        """Counts for the supervisor's dashboard. Rates are fractions 0..1 (None when nothing to count).
        "flagged" (also as "needs_review") counts the sessions that need a reviewer, by the one rule of
        `review_rule` (not every flag: a safety note alone is normal work)."""
        where = self._where(filters)
        agg = select(
            func.count().label("sessions"),
            func.sum(case((S.c.outcome.is_not(None), 1), else_=0)).label("closed"),
            func.sum(case((S.c.outcome == "fixed", 1), else_=0)).label("fixed"),
            func.sum(case((needs_review_clause(), 1), else_=0)).label("flagged"),
            func.sum(case((S.c.confidence == "low", 1), else_=0)).label("low_confidence"),
            func.sum(case((S.c.reviewed.is_(True), 1), else_=0)).label("reviewed"),
        ).where(*where)
        with self._read() as conn:
            totals = conn.execute(agg).one()
            per_eq = conn.execute(select(S.c.equipment_id, func.count()).where(*where)
                                  .group_by(S.c.equipment_id)).all()
            outcomes = conn.execute(select(S.c.outcome, func.count()).where(*where, S.c.outcome.is_not(None))
                                    .group_by(S.c.outcome)).all()
            verdicts = conn.execute(select(S.c.verdict, func.count()).where(*where, S.c.verdict.is_not(None))
                                    .group_by(S.c.verdict)).all()
        n = int(totals.sessions or 0)
        closed, fixed = int(totals.closed or 0), int(totals.fixed or 0)
        flagged, low, reviewed = int(totals.flagged or 0), int(totals.low_confidence or 0), int(totals.reviewed or 0)
        return {
            "sessions": n,
            "per_equipment": {(k or ""): int(v) for k, v in sorted(per_eq, key=lambda r: -r[1])},
            "closed": closed,
            "open": n - closed,
            "fixed": fixed,
            "fix_rate": fixed / closed if closed else None,
            "flagged": flagged,
            "flagged_rate": flagged / n if n else None,
            "needs_review": flagged,
            "low_confidence": low,
            "low_confidence_rate": low / n if n else None,
            "reviewed": reviewed,
            "unreviewed": n - reviewed,
            "outcomes": {k: int(v) for k, v in outcomes},
            "verdicts": {k: int(v) for k, v in verdicts},
        }

    def events(self, session_id: str) -> list[dict]:
        """The session's append-only event log, oldest first: dicts with id, session_id, seq, type, at, payload."""
        e = schema.events
        with self._read() as conn:
            rows = conn.execute(select(e.c.id, e.c.session_id, e.c.seq, e.c.type, e.c.at, e.c.payload)
                                .where(e.c.session_id == session_id).order_by(e.c.seq)).all()
        if not rows:
            raise UnknownSession(f"No saved session has the id {session_id}.")
        return [{"id": r.id, "session_id": r.session_id, "seq": r.seq, "type": r.type, "at": ev.as_utc(r.at),
                 "payload": json.loads(r.payload)} for r in rows]

    def reviews(self, session_id: str) -> list[Review]:
        """The review audit trail, oldest first (the last one is current)."""
        return self.get(session_id).reviews

    def photo_path(self, photo_id: str) -> Path:
        """The original file of a stored photo."""
        with self._read() as conn:
            ext = conn.execute(select(schema.photos.c.ext).where(schema.photos.c.id == photo_id)).scalar()
        path = self.blobs.original_path(photo_id, ext) if ext else None
        if path is None or not path.exists():
            raise UnreadablePhoto(f"The photo {photo_id[:12]} is not in the sessions store.")
        return path

    def prepared_path(self, photo_id: str) -> Path | None:
        """The prepared (model-ready) copy of a stored photo, if one was saved."""
        path = self.blobs.prepared_path(photo_id)
        return path if path.exists() else None

    def photo_bytes(self, photo_id: str) -> bytes:
        try:
            return self.photo_path(photo_id).read_bytes()
        except OSError as exc:
            raise UnreadablePhoto(f"The photo {photo_id[:12]} cannot be read ({exc.strerror}).") from None

    def verify(self, session_id: str) -> list[str]:
        """Check one session end to end; returns the problems found (empty when sound): gaps in the
        event log, a current state that differs from the replayed log, missing or altered photo files."""
        log = self.events(session_id)
        session = self.get(session_id)
        problems = []
        if [e["seq"] for e in log] != list(range(1, len(log) + 1)):
            problems.append("the event log has gaps")
        try:
            if ev.replay(log) != session:
                problems.append("the saved state differs from the event log")
        except (ValueError, KeyError) as exc:
            problems.append(f"the event log cannot be replayed ({exc})")
        for photo in {p.id: p for p in session.photos}.values():
            try:
                data = self.photo_path(photo.id).read_bytes()
            except (UnreadablePhoto, OSError):
                problems.append(f"photo {photo.id[:12]} is missing")
                continue
            if sha256_hex(data) != photo.id:
                problems.append(f"photo {photo.id[:12]} has been altered")
        return problems

    # ------------------------------------------------------------------ export

    def export(self, session_id: str, fmt: Literal["pdf", "json", "html"], out: Path | str, *,
               anonymize: bool = False) -> Path:
        """Write a report of one session (pdf, json or html) to `out`; returns the path written."""
        from assistant.sessions.export import export_session

        session = self.get(session_id)
        log = self.events(session_id)
        return export_session(session, log, fmt, Path(out), anonymize=anonymize, photo_loader=self._photo_or_none)

    def _photo_or_none(self, photo_id: str) -> bytes | None:
        try:
            return self.photo_bytes(photo_id)
        except UnreadablePhoto:
            return None


def _turn(session: Session, turn_id: str) -> Turn:
    for turn in session.turns:
        if turn.id == turn_id:
            return turn
    raise UnknownTurn("This session has no such question.")


def _configure_sqlite(engine) -> None:
    """Pragmas and transaction control for SQLite.

    - WAL: readers never block the writer and a crash mid-write leaves the last commit intact.
    - synchronous=FULL: each commit fsyncs the WAL before returning, so a committed step survives a
      power cut or a dead tablet battery, not only a process crash (NORMAL in WAL mode may lose the
      last commits on power loss). Commits are small and human-paced, so the fsync cost is invisible.
    - busy_timeout: a second writer (another process or thread) waits for the lock instead of failing.
    - Transactions: the driver's implicit BEGIN is turned off and we emit our own: writes take
      `BEGIN IMMEDIATE` so the read-modify-write of a session can never deadlock on lock upgrade.
    """
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        write = conn.get_execution_options().get("fieldlens_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
