"""Remote feed sync: read a JSON feed of documents (url, sha256, version, title,
equipment, kind) and equipment, download what changed with conditional GETs
(ETag / If-Modified-Since, remembered per URL), verify sha256, ingest with an
atomic replace, and report. A feed that cannot be reached leaves the library
exactly as it was (the cache keeps serving); a broken document fails alone."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.domain import DocumentKind, Equipment
from assistant.errors import FieldlensError, MalformedFile, SyncError
from assistant.library.ingest import EXTENSIONS, MAX_BYTES
from assistant.library.models import SyncFailure, SyncProgress, SyncReport

if TYPE_CHECKING:
    from assistant.library import Library

MAX_FEED_BYTES = 16 * 1024 * 1024


class FeedDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str
    sha256: str = ""
    version: str = ""
    title: str | None = None
    equipment: list[str] = Field(default_factory=list)
    kind: DocumentKind | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value):
        return "" if value is None else str(value)

    @field_validator("sha256")
    @classmethod
    def _sha(cls, value: str) -> str:
        value = value.strip().lower()
        if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
            raise ValueError("sha256 must be 64 hex digits")
        return value


class Feed(BaseModel):
    model_config = ConfigDict(extra="ignore")
    documents: list[FeedDocument] = Field(default_factory=list)
    equipment: list[Equipment] = Field(default_factory=list)


def _say(on_progress, **fields) -> None:
    if on_progress is not None:
        on_progress(SyncProgress(**fields))


def _validators(lib: Library, url: str) -> tuple[dict[str, str], bytes | None]:
    row = lib.store.one("SELECT etag, last_modified, body FROM sync_state WHERE url=?", (url,))
    headers: dict[str, str] = {}
    if row is None:
        return headers, None
    if row["etag"]:
        headers["If-None-Match"] = row["etag"]
    if row["last_modified"]:
        headers["If-Modified-Since"] = row["last_modified"]
    return headers, row["body"]


def _remember(lib: Library, url: str, response: httpx.Response, sha: str | None, body: bytes | None) -> None:
    with lib.store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO sync_state(url, etag, last_modified, sha256, body, checked_at) "
                     "VALUES (?,?,?,?,?,?)",
                     (url, response.headers.get("etag"), response.headers.get("last-modified"), sha, body,
                      datetime.now(timezone.utc).isoformat()))


def _reason(err: Exception) -> str:
    if isinstance(err, httpx.TimeoutException):
        return "the server did not answer in time"
    if isinstance(err, httpx.ConnectError):
        return "the server cannot be reached"
    if isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "the connection was dropped during the download"
    if isinstance(err, httpx.HTTPStatusError):
        return f"the server answered HTTP {err.response.status_code}"
    if isinstance(err, FieldlensError):
        return str(err)
    return str(err) or err.__class__.__name__


def sync_feed(lib: Library, url: str, *, on_progress: Callable[[SyncProgress], None] | None = None,
              timeout: float = 30.0) -> SyncReport:
    report = SyncReport(feed=url)
    if urlparse(url).scheme not in ("http", "https"):
        raise SyncError(f"{url} is not an http(s) URL.")
    tmp_dir = lib.root / "cache" / "incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), follow_redirects=True,
                      headers={"User-Agent": "fieldlens-library-sync"}) as client:
        _say(on_progress, stage="feed", doc=url)
        headers, cached_body = _validators(lib, url)
        try:
            response = client.get(url, headers=headers if cached_body is not None else {})
            if response.status_code == 304 and cached_body is not None:
                body = bytes(cached_body)
                report.feed_unchanged = True
            else:
                response.raise_for_status()
                body = response.content
                if len(body) > MAX_FEED_BYTES:
                    raise SyncError(f"The feed at {url} is too large.")
        except httpx.HTTPError as err:
            report.offline = not isinstance(err, httpx.HTTPStatusError)
            report.error = f"The feed at {url} could not be read: {_reason(err)}; the library was left as it was."
            _say(on_progress, stage="failed", doc=url, message=report.error)
            return report
        try:
            feed = Feed.model_validate(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError, ValidationError, TypeError) as err:
            detail = err.errors()[0]["msg"] if isinstance(err, ValidationError) else "it is not valid JSON"
            raise SyncError(f"The feed at {url} is malformed ({detail}); the library was left as it was.") from None
        if not report.feed_unchanged:
            _remember(lib, url, response, hashlib.sha256(body).hexdigest(), body)
        for item in feed.equipment:
            lib.upsert_equipment(item)
            report.equipment.append(item.id)
        count = len(feed.documents)
        for index, entry in enumerate(feed.documents, start=1):
            doc_url = urljoin(url, entry.url)
            label = entry.title or PurePosixPath(urlparse(doc_url).path).name or doc_url
            try:
                outcome, doc_id, size = _sync_document(lib, client, doc_url, entry, tmp_dir, index, count, label,
                                                       on_progress)
            except (httpx.HTTPError, FieldlensError, OSError) as err:
                reason = _reason(err)
                report.failed.append(SyncFailure(url=doc_url, title=label, reason=reason))
                _say(on_progress, stage="failed", doc=label, index=index, count=count, message=reason)
                continue
            report.bytes_downloaded += size
            getattr(report, outcome).append(doc_id)
        _say(on_progress, stage="done", doc=url, index=count, count=count,
             message=f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
                     f"{len(report.failed)} failed")
    return report


def _sync_document(lib: Library, client: httpx.Client, url: str, entry: FeedDocument, tmp_dir: Path, index: int,
                   count: int, label: str, on_progress) -> tuple[str, str, int]:
    existing = lib.store.one("SELECT id, sha256 FROM documents WHERE source_key=?", (url,))
    kind = entry.kind
    _say(on_progress, stage="check", doc=label, index=index, count=count)
    if existing is not None and entry.sha256 and existing["sha256"] == entry.sha256:
        lib.add_links(existing["id"], entry.equipment, entry.title, kind, entry.version)
        return "unchanged", existing["id"], 0
    headers, _ = _validators(lib, url)
    if existing is None:
        headers = {}
    suffix = PurePosixPath(urlparse(url).path).suffix.lower()
    if suffix not in EXTENSIONS:
        suffix = ""
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix=".download-", suffix=suffix)
    tmp = Path(tmp_name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304 and existing is not None:
                lib.add_links(existing["id"], entry.equipment, entry.title, kind, entry.version)
                return "unchanged", existing["id"], 0
            response.raise_for_status()
            total = int(response.headers["content-length"]) if response.headers.get("content-length", "").isdigit() \
                else None
            if total is not None and total > MAX_BYTES:
                raise MalformedFile(f"{label} is too large to download ({total / 1024**2:.0f} MB).")
            digest = hashlib.sha256()
            for chunk in response.iter_bytes(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if size > MAX_BYTES:
                    raise MalformedFile(f"{label} is too large to download.")
                _say(on_progress, stage="download", doc=label, index=index, count=count, bytes_done=size,
                     bytes_total=total)
            if total is not None and size != total:
                raise httpx.RemoteProtocolError("incomplete body")
        sha = digest.hexdigest()
        _say(on_progress, stage="verify", doc=label, index=index, count=count, bytes_done=size, bytes_total=size)
        if entry.sha256 and sha != entry.sha256:
            raise MalformedFile(f"{label} failed its integrity check (sha256 {sha[:12]}… does not match the feed's "
                                f"{entry.sha256[:12]}…); the previous copy was kept.")
        if not suffix:
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            guess = {"application/pdf": ".pdf", "text/markdown": ".md", "text/html": ".html", "text/plain": ".txt",
                     "application/json": ".json", "application/yaml": ".yaml", "text/yaml": ".yaml"}.get(ctype, "")
            if guess:
                renamed = tmp.with_suffix(guess)
                os.replace(tmp, renamed)
                tmp = renamed
        _say(on_progress, stage="ingest", doc=label, index=index, count=count, bytes_done=size, bytes_total=size)
        doc = lib.add(tmp, equipment_ids=[e for e in entry.equipment if _known(lib, e)], title=entry.title,
                      kind=kind, revision=entry.version, _source_key=url, _source_label=url)
        _remember(lib, url, response, sha, None)
        if entry.equipment:
            lib.add_links(doc.id, entry.equipment, None, None, "")
        return ("updated" if existing is not None else "added"), doc.id, size
    finally:
        if tmp.exists():
            tmp.unlink()


def add_url(lib: Library, url: str, *, equipment_ids=(), title: str | None = None, kind: DocumentKind | None = None,
            revision: str = "", sha256: str = "", on_progress=None, timeout: float = 60.0):
    """Download one document (conditional GET when it is already in the library) and ingest it."""
    if urlparse(url).scheme not in ("http", "https"):
        raise SyncError(f"{url} is not an http(s) URL.")
    for equipment_id in equipment_ids:
        lib.get_equipment(equipment_id)
    entry = FeedDocument(url=url, sha256=sha256, version=revision, title=title, equipment=list(equipment_ids),
                         kind=kind)
    tmp_dir = lib.root / "cache" / "incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    label = title or PurePosixPath(urlparse(url).path).name or url
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), follow_redirects=True,
                      headers={"User-Agent": "fieldlens-library-sync"}) as client:
        try:
            _, doc_id, _ = _sync_document(lib, client, url, entry, tmp_dir, 1, 1, label, on_progress)
        except httpx.HTTPError as err:
            raise SyncError(f"{label} could not be downloaded: {_reason(err)}.") from None
    return lib.document(doc_id)


def _known(lib: Library, equipment_id: str) -> bool:
    return lib.store.one("SELECT 1 FROM equipment WHERE id=?", (equipment_id,)) is not None
