"""Opening each store of a home on its own, so that one damaged store fails only
the commands that need it.

Owns `<home>/stores.json`, the home's manifest: it records each store (the
library index, the sessions database) once it has been created, so that a store
file that later goes missing or is emptied is reported instead of silently
re-created empty. Owns the cross-process lock that serialises `library add`,
moving damaged files aside (`NAME.damaged-YYYYmmdd-HHMMSS`, never deleting
them), rebuilding a cache (diskcache) that cannot be opened, and turning SQLite
and file-system failures met while a store is in use into one plain sentence
that names the file and what to do.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.errors import FieldlensError, StorageError

log = logging.getLogger(__name__)

MANIFEST = "stores.json"
STORE_FILES = {"library": Path("library") / "index.sqlite", "sessions": Path("sessions") / "sessions.sqlite"}
REPAIR_HINT = "run `fieldlens doctor --repair`"
_NO_ROOM = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
            errno.EFBIG: "a file-size limit was hit"}


# ---------------------------------------------------------------------------- manifest


def read_manifest(home: Path) -> dict:
    try:
        data = json.loads((home / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("stores"), dict) else {}


def _write_manifest(home: Path, data: dict) -> None:
    path = home / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def is_new_home(home: Path) -> bool:
    """A home is new when it has neither a manifest nor a library yet."""
    return not (home / MANIFEST).exists() and not (home / STORE_FILES["library"]).exists()


def initialise_home(home: Path) -> None:
    """Create the home's manifest if it has none."""
    if not (home / MANIFEST).exists():
        _write_manifest(home, {"created": _now(), "stores": {}})


def record_store(home: Path, name: str) -> None:
    """Note in the manifest that `name` exists (idempotent; cheap when already noted)."""
    data = read_manifest(home) or {"created": _now(), "stores": {}}
    if name in data["stores"]:
        return
    data["stores"][name] = {"created": _now()}
    try:
        _write_manifest(home, data)
    except OSError as exc:
        log.warning("could not update %s: %s", home / MANIFEST, exc)


def forget_store(home: Path, name: str) -> None:
    data = read_manifest(home)
    if data and data["stores"].pop(name, None) is not None:
        _write_manifest(home, data)


def lost_store(home: Path, name: str) -> str | None:
    """Why the store is lost (its file missing or empty although the manifest records it), or None."""
    if name not in read_manifest(home).get("stores", {}):
        return None
    path = home / STORE_FILES[name]
    if not path.exists():
        return "missing"
    if path.stat().st_size == 0:
        return "empty"
    return None


def check_not_lost(home: Path, name: str) -> None:
    why = lost_store(home, name)
    if why:
        what = {"library": "library index", "sessions": "sessions database"}[name]
        raise StorageError(f"The {what} {home / STORE_FILES[name]} is {why} although this home held one; restore it "
                           f"from a backup, or {REPAIR_HINT} to start an empty one.")


