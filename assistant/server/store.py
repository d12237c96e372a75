"""The fleet server's storage: the tablets' sessions with their full event logs, photos and reviews,
in the same tables (and through the same event model) as a tablet's own store, plus who pushed each
session, how far its log has arrived, and the numbered review log tablets pull from.

Owns: ingesting pushed events (idempotent by event id; all or nothing per push), reviews written on
the server, ownership checks for device tokens. Built on `SessionStore` so that a session on the
server is folded by exactly the code that folds it on the tablet.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from assistant.domain import Review, Session, utc_now
from assistant.errors import StorageError
from assistant.sessions import events as ev
from assistant.sessions import schema as session_schema
from assistant.sessions.filters import SessionFilter, where_clauses
from assistant.sessions.photos import ext_for, sha256_hex
from assistant.sessions.store import SessionStore
from assistant.server import schema
from assistant.server.errors import Conflict, NotAllowed, NotFound, Refused, TooLarge

S = session_schema.sessions
E = session_schema.events
FS = schema.fleet_sessions
RL = schema.review_log

MAX_EVENTS_PER_PUSH = 2000
MAX_PHOTO_BYTES = 80 * 1024 * 1024  # the largest photo a tablet accepts (assistant.imaging.load)
PHOTO_TYPES = ("image/jpeg", "image/jpg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif",
               "image/bmp", "image/tiff")


class PushedEvent(BaseModel):
    """One event of a tablet's session log, as the tablet holds it (its seq is the tablet's)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=36)
    session_id: str = Field(min_length=1, max_length=36)
    seq: int = Field(ge=1)
    type: str
    payload: dict
    at: datetime

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ev.EVENT_TYPES:
            raise ValueError(f"unknown event type {value!r}")
        return value


class Push(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[PushedEvent] = Field(max_length=MAX_EVENTS_PER_PUSH)


class FleetFilter(SessionFilter):
    """The tablet's session filters plus the device (token name) a session was pushed by."""

    device: list[str] = Field(default_factory=list, description="pushed by any of these devices")

    @field_validator("device", mode="before")
    @classmethod
    def _device_list(cls, value):
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple, set)) else [value]


def parse_push(body: bytes) -> Push:
    """A push body, or Refused with the first problem in one sentence."""
    try:
        return Push.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Refused(f"The push is malformed ({where}: {first['msg']}); nothing was stored.", 422) from None


