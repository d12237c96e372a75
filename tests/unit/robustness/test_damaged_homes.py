"""Damaged or unexpected homes: each store damaged on its own (flipped bits, emptied, deleted, garbage in
the cache), settings and secrets of every wrong shape, a FIFO where a file should be. A damaged store
fails only the commands that need it, with one sentence naming the file and what to do; everything else
works; `fieldlens doctor` finds each problem and `--repair` mends what can be mended, never deleting."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from harness import ASSETS, run_fieldlens

DOCS = [ASSETS / "library" / "vfd-vx500" / "wi-vx500-fan-replacement.md",
        ASSETS / "library" / "refrigeration-mb35" / "wi-mb35-low-pressure-al07.md"]
PHOTO = ASSETS / "photos" / "vfd-vx500-display-f004.jpg"


@pytest.fixture(scope="module")
def base_home(tmp_path_factory) -> Path:
    """A home with two documents and one answered session (with a photo)."""
    home = tmp_path_factory.mktemp("base") / "home"
    assert run_fieldlens(home, "library", "add", *map(str, DOCS)).status == 0
    run = run_fieldlens(home, "ask", "--photo", str(PHOTO), "--json", "fan", "fault", "F014", timeout=120)
    assert run.status == 0, run.stderr
    return home


@pytest.fixture
def home(base_home, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(base_home, copy)
    return copy


def _session_id(home: Path) -> str:
    run = run_fieldlens(home, "sessions", "list", "--json")
    assert run.status == 0, run.stderr
    return json.loads(run.stdout)[0]["id"]


def _flip_bits(path: Path, start: int = 4096, step: int = 997) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(start, len(data), step):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _ok(run) -> None:
    assert run.status == 0 and not run.stderr_lines(), (run.status, run.stderr[-1500:])


def _fails_naming(run, path: Path, *words: str) -> str:
    assert run.status == 2, (run.status, run.stdout[-500:], run.stderr[-1500:])
    line = run.one_sentence()
    assert str(path) in line, line
    for word in words:
        assert word in line, line
    return line


# ---------------------------------------------------------------------------- the library


def test_flipped_library_index_fails_only_library_commands(home, tmp_path):
    index = home / "library" / "index.sqlite"
    _flip_bits(index)
    _fails_naming(run_fieldlens(home, "library", "list"), index, "doctor --repair")
    _fails_naming(run_fieldlens(home, "library", "search", "fan"), index, "doctor --repair")
    session = _session_id(home)
    _ok(run_fieldlens(home, "sessions", "show", session))
    _ok(run_fieldlens(home, "sessions", "export", session, "--format", "json", "--out", str(tmp_path / "s.json")))
    assert json.loads((tmp_path / "s.json").read_text())


@pytest.mark.parametrize("damage, word", [("empty", "empty"), ("missing", "missing")])
def test_emptied_or_deleted_library_index_is_reported_not_recreated(home, damage, word):
    index = home / "library" / "index.sqlite"
    for side in index.parent.glob("index.sqlite-*"):
        side.unlink()
    index.write_bytes(b"") if damage == "empty" else index.unlink()
    _fails_naming(run_fieldlens(home, "library", "list"), index, word, "restore it from a backup")
    assert not index.exists() or index.stat().st_size == 0  # nothing was silently re-created
    _ok(run_fieldlens(home, "sessions", "list"))
    repaired = run_fieldlens(home, "doctor", "--repair")
    assert repaired.status == 0, repaired.stderr
    _ok(run_fieldlens(home, "library", "list"))  # an empty library, knowingly started again


def test_garbage_library_cache_is_moved_aside_and_rebuilt(home):
    cache_db = home / "library" / "cache" / "blobs" / "cache.db"
    cache_db.write_bytes(os.urandom(64 * 1024))
    run = run_fieldlens(home, "library", "search", "fan")
    _ok(run)
    assert "fan" in run.stdout.lower()
    moved = list((home / "library" / "cache").glob("blobs.damaged-*"))
    assert len(moved) == 1 and (moved[0] / "cache.db").read_bytes()  # kept, not deleted
    _ok(run_fieldlens(home, "doctor"))


def test_garbage_response_cache_is_moved_aside_before_a_question(home):
    responses = home / "cache" / "responses"
    responses.mkdir(parents=True)
    (responses / "cache.db").write_bytes(os.urandom(32 * 1024))
    assert run_fieldlens(home, "doctor").status == 2
    _ok(run_fieldlens(home, "ask", "fan", "fault"))
    assert list((home / "cache").glob("responses.damaged-*"))
    _ok(run_fieldlens(home, "doctor"))


def test_doctor_finds_and_repairs_a_damaged_search_index(home):
    index = home / "library" / "index.sqlite"
    with sqlite3.connect(index) as conn:
        conn.execute("DELETE FROM passages_fts WHERE rowid IN (SELECT rowid FROM passages LIMIT 3)")
    found = run_fieldlens(home, "doctor", "--json")
    assert found.status == 2 and found.one_sentence().startswith("fieldlens: 1 problem")
    findings = {f["check"]: f for f in json.loads(found.stdout)}
    assert findings["search index"]["status"] == "problem" and "3 passages are missing" in \
        findings["search index"]["detail"]
    assert findings["library index"]["status"] == "ok"
    repaired = run_fieldlens(home, "doctor", "--repair", "--json")
    assert repaired.status == 0, repaired.stderr
    assert {f["check"]: f["status"] for f in json.loads(repaired.stdout)}["search index"] == "repaired"
    _ok(run_fieldlens(home, "doctor"))


def test_doctor_moves_a_damaged_index_aside_with_a_dated_name(home):
    index = home / "library" / "index.sqlite"
    _flip_bits(index)
    before = index.read_bytes()
    found = run_fieldlens(home, "doctor")
    assert found.status == 2 and "library index" in found.stdout
    assert run_fieldlens(home, "doctor", "--repair").status == 0
    moved = [p for p in index.parent.glob("index.sqlite.damaged-*") if p.name[-1].isdigit()]  # not its -wal
    assert len(moved) == 1 and moved[0].read_bytes() == before  # nothing deleted
    _ok(run_fieldlens(home, "library", "list"))
    _ok(run_fieldlens(home, "doctor"))


def test_doctor_checks_cached_originals_and_photos_against_their_hashes(home):
    original = next((home / "library" / "cache" / "originals").rglob("*.md"))
    original.write_text(original.read_text() + "\ntampered\n")
    photo = next(p for p in (home / "sessions" / "photos").rglob("*.jpg") if ".prepared." not in p.name)
    photo.write_bytes(photo.read_bytes()[:-10])
    found = run_fieldlens(home, "doctor", "--json")
    assert found.status == 2
    findings = {f["check"]: f for f in json.loads(found.stdout)}
    assert findings["cached originals"]["status"] == "problem"
    assert findings["session photos"]["status"] == "problem"
    repaired = run_fieldlens(home, "doctor", "--repair", "--json")
    statuses = {f["check"]: f["status"] for f in json.loads(repaired.stdout)}
    assert statuses["cached original"] == "repaired"  # copied again from its source file (same sha256)
    assert statuses["session photos"] == "repaired"
    assert list(photo.parent.glob("*.damaged-*"))  # moved aside, not deleted


# ---------------------------------------------------------------------------- the sessions store


def test_flipped_sessions_database_fails_only_session_commands(home):
    db = home / "sessions" / "sessions.sqlite"
    for side in db.parent.glob("sessions.sqlite-*"):
        side.unlink()
    _flip_bits(db, start=1024, step=101)
    _fails_naming(run_fieldlens(home, "sessions", "list"), db)
    _ok(run_fieldlens(home, "library", "list"))
    _ok(run_fieldlens(home, "library", "search", "fan"))
    _ok(run_fieldlens(home, "inspect", str(PHOTO), timeout=120))
    assert run_fieldlens(home, "doctor").status == 2
    assert run_fieldlens(home, "doctor", "--repair").status == 0
    assert list(db.parent.glob("sessions.sqlite.damaged-*"))
    _ok(run_fieldlens(home, "sessions", "list"))


def test_emptied_sessions_database_is_reported(home):
    db = home / "sessions" / "sessions.sqlite"
    for side in db.parent.glob("sessions.sqlite-*"):
        side.unlink()
    db.write_bytes(b"")
    _fails_naming(run_fieldlens(home, "sessions", "list"), db, "empty")
    _ok(run_fieldlens(home, "library", "list"))


# ---------------------------------------------------------------------------- settings and secrets

SHAPES = {
    "a list": b"[1, 2, 3]",
    "null": b"null",
    "a string": b'"sk-not-an-object"',
    "binary": bytes(range(128, 256)) * 4,
    "UTF-16": '{"provider": "offline"}'.encode("utf-16"),
    "not valid JSON": b"{provider: offline",
}


@pytest.mark.parametrize("which", ["settings", "secrets"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_settings_and_secrets_of_the_wrong_shape_are_named_and_defaults_used(home, which, shape):
    path = home / f"{which}.json"
    path.write_bytes(SHAPES[shape])
    run = run_fieldlens(home, "library", "list")
    assert run.status == 0 and "fan" in run.stdout.lower()
    line = run.one_sentence()
    assert str(path) in line and shape in line
    assert "sk-not-an-object" not in run.stdout + run.stderr  # what a secrets file holds is never shown
    doctor = run_fieldlens(home, "doctor", "--json")
    assert doctor.status == 2
    assert {f["check"]: f["status"] for f in json.loads(doctor.stdout)}[which] == "problem"


def test_fifo_in_place_of_the_settings_file_does_not_block(home):
    path = home / "settings.json"
    os.mkfifo(path)
    run = run_fieldlens(home, "library", "list", timeout=30)
    assert run.status == 0 and "not a regular file" in run.one_sentence()
