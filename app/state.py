"""UI state and every call the app makes to `assistant.service.Fieldlens`.

`ServiceHost` owns the process's one `Fieldlens` and the worker threads
service calls run on, so the Flet event loop never blocks. `AppState` is one browser page's state:
the equipment being worked on, the open session with its photos, readings and
turns, the library browser and the review desk. Its methods are plain,
blocking and testable without a browser; the shell runs them on the worker.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.domain import (
    Answer,
    Confidence,
    Document,
    Equipment,
    Mode,
    Observation,
    ObservationKind,
    Outcome,
    Passage,
    PhotoReading,
    ProgressEvent,
    SearchHit,
    Session,
    SessionSummary,
    Step,
    StepOutcome,
    StepRating,
    StepStatus,
    Turn,
    Verdict,
)
from assistant.errors import ConfigError, FieldlensError
# "Needs review" has one definition, in the sessions package: the store's dashboard counts the same
from assistant.sessions.review_rule import REVIEW_FLAGS, needs_review  # noqa: F401

log = logging.getLogger("fieldlens.app")


# --------------------------------------------------------------------------- service host


class ServiceHost:
    """The process's Fieldlens and its workers: one for quick calls (browsing, ticks, photos) and one
    for answers, so a slow model answer never holds up the library or the session history.
    The engine's stores are thread-safe (each serialises its own database handle)."""

    def __init__(self, factory: Callable[[], Any] | None = None) -> None:
        self._factory = factory
        self._fl: Any = None
        self._lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldlens-service")
        self.answer_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldlens-answer")
        self.remote_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldlens-remote")
        self.syncer: Any = None  # the background sync with the fleet server, when the tablet is enrolled

    @property
    def fl(self) -> Any:
        with self._lock:
            if self._fl is None:
                if self._factory is None:
                    from assistant.service import Fieldlens

                    self._fl = Fieldlens()
                else:
                    self._fl = self._factory()
            return self._fl

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        return self.executor.submit(fn, *args, **kwargs)

    def submit_answer(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run a question on the answer worker (it may wait on a model for a minute)."""
        return self.answer_executor.submit(fn, *args, **kwargs)

    def submit_remote(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run a call to the fleet server (the review desk's) on its own worker."""
        return self.remote_executor.submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run on the worker and wait (for scripts, tests and start-up)."""
        return self.submit(fn, *args, **kwargs).result()

    # ------------------------------------------------------------------ fleet sync (process-wide)

    def enrolment(self) -> Any:
        """The fleet server this tablet syncs with (url, token), or None when it is not enrolled."""
        try:
            return self.fl.server_credentials()
        except ConfigError:
            return None

    def start_sync(self) -> bool:
        """Start the background sync when the tablet is enrolled (once per process); True if running."""
        with self._lock:
            if self.syncer is not None:
                return True
        if self.enrolment() is None:
            return False
        syncer = self.fl.start_background_sync()
        with self._lock:
            if self.syncer is None:
                self.syncer = syncer
                return True
        syncer.stop(timeout=0.5)  # another thread was first
        return True

    def trigger_sync(self) -> None:
        """Ask for a sync soon (cheap: wakes the sync thread, never waits for the server)."""
        syncer = self.syncer
        if syncer is not None:
            syncer.trigger()

    def stop_sync(self) -> None:
        with self._lock:
            syncer, self.syncer = self.syncer, None
        if syncer is not None:
            syncer.stop(timeout=2.0)

    def sync_line(self, now: float | None = None) -> str:
        """The last sync state in one plain line, from what the sync thread last recorded."""
        syncer = self.syncer
        if syncer is None:
            return "not enrolled" if self.enrolment() is None else "sync not started yet"
        return sync_words(syncer.status(), time.time() if now is None else now)

    def close(self) -> None:
        self.stop_sync()
        if self._fl is not None:
            self.call(self._fl.close)
        self.executor.shutdown(wait=False)
        self.answer_executor.shutdown(wait=False)
        self.remote_executor.shutdown(wait=False)


# --------------------------------------------------------------------------- small helpers


def ago(seconds: float) -> str:
    """"just now", "2 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


def mask_token(token: str) -> str:
    """A token as it may be shown again: its last four characters only."""
    return "••••" + token[-4:] if len(token) > 8 else "••••"


def sync_words(status: dict, now: float) -> str:
    """One line for a background sync's `status()`: "synced 2 min ago", "server unreachable, will retry"."""
    report = status.get("last_report") or {}
    synced = ""
    if report.get("finished_at"):
        try:
            synced = "synced " + ago(now - datetime.fromisoformat(report["finished_at"]).timestamp())
        except ValueError:
            synced = ""
    error = status.get("last_error")
    if error:
        # every "cannot reach" the sync client raises ends with "nothing was lost"; anything else is a refusal
        if "nothing was lost" in error:
            line = "server unreachable, will retry"
        else:
            line = "sync refused: " + plain_sentence(error).rstrip(".")
        return line + (f" (last {synced})" if synced else "")
    if synced:
        return synced
    return "syncing…" if status.get("running", True) else "sync stopped"


_LOC_WORDS = {
    "base_url": "base URL",
    "api_key": "API key",
    "photo_policy.long_side": "photo size",
    "long_side": "photo size",
    "photo_policy.jpeg_quality": "photo quality",
    "timeout_s": "timeout",
    "provider": "provider",
    "model": "model",
}


def plain_sentence(err: BaseException | str) -> str:
    """One plain sentence for the UI: pydantic noise removed, always ending with a full stop."""
    text = str(err).strip() or "Something went wrong."
    text = text.replace("Value error, ", "").replace("Input should be", "it should be")
    m = re.match(r"Invalid (?:setting )?([\w.]+): (.*)$", text, re.S)
    if m:
        what = _LOC_WORDS.get(m.group(1), m.group(1).replace("_", " "))
        rest = m.group(2).strip().rstrip(".")
        if rest.lower().startswith("the "):
            text = rest[0].upper() + rest[1:] + "."
        else:
            text = f"The {what} is not valid: {rest}."
    text = text.splitlines()[0]
    if text and text[-1] not in ".!?":
        text += "."
    return text[0].upper() + text[1:]


def thumbnail(data: bytes, size: int = 360) -> bytes:
    """A small JPEG for a thumbnail (EXIF orientation applied)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        im.thumbnail((size, size))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=82)
        return out.getvalue()


@dataclass
class PendingTurn:
    """A question being answered right now: its progress and the steps streamed so far."""

    question: str
    mode: Mode
    events: list[ProgressEvent] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    fraction: float | None = None

    def apply(self, event: ProgressEvent) -> None:
        self.events.append(event)
        if event.fraction is not None:
            self.fraction = event.fraction
        if event.step is not None:
            self.steps = [s for s in self.steps if s.index != event.step.index] + [event.step]
            self.steps.sort(key=lambda s: s.index)

    @property
    def stages(self) -> list[ProgressEvent]:
        """One event per stage, latest message kept, first-seen order."""
        seen: dict[str, ProgressEvent] = {}
        for e in self.events:
            if e.stage == "step":
                continue
            seen[e.stage] = e
        return list(seen.values())


@dataclass
class SessionFilters:
    equipment_id: str | None = None
    technician: str = ""
    outcome: str | None = None  # an Outcome value, "open", or None for any
    flagged: bool = False
    low_confidence: bool = False
    text: str = ""
    sort: str = "latest"  # latest (last activity first), oldest, equipment, confidence (lowest first)


_CONF_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass
class Viewer:
    """What the library page viewer shows."""

    doc: Document
    page: int | None
    passage: Passage | None = None
    quote: str = ""
    image: bytes | None = None
    page_passages: list[Passage] = field(default_factory=list)
    highlighted: bool = False  # the quote (or passage) is marked on the page image


# --------------------------------------------------------------------------- app state


class AppState:
    """One page's UI state; every method is blocking and runs on the service worker."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self.status: dict = {}
        # technician flow
        self.equipment: Equipment | None = None
        self.session: Session | None = None
        self.readings: dict[str, PhotoReading] = {}
        self.pending: PendingTurn | None = None
        self.mode: Mode = Mode.INSTANT
        self._thumbs: dict[str, bytes] = {}
        self._names: dict[str, str] = {}  # equipment id -> name
        # library
        self.lib_equipment_id: str | None = None
        self.lib_documents: list[Document] = []
        self.lib_doc: Document | None = None
        self.lib_outline: list[Any] = []
        self.lib_query: str = ""
        self.lib_hits: list[SearchHit] = []
        self.viewer: Viewer | None = None
        self.procedure: list[Passage] = []
        self.sync_fraction: float | None = None
        self.sync_message: str = ""
        # sessions / review
        self.filters = SessionFilters()
        self.summaries: list[SessionSummary] = []
        self.selected: Session | None = None
        self.last_export: Path | None = None
        self.fleet: Any = None  # the fleet server's sessions, once the review desk is pointed at it
        self.fleet_url = ""

    @property
    def fl(self) -> Any:
        return self.host.fl

    # ------------------------------------------------------------------ status / home

    def refresh_status(self) -> dict:
        """The provider status without a network call ("checking" until a probe has answered)."""
        status = dict(self.fl.provider_status())
        previous = self.status or {}
        same = all(previous.get(k) == status.get(k) for k in ("provider", "model", "configured"))
        if same and previous.get("state") in ("reachable", "unreachable"):
            status.update({k: previous[k] for k in ("state", "reachable", "problem")})
        self.status = status
        return self.status

    def probe_status(self) -> dict:
        """Probe the provider over the network (seconds at most); run it off the service worker."""
        self.status = dict(self.fl.provider_status(probe=True))
        return self.status

    def note_answer(self, answer: Answer) -> None:
        """An answer that fell back to the offline engine proves the provider unreachable right now,
        so the header agrees with the answer's banner."""
        from assistant.domain import FlagCode

        fell_back = any(f.code == FlagCode.OFFLINE_FALLBACK for f in answer.flags)
        if fell_back and self.status.get("provider", "offline") != "offline":
            reason = next((f.message for f in answer.flags if f.code == FlagCode.OFFLINE_FALLBACK), "")
            self.status = {**self.status, "reachable": False, "state": "unreachable" if self.status.get(
                "configured") else "not configured", "problem": reason}
        elif self.status.get("state") in ("checking", "unreachable") and answer.provider == self.status.get(
                "provider"):
            self.status = {**self.status, "reachable": True, "state": "reachable", "problem": ""}

    def all_equipment(self) -> list[Equipment]:
        found = self.fl.list_equipment()
        self._names = {e.id: e.name for e in found}
        return found

    def equipment_name(self, equipment_id: str | None) -> str:
        """The equipment's name for people (never its internal id when the catalog knows it)."""
        if not equipment_id:
            return "Equipment not set"
        if equipment_id not in self._names:
            try:
                self._names[equipment_id] = self.fl.get_equipment(equipment_id).name
            except FieldlensError:
                self._names[equipment_id] = equipment_id
        return self._names[equipment_id]

    def search_equipment(self, query: str) -> list[Equipment]:
        query = query.strip()
        if not query:
            return self.all_equipment()
        return self.fl.find_equipment(query)

    def recent_sessions(self, limit: int = 6) -> list[SessionSummary]:
        return self.fl.list_sessions(None, limit=limit)

    def recent_equipment(self, limit: int = 6) -> list[Equipment]:
        by_id = {e.id: e for e in self.all_equipment()}
        seen: list[Equipment] = []
        for s in self.fl.list_sessions(None, limit=50):
            if s.equipment_id in by_id and by_id[s.equipment_id] not in seen:
                seen.append(by_id[s.equipment_id])
            if len(seen) >= limit:
                break
        return seen

    def select_equipment(self, equipment_id: str | None) -> Equipment | None:
        """Work on this equipment. An open session with nothing in it yet is re-pointed;
        a session with work in it keeps its history and gets the equipment on the next question."""
        self.equipment = self.fl.get_equipment(equipment_id) if equipment_id else None
        if self.session and self.session.closed_at is not None:
            self.new_session()
        return self.equipment

    def identify(self, data: bytes, filename: str = "tag.jpg") -> tuple[Equipment | None, PhotoReading]:
        """Read an asset tag or nameplate photo and find the equipment it names (no session)."""
        reading = self.fl.inspect(data, filename)
        found: Equipment | None = None
        ranked = sorted(reading.observations, key=lambda o: (o.kind != ObservationKind.ASSET_TAG, -o.confidence))
        for obs in ranked:
            if obs.equipment_id:
                found = self.fl.get_equipment(obs.equipment_id)
                break
            if obs.kind == ObservationKind.ASSET_TAG:
                found = self.fl.equipment_for_tag(obs.value)
                if found:
                    break
        if found:
            self.select_equipment(found.id)
        return found, reading

    def identify_by_tag(self, tag: str) -> Equipment | None:
        found = self.fl.equipment_for_tag(tag.strip())
        if found:
            self.select_equipment(found.id)
        return found

    # ------------------------------------------------------------------ session lifecycle

    def new_session(self) -> None:
        self.session = None
        self.readings = {}
        self.pending = None

    def ensure_session(self) -> str:
        if self.session is None or self.session.closed_at is not None:
            self.readings = {}
            self.session = self.fl.start_session(self.equipment.id if self.equipment else None)
        return self.session.id

    def reload_session(self) -> Session | None:
        if self.session is not None:
            self.session = self.fl.get_session(self.session.id)
            if self.session.equipment_id and (self.equipment is None or self.equipment.id != self.session.equipment_id):
                self.equipment = self.fl.get_equipment(self.session.equipment_id)
        return self.session

    def resume(self, session_id: str) -> Session:
        """Continue a saved session (follow-up questions, ticking steps)."""
        self.session = self.fl.get_session(session_id)
        self.pending = None
        self.readings = {}
        self.equipment = self.fl.get_equipment(self.session.equipment_id) if self.session.equipment_id else None
        return self.session

    @property
    def is_closed(self) -> bool:
        return bool(self.session and self.session.closed_at is not None)

    # ------------------------------------------------------------------ photos

    def add_photo(self, data: bytes, filename: str = "photo.jpg") -> PhotoReading:
        sid = self.ensure_session()
        reading = self.fl.add_photo(sid, data, filename)
        self.readings[reading.photo.id] = reading
        self._thumbs.pop(reading.photo.id, None)
        self.reload_session()
        return reading

    def remove_photo(self, photo_id: str) -> None:
        """Take a photo and its readings out of the open session."""
        if self.session is None:
            raise FieldlensError("Open a session first.")
        self.fl.remove_photo(self.session.id, photo_id)
        self.readings.pop(photo_id, None)
        self._thumbs.pop(photo_id, None)
        self.reload_session()

    def confirm_all(self, photo_id: str | None = None) -> int:
        """Confirm every reading not confirmed yet (of one photo, or of all); returns how many."""
        if self.session is None:
            raise FieldlensError("Open a session first.")
        photos = [photo_id] if photo_id else [p.id for p in self.capture_photos()]
        count = 0
        for pid in photos:
            for index, obs in self.photo_observations(pid):
                if not obs.confirmed:
                    self.fl.correct_observation(self.session.id, pid, index, None, True)
                    count += 1
        self.reload_session()
        return count

    def capture_photos(self) -> list[Any]:
        if self.session is None:
            return []
        return [p for p in self.session.photos if p.role == "capture"]

    def photo_observations(self, photo_id: str, *, include_text: bool = False) -> list[tuple[int, Observation]]:
        """(index for correct_observation, observation) for one photo, from the saved session."""
        if self.session is None:
            return []
        obs = [o for o in self.session.observations if o.photo == photo_id]
        return [(i, o) for i, o in enumerate(obs) if include_text or o.kind != ObservationKind.TEXT]

    def photo_quality(self, photo_id: str) -> Any:
        if photo_id in self.readings:
            return self.readings[photo_id].quality
        if self.session:
            for p in self.session.photos:
                if p.id == photo_id:
                    return p.quality
        return None

    def thumb(self, photo_id: str) -> bytes:
        if photo_id not in self._thumbs:
            self._thumbs[photo_id] = thumbnail(Path(self.fl.photo_file(photo_id)).read_bytes())
        return self._thumbs[photo_id]

    def annotated(self, photo_id: str, session_id: str | None = None) -> bytes:
        sid = session_id or (self.session.id if self.session else None)
        if sid is None:
            raise FieldlensError("Open a session first.")
        return thumbnail(self.fl.annotated_photo(sid, photo_id), size=1400)

    def correct(self, photo_id: str, index: int, value: str | None, confirmed: bool = True) -> Observation:
        if self.session is None:
            raise FieldlensError("Open a session first.")
        if value is not None:
            value = value.strip()
            if not value:
                raise FieldlensError("Type the corrected reading, or confirm the one shown.")
        obs = self.fl.correct_observation(self.session.id, photo_id, index, value, confirmed)
        self.reload_session()
        return obs

    # ------------------------------------------------------------------ asking

    def begin_ask(self, question: str, mode: Mode) -> PendingTurn:
        question = question.strip()
        if not question:
            raise FieldlensError("Type a question or describe the symptom first.")
        if self.is_closed:
            raise FieldlensError("This session is closed: start a new one to ask again.")
        self.pending = PendingTurn(question=question, mode=mode)
        return self.pending

    def ask(self, question: str, mode: Mode, on_event: Callable[[ProgressEvent], None] | None = None) -> Answer:
        """Ask within the open session (created on first use). Always clears `pending`;
        a failed answer is still saved in the session with its plain sentence."""
        try:
            sid = self.ensure_session()
            equipment_id = self.equipment.id if self.equipment else None
            if self.session and self.session.equipment_id == equipment_id:
                equipment_id = None
            return self.fl.ask(question, session_id=sid, mode=mode, equipment_id=equipment_id, on_event=on_event)
        finally:
            self.pending = None
            self.reload_session()

    def turns(self) -> list[Turn]:
        return list(self.session.turns) if self.session else []

    def outcome_for(self, turn_id: str, step: int, session: Session | None = None) -> StepOutcome | None:
        s = session or self.session
        if s is None:
            return None
        found = None
        for o in s.step_outcomes:
            if o.turn_id == turn_id and o.step == step:
                found = o
        return found

    def record_step(self, turn_id: str, step: int, status: StepStatus | str, note: str = "",
                    photo: bytes | None = None) -> StepOutcome:
        if self.session is None:
            raise FieldlensError("Open a session first.")
        out = self.fl.record_step(self.session.id, turn_id, step, StepStatus(status), note=note.strip(), photo=photo)
        self.reload_session()
        self.host.trigger_sync()
        return out

    def add_note(self, text: str, photo: bytes | None = None) -> None:
        if not text.strip() and photo is None:
            raise FieldlensError("Type a note or add a photo first.")
        sid = self.ensure_session()
        self.fl.add_note(sid, text.strip(), photo=photo)
        self.reload_session()

    def close(self, outcome: Outcome | str) -> None:
        if self.session is None:
            raise FieldlensError("There is no open session to close.")
        self.fl.close_session(self.session.id, Outcome(outcome))
        self.reload_session()
        self.host.trigger_sync()

    # ------------------------------------------------------------------ library

    def lib_select_equipment(self, equipment_id: str | None) -> list[Document]:
        self.lib_equipment_id = equipment_id
        self.lib_documents = self.fl.list_documents(equipment_id)
        self.lib_doc = None
        self.lib_outline = []
        return self.lib_documents

    def lib_open_document(self, doc_id: str) -> Document:
        self.lib_doc = self.fl.get_document(doc_id)
        self.lib_outline = list(self.fl.outline(doc_id))
        self.procedure = []
        return self.lib_doc

    def lib_search(self, query: str) -> list[SearchHit]:
        self.lib_query = query.strip()
        if not self.lib_query:
            self.lib_hits = []
            return []
        self.lib_hits = self.fl.search(self.lib_query, equipment_id=self.lib_equipment_id)
        return self.lib_hits

    def open_page(self, doc_id: str, page: int | None, passage_id: str | None = None, quote: str = "") -> Viewer:
        """Open the viewer at a page (rendered) and, if given, a passage with its quote."""
        doc = self.fl.get_document(doc_id)
        passage = self.fl.get_passage(passage_id) if passage_id else None
        if page is None and passage is not None:
            page = passage.page
        image = None
        highlighted = False
        page_passages: list[Passage] = []
        quote = quote or (passage.text if passage else "")
        if page is not None and doc.page_count:
            page = max(1, min(int(page), doc.page_count))
            image, highlighted = self.fl.highlighted_page(doc_id, page, passage_id, quote)
            page_passages = list(self.fl.passages(doc_id, page))
        self.viewer = Viewer(doc=doc, page=page, passage=passage, quote=quote, image=image,
                             page_passages=page_passages, highlighted=highlighted)
        return self.viewer

    def revisions_for(self, answer: Answer) -> dict[str, str]:
        """passage id -> the revision of its document, for every citation of an answer."""
        out = {p.id: p.revision for p in answer.sources if p.revision}
        missing = {c.doc_id for s in answer.steps for c in s.citations if c.passage_id not in out}
        docs: dict[str, str] = {}
        for doc_id in missing:
            try:
                docs[doc_id] = self.fl.get_document(doc_id).revision
            except FieldlensError:
                docs[doc_id] = ""
        for s in answer.steps:
            for c in s.citations:
                if c.passage_id not in out and docs.get(c.doc_id):
                    out[c.passage_id] = docs[c.doc_id]
        return out

    def open_procedure(self, doc_id: str) -> list[Passage]:
        """The document as a procedure: its passages in order (warnings, numbered steps)."""
        self.lib_doc = self.fl.get_document(doc_id)
        self.procedure = list(self.fl.passages(doc_id))
        return self.procedure

    def sync(self, url: str, on_progress: Callable[[Any], None] | None = None) -> Any:
        url = url.strip()
        if not url.startswith(("http://", "https://")):
            raise FieldlensError("Enter the feed address, starting with http:// or https://.")
        return self.fl.sync_library(url, on_progress=on_progress)

    # ------------------------------------------------------------------ sessions and review

    def sessions_source(self, fleet: bool = False) -> Any:
        """Where sessions are read and reviewed: this device's store, or the fleet server."""
        if not fleet:
            return self.fl
        if self.fleet is None:
            raise FieldlensError("Connect to the fleet server first: its address and a supervisor token.")
        return self.fleet

    def connect_fleet(self, url: str = "", token: str = "") -> Any:
        """Point the review desk at the fleet server (saved for next time; a tablet's own enrolment
        is used when no supervisor token was ever given) and check it answers."""
        url, token = url.strip(), token.strip()
        if token and not url:
            raise FieldlensError("Enter the fleet server's address with the token.")
        try:
            remote = self.fl.fleet_sessions(url or None, token or None)
        except ConfigError as exc:
            if not url:
                raise FieldlensError("Enter the fleet server's address and a supervisor token.") from None
            raise ConfigError(plain_sentence(exc)) from None
        try:
            remote.list_sessions(None, limit=1)
        except FieldlensError:
            remote.close()
            raise
        if self.fleet is not None:
            self.fleet.close()
        self.fleet = remote
        self.fleet_url = remote.client.creds.url
        return remote

    def saved_review_server(self) -> str:
        """The fleet server address the review desk used last (or the tablet's), "" when none."""
        try:
            return self.fl.server_credentials(purpose="review").url
        except ConfigError:
            return ""

    def list_sessions(self, fleet: bool = False) -> list[SessionSummary]:
        rows = self.sessions_source(fleet).list_sessions(None, limit=500)
        f = self.filters
        out = []
        for s in rows:
            if f.equipment_id and s.equipment_id != f.equipment_id:
                continue
            if f.technician and f.technician.lower() not in (s.technician or "").lower():
                continue
            if f.outcome == "open" and s.outcome is not None:
                continue
            if f.outcome and f.outcome != "open" and (s.outcome is None or s.outcome.value != f.outcome):
                continue
            if f.flagged and not needs_review(s):
                continue
            if f.low_confidence and s.confidence != Confidence.LOW:
                continue
            if f.text and f.text.lower() not in (s.first_question or "").lower():
                continue
            out.append(s)
        self.all_equipment()  # names for the rows
        if f.sort == "oldest":
            out.sort(key=lambda s: s.updated_at)
        elif f.sort == "equipment":
            out.sort(key=lambda s: (self.equipment_name(s.equipment_id).lower(), -s.updated_at.timestamp()))
        elif f.sort == "confidence":
            out.sort(key=lambda s: (_CONF_RANK.get(s.confidence.value if s.confidence else "", -1),
                                    -s.updated_at.timestamp()))
        else:
            out.sort(key=lambda s: s.updated_at, reverse=True)
        self.summaries = out
        return out

    def open_session(self, session_id: str, fleet: bool = False) -> Session:
        self.selected = self.sessions_source(fleet).get_session(session_id)
        return self.selected

    def submit_review(self, verdict: Verdict | str | None, comment: str, ratings: dict[int, StepRating | str],
                      turn_id: str | None, reviewer: str = "", fleet: bool = False) -> Any:
        if self.selected is None:
            raise FieldlensError("Open a session to review first.")
        if not verdict and not comment.strip() and not ratings:
            raise FieldlensError("Choose a verdict, rate a step or write a comment first.")
        source = self.sessions_source(fleet)
        review = source.review(self.selected.id, verdict=verdict or None, comment=comment.strip(),
                               reviewer=reviewer.strip(), step_ratings=ratings or None, turn_id=turn_id)
        self.selected = source.get_session(self.selected.id)
        if not fleet:
            self.host.trigger_sync()  # a review written on an enrolled tablet goes to the server too
        return review

    def export(self, fmt: str, session_id: str | None = None, anonymize: bool = False, fleet: bool = False) -> Path:
        sid = session_id or (self.selected.id if self.selected else None)
        if sid is None:
            raise FieldlensError("Open a session to export first.")
        out_dir = Path(self.fl.settings.home) / "exports"
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out = out_dir / f"fieldlens-session-{sid[:8]}-{stamp}.{fmt}"
        self.last_export = Path(self.sessions_source(fleet).export_session(sid, fmt, out, anonymize=anonymize))
        return self.last_export

    def dashboard(self, fleet: bool = False) -> dict:
        """The supervisor's figures: the store's counts ("needs review" is the store's own count, by the
        review rule: not every safety flag), with equipment named."""
        d = dict(self.sessions_source(fleet).dashboard())
        d.setdefault("needs_review", d.get("flagged", 0))
        self.all_equipment()
        d["per_equipment"] = {self.equipment_name(k or None): v for k, v in (d.get("per_equipment") or {}).items()
                              if v}
        return d

    def timeline(self, session: Session) -> list[tuple[datetime, str, str]]:
        """(when, kind, plain text) for everything that happened in a session, oldest first."""
        from app.components.words import OUTCOME_WORDS, STATUS_WORDS, VERDICT_WORDS, words

        items: list[tuple[datetime, str, str]] = [(session.created_at, "start", "Session started")]
        for p in session.photos:
            what = "Result photo added" if p.role == "result" else "Photo added"
            items.append((p.added_at, "photo", f"{what}: {p.filename or p.id[:8]}"))
        for t in session.turns:
            items.append((t.asked_at, "question", f"Asked: {t.question}"))
            if t.answer is not None:
                a = t.answer
                kind = "abstained" if a.abstained else f"{len(a.steps)} steps, confidence {a.confidence.value}"
                items.append((a.created_at, "answer", f"Answered ({a.provider}, {kind})"))
            elif t.error:
                items.append((t.asked_at, "error", f"Could not answer: {t.error}"))
        for o in session.step_outcomes:
            note = f" · {o.note}" if o.note else ""
            items.append((o.at, "step", f"Step {o.step}: {words(STATUS_WORDS, o.status)}{note}"))
        for n in session.notes:
            items.append((n.at, "note", f"Note: {n.text}"))
        if session.closed_at is not None:
            items.append((session.closed_at, "close", f"Closed: {words(OUTCOME_WORDS, session.outcome)}"))
        for r in session.reviews:
            verdict = words(VERDICT_WORDS, r.verdict) if r.verdict else "comment"
            by = f" by {r.reviewer}" if r.reviewer else ""
            items.append((r.at, "review", f"Reviewed{by}: {verdict}" + (f" · {r.comment}" if r.comment else "")))

        def key(item: tuple[datetime, str, str]) -> datetime:
            return item[0]

        return sorted(items, key=key)

    # ------------------------------------------------------------------ fleet enrolment

    def enrol(self, url: str, token: str) -> str:
        """Enrol this tablet with the fleet server (saved in secrets.json) and start syncing in the
        background; returns the server address. Nothing here waits for the server."""
        url, token = url.strip(), token.strip()
        if not url:
            raise FieldlensError("Enter the fleet server's address, starting with http:// or https://.")
        if not token:
            saved = self.host.enrolment()
            if saved is None or saved.url != url.rstrip("/"):
                raise FieldlensError("Paste the device token the fleet administrator created for this tablet.")
            token = saved.token
        try:
            self.fl.enrol_server(url, token)
        except ConfigError as exc:
            raise ConfigError(plain_sentence(exc)) from None
        self.host.start_sync()
        self.host.trigger_sync()
        creds = self.host.enrolment()
        return creds.url if creds else url

    def enrolment_words(self) -> tuple[str, str]:
        """(server address, the token shown masked) of this tablet's enrolment, ("", "") when none."""
        creds = self.host.enrolment()
        if creds is None:
            return "", ""
        return creds.url, mask_token(creds.token)

    def sync_soon(self) -> str:
        """"Sync now": wake the background sync (started if it was not) and return the line."""
        if not self.host.start_sync():
            raise FieldlensError("Enrol this tablet with the fleet server first.")
        self.host.trigger_sync()
        return self.host.sync_line()

    # ------------------------------------------------------------------ settings

    def settings(self) -> Any:
        return self.fl.settings

    def save_settings(self, **changes: Any) -> Any:
        """Validate and save; raises ConfigError with one plain sentence."""
        if not changes.get("api_key"):
            changes.pop("api_key", None)
        try:
            saved = self.fl.update_settings(**changes)
        except ConfigError as exc:
            raise ConfigError(plain_sentence(exc)) from None
        self.status = {}  # new settings: nothing is known about reachability until the probe answers
        self.refresh_status()
        return saved
