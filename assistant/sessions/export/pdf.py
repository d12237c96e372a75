"""PDF export (fpdf2): a one-page summary first (equipment, technician, outcome, verdict,
flags, confidence), then photos with their readings drawn on them,
questions and answers with every step's citations, confidence, safety notes
and flags, step outcomes, notes, outcome and review.

Owns: `render_pdf()`. Uses a Unicode TrueType font when the system has one
(DejaVu Sans), else the core Helvetica font with text folded to Latin-1.
"""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from assistant.domain import FlagCode, Session
from assistant.sessions.export.common import (
    REMOVED,
    citation_text,
    code_read_text,
    conflicting_sources,
    fmt_time,
    label,
    latest_step_status,
    observation_label,
    safe,
)

_FONTS = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
]


class _Report(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        self.report_title = title
        self.family = "helvetica"
        self.unicode = False
        for regular, bold in _FONTS:
            if Path(regular).exists() and Path(bold).exists():
                self.add_font("report", "", regular)
                self.add_font("report", "B", bold)
                self.family, self.unicode = "report", True
                break
        self.set_auto_page_break(True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(120)
        self.cell(0, 5, self.t(f"Fieldlens report - {self.report_title} - page {self.page_no()}"), align="C")
        self.set_text_color(0)

    def t(self, text) -> str:
        text = safe(text)
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def para(self, text, *, size: float = 10, style: str = "", indent: float = 0, colour=(0, 0, 0),
             height: float | None = None) -> None:
        if not text:
            return
        self.set_font(self.family, style, size)
        self.set_text_color(*colour)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, height or size * 0.5, self.t(text), align="L", new_x=XPos.LMARGIN,
                        new_y=YPos.NEXT)
        self.set_text_color(0)

    def heading(self, text: str, size: float = 14) -> None:
        self.ln(3)
        self.para(text, size=size, style="B")
        self.set_draw_color(200)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(2)

    def picture(self, jpeg: bytes) -> None:
        with Image.open(io.BytesIO(jpeg)) as im:
            w_px, h_px = im.size
        width = self.epw
        height = width * h_px / w_px
        max_h = 120
        if height > max_h:
            height, width = max_h, max_h * w_px / h_px
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        self.image(io.BytesIO(jpeg), x=self.l_margin, y=self.get_y(), w=width, h=height)
        self.set_y(self.get_y() + height + 2)


def equipment_name(session: Session) -> str:
    """The equipment's name as the answers saw it (the catalog's name), else its id."""
    for turn in reversed(session.turns):
        if turn.answer is not None and turn.answer.equipment is not None:
            return turn.answer.equipment.name
    return session.equipment_id or "Equipment not identified"


_CONF_ORDER = {"low": 0, "medium": 1, "high": 2}


def summary_facts(session: Session, *, anonymized: bool) -> list[tuple[str, str]]:
    """(label, value) rows for the report's first page, in reading order."""
    s = session
    answers = [t.answer for t in s.turns if t.answer is not None]
    verdict = next((r for r in reversed(s.reviews) if r.verdict), None)
    flags: dict[str, int] = {}
    for a in answers:
        seen = {f.code for f in a.flags} | {f.code for st in a.steps for f in st.flags}
        for code in seen:
            flags[label(code)] = flags.get(label(code), 0) + 1
    confs = [label(a.confidence) for a in answers]
    lowest = min(confs, key=lambda c: _CONF_ORDER.get(c, 0)) if confs else ""
    steps = sum(len(a.steps) for a in answers[-1:])
    ticked = len({(o.turn_id, o.step) for o in s.step_outcomes if answers and o.turn_id == s.turns[-1].id})
    return [
        ("Equipment", equipment_name(s)),
        ("Technician", s.technician or (REMOVED if anonymized else "not named")),
        ("Outcome", label(s.outcome) or "still open"),
        ("Verdict", (label(verdict.verdict) + (f" by {verdict.reviewer}" if verdict.reviewer else ""))
         if verdict else "not reviewed yet"),
        ("Confidence", (f"{confs[-1]} (latest answer)" + (f", lowest {lowest}" if lowest != confs[-1] else ""))
         if confs else "no answer"),
        ("Flags", ", ".join(f"{k} x{v}" if v > 1 else k for k, v in flags.items()) or "none"),
        ("Steps ticked", f"{ticked} of {steps}" if steps else "no steps"),
        ("Questions", str(len(s.turns))),
        ("Started", fmt_time(s.created_at)),
        ("Closed", fmt_time(s.closed_at) or "open"),
    ]


def _summary_page(pdf: _Report, s: Session, *, anonymized: bool) -> None:
    pdf.para("Fieldlens session report", size=18, style="B")
    pdf.para(equipment_name(s), size=14, style="B")
    pdf.ln(2)
    for key, value in summary_facts(s, anonymized=anonymized):
        pdf.set_font(pdf.family, "B", 11)
        pdf.cell(42, 8, pdf.t(key))
        pdf.set_font(pdf.family, "", 11)
        pdf.multi_cell(0, 8, pdf.t(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    verdict = next((r for r in reversed(s.reviews) if r.verdict), None)
    if verdict is not None and verdict.comment:
        pdf.ln(2)
        pdf.para(f"Reviewer's comment: {verdict.comment}", size=10)
    if s.turns:
        pdf.ln(2)
        pdf.para(f"Last question: {s.turns[-1].question}", size=10)
    pdf.ln(4)
    pdf.para(f"Reference {s.id}", size=8, colour=(110, 110, 110))


def render_pdf(session: Session, images: dict[str, bytes | None], *, anonymized: bool) -> bytes:
    s = session
    pdf = _Report(equipment_name(s))
    pdf.add_page()
    _summary_page(pdf, s, anonymized=anonymized)
    pdf.add_page()
    pdf.heading("Details")
    meta = [("Session", s.id), ("Equipment", equipment_name(s)),
            ("Technician", s.technician or (REMOVED if anonymized else "")), ("Device", s.device),
            ("Started", fmt_time(s.created_at)), ("Last activity", fmt_time(s.updated_at)),
            ("Closed", fmt_time(s.closed_at) or "open"), ("Outcome", label(s.outcome) or "none yet")]
    for key, value in meta:
        pdf.para(f"{key}: {value}", size=10)

    if s.photos:
        pdf.heading("Photos")
        for photo in s.photos:
            pdf.para(f"{photo.filename or photo.id[:12]} ({photo.role}, {fmt_time(photo.added_at)})", style="B")
            img = images.get(photo.id)
            if img:
                pdf.picture(img)
            else:
                pdf.para("The photo file is not available.", colour=(110, 110, 110))
            if photo.quality:
                for f in photo.quality.flags:
                    pdf.para(f"[{f.code}] {f.message}", size=9, colour=(150, 100, 0))
            for o in (o for o in s.observations if o.photo == photo.id):
                pdf.para(f"- {observation_label(o)}", size=9, indent=3)

    status = latest_step_status(s)
    for n, turn in enumerate(s.turns, 1):
        pdf.heading(f"Question {n}")
        pdf.para(turn.question, style="B")
        pdf.para(f"Asked {fmt_time(turn.asked_at)}", size=8, colour=(110, 110, 110))
        if turn.error:
            pdf.para(f"Answering failed: {turn.error}", colour=(150, 30, 30))
        a = turn.answer
        if a is None:
            continue
        if a.code_read is not None:
            pdf.para(code_read_text(a), size=13, style="B")
            pdf.para(a.code_read.message, size=10)
        pdf.para(f"Confidence: {label(a.confidence)}{' (abstained)' if a.abstained else ''}", size=11, style="B")
        if a.unsure_summary:
            pdf.para(f"Unsure because: {a.unsure_summary}", size=10, style="B", colour=(150, 100, 0))
        pdf.para(f"Answered by {a.provider} {a.model} ({label(a.mode)} mode).", size=9, colour=(110, 110, 110))
        pdf.para(a.summary)
        for u in a.unsure_because:
            pdf.para(f"Unsure because: {u}", size=9, colour=(150, 100, 0))
        for f in a.flags:
            pdf.para(f"[{f.code}] {f.message}", size=9, colour=(150, 100, 0))
        for step in a.steps:
            pdf.ln(1)
            if step.danger:  # above the step, in a red band, so it is read before the instruction
                pdf.set_fill_color(150, 30, 30)
                pdf.set_text_color(255, 255, 255)
                pdf.set_font(pdf.family, "B", 10.5)
                pdf.multi_cell(pdf.epw, 6, pdf.t(f"WARNING, step {step.index}: {step.danger}"), fill=True,
                               align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.set_text_color(0)
            pdf.para(f"{step.index}. {step.action}", style="B", size=10.5)
            for message in conflicting_sources(step):
                pdf.para(f"Sources disagree (conflicting_sources): {message}", size=9.5, indent=5, style="B",
                         colour=(150, 100, 0))
            pdf.para(step.detail, indent=5)
            for c in step.citations:
                pdf.para(f"Source: {citation_text(c)}", size=8.5, indent=5, colour=(60, 60, 120))
                pdf.para(f'"{c.quote}"', size=8.5, indent=9, colour=(70, 70, 70))
            if not step.citations:
                pdf.para("No source cited.", size=8.5, indent=5, colour=(150, 30, 30))
            pdf.para(f"Confidence: {label(step.confidence)}", size=8.5, indent=5)
            for note in step.safety:
                pdf.para(f"Safety: {note}", size=9, indent=5, style="B", colour=(150, 30, 30))
            for f in step.flags:
                if f.code != FlagCode.CONFLICTING_SOURCES:  # said above, under the step's action
                    pdf.para(f"[{f.code}] {f.message}", size=8.5, indent=5, colour=(150, 100, 0))
            done = status.get((turn.id, step.index))
            if done:
                pdf.para(f"Technician: {label(done.status)} at {fmt_time(done.at)}"
                         f"{' - ' + done.note if done.note else ''}", size=9, indent=5, colour=(20, 110, 50))

    if s.step_outcomes:
        pdf.heading("Step outcomes")
        for o in s.step_outcomes:
            q = next((i for i, t in enumerate(s.turns, 1) if t.id == o.turn_id), "?")
            pdf.para(f"{fmt_time(o.at)}: question {q}, step {o.step}: {label(o.status)}"
                     f"{' - ' + o.note if o.note else ''}", size=9)
    if s.notes:
        pdf.heading("Notes")
        for note in s.notes:
            pdf.para(f"{fmt_time(note.at)}: {note.text}", size=9.5)
    pdf.heading("Outcome")
    pdf.para(label(s.outcome) or "The session is still open.")
    if s.reviews:
        pdf.heading("Review")
        for i, r in enumerate(reversed(s.reviews)):
            tag = "current" if i == 0 else "earlier"
            pdf.para(f"{label(r.verdict) or 'no verdict'} by {r.reviewer or 'unnamed'} at {fmt_time(r.at)} ({tag})",
                     style="B")
            pdf.para(r.comment, indent=3)
            for k, v in sorted(r.step_ratings.items()):
                pdf.para(f"step {int(k)}: {label(v)}", size=9, indent=3)
    return bytes(pdf.output())
