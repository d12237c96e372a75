"""Session reports: PDF, JSON and HTML.

Owns: `export_session()` (dispatch + atomic write of the report file).
Every format goes through `common.prepare` first, so secrets are scrubbed and
names removed (when asked) in one place.
"""

from __future__ import annotations

from pathlib import Path

from assistant.domain import Session
from assistant.errors import StorageError
from assistant.sessions.export.common import PhotoLoader, photo_images, prepare
from assistant.sessions.export.json import EXPORT_SCHEMA_VERSION, SessionExport, export_json_schema, render_json
from assistant.sessions.photos import write_atomic

FORMATS = ("pdf", "json", "html")


def render(session: Session, log: list[dict], fmt: str, *, anonymize: bool = False,
           photo_loader: PhotoLoader | None = None) -> bytes:
    """The report's bytes in `fmt` (pdf, json or html)."""
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use pdf, json or html")
    session, events = prepare(session, log, anonymize=anonymize)
    if fmt == "json":
        return render_json(session, events, anonymized=anonymize)
    images = photo_images(session, photo_loader or (lambda _id: None))
    if fmt == "html":
        from assistant.sessions.export.html import render_html

        return render_html(session, images, anonymized=anonymize)
    from assistant.sessions.export.pdf import render_pdf

    return render_pdf(session, images, anonymized=anonymize)


def export_session(session: Session, log: list[dict], fmt: str, out: Path, *, anonymize: bool = False,
                   photo_loader: PhotoLoader | None = None) -> Path:
    data = render(session, log, fmt, anonymize=anonymize, photo_loader=photo_loader)
    out = Path(out)
    try:
        write_atomic(out, data)
    except OSError as exc:
        raise StorageError(f"The report could not be written to {out} ({exc.strerror}).") from None
    return out


__all__ = ["EXPORT_SCHEMA_VERSION", "FORMATS", "SessionExport", "export_json_schema", "export_session", "render"]
