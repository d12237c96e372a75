"""Offline cache under `<root>/cache`: original files (content-addressed by
sha256, verified on read, outside the evicting cache so eviction never touches
what the index needs) and a size-capped diskcache with least-recently-used
eviction for page renders and OCR results."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import diskcache

from assistant.errors import StorageError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LibraryCache:
    def __init__(self, root: Path, limit_bytes: int):
        self.root = root
        self.originals_dir = root / "originals"
        self.originals_dir.mkdir(parents=True, exist_ok=True)
        self.blobs = diskcache.Cache(str(root / "blobs"), size_limit=int(limit_bytes),
                                     eviction_policy="least-recently-used", disk_min_file_size=0, cull_limit=1)
        # cull_limit=1: each insert evicts the single least-recently-used entry while over the cap, so
        # the entry just written is never the one evicted (unless it alone exceeds the cap)
        self._verified: dict[Path, tuple[int, int]] = {}
        self._lock = threading.Lock()

    # ---- originals (pinned)

    def original_path(self, sha: str, suffix: str) -> Path:
        return self.originals_dir / sha[:2] / f"{sha}{suffix.lower()}"

    def store_original(self, source: Path, sha: str, suffix: str) -> Path:
        dest = self.original_path(sha, suffix)
        if dest.exists() and dest.stat().st_size == source.stat().st_size:
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            if sha256_file(Path(tmp)) != sha:
                raise StorageError(f"{source.name} changed while it was being added; try again.")
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest

    def locate_original(self, stored: Path) -> Path:
        """This cache's copy of an original recorded as `stored`. Originals are content-addressed, so
        only the last two parts of the recorded path matter: a home that was moved or restored
        elsewhere still finds its own copies."""
        return self.originals_dir / stored.parent.name / stored.name

    def verified_original(self, path: Path, sha: str) -> Path:
        """The original file, after checking its sha256 (re-checked whenever size or mtime change)."""
        path = self.locate_original(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise StorageError(f"The cached copy of {path.name} is missing; add the document again.") from None
        stamp = (st.st_size, st.st_mtime_ns)
        with self._lock:
            if self._verified.get(path) == stamp:
                return path
        if sha256_file(path) != sha:
            raise StorageError(f"The cached copy of {path.name} is damaged (checksum mismatch); add the document again.")
        with self._lock:
            self._verified[path] = stamp
        return path

    def drop_original(self, path: Path) -> None:
        path = self.locate_original(path)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        self._verified.pop(path, None)

    # ---- evicting blobs

    def blob_path(self, key: str, produce: Callable[[], bytes]) -> Path:
        """Path of the cached blob for `key`, producing and storing it first when missing or evicted."""
        handle = self.blobs.get(key, read=True)
        if handle is None:
            data = produce()
            self.blobs.set(key, io.BytesIO(data), read=True)
            handle = self.blobs.get(key, read=True)
            if handle is None:  # evicted at once: the cap is smaller than one render
                raise StorageError("The page-image cache is too small to hold even one page; raise its size limit.")
        try:
            return Path(handle.name)
        finally:
            handle.close()

    def get(self, key: str):
        return self.blobs.get(key)

    def set(self, key: str, value) -> None:
        self.blobs.set(key, value)

    def volume(self) -> int:
        return int(self.blobs.volume())

    def close(self) -> None:
        self.blobs.close()


class Namespaced:
    """A view of the blob cache with keys prefixed (e.g. OCR results per document sha)."""

    def __init__(self, cache: LibraryCache, prefix: str):
        self.cache, self.prefix = cache, prefix

    def get(self, key):
        return self.cache.get(f"{self.prefix}:{key!r}")

    def set(self, key, value) -> None:
        self.cache.set(f"{self.prefix}:{key!r}", value)
