"""The one domain model shared by every layer: equipment, documents, passages,
photos and what was read off them, citations, flags, steps, answers, sessions,
step outcomes and reviews.

Everything here is plain data (pydantic v2). Behaviour lives in the packages
that own it; this module only fixes the shapes and the fixed vocabularies
(flag codes, confidence levels, outcomes, verdicts) so that the CLI's JSON
contract, the sessions store and the UI all speak the same language.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


class Model(BaseModel):
    """Base for every domain model: unknown fields are rejected, enums dump as values."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, populate_by_name=True)


# --------------------------------------------------------------------------- vocabularies


class FlagCode(StrEnum):
    """The fixed uncertainty-flag vocabulary (PRODUCT.md). Never raise an ad hoc code."""

    IMAGE_BLURRY = "image_blurry"
    IMAGE_DARK = "image_dark"
    IMAGE_OVEREXPOSED = "image_overexposed"
    IMAGE_GLARE = "image_glare"
    IMAGE_LOW_RESOLUTION = "image_low_resolution"
    READING_UNCERTAIN = "reading_uncertain"
    EQUIPMENT_UNIDENTIFIED = "equipment_unidentified"
    NO_SOURCE = "no_source"
    UNGROUNDED_STEP = "ungrounded_step"
    CITATION_INVALID = "citation_invalid"
    CONFLICTING_SOURCES = "conflicting_sources"
    SAFETY_CRITICAL = "safety_critical"
    OFFLINE_FALLBACK = "offline_fallback"
    MODEL_OUTPUT_REPAIRED = "model_output_repaired"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Mode(StrEnum):
    INSTANT = "instant"
    THINKING = "thinking"


class ProviderName(StrEnum):
    OFFLINE = "offline"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    OLLAMA = "ollama"


class ObservationKind(StrEnum):
    """What a reading off a photo is."""

    TEXT = "text"  # a line of OCR text with no further meaning attached
    FAULT_CODE = "fault_code"  # a code the library knows, read off a display or label
    ASSET_TAG = "asset_tag"  # a QR / DataMatrix / 1D barcode payload
    NAMEPLATE = "nameplate"  # a nameplate field; `field` says which (manufacturer, model, serial, ...)
    UNKNOWN_CODE = "unknown_code"  # shaped like a fault code, read from a display, listed by no manual
    DISPLAY_VALUE = "display_value"  # a number or value on a display; `unit` says its unit when shown


class DocumentFormat(StrEnum):
    PDF = "pdf"
    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"
    YAML = "yaml"
    JSON = "json"
    RST = "rst"
    DOCX = "docx"


class DocumentKind(StrEnum):
    MANUAL = "manual"
    WORK_INSTRUCTION = "work_instruction"


class Authority(StrEnum):
    """Who stands behind a document: the manufacturer's own manual, or third-party notes
    (forum posts, a colleague's write-up). Third-party passages never outrank the manufacturer's."""

    MANUFACTURER = "manufacturer"
    THIRD_PARTY = "third_party"


class PassageKind(StrEnum):
    TEXT = "text"  # ordinary prose under a heading
    FAULT_CODE = "fault_code"  # one row of a fault-code table (code, title, cause, remedy)
    PROCEDURE = "procedure"  # numbered steps of a procedure or work instruction
    WARNING = "warning"  # a DANGER / WARNING / CAUTION block
    TABLE = "table"  # other tabular content (specifications)
    FIGURE = "figure"  # a figure caption


class StepStatus(StrEnum):
    DONE = "done"
    DID_NOT_HELP = "did_not_help"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    FIXED = "fixed"
    ESCALATED = "escalated"
    PARTS_NEEDED = "parts_needed"
    NOT_FIXED = "not_fixed"


class Verdict(StrEnum):
    APPROVED = "approved"
    NEEDS_FOLLOW_UP = "needs_follow_up"
    INCORRECT = "incorrect"


class StepRating(StrEnum):
    GOOD = "good"
    BAD = "bad"


# --------------------------------------------------------------------------- flags


class Flag(Model):
    """An uncertainty flag: data, not prose. `step` is a 1-based step index, `photo` a photo id."""

    code: FlagCode
    severity: Severity
    message: str
    step: int | None = None
    photo: str | None = None


# --------------------------------------------------------------------------- library


class Equipment(Model):
    """One kind of machine in the catalog, linked to its documents."""

    id: str
    name: str
    manufacturer: str = ""
    model: str = ""
    category: str = ""
    aliases: list[str] = Field(default_factory=list)
    asset_tags: list[str] = Field(default_factory=list)
    serial_patterns: list[str] = Field(default_factory=list, description="regular expressions")
    document_ids: list[str] = Field(default_factory=list)


