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
    assert [f.code for f in lib.lookup_code("err 7")] == ["ERR 07"]
    assert [f.code for f in lib.lookup_code("f1")] == ["F0001"]
    assert lib.lookup_code("F0001", equipment_id="rs5") == []
    assert lib.lookup_code("") == [] and lib.lookup_code("ZZ99") == []
    assert lib.known_codes("vx9") == {"F0001", "OC1", "E-21", "ERR 07", "2310"}
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
    b = lib.add(copy, equipment_ids=["rs5"])
    assert a.id == b.id and lib.document(a.id).equipment_ids == ["rs5"]


def test_remove(lib, docs):
    doc = lib.add(docs / "ch2.html")
    lib.remove(doc.id)
    assert lib.documents() == [] and lib.search("refrigerant") == [] and lib.known_codes() == set()
