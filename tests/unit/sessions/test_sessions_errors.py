"""Bad storage: a corrupt database file, a full disk on write. Clear errors; nothing else harmed."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from sessions_factories import make_jpeg, make_photo
from sqlalchemy import event

from assistant.domain import Note, Photo, Turn
from assistant.errors import StorageError
from assistant.sessions import SessionStore


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_garbage_database_file_gives_a_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    good_root, bad_root = tmp_path / "good", tmp_path / "bad"
    with SessionStore(good_root) as good:
        sid = good.create(technician="Ana").id
    bad_root.mkdir()
    bad = bad_root / "sessions.sqlite"
    bad.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    before = _digest(bad)
    with pytest.raises(StorageError) as info:
        SessionStore(bad_root)
    message = str(info.value)
    assert "damaged" in message and str(bad) in message and "\n" not in message and "Traceback" not in message
    assert _digest(bad) == before
    with SessionStore(good_root) as good:  # the other database is untouched
        assert good.get(sid).technician == "Ana"


def test_a_database_damaged_inside_is_reported_not_crashed_on(tmp_path: Path) -> None:
    root = tmp_path / "s"
    with SessionStore(root) as store:
        for i in range(60):
            s = store.create(technician=f"T{i}")
            store.add_turn(s.id, Turn(question="q" * 3000))
    db = root / "sessions.sqlite"
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, 3 * page):  # scribble over many pages, keep the header
        data[offset:offset + page] = os.urandom(page)
    db.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="damaged|could not be read"):
        store = SessionStore(root)
        try:
            for summary in store.list(limit=1000):
                store.get(summary.id)
        finally:
            store.close()


def _limit_pages(store: SessionStore, extra_pages: int):
    """Make the database 'full': SQLite's max_page_count fails writes with SQLITE_FULL
    ('database or disk is full'), exactly as a full disk does, without needing a tiny filesystem."""
    with store._engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    store._engine.dispose()
    event.listen(store._engine, "connect", cap)
    return cap


def test_a_full_disk_on_write_is_a_storage_error_and_harms_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s")
    try:
        other = store.create(technician="Other")
        store.add_note(other.id, Note(text="kept"))
        sid = store.create(technician="Writer").id
        before = store.get(sid)
        events_before = store.events(sid)
        cap = _limit_pages(store, 2)
        with pytest.raises(StorageError) as info:
            for _ in range(50):
                store.add_note(sid, Note(text="x" * 20_000))
        assert "full" in str(info.value) and "\n" not in str(info.value)
        after = store.get(sid)  # reading still works, the last committed state is intact
        assert len(after.notes) < 50
        assert store.events(sid)[: len(events_before)] == events_before
        assert [e["seq"] for e in store.events(sid)] == list(range(1, len(store.events(sid)) + 1))
        assert after.model_copy(update={"notes": [], "updated_at": before.updated_at}) == before
        assert store.get(other.id).notes[0].text == "kept"
        event.remove(store._engine, "connect", cap)
        store._engine.dispose()
        store.add_note(sid, Note(text="space freed"))  # writes work again once there is room
        assert store.get(sid).notes[-1].text == "space freed"
    finally:
        store.close()


def test_a_full_disk_while_saving_a_photo_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SessionStore(tmp_path / "s")
    try:
        sid = store.create().id
        data = make_jpeg(11)
        photo = make_photo(data)
        real_fsync = os.fsync

        def no_space(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("assistant.sessions.photos.os.fsync", no_space)
        with pytest.raises(StorageError, match="full"):
            store.add_photo(sid, photo, data)
        monkeypatch.setattr("assistant.sessions.photos.os.fsync", real_fsync)
        assert store.get(sid).photos == [] and len(store.events(sid)) == 1
        assert [p for p in (store.root / "photos").rglob("*") if p.is_file()] == []  # no half-written file
        store.add_photo(sid, photo, data)
        assert store.photo_path(photo.id).read_bytes() == data
    finally:
        store.close()


def test_an_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError):
        SessionStore(blocker / "sessions")


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real 1 MB filesystem (tmpfs), where this process may mount one (root on Linux)."""
    import subprocess

    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root on Linux; the max_page_count test covers SQLite-full")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("this system does not allow mounting a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_really_full_disk(tiny_disk: Path) -> None:
    import random as _random

    store = SessionStore(tiny_disk / "s")
    try:
        sid = store.create(technician="Tiny").id
        rnd = _random.Random(3)
        saved = 0
        with pytest.raises(StorageError) as info:
            for i in range(200):  # noisy photos do not compress: ~100 KB each
                data = bytes(rnd.getrandbits(8) for _ in range(100_000))
                store.add_photo(sid, Photo(id=hashlib.sha256(data).hexdigest(), media_type="image/jpeg"), data)
                saved += 1
        assert "full" in str(info.value)
        assert saved >= 1
        session = store.get(sid)  # every committed photo is there, whole; nothing half-written
        assert len(session.photos) == saved
        for photo in session.photos:
            assert _digest(store.photo_path(photo.id)) == photo.id
        assert [e["seq"] for e in store.events(sid)] == list(range(1, saved + 2))
    finally:
        store.close()