class FleetStore(SessionStore):
    """A SessionStore that also knows devices, push cursors and the review log."""

    def __init__(self, data_dir: Path | str, *, url: str | None = None):
        super().__init__(data_dir, url=url)
        try:
            with self._write() as conn:
                schema.migrate(conn, utc_now)
        except ValueError:
            self._engine.dispose()
            raise StorageError("The fleet database was written by a newer version of Fieldlens; "
                               "update the server to open it.") from None
        self._postgres = self._engine.dialect.name == "postgresql"

    @property
    def engine(self):
        return self._engine

    @property
    def fleet_schema_version(self) -> int:
        with self._read() as conn:
            return schema.current_version(conn)

    # ------------------------------------------------------------------ ownership

    def owner_of(self, session_id: str) -> str | None:
        with self._read() as conn:
            return conn.execute(select(FS.c.owner).where(FS.c.session_id == session_id)).scalar()

    def check_readable(self, session_id: str, device: str | None) -> None:
        """NotFound unless the session is here; NotAllowed when a device asks for another's session."""
        owner = self.owner_of(session_id)
        if owner is None and not self.exists(session_id):
            raise NotFound(f"No session on the server has the id {session_id}.")
        if device is not None and owner != device:
            raise NotAllowed("This device token may read only the sessions this device pushed.")

    def cursors(self, owner: str) -> dict[str, int]:
        """How far each of the device's session logs has arrived (the tablet-side seq)."""
        with self._read() as conn:
            rows = conn.execute(select(FS.c.session_id, FS.c.device_seq).where(FS.c.owner == owner)).all()
        return {r.session_id: r.device_seq for r in rows}

    # ------------------------------------------------------------------ photos

    def put_photo(self, sha: str, media_type: str, data: bytes) -> bool:
        """Store a photo pushed by a tablet (content-addressed); returns False when it was already here."""
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge(f"The photo is larger than {MAX_PHOTO_BYTES // 1024**2} MB; nothing was stored.")
        media_type = (media_type or "").split(";")[0].strip().lower()
        if media_type not in PHOTO_TYPES:
            raise Refused("The photo must be sent with an image content type (image/jpeg, image/png ...).", 415)
        if sha256_hex(data) != sha:
            raise Refused("The photo's bytes do not match its sha256; nothing was stored.", 422)
        photos = session_schema.photos
        with self._write() as conn:
            known = conn.execute(select(photos.c.ext).where(photos.c.id == sha).with_for_update()).first()
            ext = known.ext if known else ext_for(media_type)
            self.blobs.put(sha, ext, data, None)
            if known is not None:
                return False
            conn.execute(insert(photos).values(id=sha, media_type=media_type, ext=ext, byte_count=len(data),
                                               has_prepared=False, created_at=ev.naive_utc(utc_now())))
        return True

    def has_photo(self, sha: str) -> bool:
        photos = session_schema.photos
        with self._read() as conn:
            return conn.execute(select(photos.c.id).where(photos.c.id == sha)).first() is not None

    def photo_readable_by(self, sha: str, device: str | None) -> bool:
        """A device may read a photo only when one of its own sessions holds it."""
        if device is None:
            return True
        link = session_schema.session_photos
        with self._read() as conn:
            row = conn.execute(select(link.c.session_id).join(FS, FS.c.session_id == link.c.session_id)
                               .where(link.c.photo_id == sha, FS.c.owner == device).limit(1)).first()
        return row is not None

    # ------------------------------------------------------------------ ingest

    def ingest(self, owner: str, push: Push) -> dict:
        """Apply a device's pushed events in one transaction: events already here (same id) are
        skipped, the next ones are applied in order, anything else refuses the whole push."""
        by_session: dict[str, list[PushedEvent]] = {}
        for event in push.events:
            by_session.setdefault(event.session_id, []).append(event)
        accepted = duplicates = 0
        positions: dict[str, int] = {}
        try:
            with self._write() as conn:
                if any(e.type == ev.REVIEWED for e in push.events):
                    self._lock_review_log(conn)  # before any row lock, as review() does: no deadlock
                for session_id, batch in by_session.items():
                    a, d, pos = self._ingest_session(conn, owner, session_id, batch)
                    accepted, duplicates = accepted + a, duplicates + d
                    positions[session_id] = pos
        except IntegrityError:
            # two pushes raced to create the same session, or an event id is reused: nothing was stored
            raise Conflict("The push collided with another write; nothing was stored, send it again.") from None
        return {"accepted": accepted, "duplicates": duplicates, "sessions": positions}

    def _ingest_session(self, conn: Connection, owner: str, session_id: str,
                        batch: list[PushedEvent]) -> tuple[int, int, int]:
        row = conn.execute(select(FS.c.owner, FS.c.device_seq).where(FS.c.session_id == session_id)
                           .with_for_update()).first()
        if row is not None and row.owner != owner:
            raise NotAllowed(f"The session {session_id} belongs to another device; nothing was stored.")
        device_seq = row.device_seq if row else 0
        known = {(r[0], r[1]) for r in conn.execute(select(E.c.id, E.c.session_id)
                                                    .where(E.c.id.in_([e.id for e in batch])))}
        known_ids = {k[0] for k in known}
        current: Session | None = None
        last_seq = saved_seq = 0
        old_search = old_codes = None
        if row is not None:
            current, last_seq, old_search, old_codes = self._load_for_update(conn, session_id)
            saved_seq = last_seq
        accepted = duplicates = 0
        rows: list[dict] = []  # the log rows, written in one statement (one round trip on PostgreSQL)
        for event in sorted(batch, key=lambda e: e.seq):
            if event.seq <= device_seq:
                if (event.id, session_id) in known or event.type == ev.REVIEWED:
                    duplicates += 1
                    continue
                raise Conflict(f"Event {event.seq} of session {session_id} differs from the one the server "
                               "holds; nothing was stored.")
            if event.seq != device_seq + 1:
                raise Conflict(f"Session {session_id}: the server has events up to {device_seq}, the push "
                               f"goes on from {event.seq}; nothing was stored.")
            if event.id in known_ids:
                raise Conflict(f"Event id {event.id} is already used by another event; nothing was stored.")
            device_seq = event.seq
            if event.type == ev.REVIEWED and self._review_known(conn, event.payload):
                duplicates += 1  # a review the tablet pulled from here, coming back with its log
                continue
            if current is None and event.type not in (ev.CREATED, ev.IMPORTED):
                raise Refused(f"Session {session_id}: its first event must create it; nothing was stored.", 422)
            try:
                new = ev.apply_event(current, event.type, event.payload, event.at, in_place=True)
            except (ValueError, KeyError, TypeError, IndexError, ValidationError) as exc:
                raise Refused(f"Event {event.seq} of session {session_id} cannot be applied ({_short(exc)}); "
                              "nothing was stored.", 422) from None
            if new.id != session_id:
                raise Refused(f"Event {event.seq} names a different session; nothing was stored.", 422)
            creating = current is None
            if creating:
                now = ev.naive_utc(utc_now())
                conn.execute(insert(FS).values(session_id=session_id, owner=owner, device_seq=0,
                                               first_seen=now, last_push=now))
            last_seq += 1
            rows.append({"id": event.id, "session_id": session_id, "seq": last_seq, "type": event.type,
                         "payload": json.dumps(event.payload, ensure_ascii=False), "at": ev.naive_utc(event.at)})
            if creating:
                self._save_state(conn, new, last_seq, None, None, insert_row=True)
                fields = ev.row_fields(new)
                old_search, old_codes, saved_seq = fields["search_text"], fields["flag_codes"], last_seq
            self._side_effects(conn, new, event)
            current = new
            accepted += 1
        if rows:
            conn.execute(insert(E), rows)
        if current is not None and last_seq > saved_seq:
            self._save_state(conn, current, last_seq, old_search, old_codes)
        if row is not None or current is not None:
            conn.execute(update(FS).where(FS.c.session_id == session_id)
                         .values(device_seq=device_seq, last_push=ev.naive_utc(utc_now())))
        return accepted, duplicates, device_seq

    def _review_known(self, conn: Connection, payload: dict) -> bool:
        review_id = (payload.get("review") or {}).get("id")
        if not review_id:
            return False
        reviews = session_schema.reviews
        return conn.execute(select(reviews.c.id).where(reviews.c.id == review_id)).first() is not None

    def _side_effects(self, conn: Connection, session: Session, event: PushedEvent) -> None:
        """What an event needs beyond the fold: photo links, review rows and the review log."""
        if event.type == ev.PHOTO_ADDED:
            photo = event.payload["photo"]
            sha = photo.get("id", "")
            link = session_schema.session_photos
            if conn.execute(select(session_schema.photos.c.id).where(session_schema.photos.c.id == sha)).first() \
                    is None:
                raise Conflict(f"The photo {sha[:12]} is not on the server yet: send it before the events that "
                               "use it; nothing was stored.")
            if conn.execute(select(link.c.photo_id).where(link.c.session_id == session.id,
                                                          link.c.photo_id == sha)).first() is None:
                conn.execute(insert(link).values(session_id=session.id, photo_id=sha, role=photo.get("role", "capture"),
                                                 added_at=ev.naive_utc(event.at)))
        elif event.type == ev.IMPORTED:
            for photo in {p.id: p for p in session.photos}.values():
                if not self._photo_row(conn, photo.id):
                    raise Conflict(f"The photo {photo.id[:12]} is not on the server yet: send it before the "
                                   "events that use it; nothing was stored.")
                conn.execute(insert(session_schema.session_photos).values(
                    session_id=session.id, photo_id=photo.id, role=photo.role, added_at=ev.naive_utc(photo.added_at)))
        elif event.type == ev.REVIEWED:
            self._insert_review(conn, Review.model_validate(event.payload["review"]), session.id)

    @staticmethod
    def _photo_row(conn: Connection, sha: str) -> bool:
        photos = session_schema.photos
        return conn.execute(select(photos.c.id).where(photos.c.id == sha)).first() is not None

    def _insert_review(self, conn: Connection, review: Review, session_id: str) -> None:
        if review.session_id != session_id:
            raise Refused("A review names a different session; nothing was stored.", 422)
        conn.execute(insert(session_schema.reviews).values(
            id=review.id, session_id=session_id, reviewer=review.reviewer,
            verdict=str(review.verdict) if review.verdict else None, comment=review.comment,
            step_ratings=json.dumps({str(k): str(v) for k, v in review.step_ratings.items()}),
            turn_id=review.turn_id, at=ev.naive_utc(review.at)))
        conn.execute(insert(RL).values(review_id=review.id, session_id=session_id))

    def _lock_review_log(self, conn: Connection) -> None:
        """Serialise the transactions that write reviews (PostgreSQL): review numbers must be committed
        in order, or a tablet pulling "after n" could skip one. Taken first in such a transaction, before
        any row lock, so two writers can never wait on each other. SQLite writers are serial anyway."""
        if self._postgres:
            conn.execute(text("LOCK TABLE fleet_review_log IN SHARE ROW EXCLUSIVE MODE"))

    # ------------------------------------------------------------------ reviews

    def review(self, review: Review) -> Review:
        """A supervisor's review written on the server: one event in the session's log, a review row,
        and the next number in the review log (so the tablet pulls it)."""
        from assistant.sessions.store import _turn, UnknownTurn

        def build(current: Session) -> tuple[str, dict]:
            if review.turn_id is not None:
                _turn(current, review.turn_id)
            if any(int(k) < 1 for k in review.step_ratings):
                raise UnknownTurn("Step numbers in a review start at 1.")
            return ev.REVIEWED, {"review": ev.dump(review)}

        with self._write() as conn:
            self._lock_review_log(conn)
            current, last_seq, old_search, old_codes = self._load_for_update(conn, review.session_id)
            etype, payload = build(current)
            at = utc_now()
            new = ev.apply_event(current, etype, payload, at, in_place=True)
            self._insert_review(conn, review, review.session_id)
            self._insert_event(conn, review.session_id, last_seq + 1, etype, payload, at)
            self._save_state(conn, new, last_seq + 1, old_search, old_codes)
        return review

    def reviews_after(self, n: int, owner: str | None = None, limit: int = 500) -> list[tuple[int, Review]]:
        """Reviews numbered above `n` (of the owner's sessions when given), oldest first."""
        reviews = session_schema.reviews
        stmt = (select(RL.c.n, reviews).join(reviews, reviews.c.id == RL.c.review_id)
                .where(RL.c.n > int(n)).order_by(RL.c.n).limit(limit))
        if owner is not None:
            stmt = stmt.join(FS, FS.c.session_id == RL.c.session_id).where(FS.c.owner == owner)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [(r.n, Review(id=r.id, session_id=r.session_id, reviewer=r.reviewer, verdict=r.verdict,
                             comment=r.comment, step_ratings={int(k): v for k, v in json.loads(r.step_ratings).items()},
                             turn_id=r.turn_id, at=ev.as_utc(r.at))) for r in rows]

    # ------------------------------------------------------------------ listing

    def _where(self, filters):
        if filters is None:
            return []
        if isinstance(filters, dict):
            filters = FleetFilter.model_validate(filters)
        clauses = where_clauses(filters, fts=self._fts)
        devices = getattr(filters, "device", None)
        if devices:
            clauses.append(S.c.id.in_(select(FS.c.session_id).where(FS.c.owner.in_(devices))))
        return clauses

    def devices_of(self, session_ids: list[str]) -> dict[str, str]:
        if not session_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(select(FS.c.session_id, FS.c.owner).where(FS.c.session_id.in_(session_ids))).all()
        return {r.session_id: r.owner for r in rows}

    def session_count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(S)).scalar() or 0)


def _short(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).strip("'\"") or exc.__class__.__name__


def database_url(url: str | None, data_dir: Path) -> str:
    """The SQLAlchemy URL: PostgreSQL through psycopg 3, or the embedded SQLite file under --data."""
    if not url:
        return f"sqlite:///{Path(data_dir) / 'sessions.sqlite'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("postgresql+", "sqlite:")):
        return url
    raise Refused(f"The database URL must start with postgresql:// or sqlite:// (got {url.split(':')[0]}).")


def open_fleet_store(data_dir: Path | str, database: str | None = None) -> FleetStore:
    data_dir = Path(data_dir)
    return FleetStore(data_dir, url=database_url(database, data_dir))
