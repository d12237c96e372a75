"""A first question creates its session, stores its photos and saves the question in one transaction:
a write that fails on the way (a full disk) leaves no empty open session, and says so in one sentence."""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.domain import Turn
from assistant.errors import StorageError
from assistant.service import Fieldlens
from assistant.sessions import SessionStore
from assistant.sessions import events as ev

ROOT = Path(__file__).resolve().parents[3]
PHOTO = ROOT / "assets" / "photos" / "vfd-vx500-display-f004.jpg"  # a display with a code on it


def _disk_full_at(store, monkeypatch: pytest.MonkeyPatch, etype: str) -> None:
    """The disk fills up exactly when an event of `etype` is written."""
    store = getattr(store, "_inner", store)  # the service's store is seen through a guard
    real = store._insert_event

    def insert(conn, session_id, seq, kind, payload, at):
        if kind == etype:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(conn, session_id, seq, kind, payload, at)

    monkeypatch.setattr(store, "_insert_event", insert)


def test_transaction_commits_all_or_nothing(store: SessionStore) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction():
            s = store.create(technician="Ana")
            store.add_turn(s.id, Turn(question="pump trips"))
            assert [t.question for t in store.get(s.id).turns] == ["pump trips"]  # reads see the writes
            seen_elsewhere: list[bool] = []
            worker = threading.Thread(target=lambda: seen_elsewhere.append(store.exists(s.id)))
            worker.start()
            worker.join()
            assert seen_elsewhere == [False]  # other threads see nothing until it commits
            raise RuntimeError("failed half way")
    assert store.count() == 0 and not store.exists(s.id)
    with store.transaction():
        s = store.create()
        with store.transaction():  # nested: part of the outer one
            store.add_turn(s.id, Turn(question="second try"))
    assert [e["type"] for e in store.events(s.id)] == [ev.CREATED, ev.TURN_ADDED]
    assert store.verify(s.id) == []


@pytest.fixture
def fl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FIELDLENS_SAMPLES", "1")
    for name in ("FIELDLENS_PROVIDER", "FIELDLENS_MODEL", "FIELDLENS_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    service = Fieldlens(load_settings(tmp_path / "home", env={}))
    yield service
    service.close()


@pytest.mark.parametrize("fails_at", [ev.TURN_ADDED, ev.OBSERVATIONS_ADDED, ev.PHOTO_ADDED])
def test_full_disk_during_a_first_question_leaves_no_empty_session(fl: Fieldlens, monkeypatch: pytest.MonkeyPatch,
                                                                   fails_at: str) -> None:
    if not PHOTO.exists():
        pytest.skip("the sample photos are not in assets/photos")
    _disk_full_at(fl.sessions, monkeypatch, fails_at)
    with pytest.raises(StorageError, match="full"):
        fl.ask("the drive trips when the motor accelerates", photos=[PHOTO])
    assert fl.sessions.count() == 0  # nothing half made: no session without its question
    monkeypatch.undo()  # room again: the same question works and is saved whole
    monkeypatch.setenv("FIELDLENS_SAMPLES", "1")
    answer = fl.ask("the drive trips when the motor accelerates", photos=[PHOTO])
    saved = fl.sessions.get(answer.session_id)
    assert fl.sessions.count() == 1 and [t.question for t in saved.turns] == [answer.question]
    assert saved.photos and saved.turns[0].photo_ids == [saved.photos[0].id]
    assert fl.sessions.verify(saved.id) == []


def test_full_disk_on_a_follow_up_keeps_the_session(fl: Fieldlens, monkeypatch: pytest.MonkeyPatch) -> None:
    first = fl.ask("fan fault")
    _disk_full_at(fl.sessions, monkeypatch, ev.TURN_ADDED)
    with pytest.raises(StorageError, match="full"):
        fl.ask("still faulting", session_id=first.session_id)
    assert [t.question for t in fl.sessions.get(first.session_id).turns] == [first.question]


def _cli(home: Path, *args: str, limit: int | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDLENS_", "OPENAI_", "ANTHROPIC_"))}
    env.update({"FIELDLENS_HOME": str(home), "FIELDLENS_SAMPLES": "1", "PYTHONPATH": str(ROOT)})

    def apply_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=apply_limit if limit else None)


def test_file_size_limit_during_a_first_question_leaves_no_session(tmp_path: Path) -> None:
    """A real write failure: under a 300 KiB file-size limit the session's first writes fit, the photo
    (345 KB) does not. (A lower limit trips over the library's own files first.)"""
    if not PHOTO.exists():
        pytest.skip("the sample photos are not in assets/photos")
    limit = 300 * 1024
    assert PHOTO.stat().st_size > limit
    home = tmp_path / "home"
    warm = _cli(home, "ask", "fan", "fault", "--json")  # every store exists and has room
    assert warm.returncode == 0, warm.stderr
    before = json.loads(_cli(home, "sessions", "list", "--json").stdout)
    limited = _cli(home, "ask", "the", "drive", "trips", "--photo", str(PHOTO), limit=limit)
    assert limited.returncode == 2, limited.stderr
    assert len(limited.stderr.strip().splitlines()) == 1 and "limit" in limited.stderr, limited.stderr
    assert "sessions database" in limited.stderr, limited.stderr  # the write that failed was the session's
    after = json.loads(_cli(home, "sessions", "list", "--json").stdout)
    assert [s["id"] for s in after] == [s["id"] for s in before]  # no empty session was left behind
    again = _cli(home, "ask", "the", "drive", "trips", "--photo", str(PHOTO), "--json")
    assert again.returncode == 0, again.stderr
    assert len(json.loads(_cli(home, "sessions", "list", "--json").stdout)) == len(before) + 1
