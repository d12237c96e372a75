"""A tablet's sync with the fleet server: push new session events and their photos, pull reviews.

Owns: `<home>/sync-state.json` (which server, and the number of the last review pulled),
`sync_once()` and `BackgroundSync`. Offline-first: the app never waits for this; the server is the
authority on how far each session's log has arrived (`/api/sync/cursors`), so a sync cut at any
point simply goes on from there next time, and nothing is sent twice by design (events are
idempotent by id on the server, photos by sha256, pulled reviews by id here).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import select

from assistant.domain import Review, utc_now
from assistant.errors import FieldlensError, UnknownSession
from assistant.sessions import events as ev
from assistant.sessions import schema
from assistant.sessions.photos import write_atomic
from assistant.sessions.store import SessionStore
from assistant.sessions.sync_http import ServerClient, ServerRefused, ServerUnreachable

log = logging.getLogger("fieldlens.sync")
BATCH_EVENTS = 200
BATCH_BYTES = 4 * 1024 * 1024  # well under the server's 16 MB limit per push
STATE_FILE = "sync-state.json"


class SyncReport(BaseModel):
    server: str
    events_pushed: int = 0
    events_already_there: int = 0
    sessions_pushed: int = 0
    photos_sent: int = 0
    reviews_pulled: int = 0
    library: dict | None = None
    finished_at: str = Field(default_factory=lambda: utc_now().isoformat())


class SyncState:
    def __init__(self, home: Path, server: str):
        self.path = Path(home) / STATE_FILE
        self.server = server
        data = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                data = {}  # only a cursor: pulling again from the start is safe (idempotent by review id)
        self.reviews_after = int(data.get("reviews_after", 0)) if data.get("server") == server else 0

    def save(self) -> None:
        write_atomic(self.path, json.dumps({"server": self.server, "reviews_after": self.reviews_after}).encode())


def _local_positions(store: SessionStore) -> dict[str, int]:
    with store._read() as conn:  # noqa: SLF001 - the sync client is part of the sessions package
        rows = conn.execute(select(schema.sessions.c.id, schema.sessions.c.last_seq)).all()
    return {r.id: r.last_seq for r in rows}


def _photo_media_types(store: SessionStore, ids: set[str]) -> dict[str, str]:
    photos = schema.photos
    with store._read() as conn:  # noqa: SLF001
        rows = conn.execute(select(photos.c.id, photos.c.media_type).where(photos.c.id.in_(ids))).all()
    return {r.id: r.media_type for r in rows}


def _photo_ids(event: dict) -> list[str]:
    if event["type"] == ev.PHOTO_ADDED:
        return [event["payload"]["photo"]["id"]]
    if event["type"] == ev.IMPORTED:
        return [p["id"] for p in event["payload"]["session"].get("photos", [])]
    return []


def _wire(event: dict) -> dict:
    return {"id": event["id"], "session_id": event["session_id"], "seq": event["seq"], "type": event["type"],
            "payload": event["payload"], "at": event["at"].isoformat()}


def _batches(events: list[dict]):
    batch, size = [], 0
    for event in events:
        wire = _wire(event)
        length = len(json.dumps(wire, ensure_ascii=False))
        if batch and (len(batch) >= BATCH_EVENTS or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(wire)
        size += length
    if batch:
        yield batch


def push(store: SessionStore, client: ServerClient, report: SyncReport,
         on_progress: Callable[[str], None] | None = None) -> None:
    """Send every event the server lacks, photos first, oldest session activity first."""
    server_has: dict[str, int] = client.get_json("/api/sync/cursors")["sessions"]
    local = _local_positions(store)
    sent_photos: set[str] = set()
    for session_id, last_seq in local.items():
        for _attempt in range(3):
            have = int(server_has.get(session_id, 0))
            if last_seq <= have:
                break
            try:
                _push_session(store, client, session_id, have, report, sent_photos)
                report.sessions_pushed += 1
                if on_progress:
                    on_progress(f"session {session_id}: {last_seq} events on the server")
                break
            except ServerRefused as exc:
                if exc.status != 409:
                    raise
                # the server's copy ends elsewhere (a push whose answer was lost): go on from there
                server_has = client.get_json("/api/sync/cursors")["sessions"]
        else:
            raise ServerRefused(f"The server keeps refusing the events of session {session_id}.", 409)


def _push_session(store: SessionStore, client: ServerClient, session_id: str, have: int, report: SyncReport,
                  sent_photos: set[str]) -> None:
    events = [e for e in store.events(session_id) if e["seq"] > have]
    needed = [pid for e in events for pid in _photo_ids(e) if pid not in sent_photos]
    if needed:
        types = _photo_media_types(store, set(needed))
        for pid in dict.fromkeys(needed):
            if client.request("HEAD", f"/api/photos/{pid}", ok=(200, 404)).status_code == 404:
                client.request("PUT", f"/api/photos/{pid}", content=store.photo_bytes(pid),
                               headers={"Content-Type": types.get(pid, "image/jpeg")})
                report.photos_sent += 1
            sent_photos.add(pid)
    for batch in _batches(events):
        result = client.request("POST", "/api/sync/events", json={"events": batch}).json()
        report.events_pushed += result["accepted"]
        report.events_already_there += result["duplicates"]


def pull_reviews(store: SessionStore, client: ServerClient, state: SyncState, report: SyncReport) -> None:
    """Apply reviews written on the server to the local sessions (skipping those already here)."""
    while True:
        body = client.get_json("/api/sync/reviews", params={"after": state.reviews_after})
        for item in body["reviews"]:
            review = Review.model_validate(item["review"])
            try:
                if all(r.id != review.id for r in store.get(review.session_id).reviews):
                    store.review(review)
                    report.reviews_pulled += 1
            except UnknownSession:
                pass  # a session this tablet no longer holds (another copy of its data)
            state.reviews_after = int(item["n"])
        state.save()
        if not body["reviews"]:
            return


def sync_once(store: SessionStore, client: ServerClient, home: Path,
              on_progress: Callable[[str], None] | None = None) -> SyncReport:
    """One full sync: check the token, push, pull. Raises ServerUnreachable / ServerRefused."""
    who = client.whoami()
    if who.get("role") != "device":
        raise ServerRefused(f"The token is a {who.get('role')} token; a tablet syncs with a device token.", 403)
    report = SyncReport(server=client.creds.url)
    push(store, client, report, on_progress)
    pull_reviews(store, client, SyncState(home, client.creds.url), report)
    return report


class BackgroundSync:
    """Syncs on a daemon thread every `interval_s` (sooner after `trigger()`), never blocking the caller.
    `status()` says when it last worked and why it last did not."""

    def __init__(self, run: Callable[[], SyncReport], interval_s: float = 60.0, retry_s: float = 15.0):
        self._run = run
        self.interval_s = interval_s
        self.retry_s = retry_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.last_report: SyncReport | None = None
        self.last_error: str | None = None
        self.last_attempt: float | None = None
        self._thread = threading.Thread(target=self._loop, name="fieldlens-sync", daemon=True)

    def start(self) -> "BackgroundSync":
        self._thread.start()
        return self

    def trigger(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def status(self) -> dict:
        with self._lock:
            return {"last_report": self.last_report.model_dump() if self.last_report else None,
                    "last_error": self.last_error, "last_attempt": self.last_attempt,
                    "running": self._thread.is_alive()}

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = self.interval_s
            try:
                report = self._run()
                with self._lock:
                    self.last_report, self.last_error = report, None
            except ServerUnreachable as exc:
                with self._lock:
                    self.last_error = str(exc)
                wait = self.retry_s
            except FieldlensError as exc:
                with self._lock:
                    self.last_error = str(exc)
            finally:
                with self._lock:
                    self.last_attempt = time.time()
            self._wake.wait(wait)
            self._wake.clear()
