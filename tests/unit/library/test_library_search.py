"""Search, code lookup, filters, snippets, query sanitising, re-ingest and revisions."""

from __future__ import annotations

import shutil
import threading

from conftest import make_drive_manual
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.domain import PassageKind


def _library(lib, docs):
    lib.add(docs / "vx9-manual.pdf", equipment_ids=["vx9"], revision="B")
    lib.add(docs / "rs5-guide.md", equipment_ids=["rs5"])
    lib.add(docs / "ch2.html")
    lib.add(docs / "wi-belt.yaml")
    return lib


def test_search_ranks_the_right_section_first(lib, docs):
    _library(lib, docs)
    hit = lib.search("how do I replace the cooling fan")[0]
    assert hit.section == "3 Maintenance > 3.1 Replacing the cooling fan" and hit.kind == PassageKind.PROCEDURE
    assert hit.page == 2 and hit.title == "VX-9 Drive Manual Rev B"
    hit = lib.search("oil filter change")[0]
    assert hit.section == "Changing the oil filter"
    assert "[[" in hit.snippet and "]]" in hit.snippet


def test_code_in_query_puts_the_fault_entry_first(lib, docs):
    _library(lib, docs)
    for query in ("display shows E-21", "e21 after 10 minutes", "what is err07", "ERR 7 encoder", "F1 trip",
                  "fault F0001 on start"):
        hits = lib.search(query)
        assert hits[0].kind == PassageKind.FAULT_CODE, query
        assert lib.passage(hits[0].passage_id).text.split()[0] in ("E-21", "Err", "F0001"), query
        assert "[[" in hits[0].snippet
    assert lib.search("2310")[0].passage_id == lib.lookup_code("2310")[0].passage_id


def test_lookup_code_variants_and_known_codes(lib, docs):
    _library(lib, docs)
    for variant in ("E-21", "e21", "E 21", "E-021", "e_21"):
        assert [f.code for f in lib.lookup_code(variant)] == ["E-21"], variant
    for variant in ("err 7", "ERR 07", "Error 7", "error:7", "7"):  # as a display shows it or a technician types it
        assert [f.code for f in lib.lookup_code(variant)] == ["Err 07"], variant
    assert [f.code for f in lib.lookup_code("f1")] == ["F0001"]
    assert lib.lookup_code("F0001", equipment_id="rs5") == []
    assert lib.lookup_code("") == [] and lib.lookup_code("ZZ99") == []
    assert lib.known_codes("vx9") == {"F0001", "OC1", "E-21", "Err 07", "2310"}  # as printed
    assert {"AL-03", "AL-11", "HP1", "LP2"} <= lib.known_codes()


def test_filters(lib, docs):
    _library(lib, docs)
    assert {h.doc_id for h in lib.search("replace", equipment_id="rs5")} <= {
        d.id for d in lib.documents("rs5")}
    assert lib.search("cooling fan", equipment_id="rs5") == [] or all(
        h.doc_id in {d.id for d in lib.documents("rs5")} for h in lib.search("cooling fan", equipment_id="rs5"))
    manual = lib.documents("vx9")[0]
    assert all(h.doc_id == manual.id for h in lib.search("fan", doc_id=manual.id))
    warnings = lib.search("hazardous voltage gloves pressure", kinds=[PassageKind.WARNING])
    assert warnings and all(h.kind == PassageKind.WARNING for h in warnings)
    assert len(lib.search("the", limit=3)) <= 3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_text_is_a_safe_query(lib, text):
    lib.search(text)
    lib.search(text, equipment_id="vx9", kinds=[PassageKind.TEXT])


def test_fts_syntax_in_user_text(lib, docs):
    _library(lib, docs)
    for query in ('"unbalanced', "fan AND", "NEAR(fan cooling)", "fan*", "-fan", "title:fan", "^fan", "(", "'",
                  "fan OR OR", "{fan}", "a:b:c", "\x00", "   ", ""):
        hits = lib.search(query)
        assert isinstance(hits, list)
    assert lib.search("fan*")[0].section.endswith("Replacing the cooling fan")