# ---------------------------------------------------------------------------- damaged files


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def move_aside(path: Path) -> Path:
    """Rename a damaged file or folder (and SQLite's -wal/-shm beside it) to a dated name; returns the new path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 2
    while target.exists():
        target, n = path.with_name(f"{path.name}.damaged-{stamp}-{n}"), n + 1
    os.replace(path, target)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def ensure_diskcache(directory: Path) -> Path | None:
    """Open and close the diskcache in `directory`; one that cannot be opened is moved aside (it is rebuilt
    as it is used). Returns where the damaged one went, or None."""
    import diskcache

    if not directory.exists():
        return None
    try:
        with diskcache.Cache(str(directory)) as cache:
            cache.get("fieldlens:probe")
        return None
    except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
        if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
            raise
        moved = move_aside(directory)
        log.warning("the cache %s could not be opened (%s); moved to %s and rebuilt", directory, exc, moved)
        return moved


# ---------------------------------------------------------------------------- sentences


def no_room(exc: BaseException, path: Path | None = None) -> str | None:
    """'the disk is full' (or which limit) when `exc` is a write that found no room, else None.

    SQLite reports some writes that found no room as a plain 'disk I/O error' (its shared-memory file could
    not grow): with `path`, such an error counts as a full disk when the disk holding `path` is (nearly) full,
    or as a file-size limit when the process has one."""
    seen: set[int] = set()
    io_error = False
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
            return _NO_ROOM[exc.errno]
        text = str(exc).lower()
        if "database or disk is full" in text or "no space left" in text or "device is full" in text:
            return "the disk is full"
        if "file too large" in text:
            return "a file-size limit was hit"
        io_error = io_error or "disk i/o error" in text or (isinstance(exc, OSError) and exc.errno == errno.EIO)
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    if io_error and path is not None:
        return _room_left(path)
    return None


def _room_left(path: Path) -> str | None:
    import shutil

    probe = path if path.exists() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        if shutil.disk_usage(probe).free < 1024 * 1024:
            return "the disk is full"
    except OSError:
        pass
    try:
        import resource

        if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
            return "a file-size limit was hit"
    except (ImportError, OSError, ValueError):
        pass
    return None


def storage_sentence(exc: BaseException, what: str, path: Path) -> str:
    room = no_room(exc, path)
    if room:
        return f"The {what} {path} could not be written because {room}; nothing was changed. Free some space " \
               "and try again."
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        return f"The {what} {path} is busy in another Fieldlens; try again in a moment."
    detail = "its text cannot be decoded" if isinstance(exc, UnicodeDecodeError) else str(exc)
    return f"The {what} {path} is damaged ({detail}); {REPAIR_HINT}."


def sentence_for(exc: BaseException) -> str:
    """One sentence for an OSError or SQLite error that reached the command line."""
    where = getattr(exc, "filename", None)
    room = no_room(exc)
    if room:
        target = f" {where}" if where else ""
        return f"The file{target} could not be written because {room}; nothing was changed. Free some space " \
               "and try again."
    if isinstance(exc, sqlite3.Error):
        return f"A Fieldlens database could not be used ({exc}); {REPAIR_HINT}."
    detail = getattr(exc, "strerror", None) or exc.__class__.__name__
    return f"{detail}{f' ({where})' if where else ''}."


class GuardedStore:
    """A store seen through its public methods: SQLite errors met while it is used become one StorageError
    sentence naming its file. Attributes that are not callables pass through unchanged."""

    def __init__(self, inner: Any, what: str, path: Path) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_what", what)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value) or name.startswith("__"):
            return value
        return self._guard(value)

    def _guard(self, method: Callable) -> Callable:
        @functools.wraps(method)
        def guarded(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except StorageError as exc:
                if no_room(exc, self._path):
                    raise StorageError(storage_sentence(exc, self._what, self._path)) from None
                raise
            except FieldlensError:
                raise
            except (sqlite3.Error, UnicodeDecodeError) as exc:
                raise StorageError(storage_sentence(exc, self._what, self._path)) from None
            except OSError as exc:
                if no_room(exc, self._path):
                    raise StorageError(storage_sentence(exc, self._what, self._path)) from None
                raise

        return guarded


# ---------------------------------------------------------------------------- opening


def open_library(home: Path, library_dir: Path) -> Any:
    """The library of a home, guarded. Raises StorageError (one sentence) when it cannot be used."""
    from assistant.library import Library

    index = library_dir / "index.sqlite"
    check_not_lost(home, "library")
    ensure_diskcache(library_dir / "cache" / "blobs")
    try:
        library = Library(library_dir)
    except FieldlensError as exc:
        if no_room(exc, index):
            raise StorageError(storage_sentence(exc, "library index", index)) from None
        if "newer" in str(exc):
            raise
        raise StorageError(f"The library index {index} cannot be opened: it is damaged; {REPAIR_HINT}.") from None
    except (sqlite3.Error, OSError, UnicodeDecodeError) as exc:  # flipped bits can surface as undecodable text
        raise StorageError(storage_sentence(exc, "library index", index)) from None
    record_store(home, "library")
    return GuardedStore(library, "library index", index)


def open_sessions(home: Path, sessions_dir: Path) -> Any:
    from assistant.sessions import SessionStore

    path = sessions_dir / "sessions.sqlite"
    check_not_lost(home, "sessions")
    try:
        store = SessionStore(sessions_dir)
    except FieldlensError as exc:
        if no_room(exc, path):
            raise StorageError(storage_sentence(exc, "sessions database", path)) from None
        if "damaged" in str(exc):
            raise StorageError(f"The sessions database {path} is damaged; {REPAIR_HINT} (it keeps the damaged "
                               "file under a dated name).") from None
        raise
    record_store(home, "sessions")
    return GuardedStore(store, "sessions database", path)


@contextmanager
def library_write_lock(library_dir: Path, timeout_s: float = 600) -> Iterator[None]:
    """One `library add` at a time across processes: the second waits, then sees the first's document."""
    from filelock import FileLock, Timeout

    library_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(library_dir / ".add.lock"), timeout=timeout_s):
            yield
    except Timeout:
        raise StorageError("Another Fieldlens is still adding documents to this library; try again when it "
                           "has finished.") from None
