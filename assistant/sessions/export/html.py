"""HTML export: one self-contained page (inline CSS, photos inlined as data
URLs with their readings drawn on them). Every piece of text is escaped.

Owns: `render_html()`.
"""

from __future__ import annotations

import base64
import html

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

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table.meta td{padding:.1rem .8rem .1rem 0;vertical-align:top}
.photo img{max-width:100%;border:1px solid #ccc}.muted{color:#666}
.step{border-left:4px solid #888;padding:.3rem .8rem;margin:.8rem 0;background:#fafafa}
.flag{display:inline-block;background:#fff3cd;border:1px solid #e0c36a;border-radius:3px;padding:0 .3rem;
margin:.1rem .2rem .1rem 0;font-size:.85em}.flag.critical{background:#f8d7da;border-color:#d9868f}
blockquote{margin:.3rem 0 .3rem 1rem;color:#444;border-left:3px solid #ccc;padding-left:.6rem}
.safety{color:#8a1c1c;font-weight:600}
.danger{background:#8a1c1c;color:#fff;font-weight:700;padding:.5rem .8rem;margin:.8rem 0 0;border-radius:3px}
.danger+.step{margin-top:0;border-left-color:#8a1c1c}
.top{border:2px solid #444;border-radius:4px;padding:.4rem .8rem;margin:.6rem 0}
.top .code{font-size:1.4rem;font-weight:700}.unsure{color:#7a5200;font-weight:600}
.conflict{color:#7a5200;font-weight:600}
"""


def e(value) -> str:
    """Escaped, secret-scrubbed text."""
    return html.escape(safe(value), quote=True)


def _flags(flags) -> str:
    return "".join(f'<span class="flag {e(f.severity)}" title="{e(f.message)}">{e(f.code)}</span>'
                   f'<span class="muted">{e(f.message)}</span> ' for f in flags)


def render_html(session: Session, images: dict[str, bytes | None], *, anonymized: bool) -> bytes:
    s = session
    out: list[str] = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>Fieldlens session {e(s.id)}</title><style>{_CSS}</style></head><body>",
                      "<h1>Fieldlens session report</h1>", '<table class="meta">']
    meta = [("Session", s.id), ("Equipment", s.equipment_id or "not identified"),
            ("Technician", s.technician or ("" if not anonymized else REMOVED)), ("Device", s.device),
            ("Started", fmt_time(s.created_at)), ("Last activity", fmt_time(s.updated_at)),
            ("Closed", fmt_time(s.closed_at) or "open"), ("Outcome", label(s.outcome) or "none yet")]
    out += [f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in meta]
    out.append("</table>")

    if s.photos:
        out.append("<h2>Photos</h2>")
        for photo in s.photos:
            out.append('<div class="photo">')
            out.append(f"<h3>{e(photo.filename or photo.id[:12])} <span class='muted'>({e(photo.role)}, "
                       f"{e(fmt_time(photo.added_at))})</span></h3>")
            img = images.get(photo.id)
            if img:
                b64 = base64.b64encode(img).decode("ascii")
                out.append(f'<img alt="{e(photo.filename or photo.id)}" src="data:image/jpeg;base64,{b64}">')
            else:
                out.append('<p class="muted">The photo file is not available.</p>')
            if photo.quality and photo.quality.flags:
                out.append(f"<p>{_flags(photo.quality.flags)}</p>")
            readings = [o for o in s.observations if o.photo == photo.id]
            if readings:
                out.append("<ul>" + "".join(f"<li>{e(observation_label(o))}</li>" for o in readings) + "</ul>")
            out.append("</div>")

    status = latest_step_status(s)
    for n, turn in enumerate(s.turns, 1):
        out.append(f"<h2>Question {n}</h2><p><b>{e(turn.question)}</b> "
                   f"<span class='muted'>{e(fmt_time(turn.asked_at))}</span></p>")
        if turn.error:
            out.append(f"<p class='safety'>Answering failed: {e(turn.error)}</p>")
        a = turn.answer
        if a is None:
            if not turn.error:
                out.append("<p class='muted'>Not answered.</p>")
            continue
        top = []
        if a.code_read is not None:
            top.append(f"<p class='code'>{e(code_read_text(a))}</p>")
            if a.code_read.message:
                top.append(f"<p>{e(a.code_read.message)}</p>")
        top.append(f"<p>Confidence <b>{e(label(a.confidence))}</b>{' - abstained' if a.abstained else ''}</p>")
        if a.unsure_summary:
            top.append(f"<p class='unsure'>Unsure because: {e(a.unsure_summary)}</p>")
        out.append("<div class='top'>" + "".join(top) + "</div>")
        out.append(f"<p class='muted'>Answered by {e(a.provider)} {e(a.model)} ({e(label(a.mode))} mode).</p>")
        if a.summary:
            out.append(f"<p>{e(a.summary)}</p>")
        if a.unsure_because:
            out.append("<p>Unsure because:</p><ul>" + "".join(f"<li>{e(u)}</li>" for u in a.unsure_because)
                       + "</ul>")
        if a.flags:
            out.append(f"<p>{_flags(a.flags)}</p>")
        for step in a.steps:
            if step.danger:  # above the step, where it is read before the instruction
                out.append(f"<div class='danger' role='alert'>Warning, step {step.index}: {e(step.danger)}</div>")
            out.append(f'<div class="step"><p><b>{step.index}. {e(step.action)}</b></p>')
            for message in conflicting_sources(step):
                out.append(f"<p class='conflict'>Sources disagree (conflicting_sources): {e(message)}</p>")
            if step.detail:
                out.append(f"<p>{e(step.detail)}</p>")
            for c in step.citations:
                out.append(f"<p class='muted'>Source: {e(citation_text(c))}</p><blockquote>{e(c.quote)}</blockquote>")
            if not step.citations:
                out.append("<p class='muted'>No source cited.</p>")
            out.append(f"<p>Confidence: {e(label(step.confidence))}</p>")
            for note in step.safety:
                out.append(f"<p class='safety'>Safety: {e(note)}</p>")
            other_flags = [f for f in step.flags if f.code != FlagCode.CONFLICTING_SOURCES]  # said above
            if other_flags:
                out.append(f"<p>{_flags(other_flags)}</p>")
            done = status.get((turn.id, step.index))
            if done:
                extra = f" - {e(done.note)}" if done.note else ""
                out.append(f"<p>Technician: <b>{e(label(done.status))}</b> at {e(fmt_time(done.at))}{extra}</p>")
            out.append("</div>")

    if s.step_outcomes:
        out.append("<h2>Step outcomes</h2><ul>")
        for o in s.step_outcomes:
            q = next((i for i, t in enumerate(s.turns, 1) if t.id == o.turn_id), "?")
            out.append(f"<li>{e(fmt_time(o.at))}: question {q}, step {o.step}: {e(label(o.status))}"
                       f"{' - ' + e(o.note) if o.note else ''}</li>")
        out.append("</ul>")
    if s.notes:
        out.append("<h2>Notes</h2><ul>")
        out += [f"<li>{e(fmt_time(n.at))}: {e(n.text)}</li>" for n in s.notes]
        out.append("</ul>")
    out.append(f"<h2>Outcome</h2><p>{e(label(s.outcome) or 'The session is still open.')}</p>")
    if s.reviews:
        out.append("<h2>Review</h2>")
        for i, r in enumerate(reversed(s.reviews)):
            tag = "current" if i == 0 else "earlier"
            out.append(f"<div class='step'><p><b>{e(label(r.verdict) or 'no verdict')}</b> by "
                       f"{e(r.reviewer or 'unnamed')} at {e(fmt_time(r.at))} <span class='muted'>({tag})</span></p>")
            if r.comment:
                out.append(f"<p>{e(r.comment)}</p>")
            if r.step_ratings:
                out.append("<ul>" + "".join(f"<li>step {int(k)}: {e(label(v))}</li>"
                                            for k, v in sorted(r.step_ratings.items())) + "</ul>")
            out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out).encode("utf-8")
