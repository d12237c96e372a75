"""Reports: PDF parsed back, JSON validated against its schema, HTML escaped and self-contained,
names removed on request, and no API key ever in an export."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image
from sessions_factories import make_answer, make_jpeg, make_observation, make_photo

from assistant.config import load_settings
from assistant.domain import Note, Outcome, Review, StepOutcome, StepRating, StepStatus, Turn, Verdict
from assistant.sessions import EXPORT_SCHEMA_VERSION, SessionExport, SessionStore, export_json_schema, scrub_secrets
from assistant.sessions.export.common import annotated_jpeg

STEPS = ["Isolate the CP-40 pump and lock out the 7.5 kW motor supply.",
         "Open the strainer housing and remove every bit of debris from the basket, then refit it with a new O-ring.",
         "Restart the pump and confirm the discharge pressure is back within the nameplate range."]


def _session(store: SessionStore, question: str = "Low flow and E-101 on the display") -> str:
    s = store.create(equipment_id="pump-cp40", technician="Ana Technician", device="Anas-iPad-3")
    data = make_jpeg(21, size=(800, 600))
    photo = make_photo(data, blurry=True)
    store.add_photo(s.id, photo, data)
    store.add_observations(s.id, [make_observation(photo.id, "E-101")])
    turn = store.add_turn(s.id, Turn(question=question, photo_ids=[photo.id]))
    store.set_answer(s.id, turn.id, make_answer(question, steps=STEPS))
    store.record_step(s.id, StepOutcome(turn_id=turn.id, step=1, status=StepStatus.DONE, note="lock fitted"))
    store.record_step(s.id, StepOutcome(turn_id=turn.id, step=2, status=StepStatus.SKIPPED))
    store.add_note(s.id, Note(text="Basket packed with plastic film & leaves"))
    store.close_session(s.id, Outcome.PARTS_NEEDED)
    store.review(Review(session_id=s.id, reviewer="Sam Supervisor", verdict=Verdict.NEEDS_FOLLOW_UP,
                        comment="Order the O-ring kit", step_ratings={1: StepRating.GOOD, 2: StepRating.BAD}))
    return s.id


def _pdf_text(path: Path) -> tuple[str, int]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        text, images = [], 0
        for page in pdf:
            text.append(page.get_textpage().get_text_range())
            images += len(list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,))))
        return "\n".join(text), images
    finally:
        pdf.close()


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_report_contains_steps_citations_outcomes_and_review(store: SessionStore, tmp_path: Path) -> None:
    sid = _session(store)
    out = store.export(sid, "pdf", tmp_path / "report.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    text, images = _pdf_text(out)
    flat = _flat(text)
    for step in STEPS:  # wrapped lines are fine: compare without whitespace
        assert _flat(step) in flat, step
    for needle in [sid, "pump-cp40", "Ana Technician", "CP-40 service manual", "Troubleshooting > Low flow",
                   "Clean the suction strainer.", "Lock out and tag out the motor before opening.",
                   "safety_critical", "image_blurry", "lock fitted", "skipped", "parts needed",
                   "Basket packed with plastic film & leaves", "needs follow up", "Sam Supervisor",
                   "Order the O-ring kit", "step 2: bad", "E-101"]:
        assert _flat(needle) in flat, needle
    assert images == 1  # the photo, with its reading drawn on it


def test_readings_are_drawn_on_the_photo() -> None:
    data = make_jpeg(3, size=(800, 600))
    plain = Image.open(io.BytesIO(annotated_jpeg(data, []))).convert("RGB")
    drawn = Image.open(io.BytesIO(annotated_jpeg(data, [make_observation("x", "E-101")]))).convert("RGB")
    # the box's left edge (x=210, from y=170 to 230) turns red; far away nothing changes
    r, g, b = drawn.getpixel((211, 200))
    assert r > 150 and g < 100 and b < 100
    assert plain.getpixel((211, 200)) != drawn.getpixel((211, 200))
    assert max(abs(a - b) for a, b in zip(plain.getpixel((700, 550)), drawn.getpixel((700, 550)))) < 12
    assert annotated_jpeg(b"not an image", []) is None


def test_json_export_is_complete_and_validates(store: SessionStore, tmp_path: Path) -> None:
    sid = _session(store)
    out = store.export(sid, "json", tmp_path / "report.json")
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert raw["schema_version"] == EXPORT_SCHEMA_VERSION == 2 and raw["format"] == "fieldlens.session"
    doc = SessionExport.model_validate_json(out.read_text(encoding="utf-8"))
    assert doc.session == store.get(sid)  # complete: every field of the session
    assert [e.seq for e in doc.events] == [e["seq"] for e in store.events(sid)]
    assert doc.anonymized is False
    schema = export_json_schema()
    assert set(schema["required"]) >= {"format", "schema_version", "session", "events"}
    assert set(raw) <= set(schema["properties"])


def test_html_is_escaped_and_self_contained(store: SessionStore, tmp_path: Path) -> None:
    sid = _session(store, question='<script>alert("x")</script> pump & motor "E-101"')
    out = store.export(sid, "html", tmp_path / "report.html")
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "plastic film &amp; leaves" in page
    assert page.count('src="data:image/jpeg;base64,') == 1
    assert not re.search(r'(src|href)="https?:', page)  # nothing fetched from anywhere
    for step in STEPS:
        assert step.replace("&", "&amp;") in page


@pytest.mark.parametrize("fmt", ["pdf", "json", "html"])
def test_anonymize_removes_technician_and_reviewer_names(store: SessionStore, tmp_path: Path, fmt: str) -> None:
    sid = _session(store)
    named = store.export(sid, fmt, tmp_path / f"named.{fmt}")
    anon = store.export(sid, fmt, tmp_path / f"anon.{fmt}", anonymize=True)
    read = (lambda p: _flat(_pdf_text(p)[0])) if fmt == "pdf" else (lambda p: _flat(p.read_text("utf-8")))
    for name in ("Ana Technician", "Sam Supervisor", "Anas-iPad-3"):
        assert _flat(name) in read(named)
        assert _flat(name) not in read(anon)
    assert "(removed)" in read(anon)
    assert _flat(STEPS[0]) in read(anon)  # the content is still there


@pytest.mark.parametrize("fmt", ["pdf", "json", "html"])
def test_exports_never_contain_api_keys(store: SessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        fmt: str) -> None:
    planted = "sk-proj-PLANTEDkey0123456789abcdefABCDEF"
    monkeypatch.setenv("FIELDLENS_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", planted)
    settings = load_settings(tmp_path / "home")
    assert settings.api_key.get_secret_value() == planted  # the key is really configured
    sid = _session(store)
    turn = store.add_turn(sid, Turn(question="retry with the cloud model"))
    # a provider error that echoes the key back, and a technician who pasted a token into a note
    store.set_answer(sid, turn.id, None, error=f"HTTP 401: Incorrect API key provided: {planted}.")
    store.add_note(sid, Note(text="support said use Authorization: Bearer abcDEF1234567890xyz"))
    assert planted not in store.get(sid).turns[-1].error  # scrubbed before it was saved
    out = store.export(sid, fmt, tmp_path / f"r.{fmt}")
    text = _pdf_text(out)[0] if fmt == "pdf" else out.read_text("utf-8")
    assert "PLANTEDkey" not in text and "abcDEF1234567890xyz" not in text
    assert "[redacted]" in text and "Incorrect API key provided" in text  # the rest of the message is kept


def test_scrub_secrets_patterns() -> None:
    for secret in ["sk-ant-api03-abcdefghijklmnopqrstuv", "sk-abcdefghijklmnop1234", "ghp_abcdefghijklmnopqrstuvwxyz0123",
                   "AKIAABCDEFGHIJKLMNOP", "AIzaSyA1234567890abcdefghijklmnopqrstu", "hf_abcdefghijklmnopqrstuvwx"]:
        assert secret not in scrub_secrets(f"error: {secret} was rejected"), secret
    assert scrub_secrets("api_key=abcd1234efgh5678") == "api_key=[redacted]"
    plain = "Check the sk-40 valve; E-101 means low flow. Ask for the task-force checklist."
    assert scrub_secrets(plain) == plain


def test_unknown_format_is_rejected(store: SessionStore, tmp_path: Path) -> None:
    sid = store.create().id
    with pytest.raises(ValueError):
        store.export(sid, "docx", tmp_path / "r.docx")


def test_pdf_without_a_unicode_font_still_renders(store: SessionStore, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.sessions.export.pdf._FONTS", [("/nonexistent/a.ttf", "/nonexistent/b.ttf")])
    s = store.create(technician="Zoë Ødegård")
    turn = store.add_turn(s.id, Turn(question="Motor 90 °C → trips; Ω reading 0.5 MΩ; 泵 noise"))
    store.set_answer(s.id, turn.id, make_answer(turn.question, steps=["Measure winding resistance (≥ 1 MΩ)."]))
    text, _ = _pdf_text(store.export(s.id, "pdf", tmp_path / "latin.pdf"))
    assert "Measure winding resistance" in text and "Zoë Ødegård" in text and "90 °C" in text
