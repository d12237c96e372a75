"""The fleet's manual feed: documents an admin adds once on the server, served in the feed format
`fieldlens library sync URL` reads (`assistant.library.sync`): {"documents": [{url, sha256, version,
title, equipment, kind}], "equipment": []}.

Owns: `<data>/library/` (the files, content-addressed) and the `fleet_documents` table. Each
document keeps a stable URL (`files/<key>/<filename>`, relative to the feed), so a new revision of a
file replaces the old one on every tablet; its sha256 tells tablets whether it changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from assistant.domain import DocumentKind, utc_now
from assistant.library.ingest import EXTENSIONS, MAX_BYTES
from assistant.server import schema
from assistant.server.errors import NotFound, Refused, TooLarge
from assistant.sessions import events as ev
from assistant.sessions.photos import write_atomic

D = schema.documents
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MEDIA_TYPES = {".pdf": "application/pdf", ".md": "text/markdown", ".markdown": "text/markdown",
               ".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".yaml": "application/yaml",
               ".yml": "application/yaml", ".json": "application/json"}


def safe_filename(name: str) -> str:
    base = Path(name or "").name
    cleaned = _SAFE.sub("-", base).strip("-.") or "document"
    return cleaned[:150]


class FleetLibrary:
    def __init__(self, engine, root: Path):
        self.engine = engine
        self.root = Path(root)

    def _blob(self, sha: str, ext: str) -> Path:
        return self.root / sha[:2] / f"{sha}{ext}"

    def add(self, filename: str, data: bytes, *, title: str = "", version: str = "",
            kind: str | None = None, equipment: list[str] | None = None, key: str | None = None) -> dict:
        """Add (or replace, same key) a document in the feed. The key defaults to the file name."""
        filename = safe_filename(filename)
        ext = Path(filename).suffix.lower()
        if ext not in EXTENSIONS:
            raise Refused(f"{filename}: the library takes {', '.join(sorted(EXTENSIONS))} files.", 415)
        if not data:
            raise Refused(f"{filename} is empty.", 422)
        if len(data) > MAX_BYTES:
            raise TooLarge(f"{filename} is larger than the library's {MAX_BYTES // 1024**2} MB limit.")
        if kind is not None:
            try:
                kind = str(DocumentKind(kind))
            except ValueError:
                raise Refused(f"The kind must be one of {', '.join(k.value for k in DocumentKind)}.", 422) from None
        key = safe_filename(key or Path(filename).stem).lower()
        sha = hashlib.sha256(data).hexdigest()
        blob = self._blob(sha, ext)
        if not blob.exists():
            write_atomic(blob, data)
        values = dict(filename=filename, sha256=sha, ext=ext, byte_count=len(data), title=title or "",
                      version=str(version or ""), kind=kind, equipment=json.dumps(list(equipment or [])),
                      added_at=ev.naive_utc(utc_now()))
        with self.engine.begin() as conn:
            if conn.execute(select(D.c.doc_key).where(D.c.doc_key == key)).first() is None:
                conn.execute(insert(D).values(doc_key=key, **values))
            else:
                conn.execute(update(D).where(D.c.doc_key == key).values(**values))
        return self._entry_of(key)

    def remove(self, key: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(delete(D).where(D.c.doc_key == key)).rowcount:
                raise NotFound(f"The feed has no document {key}.")

    def _entry_of(self, key: str) -> dict:
        return next(e for e in self.entries() if e["key"] == key)

    def entries(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(D).order_by(D.c.doc_key)).all()
        return [{"key": r.doc_key, "filename": r.filename, "sha256": r.sha256, "bytes": r.byte_count,
                 "title": r.title, "version": r.version, "kind": r.kind, "equipment": json.loads(r.equipment),
                 "added_at": ev.as_utc(r.added_at).isoformat()} for r in rows]

    def feed(self) -> bytes:
        """The feed body (URLs relative to the feed's own URL)."""
        documents = []
        for e in self.entries():
            item = {"url": f"files/{e['key']}/{e['filename']}", "sha256": e["sha256"], "version": e["version"],
                    "title": e["title"] or None, "equipment": e["equipment"]}
            if e["kind"]:
                item["kind"] = e["kind"]
            documents.append(item)
        return json.dumps({"documents": documents, "equipment": []}, ensure_ascii=False, indent=1).encode()

    def file(self, key: str, filename: str) -> tuple[Path, str, str]:
        """(path, media type, sha256) of a document in the feed."""
        with self.engine.connect() as conn:
            row = conn.execute(select(D.c.sha256, D.c.ext, D.c.filename).where(D.c.doc_key == key)).first()
        if row is None or row.filename != filename:
            raise NotFound("The feed has no such document.")
        path = self._blob(row.sha256, row.ext)
        if not path.exists():
            raise NotFound("The document's file is missing on the server.")
        return path, MEDIA_TYPES.get(row.ext, "application/octet-stream"), row.sha256