def test_reingest_unchanged_does_nothing_changed_replaces(lib, tmp_path):
    path = make_drive_manual(tmp_path / "m.pdf")
    first = lib.add(path, equipment_ids=["vx9"])
    ids = [p.id for p in lib.passages(first.id)]
    again = lib.add(path)
    assert again.ingested_at == first.ingested_at and [p.id for p in lib.passages(first.id)] == ids
    make_drive_manual(path, overcurrent_remedy="Replace the output module")
    changed = lib.add(path)
    assert changed.id == first.id and changed.sha256 != first.sha256
    assert lib.lookup_code("F0001")[0].remedy == "Replace the output module"
    assert len(lib.lookup_code("F0001")) == 1  # old entry gone
    assert lib.search("1000 V tester cable insulation", kinds=[PassageKind.FAULT_CODE])[0].passage_id != \
        lib.lookup_code("F0001")[0].passage_id or "1000 V" not in lib.passage(lib.lookup_code("F0001")[0].passage_id).text
    assert len(lib.documents()) == 1


def test_readers_see_old_or_new_never_half(lib, tmp_path):
    path = make_drive_manual(tmp_path / "m.pdf")
    doc = lib.add(path)
    counts = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            counts.add(len(lib.fault_codes()))

    thread = threading.Thread(target=reader)
    thread.start()
    for n in range(3):
        make_drive_manual(path, overcurrent_remedy=f"Remedy version {n}")
        lib.add(path)
    stop.set()
    thread.join()
    assert counts == {5}
    assert lib.document(doc.id).passage_count == len(lib.passages(doc.id))


def test_two_revisions_are_linked_and_conflicts_reported(lib, tmp_path):
    rev_b = make_drive_manual(tmp_path / "vx9-rev-b.pdf", revision="B")
    rev_c = make_drive_manual(tmp_path / "vx9-rev-c.pdf", revision="C",
                              overcurrent_remedy="Replace the IGBT output module")
    b = lib.add(rev_b, equipment_ids=["vx9"], revision="B")
    c = lib.add(rev_c, equipment_ids=["vx9"], revision="C")
    assert b.id != c.id
    assert {d.id for d in lib.revisions(b.id)} == {b.id, c.id}
    entries = lib.lookup_code("F0001")
    assert {e.doc_id for e in entries} == {b.id, c.id}
    pids = [e.passage_id for e in entries]
    assert lib.revisions_conflict(pids) == [tuple(pids)]
    assert {lib.passage(p).revision for p in pids} == {"B", "C"}
    # identical entries in both revisions do not conflict
    same = [e.passage_id for e in lib.lookup_code("OC1")]
    assert len(same) == 2 and lib.revisions_conflict(same) == []
    # an unrelated manual is not a revision
    other = tmp_path / "other.md"
    other.write_text("# Pump P-1 manual\n\n## Fault codes\n\n| Code | Description |\n|---|---|\n| F0001 | Dry run |\n")
    o = lib.add(other)
    assert lib.revisions(o.id) == [lib.document(o.id)]
    assert lib.revisions_conflict([pids[0], lib.lookup_code("F0001")[-1].passage_id]) in ([], [tuple(pids)])


def test_same_file_from_two_paths_is_one_document(lib, docs, tmp_path):
    a = lib.add(docs / "rs5-guide.md")
    copy = tmp_path / "copy.md"
    shutil.copy(docs / "rs5-guide.md", copy)
    assert lib.search("oil filter", equipment_id="rs5") == []
    b = lib.add(copy, equipment_ids=["rs5"])
    assert a.id == b.id and lib.document(a.id).equipment_ids == ["rs5"]
    assert lib.search("oil filter", equipment_id="rs5")[0].doc_id == a.id  # the new link is searchable


