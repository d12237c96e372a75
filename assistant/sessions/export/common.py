"""What every export format shares: anonymising, secret scrubbing, labels,
and photos with their readings drawn on them (Pillow, from Observation.box).

Owns: `prepare()`, `annotated_jpeg()`, small text helpers (the same words in every format: the
code read, a citation with its revision, a step's danger and conflicting sources).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from assistant.domain import Answer, Citation, FlagCode, Observation, ObservationKind, Session, Step
from assistant.sessions.secrets import scrub_data, scrub_secrets

REMOVED = "(removed)"
PhotoLoader = Callable[[str], bytes | None]

try:  # HEIC/HEIF photos from iPads and iPhones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional at runtime
    pass

_NAME_KEYS = {"technician", "reviewer", "device"}  # device names often carry the owner's name
_COLOURS = {
    ObservationKind.FAULT_CODE: (220, 40, 40),
    ObservationKind.ASSET_TAG: (30, 120, 220),
    ObservationKind.NAMEPLATE: (20, 150, 70),
    ObservationKind.TEXT: (230, 150, 20),
}
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def _strip_names(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: (REMOVED if k in _NAME_KEYS and v else _strip_names(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip_names(v) for v in obj]
    return obj


def prepare(session: Session, log: list[dict], *, anonymize: bool) -> tuple[Session, list[dict]]:
    """The session and event log as they may leave the device: secrets scrubbed everywhere,
    technician, reviewer and device names removed when `anonymize`."""
    data = session.model_dump(mode="json")
    events = [{"seq": e["seq"], "type": e["type"], "at": _iso(e["at"]), "payload": e["payload"]} for e in log]
    if anonymize:
        data = _strip_names(data)
        events = _strip_names(events)
    data = scrub_data(data)
    events = scrub_data(events)
    return Session.model_validate(data), events


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")


def label(value: Any) -> str:
    """An enum value as words: needs_follow_up -> needs follow up."""
    if value is None:
        return ""
    return str(getattr(value, "value", value)).replace("_", " ")


def citation_text(c: Citation) -> str:
    where = [c.title or c.doc_id]
    if c.revision:
        where.append(f"rev. {c.revision}")
    if c.page is not None:
        where.append(f"p. {c.page}")
    if c.section:
        where.append(c.section)
    return ", ".join(where)


def code_read_text(a: Answer) -> str:
    """The code the answer is about, with how sure the read was and whether a manual lists it."""
    c = a.code_read
    if c is None:
        return ""
    listed = "listed in the library's manuals" if c.listed else "no manual in the library lists it"
    return f"Code read: {c.value} ({c.confidence:.0%} sure; {listed})"


def conflicting_sources(step: Step) -> list[str]:
    """The messages of a step's conflicting_sources flags (the sources it cites disagree)."""
    return [f.message for f in step.flags if FlagCode(f.code) == FlagCode.CONFLICTING_SOURCES]


def safe(text: Any) -> str:
    return scrub_secrets("" if text is None else str(text))


def observation_label(o: Observation) -> str:
    name = o.field if o.kind == ObservationKind.NAMEPLATE and o.field else label(o.kind)
    mark = " (confirmed)" if o.confirmed else ""
    return f"{name}: {o.value}{mark} - {o.confidence:.0%}"


def _font(size: int):
    for path in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def annotated_jpeg(data: bytes, observations: list[Observation], *, long_side: int = 1400,
                   quality: int = 82) -> bytes | None:
    """The photo (EXIF orientation applied, downscaled) with each reading's box and label drawn on it.
    Returns None when the bytes are not a readable image."""
    try:
        img = Image.open(io.BytesIO(data))
        img = ImageOps.exif_transpose(img).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    scale = min(1.0, long_side / max(img.size))
    if scale < 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(img)
    thickness = max(2, round(max(img.size) / 400))
    font = _font(max(12, round(max(img.size) / 60)))
    for o in observations:
        if o.box is None:
            continue
        x0, y0 = o.box.x * scale, o.box.y * scale
        x1, y1 = (o.box.x + o.box.width) * scale, (o.box.y + o.box.height) * scale
        colour = _COLOURS.get(ObservationKind(o.kind), (230, 150, 20))
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=thickness)
        text = safe(o.value)[:40]
        tb = draw.textbbox((0, 0), text, font=font)
        tw, th = tb[2] - tb[0], tb[3] - tb[1]
        ty = y0 - th - 2 * thickness if y0 - th - 2 * thickness >= 0 else y1 + thickness
        draw.rectangle([x0, ty, x0 + tw + 2 * thickness, ty + th + 2 * thickness], fill=colour)
        draw.text((x0 + thickness, ty + thickness - tb[1]), text, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def photo_images(session: Session, loader: PhotoLoader) -> dict[str, bytes | None]:
    """Annotated JPEG per photo id (None when the photo file is missing or unreadable)."""
    result: dict[str, bytes | None] = {}
    for photo in session.photos:
        if photo.id in result:
            continue
        data = loader(photo.id)
        obs = [o for o in session.observations if o.photo == photo.id]
        result[photo.id] = annotated_jpeg(data, obs) if data else None
    return result


def latest_step_status(session: Session) -> dict[tuple[str, int], Any]:
    """(turn id, step) -> the latest StepOutcome recorded for it."""
    latest = {}
    for o in session.step_outcomes:
        latest[(o.turn_id, o.step)] = o
    return latest
