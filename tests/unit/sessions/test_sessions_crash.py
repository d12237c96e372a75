"""Nothing lost: SIGKILL a writing child at random moments, and two processes writing at once."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.domain import Note
from assistant.sessions import SessionStore
from assistant.sessions.events import replay

CHILD = Path(__file__).with_name("sessions_child.py")
REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL needs a POSIX system")


def _spawn(root: Path, sid: str, mode: str, count: int, seed: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, str(CHILD), str(root), sid, mode, str(count), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


class _Reader(threading.Thread):
    """Collects a child's stdout lines as they arrive (so a kill loses nothing already printed)."""

    def __init__(self, proc: subprocess.Popen):
        super().__init__(daemon=True)
        self.proc, self.lines = proc, []
        self.started = threading.Event()  # the child has opened the store and is about to write

    def run(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("RESUMED"):
                self.started.set()

    def committed(self) -> int:
        return sum(1 for line in list(self.lines) if line.startswith("COMMITTED"))

    def wait_for_commits(self, n: int, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.committed() >= n:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.002)
        return False


def _check_consistent(root: Path, sid: str) -> list[dict]:
    store = SessionStore(root)
    try:
        log = store.events(sid)
        assert [e["seq"] for e in log] == list(range(1, len(log) + 1)), "event sequence has a gap"
        session = store.get(sid)
        rebuilt = replay(log)
        assert rebuilt.model_dump() == session.model_dump(), "snapshot differs from the replayed log"
        for photo in session.photos:  # every committed photo is on disk, whole
            data = store.photo_path(photo.id).read_bytes()
            assert hashlib.sha256(data).hexdigest() == photo.id
        # a write cut short may leave a hidden temporary file, never a partial file under a final name
        assert all(p.name.startswith(".") for p in (root / "photos").rglob("*.tmp"))
        return log
    finally:
        store.close()


def test_sigkill_at_random_moments_loses_no_committed_event(tmp_path: Path) -> None:
    root = tmp_path / "store"
    rnd = random.Random(20261122)
    sid = "new"
    reported: dict[int, str] = {}
    kills = 0
    for round_no in range(8):
        proc = _spawn(root, sid, "crash", 400, seed=round_no)
        reader = _Reader(proc)
        reader.start()
        if round_no % 4 == 1:
            time.sleep(rnd.uniform(0.0, 1.0))  # during start-up: opening, migrating, creating
        else:
            # after a random number of writes, plus a random fraction of the next one: the kill lands
            # anywhere in a write (blob files, the transaction, the commit) whatever the machine's speed
            assert reader.wait_for_commits(rnd.randint(1, 12)), "the child did not get to write"
            time.sleep(rnd.uniform(0.0, 0.06))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        err = proc.stderr.read()
        proc.stderr.close()
        assert proc.returncode in (-signal.SIGKILL, 0), err
        kills += proc.returncode == -signal.SIGKILL
        for line in reader.lines:
            parts = line.split()
            if parts[:1] == ["READY"] and sid == "new":
                sid = parts[1]
                reported[1] = "created"
            elif parts[:1] == ["COMMITTED"]:
                reported[int(parts[1])] = parts[2]
        if sid == "new":
            continue  # killed before the session existed; the next child creates it
        log = _check_consistent(root, sid)
        by_seq = {e["seq"]: e["type"] for e in log}
        missing = {s: t for s, t in reported.items() if by_seq.get(s) != t}
        assert not missing, f"committed events lost after kill {round_no}: {missing}"
    assert sid != "new", "no child ever got far enough to create a session"
    assert kills >= 7, "the children finished before being killed: the test did not test crashes"
    assert len(reported) > 20, "too few writes happened between kills to mean anything"
    # resumable: a fresh process continues the same session
    with SessionStore(root) as store:
        before = len(store.events(sid))
        store.add_note(sid, Note(text="after the crashes"))
        assert len(store.events(sid)) == before + 1
        assert store.get(sid).notes[-1].text == "after the crashes"
    con = sqlite3.connect(root / "sessions.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_two_processes_write_the_same_session_at_once(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with SessionStore(root) as store:
        sid = store.create(technician="Two").id
    procs = [_spawn(root, sid, "writer", 40, seed=seed) for seed in (1, 2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
        assert out.count("DONE") == 40
    log = _check_consistent(root, sid)
    with SessionStore(root) as store:
        notes = [n.text for n in store.get(sid).notes]
    assert sorted(notes) == sorted(f"w{s}-{i}" for s in (1, 2) for i in range(40))
    assert len(log) == 1 + 2 + 80  # created, the shared photo from each writer, 80 notes
    assert len(list((root / "photos").rglob("*.jpg"))) == 1  # the shared photo is stored once


def test_threads_write_at_once(store: SessionStore) -> None:
    sid = store.create().id
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                store.add_note(sid, Note(text=f"t{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.get(sid).notes) == 60
    assert [e["seq"] for e in store.events(sid)] == list(range(1, 62))
