"""Content-addressed photo blobs on disk.

Owns: `root/photos/<sha[:2]>/<sha>.<ext>` (the original bytes) and
`root/photos/<sha[:2]>/<sha>.prepared.jpg` (the copy made ready for a model),
written atomically (temporary file, fsync, rename, fsync of the folder) so a
crash never leaves a half-written photo under its final name. The same photo
in many sessions is one file. Deleting goes through a trash folder so a
delete can be undone if the database transaction around it fails.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

_EXT = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tif",
}
PREPARED_SUFFIX = ".prepared.jpg"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ext_for(media_type: str) -> str:
    return _EXT.get(media_type.lower().strip(), "bin")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that it is either absent or complete, even across a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class PhotoBlobs:
    """The photo folder of one store."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.trash = self.root / ".trash"

    def original_path(self, sha: str, ext: str) -> Path:
        return self.root / sha[:2] / f"{sha}.{ext}"

    def prepared_path(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}{PREPARED_SUFFIX}"

    def put(self, sha: str, ext: str, data: bytes, prepared: bytes | None) -> bool:
        """Store a photo (no-op for bytes already there and intact). Returns True if a prepared copy exists."""
        original = self.original_path(sha, ext)
        if not (original.exists() and original.stat().st_size == len(data)):
            write_atomic(original, data)
        target = self.prepared_path(sha)
        if prepared is not None and not (target.exists() and target.stat().st_size == len(prepared)):
            write_atomic(target, prepared)
        return target.exists()

    def move_to_trash(self, sha: str, ext: str) -> list[tuple[Path, Path]]:
        """Move a photo's files into the trash; returns (trash, original) pairs for restore/purge."""
        moved = []
        for path in (self.original_path(sha, ext), self.prepared_path(sha)):
            if path.exists():
                self.trash.mkdir(parents=True, exist_ok=True)
                dest = self.trash / f"{uuid.uuid4().hex}-{path.name}"
                os.replace(path, dest)
                moved.append((dest, path))
        return moved

    @staticmethod
    def restore(moved: list[tuple[Path, Path]]) -> None:
        for dest, original in moved:
            if dest.exists():
                os.replace(dest, original)

    @staticmethod
    def purge(moved: list[tuple[Path, Path]]) -> None:
        for dest, _ in moved:
            dest.unlink(missing_ok=True)

    def pending(self) -> list[tuple[str, Path, Path]]:
        """Files left in the trash by a delete interrupted by a crash: (sha, trash path, original path).
        The store restores those whose photo is still referenced and purges the rest."""
        found = []
        if self.trash.exists():
            for path in self.trash.iterdir():
                name = path.name.split("-", 1)[-1]
                sha = name.split(".", 1)[0]
                if len(sha) == 64:
                    found.append((sha, path, self.root / sha[:2] / name))
        return found
