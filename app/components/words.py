"""Plain words for the fixed vocabularies (flag codes, outcomes, verdicts,
statuses, progress stages, observation kinds), so the UI never shows a raw code."""

from __future__ import annotations

from assistant.domain import FlagCode, ObservationKind, Outcome, StepStatus, Verdict

FLAG_WORDS: dict[str, str] = {
    FlagCode.IMAGE_BLURRY: "Photo is blurry",
    FlagCode.IMAGE_DARK: "Photo is too dark",
    FlagCode.IMAGE_OVEREXPOSED: "Photo is overexposed",
    FlagCode.IMAGE_GLARE: "Glare on the photo",
    FlagCode.IMAGE_LOW_RESOLUTION: "Photo resolution is low",
    FlagCode.READING_UNCERTAIN: "A reading is uncertain",
    FlagCode.EQUIPMENT_UNIDENTIFIED: "Equipment not identified",
    FlagCode.NO_SOURCE: "The manuals do not cover this",
    FlagCode.UNGROUNDED_STEP: "Step has no manual source",
    FlagCode.CITATION_INVALID: "A cited source could not be checked",
    FlagCode.CONFLICTING_SOURCES: "Manuals disagree",
    FlagCode.SAFETY_CRITICAL: "Safety critical",
    FlagCode.OFFLINE_FALLBACK: "Answered offline from the manuals only",
    FlagCode.MODEL_OUTPUT_REPAIRED: "The model's answer had to be repaired",
}

QUALITY_HINTS: dict[str, str] = {
    FlagCode.IMAGE_BLURRY: "Blurry: retake?",
    FlagCode.IMAGE_DARK: "Dark: retake?",
    FlagCode.IMAGE_OVEREXPOSED: "Too bright: retake?",
    FlagCode.IMAGE_GLARE: "Glare: retake?",
    FlagCode.IMAGE_LOW_RESOLUTION: "Low resolution",
}

KIND_WORDS: dict[str, str] = {
    ObservationKind.FAULT_CODE: "Fault code",
    "unknown_code": "Code not in the manuals",
    "display_value": "Display reading",
    ObservationKind.ASSET_TAG: "Asset tag",
    ObservationKind.NAMEPLATE: "Nameplate",
    ObservationKind.TEXT: "Text",
}

OUTCOME_WORDS: dict[str, str] = {
    Outcome.FIXED: "Fixed",
    Outcome.ESCALATED: "Escalated",
    Outcome.PARTS_NEEDED: "Parts needed",
    Outcome.NOT_FIXED: "Not fixed",
}

VERDICT_WORDS: dict[str, str] = {
    Verdict.APPROVED: "Approved",
    Verdict.NEEDS_FOLLOW_UP: "Needs follow-up",
    Verdict.INCORRECT: "Incorrect",
}

STATUS_WORDS: dict[str, str] = {
    StepStatus.DONE: "Done",
    StepStatus.DID_NOT_HELP: "Did not help",
    StepStatus.SKIPPED: "Skipped",
}

STAGE_WORDS: dict[str, str] = {
    "reading_photos": "Reading the photos",
    "retrieving": "Searching the manuals",
    "searching": "Searching the manuals",
    "drafting": "Drafting the steps",
    "calling_model": "Asking the model",
    "verifying": "Checking each step against its source",
    "grounding": "Checking each step against its source",
    "synthesising": "Putting the answer together",
    "step": "Step ready",
    "done": "Done",
}


# Nameplate fields in plain words; anything else is humanised by `field_words`.
FIELD_WORDS: dict[str, str] = {
    "ip_rating": "IP rating", "serial": "Serial number", "model": "Model", "manufacturer": "Manufacturer",
    "rated_power": "Rated power", "rated_current": "Rated current", "rated_voltage": "Rated voltage",
    "frequency": "Frequency", "speed": "Speed", "year": "Year built", "part_number": "Part number",
    "power": "Power", "voltage": "Voltage", "current": "Current", "pressure": "Pressure",
}
_UPPER = {"ip", "id", "kw", "kva", "hz", "rpm", "ac", "dc", "psi"}


def field_words(name: str) -> str:
    """A nameplate field name for people: "ip_rating" -> "IP rating"."""
    if name in FIELD_WORDS:
        return FIELD_WORDS[name]
    parts = [p.upper() if p.lower() in _UPPER else p for p in name.replace("-", "_").split("_") if p]
    text = " ".join(parts)
    return text[:1].upper() + text[1:] if text else name


def words(table: dict[str, str], value: object) -> str:
    key = getattr(value, "value", value)
    if key is None:
        return ""
    return table.get(str(key), str(key).replace("_", " ").capitalize())


def stage_words(stage: str, message: str = "") -> str:
    base = STAGE_WORDS.get(stage, stage.replace("_", " ").capitalize())
    return f"{base}: {message}" if message and message.lower() != base.lower() else base
