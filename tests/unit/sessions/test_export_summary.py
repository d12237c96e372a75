"""The PDF report opens with a one-page summary a supervisor reads first: equipment, technician,
outcome, verdict, flags and confidence, with the session's id only as a small reference."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from test_sessions_export import _flat, _session

from assistant.sessions import SessionStore


def test_first_page_is_the_summary(store: SessionStore, tmp_path: Path) -> None:
    sid = _session(store)
    out = store.export(sid, "pdf", tmp_path / "report.pdf")
    pdf = pdfium.PdfDocument(str(out))
    try:
        assert len(pdf) >= 2, "a summary page, then the details"
        first = _flat(pdf[0].get_textpage().get_text_range())
    finally:
        pdf.close()
    for needle in ["Equipment", "Technician", "AnaTechnician", "Outcome", "partsneeded", "Verdict",
                   "needsfollowup", "SamSupervisor", "Confidence", "Flags", "safetycritical", "Stepsticked",
                   "2of3"]:
        assert needle in first, needle
    assert first.index("Equipment") < first.index("Reference"), "the id is not the title"
    assert first.startswith("Fieldlenssessionreport")