def test_remove(lib, docs):
    doc = lib.add(docs / "ch2.html")
    lib.remove(doc.id)
    assert lib.documents() == [] and lib.search("refrigerant") == [] and lib.known_codes() == set()


def test_query_planning_for_large_libraries(lib, docs, monkeypatch):
    """When terms are common the planner AND-s them instead of scoring every matching row;
    the right passage must still come first."""
    from assistant.library import search

    _library(lib, docs)
    expected = lib.search("replace the cooling fan screws")[0].passage_id
    monkeypatch.setattr(search.Planner, "OR_BUDGET", 0)
    monkeypatch.setattr(search.Planner, "COMMON_MIN", 1)
    monkeypatch.setattr(search.Planner, "COMMON_SHARE", 0.0)
    lib._planner.invalidate()
    with lib.store.lock:
        plans = lib._planner.plans(lib.store.conn, "replace the cooling fan screws")
    assert plans and " AND " in plans[0]
    assert lib.search("replace the cooling fan screws")[0].passage_id == expected
    assert lib.search("cooling zzzunknownzzz")  # falls back to pairs / rare terms, still finds something


def test_abbreviations_expand(lib, docs):
    _library(lib, docs)
    lib.add(docs / "b7.txt")
    path = docs / "ppe.md"
    path.write_text("# Site rules\n\n## Personal protective equipment\n\nWear safety glasses and gloves.\n")
    doc = lib.add(path)
    hit = lib.search("PPE")[0]
    assert hit.doc_id == doc.id and hit.section == "Personal protective equipment"


def test_passage_boxes_and_figure_crops(lib, tmp_path):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "2 Components", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, "The unit consists of a motor and a gearbox mounted on a common frame. " * 3)
    pdf.set_fill_color(200, 210, 230)
    pdf.rect(40, 80, 130, 60, style="DF")
    pdf.circle(70, 110, 20, style="D")
    pdf.set_xy(60, 150)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(90, 5, "Figure 1: Motor and gearbox", align="C")
    pdf.set_xy(10, 170)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, "Check the gearbox oil level every month.")
    path = tmp_path / "fig.pdf"
    pdf.output(str(path))
    doc = lib.add(path)
    figure = next(p for p in lib.passages(doc.id) if p.kind == PassageKind.FIGURE)
    x0, top, x1, bottom = lib.passage_box(figure.id)
    assert 0.2 < x0 < x1 < 0.8 and 150 / 297 - 0.02 < top < bottom < 160 / 297 + 0.02
    prose = next(p for p in lib.passages(doc.id) if "common frame" in p.text)
    assert lib.passage_box(prose.id)[3] < 80 / 297  # above the drawing
    crop = lib.figure_image(figure.id, width=600)
    from PIL import Image

    with Image.open(crop) as image:
        w, h = image.size
    # the crop spans the drawing (80..140 mm) and the caption, not the prose above or below
    assert w == 600 and 0.45 < h / w < 0.75
    import pytest as _pytest

    from assistant.errors import UnknownDocument

    with _pytest.raises(UnknownDocument):
        lib.figure_image(prose.id)


def test_old_index_is_migrated(tmp_path, docs):
    import sqlite3

    from assistant.library import Library

    with Library(tmp_path / "lib") as lib:
        doc = lib.add(docs / "rs5-guide.md", equipment_ids=["rs5"]) if lib.upsert_equipment(
            __import__("assistant.domain", fromlist=["Equipment"]).Equipment(id="rs5", name="RS-5")) else None
    conn = sqlite3.connect(tmp_path / "lib" / "index.sqlite")
    conn.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with Library(tmp_path / "lib") as lib:
        assert lib.search("oil filter", equipment_id="rs5")[0].doc_id == doc.id
        assert lib.search("oil filter", kinds=[PassageKind.PROCEDURE])[0].kind == PassageKind.PROCEDURE
