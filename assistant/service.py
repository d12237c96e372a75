"""The one façade the UI and the CLI call.

`Fieldlens` owns the wiring: settings, the manual library, the sessions store,
the on-device read and the reasoning engine. It holds no domain logic of its
own beyond ordering the work so that nothing is lost: a photo is stored
before it is read, a question is stored before it is answered, and a failed
answer is recorded with the plain sentence the technician saw.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx

from assistant.config import SAMPLE_LIBRARY_DIR, Settings, load_settings, save_settings, validation_sentence
from assistant.domain import (
    Answer,
    Document,
    Equipment,
    Flag,
    FlagCode,
    Mode,
    Note,
    Observation,
    ObservationKind,
    Outcome,
    Passage,
    PhotoReading,
    ProgressEvent,
    ProviderName,
    Review,
    SearchHit,
    Session,
    SessionSummary,
    Severity,
    StepOutcome,
    StepRating,
    StepStatus,
    Turn,
    Verdict,
)
from assistant.errors import ConfigError, FieldlensError, UnknownEquipment


def samples_enabled() -> bool:
    return os.environ.get("FIELDLENS_SAMPLES", "1").strip().lower() not in {"0", "false", "no", "off"}


class Fieldlens:
    """Everything a technician, supervisor or admin can do, as plain method calls."""

    def __init__(self, settings: Settings | None = None) -> None:
        from assistant import stores

        self.settings = settings or load_settings()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self._library: Any = None
        self._sessions: Any = None
        if stores.is_new_home(self.settings.home):
            self._mark_samples_pending()  # before the manifest: a start killed in between seeds next time
        stores.initialise_home(self.settings.home)

    # Each store is opened when a command first needs it, so a damaged one fails only those commands.
    @property
    def library(self) -> Any:
        if self._library is None:
            from assistant.stores import library_write_lock, open_library

            library = open_library(self.settings.home, self.settings.library_dir)
            if self._samples_pending.exists():
                try:
                    with library_write_lock(self.settings.library_dir):  # two first starts at once seed once
                        if self._samples_pending.exists():
                            library.seed(SAMPLE_LIBRARY_DIR / "catalog.yaml")
                            self._samples_pending.unlink()
                except BaseException:
                    library.close()
                    raise
            self._library = library
        return self._library

    @property
    def sessions(self) -> Any:
        if self._sessions is None:
            from assistant.stores import open_sessions

            self._sessions = open_sessions(self.settings.home, self.settings.sessions_dir)
        return self._sessions

    def library_problem(self) -> str | None:
        """Open the library now (seeding a new home); the sentence that says why it cannot be used, or None."""
        try:
            self.library
        except FieldlensError as exc:
            return str(exc)
        return None

    @property
    def _samples_pending(self) -> Path:
        return self.settings.library_dir / "samples-pending"

    def _mark_samples_pending(self) -> None:
        """A new home is to be seeded with the bundled sample library. The marker is written before
        the library exists and removed once seeding is done, so a first start killed half-way
        finishes the job next time (seeding is idempotent)."""
        if samples_enabled() and (SAMPLE_LIBRARY_DIR / "catalog.yaml").exists():
            self.settings.library_dir.mkdir(parents=True, exist_ok=True)
            self._samples_pending.write_text("")

    @staticmethod
    def warm_up_in_background() -> None:
        """Load the OCR models on a daemon thread so the first photo is read without the start-up cost."""
        import threading

        from assistant.perception import warm_up

        threading.Thread(target=warm_up, name="ocr-warm-up", daemon=True).start()

    def close(self) -> None:
        for store in (self._library, self._sessions):
            if store is not None:
                store.close()
        self._library = self._sessions = None

    def __enter__(self) -> Fieldlens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ library

    def list_equipment(self) -> list[Equipment]:
        return self.library.equipment()

    def get_equipment(self, equipment_id: str) -> Equipment:
        return self.library.get_equipment(equipment_id)

    def find_equipment(self, query: str, limit: int = 10) -> list[Equipment]:
        """Equipment by name, model, manufacturer, alias, asset tag or a fault code its documents list."""
        from assistant.library import catalog

        return catalog.find_equipment(self.library, query, limit=limit)

    # ------------------------------------------------------------------ catalog admin

    def add_equipment(self, equipment: Equipment) -> Equipment:
        """Create a catalog entry; a bad id or regex, or a duplicate of another entry, is InvalidEquipment."""
        from assistant.library import catalog

        return catalog.add_equipment(self.library, equipment)

    def edit_equipment(self, equipment_id: str, **changes: Any) -> Equipment:
        """Change an entry: name/manufacturer/model/category replace; add_aliases, remove_aliases,
        add_asset_tags, remove_asset_tags, add_serial_patterns, remove_serial_patterns add or remove."""
        from assistant.library import catalog

        return catalog.edit_equipment(self.library, equipment_id, catalog.EquipmentEdit(**changes))

    def remove_equipment(self, equipment_id: str) -> list[str]:
        """Delete an entry; its documents stay in the library, unlinked (their ids are returned)."""
        from assistant.library import catalog

        return catalog.remove_equipment(self.library, equipment_id)

    def link_documents(self, equipment_id: str, doc_ids: Sequence[str]) -> Equipment:
        from assistant.library import catalog

        return catalog.link_documents(self.library, equipment_id, doc_ids)

    def unlink_documents(self, equipment_id: str, doc_ids: Sequence[str]) -> Equipment:
        from assistant.library import catalog

        return catalog.unlink_documents(self.library, equipment_id, doc_ids)

    def import_catalog(self, path: Path | str) -> Any:
        """Import a catalog.yaml (equipment entries and documents relative to its folder); idempotent."""
        from assistant.library import catalog

        return catalog.import_catalog(self.library, Path(path))

    def _session_equipment(self, session: Session) -> Equipment | None:
        """The session's equipment; None once an admin has removed it from the catalog (the
        session keeps its history and is answered as unidentified equipment)."""
        if not session.equipment_id:
            return None
        try:
            return self.library.get_equipment(session.equipment_id)
        except UnknownEquipment:
            return None

    def _known_equipment(self, equipment_id: str) -> Equipment:
        try:
            return self.library.get_equipment(equipment_id)
        except UnknownEquipment:
            raise UnknownEquipment(f"There is no equipment '{equipment_id}' in the catalog; create it first with "
                                   f"`fieldlens equipment add {equipment_id} --name NAME`.") from None

    def equipment_for_tag(self, tag: str) -> Equipment | None:
        return self.library.equipment_for_tag(tag)

    def list_documents(self, equipment_id: str | None = None) -> list[Document]:
        return self.library.documents(equipment_id)

    def get_document(self, doc_id: str) -> Document:
        return self.library.document(doc_id)

    def outline(self, doc_id: str) -> list[Any]:
        return self.library.outline(doc_id)

    def passages(self, doc_id: str, page: int | None = None) -> list[Passage]:
        return self.library.passages(doc_id, page)

    def get_passage(self, passage_id: str) -> Passage:
        return self.library.passage(passage_id)

    def page_image(self, doc_id: str, page: int, width: int = 1400) -> Path:
        return self.library.page_image(doc_id, page, width=width)

    def highlighted_page(self, doc_id: str, page: int, passage_id: str | None = None, quote: str = "",
                         width: int = 1400) -> tuple[bytes, bool]:
        """A PNG of a PDF page with the cited quote highlighted (found by its text on the page; the
        passage's stored box when the quote is not found), and whether anything was highlighted."""
        from assistant.library.highlight import highlight_page, quote_boxes

        png = self.library.page_image(doc_id, page, width=width).read_bytes()
        boxes = quote_boxes(self.library.original_file(doc_id), page, quote) if quote else []
        if not boxes and passage_id:
            passage = self.library.passage(passage_id)
            box = self.library.passage_box(passage_id) if passage.page == page else None
            boxes = [box] if box else []
        return (highlight_page(png, boxes), True) if boxes else (png, False)

    def search(self, query: str, equipment_id: str | None = None, limit: int = 20) -> list[SearchHit]:
        hits = self.library.search(query, equipment_id=equipment_id, limit=limit)
        revisions: dict[str, str] = {}
        for hit in hits:  # every hit shows its document's revision
            if not hit.revision:
                if hit.doc_id not in revisions:
                    revisions[hit.doc_id] = self.library.document(hit.doc_id).revision
                hit.revision = revisions[hit.doc_id]
        return hits

    def add_documents(self, sources: Iterable[Path | str], equipment_id: str | None = None,
                      authority: str | None = None) -> list[Document]:
        """Ingest local files or http(s) URLs (downloaded with conditional GETs); `authority`
        marks them as the manufacturer's ('manufacturer') or as 'third_party' notes."""
        from assistant.library.catalog import is_catalog_file

        if authority is not None:
            from assistant.domain import Authority

            try:
                Authority(authority)
            except ValueError:
                raise FieldlensError(f"Unknown authority '{authority}': use manufacturer or third_party.") from None
        equipment_ids = [equipment_id] if equipment_id else []
        if equipment_id:
            self._known_equipment(equipment_id)  # unknown ids are an error, not a silent new link
        from assistant.limits import check_document, quiet_native_stderr
        from assistant.stores import library_write_lock

        documents = []
        for source in sources:
            if isinstance(source, str) and source.startswith(("http://", "https://")):
                with library_write_lock(self.settings.library_dir):
                    documents.append(self.library.add_url(source, equipment_ids=equipment_ids))
                continue
            check_document(Path(source))  # non-regular files and oversized formats, before any read
            if is_catalog_file(Path(source)):
                if equipment_id:
                    raise FieldlensError(f"{Path(source).name} is a catalog and names its own equipment: "
                                         f"add it without --equipment.")
                with library_write_lock(self.settings.library_dir):
                    documents.extend(self.import_catalog(source).documents)
            else:
                with library_write_lock(self.settings.library_dir), quiet_native_stderr("document readers"):
                    documents.append(self.library.add(Path(source), equipment_ids=equipment_ids))
        if authority is not None:
            documents = [self.library.set_authority(d.id, authority) for d in documents]
        return documents

    def sync_library(self, url: str, on_progress: Callable[[Any], None] | None = None) -> Any:
        from assistant.stores import library_write_lock

        with library_write_lock(self.settings.library_dir):
            return self.library.sync(url, on_progress=on_progress)

    # ------------------------------------------------------------------ perception

    def inspect(self, source: Path | str | bytes, filename: str = "", equipment_id: str | None = None) -> PhotoReading:
        """The on-device read of one photo, without a session."""
        from assistant.imaging import load_photo
        from assistant.perception import read_photo

        photo = load_photo(Path(source) if isinstance(source, str) else source, filename)
        reading = read_photo(photo, self.library, equipment_id)
        if equipment_id is None and _equipment_from_observations(reading.observations) is None:
            identified = self._equipment_from_codes(reading.observations)
            if identified:  # the codes read are listed by one catalog entry's documents only
                observations = [o.model_copy(update={"equipment_id": identified})
                                if o.kind == ObservationKind.FAULT_CODE else o for o in reading.observations]
                reading = reading.model_copy(update={"observations": observations})
        return reading

    # ------------------------------------------------------------------ sessions

    def start_session(self, equipment_id: str | None = None, technician: str | None = None) -> Session:
        if equipment_id:
            self.library.get_equipment(equipment_id)
        return self.sessions.create(
            equipment_id=equipment_id,
            technician=technician if technician is not None else self.settings.technician,
            device=self.settings.device or platform.node(),
        )

    def add_photo(
        self,
        session_id: str,
        source: Path | str | bytes,
        filename: str = "",
        role: Literal["capture", "result"] = "capture",
    ) -> PhotoReading:
        """Store a photo in the session first, then read it; readings are stored as they come."""
        from assistant.imaging import load_photo, prepare_for_model
        from assistant.perception import read_photo

        session = self.sessions.get(session_id)
        loaded = load_photo(Path(source) if isinstance(source, str) else source, filename)
        prepared = prepare_for_model(loaded, self.settings.photo_policy)
        reading = read_photo(loaded, self.library, session.equipment_id)
        return self._save_photo(session, loaded, prepared, reading, role)

    def _save_photo(self, session: Session, loaded: Any, prepared: Any, reading: PhotoReading,
                    role: Literal["capture", "result"] = "capture") -> PhotoReading:
        """Write a photo that has been read into the session: its bytes, readings and the equipment."""
        session_id = session.id
        photo = reading.photo.model_copy(update={"role": role})
        self.sessions.add_photo(session_id, photo, loaded.data, prepared.data)
        if role == "capture":
            self.sessions.add_observations(session_id, reading.observations)
            if session.equipment_id is None:
                identified = _equipment_from_observations(reading.observations) or self._equipment_from_codes(
                    reading.observations
                )
                if identified:
                    self.sessions.set_equipment(session_id, identified)
        return reading.model_copy(update={"photo": photo})

    def _equipment_from_codes(self, observations: Iterable[Observation]) -> str | None:
        """The equipment named by the fault codes read, when exactly one catalog entry knows them all."""
        candidates: set[str] | None = None
        for obs in observations:
            if obs.kind != ObservationKind.FAULT_CODE:
                continue
            owners = {eq for entry in self.library.lookup_code(obs.value) for eq in entry.equipment_ids}
            candidates = owners if candidates is None else candidates & owners
        return next(iter(candidates)) if candidates and len(candidates) == 1 else None

    def set_equipment(self, session_id: str, equipment_id: str | None) -> None:
        """Name (or clear) the equipment a session is about; unknown ids are refused."""
        if equipment_id:
            self.library.get_equipment(equipment_id)
        self.sessions.set_equipment(session_id, equipment_id)

    def annotated_photo(self, session_id: str, photo_id: str) -> bytes:
        from assistant.imaging import annotate, load_photo

        session = self.sessions.get(session_id)
        loaded = load_photo(self.sessions.photo_path(photo_id))
        observations = [o for o in session.observations if o.photo == photo_id]
        return annotate(loaded.image, observations)

    def remove_photo(self, session_id: str, photo_id: str) -> None:
        """Take a capture photo (and its readings) out of a session; the event log keeps it."""
        self.sessions.remove_photo(session_id, photo_id)

    def correct_observation(
        self, session_id: str, photo_id: str, index: int, value: str | None = None, confirmed: bool = True
    ) -> Observation:
        return self.sessions.correct_observation(session_id, photo_id, index, value, confirmed)

    def ask(
        self,
        question: str,
        *,
        session_id: str | None = None,
        photos: Sequence[Path | str | bytes] = (),
        equipment_id: str | None = None,
        mode: Mode | str = Mode.INSTANT,
        provider: ProviderName | str | None = None,
        allow_fallback: bool | None = None,
        on_event: Callable[[ProgressEvent], None] | None = None,
    ) -> Answer:
        """Answer a question about the machine, saving everything in a session as it happens.

        Creates a session when `session_id` is None. New `photos` are stored and read first;
        photos already in the session are used too.
        """
        from assistant.imaging import load_photo, prepare_for_model
        from assistant.reasoning import answer_question
        from assistant.reasoning.followup import session_context

        question = question.strip()
        if not question:
            raise FieldlensError("Type a question or describe the symptom first.")
        mode = Mode(mode)
        provider = ProviderName(provider) if provider else None
        self.library  # a library that cannot be opened fails the question before any session is written
        from assistant.stores import ensure_diskcache

        ensure_diskcache(self.settings.cache_dir / "responses")  # a response cache that cannot open is rebuilt
        if equipment_id:
            self.library.get_equipment(equipment_id)
        # Read every new photo before anything is written, so bad input leaves no half session.
        loaded = [load_photo(Path(p) if isinstance(p, str) else p) for p in photos]
        if session_id is None:
            # A first question: its new session, photos and the question are one transaction, so a
            # write that fails (a full disk) leaves no empty session behind. The photos are read first,
            # outside it, so the store is not locked while they are.
            from assistant.perception import read_photo

            prepared = [prepare_for_model(p, self.settings.photo_policy) for p in loaded]
            read, known = [], equipment_id
            for p in loaded:  # each photo is read knowing the equipment the photos before it identified
                read.append(read_photo(p, self.library, known))
                if known is None:
                    known = _equipment_from_observations(read[-1].observations) or self._equipment_from_codes(
                        read[-1].observations)
            with self.sessions.transaction():
                session = self.start_session(equipment_id)
                for photo, ready, reading in zip(loaded, prepared, read):
                    self._save_photo(self.sessions.get(session.id), photo, ready, reading)
                session = self.sessions.get(session.id)
                capture_photos = [p for p in session.photos if p.role == "capture"]
                turn = self.sessions.add_turn(session.id, Turn(question=question,
                                                               photo_ids=[p.id for p in capture_photos]))
        else:
            session = self.sessions.get(session_id)
            if equipment_id and equipment_id != session.equipment_id:
                self.sessions.set_equipment(session.id, equipment_id)
            for photo in loaded:
                self.add_photo(session.id, photo.data, photo.filename)
            session = self.sessions.get(session.id)
            capture_photos = [p for p in session.photos if p.role == "capture"]
            turn = self.sessions.add_turn(session.id, Turn(question=question,
                                                           photo_ids=[p.id for p in capture_photos]))
        follow_up = session_context(session)
        readings = [self._reading_from_session(session, p.id) for p in capture_photos]
        images = []
        if self.settings.photo_policy.send_photos:
            for p in capture_photos:
                images.append(prepare_for_model(load_photo(self.sessions.photo_path(p.id)), self.settings.photo_policy))
        equipment = self._session_equipment(session)
        try:
            answer = answer_question(
                question,
                readings=readings,
                images=images,
                equipment=equipment,
                retriever=self.library,
                settings=self.settings,
                mode=mode,
                provider=provider,
                allow_fallback=allow_fallback,
                on_event=on_event,
                session=follow_up,
            )
        except FieldlensError as exc:
            self.sessions.set_answer(session.id, turn.id, None, error=str(exc))
            raise
        answer = answer.model_copy(update={"session_id": session.id, "turn_id": turn.id, "question": question})
        self.sessions.set_answer(session.id, turn.id, answer)
        return answer

    def _reading_from_session(self, session: Session, photo_id: str) -> PhotoReading:
        photo = next(p for p in session.photos if p.id == photo_id)
        observations = [o for o in session.observations if o.photo == photo_id]
        quality = photo.quality
        if quality is None:
            from assistant.imaging import assess_quality, load_photo

            quality = assess_quality(load_photo(self.sessions.photo_path(photo_id)).image)
        flags = list(quality.flags)
        for obs in observations:
            if obs.alternatives and not obs.confirmed:
                flags.append(
                    Flag(
                        code=FlagCode.READING_UNCERTAIN,
                        severity=Severity.WARNING,
                        message=f"'{obs.value}' could also be read as {', '.join(obs.alternatives)}.",
                        photo=photo_id,
                    )
                )
        return PhotoReading(
            photo=photo,
            quality=quality,
            observations=[o for o in observations if o.kind != ObservationKind.TEXT],
            text_lines=[o for o in observations if o.kind == ObservationKind.TEXT],
            flags=flags,
        )

    def record_step(
        self,
        session_id: str,
        turn_id: str,
        step: int,
        status: StepStatus | str,
        note: str = "",
        photo: Path | str | bytes | None = None,
    ) -> StepOutcome:
        photo_ids = [self.add_photo(session_id, photo, role="result").photo.id] if photo is not None else []
        outcome = StepOutcome(turn_id=turn_id, step=step, status=StepStatus(status), note=note, photo_ids=photo_ids)
        self.sessions.record_step(session_id, outcome)
        return outcome

    def record_step_outcome(self, session_id: str, step: int, status: StepStatus | str, turn: str | None = None,
                            note: str = "") -> StepOutcome:
        """Record what a step did, on the session's latest answered turn unless `turn` names one
        (a turn id, or its 1-based number in the session)."""
        session = self.sessions.get(session_id)
        answered = [t for t in session.turns if t.answer is not None]
        if turn is None:
            if not answered:
                raise FieldlensError(f"Session {session_id} has no answer with steps to mark yet.")
            chosen = answered[-1]
        else:
            chosen = next((t for t in session.turns if t.id == turn), None)
            if chosen is None and turn.isdigit() and 1 <= int(turn) <= len(session.turns):
                chosen = session.turns[int(turn) - 1]
            if chosen is None:
                raise FieldlensError(f"Session {session_id} has no turn '{turn}': give a turn id or its number "
                                     f"(1 to {len(session.turns)}).")
        steps = chosen.answer.steps if chosen.answer else []
        if not any(s.index == step for s in steps):
            raise FieldlensError(f"That answer has no step {step}: it has {len(steps)} step(s).")
        return self.record_step(session_id, chosen.id, step, status, note=note)

    def add_note(self, session_id: str, text: str, photo: Path | str | bytes | None = None) -> Note:
        photo_ids = [self.add_photo(session_id, photo, role="result").photo.id] if photo is not None else []
        note = Note(text=text, photo_ids=photo_ids)
        self.sessions.add_note(session_id, note)
        return note

    def close_session(self, session_id: str, outcome: Outcome | str) -> None:
        self.sessions.close_session(session_id, Outcome(outcome))

    def list_sessions(self, filters: Any | None = None, limit: int = 100, offset: int = 0) -> list[SessionSummary]:
        return self.sessions.list(filters, limit=limit, offset=offset)

    def get_session(self, session_id: str) -> Session:
        return self.sessions.get(session_id)

    def review(
        self,
        session_id: str,
        verdict: Verdict | str | None = None,
        comment: str = "",
        reviewer: str = "",
        step_ratings: dict[int, StepRating | str] | None = None,
        turn_id: str | None = None,
    ) -> Review:
        self.sessions.get(session_id)
        ratings = {int(k): StepRating(v) for k, v in (step_ratings or {}).items()}
        review = Review(
            session_id=session_id,
            reviewer=reviewer or self.settings.technician,
            verdict=Verdict(verdict) if verdict else None,
            comment=comment,
            step_ratings=ratings,
            turn_id=turn_id,
        )
        return self.sessions.review(review)

    def export_session(self, session_id: str, fmt: str, out: Path | str, anonymize: bool = False) -> Path:
        if fmt not in {"pdf", "json", "html"}:
            raise FieldlensError(f"Unknown export format '{fmt}': use pdf, json or html.")
        return self.sessions.export(session_id, fmt, Path(out), anonymize=anonymize)

    def dashboard(self) -> dict:
        return self.sessions.dashboard()

    def photo_file(self, photo_id: str) -> Path:
        return self.sessions.photo_path(photo_id)

    # ------------------------------------------------------------------ fleet server (sync, remote review)

    def enrol_server(self, url: str, token: str) -> None:
        """Remember the fleet server and this tablet's token (in secrets.json, mode 0600)."""
        from assistant.sessions import sync_credentials

        sync_credentials.resolve(self.settings.home, url, token, env={})

    def server_credentials(self, url: str | None = None, token: str | None = None, purpose: str = "sync"):
        """The fleet server to talk to: given, from FIELDLENS_SERVER(_TOKEN), or saved (then saved).
        `purpose` "sync" is the tablet's enrolment, "review" a supervisor's token (kept apart)."""
        from assistant.sessions import sync_credentials

        return sync_credentials.resolve(self.settings.home, url, token, purpose=purpose)

    def sync_now(self, url: str | None = None, token: str | None = None, *, library: bool = True,
                 on_progress: Callable[[str], None] | None = None) -> Any:
        """Push new session events and photos to the fleet server, pull reviews back, and (with
        `library`) mirror the server's manual feed. Raises FieldlensError when the server cannot be
        reached or refuses; nothing local is changed by a failed sync."""
        from assistant.server.tokens import feed_key
        from assistant.sessions.sync_http import ServerClient
        from assistant.sessions.sync_tablet import sync_once

        creds = self.server_credentials(url, token)
        with ServerClient(creds) as client:
            report = sync_once(self.sessions, client, self.settings.home, on_progress)
        if library:
            import json

            key = feed_key(creds.token)
            try:
                feed = self.sync_library(f"{creds.url}/feed/{key}/feed.json")
            except FieldlensError as exc:  # the sessions are synced; the manuals stay as they were
                report.library = {"error": str(exc).replace(key, "…")}
                return report
            # the feed's address holds the feed key: keep it out of what is shown and logged
            data = json.loads(feed.model_dump_json().replace(key, "…"))
            data.pop("feed", None)
            report.library = data
        return report

    def start_background_sync(self, interval_s: float = 60.0, library: bool = True) -> Any:
        """Sync on a daemon thread whenever the server is reachable (the app calls this at start when a
        server is enrolled; `.trigger()` after closing a session, `.stop()` on exit, `.status()`)."""
        from assistant.sessions.sync_tablet import BackgroundSync

        return BackgroundSync(lambda: self.sync_now(library=library), interval_s=interval_s).start()

    def fleet_sessions(self, url: str | None = None, token: str | None = None) -> Any:
        """The fleet's sessions on the server, with this façade's method names (list_sessions,
        get_session, review, export_session, dashboard): the review desk pointed at the server."""
        from assistant.sessions.sync_http import RemoteSessions

        return RemoteSessions(self.server_credentials(url, token, purpose="review"))

    # ------------------------------------------------------------------ settings

    def update_settings(self, **changes: Any) -> Settings:
        """Validate and save changed settings; an invalid value raises ConfigError and changes nothing."""
        from pydantic import SecretStr, ValidationError

        data = self.settings.model_dump(exclude={"api_key"})
        api_key = changes.pop("api_key", None)
        data.update(changes)
        try:
            updated = Settings(**data)
        except ValidationError as exc:
            raise ConfigError(validation_sentence(exc)) from None
        if api_key:
            updated.api_key = SecretStr(api_key)
        elif updated.provider == self.settings.provider:
            updated.api_key = self.settings.api_key
        else:  # a key belongs to its provider: switching provider never carries it over
            from assistant.config import _load_key

            updated.api_key = _load_key(updated.home, updated.provider, dict(os.environ))
        save_settings(updated)
        self.settings = updated
        return updated

    def provider_status(self, probe: bool = False) -> dict:
        """Which provider answers, whether it is configured and (if `probe`) reachable.

        `state` is one word for the UI: "offline" (the offline engine is chosen), "not configured",
        "checking" (configured, not probed yet), "reachable" or "unreachable"; `problem` says why
        a configured provider cannot be used, in one sentence."""
        from assistant.reasoning.providers import configuration_problem

        s = self.settings
        problem = configuration_problem(s, s.provider)
        configured = problem is None
        reachable: bool | None = None
        if probe and configured and s.provider != ProviderName.OFFLINE:
            url = s.base_url or {
                ProviderName.OPENAI: "https://api.openai.com/v1",
                ProviderName.ANTHROPIC: "https://api.anthropic.com",
                ProviderName.OLLAMA: "http://127.0.0.1:11434",
            }[s.provider]
            try:
                httpx.get(url, timeout=2.0)
                reachable = True
            except httpx.HTTPError:
                reachable = False
                problem = f"The {s.provider.value} server at {url} did not answer."
        if s.provider == ProviderName.OFFLINE:
            state = "offline"
        elif not configured:
            state = "not configured"
        else:
            state = {None: "checking", True: "reachable", False: "unreachable"}[reachable]
        return {"provider": s.provider.value, "model": s.model, "configured": configured, "reachable": reachable,
                "state": state, "problem": problem or ""}


def _equipment_from_observations(observations: Iterable[Observation]) -> str | None:
    """The equipment an asset tag or a nameplate reading maps to, tags first."""
    ranked = sorted(
        (o for o in observations if o.equipment_id),
        key=lambda o: (o.kind != ObservationKind.ASSET_TAG, -o.confidence),
    )
    return ranked[0].equipment_id if ranked else None


__all__ = ["Fieldlens", "UnknownEquipment"]