class Document(Model):
    """A manual or work instruction in the library."""

    id: str
    title: str
    format: DocumentFormat
    kind: DocumentKind = DocumentKind.MANUAL
    equipment_ids: list[str] = Field(default_factory=list)
    source: str = Field("", description="original path or URL")
    sha256: str = ""
    revision: str = ""
    authority: Authority = Authority.MANUFACTURER
    page_count: int | None = None
    passage_count: int = 0
    ingested_at: datetime = Field(default_factory=utc_now)


class Passage(Model):
    """A citable piece of a document: where it is (page, section path, character
    offsets into that page's text or the document's text) and what it says."""

    id: str
    doc_id: str
    title: str = Field("", description="the document's title")
    page: int | None = Field(None, description="1-based page number, None for unpaged formats")
    section: str = Field("", description="heading path, outermost first, joined by ' > '")
    kind: PassageKind = PassageKind.TEXT
    text: str
    start: int = 0
    end: int = 0
    equipment_ids: list[str] = Field(default_factory=list)
    revision: str = ""


class FaultCode(Model):
    """One structured entry of a fault-code table."""

    code: str
    title: str = ""
    cause: str = ""
    remedy: str = ""
    doc_id: str
    passage_id: str
    page: int | None = None
    section: str = ""
    equipment_ids: list[str] = Field(default_factory=list)
    description: str = Field("", description="the entry's text when the manual does not label cause and remedy")
    confidence: float | None = Field(None, description="mean OCR confidence 0..1 when read from a scanned page")


class SearchHit(Model):
    """A search result: the passage plus its rank information."""

    passage_id: str
    doc_id: str
    title: str
    page: int | None = None
    section: str = ""
    snippet: str = Field("", description="with highlights marked as [[term]]")
    score: float
    kind: PassageKind = PassageKind.TEXT
    revision: str = Field("", description="the document's revision")


# --------------------------------------------------------------------------- photos


class Box(Model):
    """An axis-aligned box in pixels of the photo as displayed (EXIF orientation applied)."""

    x: int
    y: int
    width: int
    height: int


class QualityReport(Model):
    """Quality metrics of a photo, computed at a normalised size, and the soft flags they raise."""

    width: int
    height: int
    sharpness: float = Field(description="variance of the Laplacian at long side 1024")
    brightness: float = Field(description="mean grey level 0..255")
    overexposed_fraction: float
    glare_fraction: float = Field(description="largest saturated blob as a fraction of the image")
    flags: list[Flag] = Field(default_factory=list)

    @property
    def retake_suggested(self) -> bool:
        return bool(self.flags)


class Observation(Model):
    """One thing read off a photo, with where it came from and how sure the read is."""

    photo: str = Field(description="photo id")
    kind: ObservationKind
    value: str
    confidence: float = Field(ge=0.0, le=1.0)
    box: Box | None = None
    field: str | None = Field(None, description="for nameplate readings: manufacturer, model, serial, rating ...")
    raw: str = Field("", description="the text as read, before normalisation")
    source: str = Field("", description="ocr, display_pass, barcode:<format>, user")
    equipment_id: str | None = Field(None, description="equipment this reading maps to, if any")
    confirmed: bool = Field(False, description="confirmed or corrected by the technician")
    alternatives: list[str] = Field(default_factory=list, description="competing readings")
    unit: str = Field("", description="for display values: the unit shown with the number (L, bar, Hz, ...)")


class Photo(Model):
    """A photo as stored: content-addressed by the sha256 of its original bytes."""

    id: str = Field(description="sha256 of the original bytes")
    filename: str = ""
    media_type: str = "image/jpeg"
    width: int = 0
    height: int = 0
    quality: QualityReport | None = None
    role: Literal["capture", "result"] = "capture"
    added_at: datetime = Field(default_factory=utc_now)


class PhotoReading(Model):
    """Everything the on-device read produced for one photo."""

    photo: Photo
    quality: QualityReport
    observations: list[Observation] = Field(default_factory=list)
    text_lines: list[Observation] = Field(default_factory=list, description="all OCR lines, kind=text")
    flags: list[Flag] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


# --------------------------------------------------------------------------- answers


class Citation(Model):
    """A pointer to the exact passage a step comes from, with the quoted text."""

    passage_id: str
    doc_id: str
    title: str = ""
    page: int | None = None
    section: str = ""
    quote: str
    revision: str = Field("", description="the cited document's revision")


