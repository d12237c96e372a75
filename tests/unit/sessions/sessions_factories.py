"""Builders for the sessions tests: real JPEG photos, photos with quality reports, readings, realistic answers."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from assistant.domain import (
    Answer,
    Box,
    Citation,
    Confidence,
    Flag,
    FlagCode,
    Mode,
    Observation,
    ObservationKind,
    Passage,
    Photo,
    QualityReport,
    Severity,
    Step,
)
from assistant.sessions.photos import sha256_hex


def make_jpeg(seed: int, size: tuple[int, int] = (640, 480), text: str = "E-101") -> bytes:
    """A real JPEG: a grey panel with a dark 'display' and some text, varied by seed."""
    rnd = random.Random(seed)
    img = Image.new("RGB", size, (rnd.randint(90, 200), rnd.randint(90, 200), rnd.randint(90, 200)))
    draw = ImageDraw.Draw(img)
    draw.rectangle([200, 150, 440, 260], fill=(20, 30, 20))
    draw.text((230, 190), f"{text} #{seed}", fill=(120, 255, 120))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def make_photo(data: bytes, role: str = "capture", filename: str = "panel.jpg", blurry: bool = False) -> Photo:
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
    flags = [Flag(code=FlagCode.IMAGE_BLURRY, severity=Severity.WARNING, message="The photo looks blurry.")] \
        if blurry else []
    quality = QualityReport(width=w, height=h, sharpness=50.0 if blurry else 400.0, brightness=120.0,
                            overexposed_fraction=0.0, glare_fraction=0.0, flags=flags)
    return Photo(id=sha256_hex(data), filename=filename, media_type="image/jpeg", width=w, height=h,
                 quality=quality, role=role)


def make_observation(photo_id: str, value: str = "E-101", kind=ObservationKind.FAULT_CODE,
                     confidence: float = 0.9) -> Observation:
    return Observation(photo=photo_id, kind=kind, value=value, confidence=confidence,
                       box=Box(x=210, y=170, width=200, height=60), raw=value, source="ocr")


def make_answer(question: str, *, steps: list[str] | None = None, confidence=Confidence.MEDIUM,
                flags: list[Flag] | None = None, provider: str = "offline") -> Answer:
    steps = steps or ["Isolate the pump and lock out the motor supply.",
                      "Check the suction strainer for blockage and clean it."]
    passage = Passage(id="p-cp40-12", doc_id="doc-cp40", title="CP-40 service manual", page=12,
                      section="Troubleshooting > Low flow", text="Clean the suction strainer. " * 5)
    return Answer(
        question=question, provider=provider, model="offline-engine" if provider == "offline" else "m-1",
        mode=Mode.INSTANT, confidence=confidence, summary=f"Likely cause for: {question}",
        unsure_because=["The display code was read once only."],
        steps=[Step(index=i, action=text, detail="Follow the manual.",
                    citations=[Citation(passage_id=passage.id, doc_id=passage.doc_id, title=passage.title,
                                        page=12, section=passage.section, quote="Clean the suction strainer.")],
                    confidence=confidence, safety=["Lock out and tag out the motor before opening."] if i == 1 else [],
                    flags=[Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.INFO,
                                message="Hazardous energy.", step=i)] if i == 1 else [])
               for i, text in enumerate(steps, 1)],
        flags=flags or [],
        sources=[passage], prompt_hash="abc123", timings_ms={"total": 12.5},
    )
