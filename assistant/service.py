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
        from assistant.library import Library
        from assistant.sessions import SessionStore

        self.settings = settings or load_settings()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self._mark_samples_pending()
        self.library = Library(self.settings.library_dir)
        self.sessions = SessionStore(self.settings.sessions_dir)
        if self._samples_pending.exists():
            self.library.seed(SAMPLE_LIBRARY_DIR / "catalog.yaml")
            self._samples_pending.unlink()

    @property
    def _samples_pending(self) -> Path:
        return self.settings.library_dir / "samples-pending"

    def _mark_samples_pending(self) -> None:
        """A new home is to be seeded with the bundled sample library. The marker is written before
        the library exists and removed once seeding is done, so a first start killed half-way
        finishes the job next time (seeding is idempotent)."""
        is_new_home = not (self.settings.library_dir / "index.sqlite").exists()
        if is_new_home and samples_enabled() and (SAMPLE_LIBRARY_DIR / "catalog.yaml").exists():
            self.settings.library_dir.mkdir(parents=True, exist_ok=True)
            self._samples_pending.write_text("")

    @staticmethod
    def warm_up_in_background() -> None:
        """Load the OCR models on a daemon thread so the first photo is read without the start-up cost."""
        import threading

        from assistant.perception import warm_up

        threading.Thread(target=warm_up, name="ocr-warm-up", daemon=True).start()

    def close(self) -> None:
        self.library.close()
        self.sessions.close()

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
        return self.library.find_equipment(query, limit=limit)

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
        return self.library.search(query, equipment_id=equipment_id, limit=limit)

    def add_documents(self, sources: Iterable[Path | str], equipment_id: str | None = None) -> list[Document]:
        """Ingest local files or http(s) URLs (downloaded with conditional GETs)."""
        equipment_ids = [equipment_id] if equipment_id else []
        if equipment_id:
            self.library.get_equipment(equipment_id)  # unknown ids are an error, not a silent new link
        documents = []
        for source in sources:
            if isinstance(source, str) and source.startswith(("http://", "https://")):
                documents.append(self.library.add_url(source, equipment_ids=equipment_ids))
            else:
                documents.append(self.library.add(Path(source), equipment_ids=equipment_ids))
        return documents

    def sync_library(self, url: str, on_progress: Callable[[Any], None] | None = None) -> Any:
        return self.library.sync(url, on_progress=on_progress)

    # ------------------------------------------------------------------ perception

    def inspect(self, source: Path | str | bytes, filename: str = "", equipment_id: str | None = None) -> PhotoReading:
        """The on-device read of one photo, without a session."""
        from assistant.imaging import load_photo
        from assistant.perception import read_photo

        photo = load_photo(Path(source) if isinstance(source, str) else source, filename)
        return read_photo(photo, self.library, equipment_id)

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

        question = question.strip()
        if not question:
            raise FieldlensError("Type a question or describe the symptom first.")
        mode = Mode(mode)
        provider = ProviderName(provider) if provider else None
        if equipment_id:
            self.library.get_equipment(equipment_id)
        # Read every new photo before anything is written, so bad input leaves no half session.
        loaded = [load_photo(Path(p) if isinstance(p, str) else p) for p in photos]
        if session_id is None:
            session = self.start_session(equipment_id)
        else:
            session = self.sessions.get(session_id)
            if equipment_id and equipment_id != session.equipment_id:
                self.sessions.set_equipment(session.id, equipment_id)
        for photo in loaded:
            self.add_photo(session.id, photo.data, photo.filename)
        session = self.sessions.get(session.id)

        capture_photos = [p for p in session.photos if p.role == "capture"]
        turn = self.sessions.add_turn(session.id, Turn(question=question, photo_ids=[p.id for p in capture_photos]))
        readings = [self._reading_from_session(session, p.id) for p in capture_photos]
        images = []
        if self.settings.photo_policy.send_photos:
            for p in capture_photos:
                images.append(prepare_for_model(load_photo(self.sessions.photo_path(p.id)), self.settings.photo_policy))
        equipment = self.library.get_equipment(session.equipment_id) if session.equipment_id else None
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

            updated.secrets_file.unlink(missing_ok=True)
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