class Step(Model):
    index: int = Field(description="1-based")
    action: str
    detail: str = ""
    citations: list[Citation] = Field(default_factory=list)
    confidence: Confidence = Confidence.MEDIUM
    safety: list[str] = Field(default_factory=list, description="safety notes, the manual's own words where possible")
    flags: list[Flag] = Field(default_factory=list)
    danger: str = Field("", description="set when the step would defeat a safety function or skip isolation: "
                                        "a warning to show prominently, above the step")


class SentToModel(Model):
    """What left the device for one answer: requests made, photos and bytes sent."""

    requests: int = 0
    images: int = 0
    request_bytes: int = 0
    cached_replies: int = 0


class CodeRead(Model):
    """The code read off a photo that the answer is about, for the top of the answer."""

    value: str
    kind: ObservationKind = Field(description="fault_code (the library lists it) or unknown_code (no manual lists it)")
    confidence: float = Field(ge=0.0, le=1.0, description="how sure the on-device read is")
    photo: str = ""
    box: Box | None = None
    listed: bool = Field(description="whether a manual in the library lists this code")
    message: str = Field("", description="one line for the technician, e.g. 'E902.1 was read, but no manual ...'")


class Answer(Model):
    """The result of one question: the JSON contract of `fieldlens ask --json`."""

    session_id: str = ""
    turn_id: str = Field("", description="the session turn this answer belongs to (for step outcomes)")
    question: str = ""
    provider: str
    model: str = ""
    mode: Mode = Mode.INSTANT
    equipment: Equipment | None = None
    observations: list[Observation] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    confidence: Confidence = Confidence.LOW
    abstained: bool = False
    summary: str = ""
    unsure_because: list[str] = Field(default_factory=list)
    unsure_summary: str = Field("", description="one line: why the answer is not high (empty when it is high)")
    code_read: CodeRead | None = Field(None, description="the code read off the photos that the answer is about")
    sources: list[Passage] = Field(default_factory=list, description="passages that were provided to the model")
    prompt_hash: str = ""
    sent_to_model: SentToModel = Field(default_factory=SentToModel)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)


class ProgressEvent(Model):
    """Emitted while an answer is being worked out, so the UI can show stage by stage."""

    stage: str  # e.g. reading_photos, searching, drafting, verifying, synthesising, done
    message: str = ""
    fraction: float | None = None
    step: Step | None = Field(None, description="a step that has just been finished, for streaming display")


# --------------------------------------------------------------------------- sessions


class Turn(Model):
    """One question and its answer within a session."""

    id: str = Field(default_factory=new_id)
    question: str
    photo_ids: list[str] = Field(default_factory=list)
    answer: Answer | None = None
    error: str | None = Field(None, description="the plain sentence shown when answering failed")
    asked_at: datetime = Field(default_factory=utc_now)


class StepOutcome(Model):
    turn_id: str
    step: int
    status: StepStatus
    note: str = ""
    photo_ids: list[str] = Field(default_factory=list)
    at: datetime = Field(default_factory=utc_now)


class Note(Model):
    text: str
    photo_ids: list[str] = Field(default_factory=list)
    at: datetime = Field(default_factory=utc_now)


class Review(Model):
    """A supervisor's review; reviews are append-only, the latest one is current."""

    id: str = Field(default_factory=new_id)
    session_id: str
    reviewer: str = ""
    verdict: Verdict | None = None
    comment: str = ""
    step_ratings: dict[int, StepRating] = Field(default_factory=dict, description="1-based step -> rating")
    turn_id: str | None = None
    at: datetime = Field(default_factory=utc_now)


class Session(Model):
    """A technician's visit to a machine: everything photographed, read, asked,
    answered and done, and how it ended."""

    id: str = Field(default_factory=new_id)
    equipment_id: str | None = None
    technician: str = ""
    device: str = ""
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    photos: list[Photo] = Field(default_factory=list)
    observations: list[Observation] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)
    step_outcomes: list[StepOutcome] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    reviews: list[Review] = Field(default_factory=list)


class SessionSummary(Model):
    """A row of the sessions list."""

    id: str
    equipment_id: str | None = None
    technician: str = ""
    created_at: datetime
    updated_at: datetime
    first_question: str = ""
    turn_count: int = 0
    confidence: Confidence | None = None
    flag_codes: list[FlagCode] = Field(default_factory=list)
    outcome: Outcome | None = None
    verdict: Verdict | None = None


class PreparedImage(Model):
    """A photo made ready for a model: downscaled, re-encoded, EXIF and GPS stripped."""

    photo_id: str
    media_type: str = "image/jpeg"
    width: int
    height: int
    data: bytes = Field(repr=False, exclude=True)
    faces_blurred: int = 0

    @property
    def byte_count(self) -> int:
        return len(self.data)
