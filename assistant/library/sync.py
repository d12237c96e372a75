"""Remote feed sync: read a JSON feed of documents (url, sha256, version, title,
equipment, kind) and equipment, download what changed with conditional GETs
(ETag / If-Modified-Since, remembered per URL), verify sha256, ingest with an
atomic replace, and report. A feed that cannot be reached leaves the library
exactly as it was (the cache keeps serving); a broken document fails alone.

Every transfer is bounded: bodies are decoded here, chunk by chunk, with a size
limit checked on the decoded bytes (a gzip bomb stops at the limit, memory stays
at a few MB); each read has a timeout, each transfer a minimum rate, and each
sync or download an overall deadline. Redirects are followed only within the
feed's own origin, and feed entries must be plain names or URLs on that origin.
Credentials in a feed URL (`user:pass@host`) are sent as HTTP basic auth and
never stored or shown: the URL is always kept without them."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.domain import DocumentKind, Equipment
from assistant.errors import FieldlensError, MalformedFile, SyncError
from assistant.library.ingest import EXTENSIONS, MAX_BYTES
from assistant.library.models import SyncFailure, SyncProgress, SyncReport

if TYPE_CHECKING:
    from assistant.library import Library

MAX_FEED_BYTES = 16 * 1024 * 1024  # decoded feed JSON
MAX_DOCUMENT_BYTES = MAX_BYTES  # decoded document, streamed to disk
READ_TIMEOUT_S = 30.0  # no byte for this long: the transfer stops
MIN_RATE_BYTES_S = 2048  # slower than this on average after RATE_GRACE_S: the transfer stops
RATE_GRACE_S = 20.0
SYNC_DEADLINE_S = 900.0  # one whole `library sync`
DOWNLOAD_DEADLINE_S = 600.0  # one `library add URL`
MAX_REDIRECTS = 5
_DECODED_CHUNK = 1 << 20
_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,79}$")


def valid_id(value: str) -> bool:
    """Equipment ids are short names: letters, digits and . _ : + - (no slashes, no '..', no markup)."""
    return bool(_ID.match(value)) and ".." not in value


def _env_seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


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
    equipment: list[dict] = Field(default_factory=list)


class _Stop(Exception):
    """A transfer was stopped on purpose (deadline, size, rate, redirect); str() is the reason."""


# ---------------------------------------------------------------------------- URLs


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without `user:pass@`, and the credentials it held (None when it held none)."""
    parts = urlsplit(url.strip())
    if parts.username is None and parts.password is None:
        return url.strip(), None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _clean_http(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without credentials and the credentials; SyncError (never showing them) unless it is http(s)."""
    try:
        clean, auth = split_credentials(url)
        parts = urlsplit(clean)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        clean, valid = url.split("@")[-1], False
    if not valid:
        raise SyncError(f"{clean} is not an http(s) URL.")
    return clean, auth


def entry_url(feed_url: str, raw: str) -> str:
    """The URL a feed entry names, or _Stop when it is not a plain name or a URL on the feed's origin."""
    raw = raw.strip()
    if not raw or any(ord(c) < 32 for c in raw) or "\\" in raw:
        raise _Stop("its address is not a plain file name")
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        target, _ = split_credentials(urljoin(feed_url, raw))
        if _origin(target) != _origin(feed_url):
            raise _Stop("its address is on another site than the feed")
    else:
        path = unquote(parts.path)
        if path.startswith("/") or ".." in PurePosixPath(path).parts or "\\" in path:
            raise _Stop("its address leaves the feed's folder")
        target = urljoin(feed_url, raw)
    return target


# ---------------------------------------------------------------------------- bounded transfers


class _Budget:
    def __init__(self, seconds: float, read_timeout: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.read_timeout = read_timeout

    def timeout(self) -> httpx.Timeout:
        left = max(0.1, self.deadline - time.monotonic())
        read = min(self.read_timeout, left)
        return httpx.Timeout(read, connect=min(10.0, read))

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Stop(f"it took longer than {self.seconds:.0f} s")


@contextmanager
def _open(client: httpx.Client, url: str, headers: dict[str, str], budget: _Budget) -> Iterator[httpx.Response]:
    """GET with redirects followed only within the URL's own origin."""
    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        budget.check()
        request = client.build_request("GET", url, headers=headers, timeout=budget.timeout())
        response = client.send(request, stream=True)
        if response.has_redirect_location:
            location = response.headers["location"]
            response.close()
            target = urljoin(url, location)
            if _origin(target) != origin:
                raise _Stop("the server redirected to another site")
            url = target
            continue
        try:
            yield response
        finally:
            response.close()
        return
    raise _Stop("the server redirected too many times")


def _decoded(response: httpx.Response, limit: int, budget: _Budget, raw_count: list[int]) -> Iterator[bytes]:
    """The body decoded (identity, gzip or deflate), in chunks of at most 1 MB, stopping past `limit` bytes."""
    layers = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")]
    layers = [e for e in layers if e and e != "identity"]
    if len(layers) > 1 or (layers and layers[0] not in ("gzip", "x-gzip", "deflate")):
        raise _Stop(f"the server used an encoding Fieldlens does not read ({', '.join(layers)})")
    decoder = zlib.decompressobj(32 + zlib.MAX_WBITS) if layers else None
    started, total = time.monotonic(), 0
    for raw in response.iter_raw():  # as the bytes arrive: a chunk size would wait to fill it
        budget.check()
        raw_count[0] += len(raw)
        elapsed = time.monotonic() - started
        if elapsed > RATE_GRACE_S and raw_count[0] / elapsed < MIN_RATE_BYTES_S:
            raise _Stop("the server sent it too slowly")
        pending = raw
        while pending:
            if decoder is None:
                out, pending = pending, b""
            else:
                try:
                    out = decoder.decompress(pending, _DECODED_CHUNK)
                except zlib.error:
                    raise _Stop("its compressed data is damaged") from None
                pending = decoder.unconsumed_tail
            total += len(out)
            if total > limit:
                raise _Stop(f"it is larger than {limit // 1024**2} MB")
            if out:
                yield out
            if decoder is not None and decoder.eof:
                break
        if decoder is not None and decoder.eof:
            break


def _client(timeout: float, auth: tuple[str, str] | None) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), follow_redirects=False,
                        auth=auth, headers={"User-Agent": "fieldlens-library-sync",
                                            "Accept-Encoding": "gzip, deflate"})


# ---------------------------------------------------------------------------- state


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
    if isinstance(err, _Stop):
        return str(err)
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


# ---------------------------------------------------------------------------- sync


def sync_feed(lib: Library, url: str, *, on_progress: Callable[[SyncProgress], None] | None = None,
              timeout: float = READ_TIMEOUT_S, deadline: float | None = None) -> SyncReport:
    """Mirror a feed. When the feed itself cannot be read, `report.error` says why and nothing changed."""
    url, auth = _clean_http(url)
    report = SyncReport(feed=url)
    budget = _Budget(deadline or _env_seconds("FIELDLENS_SYNC_DEADLINE_S", SYNC_DEADLINE_S), timeout)
    tmp_dir = lib.root / "cache" / "incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with _client(timeout, auth) as client:
        _say(on_progress, stage="feed", doc=url)
        headers, cached_body = _validators(lib, url)
        try:
            with _open(client, url, headers if cached_body is not None else {}, budget) as response:
                if response.status_code == 304 and cached_body is not None:
                    body = bytes(cached_body)
                    report.feed_unchanged = True
                else:
                    response.raise_for_status()
                    body = b"".join(_decoded(response, MAX_FEED_BYTES, budget, [0]))
        except (httpx.HTTPError, _Stop) as err:
            report.offline = isinstance(err, (httpx.TransportError, _Stop))
            report.error = f"The feed at {url} could not be read: {_reason(err)}; the library was left as it was."
            _say(on_progress, stage="failed", doc=url, message=report.error)
            return report
        try:
            feed = Feed.model_validate(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError, ValidationError, TypeError, RecursionError) as err:
            detail = err.errors()[0]["msg"] if isinstance(err, ValidationError) else "it is not valid JSON"
            raise SyncError(f"The feed at {url} is malformed ({detail}); the library was left as it was.") from None
        if not report.feed_unchanged:
            _remember(lib, url, response, hashlib.sha256(body).hexdigest(), body)
        for raw in feed.equipment:
            try:
                item = Equipment.model_validate(raw)
            except ValidationError as err:
                report.failed.append(SyncFailure(url=url, title=str(raw.get("id", ""))[:80],
                                                 reason=f"an equipment entry is invalid ({err.errors()[0]['msg']})"))
                continue
            if not valid_id(item.id):
                report.failed.append(SyncFailure(url=url, title=item.id[:80],
                                                 reason="the equipment id is not a plain name"))
                continue
            lib.upsert_equipment(item)
            report.equipment.append(item.id)
        count = len(feed.documents)
        for index, entry in enumerate(feed.documents, start=1):
            label = entry.title or PurePosixPath(urlsplit(entry.url).path).name or entry.url
            try:
                doc_url = entry_url(url, entry.url)
                bad = [e for e in entry.equipment if not valid_id(e)]
                if bad:
                    raise _Stop("it names an equipment id that is not a plain name")
                outcome, doc_id, size = _sync_document(lib, client, doc_url, entry, tmp_dir, index, count, label,
                                                       on_progress, budget)
            except (_Stop, httpx.HTTPError, FieldlensError, OSError) as err:
                if time.monotonic() > budget.deadline:
                    left = count - index + 1
                    report.error = (f"The sync of {url} stopped after {budget.seconds:.0f} s (its time limit); "
                                    f"{left} document(s) were not synced and are as they were.")
                    _say(on_progress, stage="failed", doc=url, message=report.error)
                    return report
                if isinstance(err, OSError) and not isinstance(err, httpx.HTTPError) and err.errno in _NO_ROOM:
                    raise
                reason = _reason(err)
                report.failed.append(SyncFailure(url=_safe_label(entry.url), title=label, reason=reason))
                _say(on_progress, stage="failed", doc=label, index=index, count=count, message=reason)
                continue
            report.bytes_downloaded += size
            getattr(report, outcome).append(doc_id)
        _say(on_progress, stage="done", doc=url, index=count, count=count,
             message=f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
                     f"{len(report.failed)} failed")
    return report


def _safe_label(raw: str) -> str:
    return split_credentials(raw)[0][:300] if raw else raw


def _sync_document(lib: Library, client: httpx.Client, url: str, entry: FeedDocument, tmp_dir: Path, index: int,
                   count: int, label: str, on_progress, budget: _Budget) -> tuple[str, str, int]:
    existing = lib.store.one("SELECT id, sha256 FROM documents WHERE source_key=?", (url,))
    kind = entry.kind
    _say(on_progress, stage="check", doc=label, index=index, count=count)
    if existing is not None and entry.sha256 and existing["sha256"] == entry.sha256:
        lib.add_links(existing["id"], entry.equipment, entry.title, kind, entry.version)
        return "unchanged", existing["id"], 0
    headers, _ = _validators(lib, url)
    if existing is None:
        headers = {}
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix not in EXTENSIONS:
        suffix = ""
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix=".download-", suffix=suffix)
    tmp = Path(tmp_name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, _open(client, url, headers, budget) as response:
            if response.status_code == 304 and existing is not None:
                lib.add_links(existing["id"], entry.equipment, entry.title, kind, entry.version)
                return "unchanged", existing["id"], 0
            response.raise_for_status()
            encoded = response.headers.get("content-encoding", "").strip().lower() not in ("", "identity")
            length = response.headers.get("content-length", "")
            total = int(length) if length.isdigit() else None
            if total is not None and not encoded and total > MAX_DOCUMENT_BYTES:
                raise MalformedFile(f"{label} is too large to download ({total / 1024**2:.0f} MB).")
            digest = hashlib.sha256()
            raw_count = [0]
            for chunk in _decoded(response, MAX_DOCUMENT_BYTES, budget, raw_count):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                _say(on_progress, stage="download", doc=label, index=index, count=count, bytes_done=size,
                     bytes_total=None if encoded else total)
            if total is not None and raw_count[0] != total:
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
            revision: str = "", sha256: str = "", on_progress=None, timeout: float = READ_TIMEOUT_S,
            deadline: float | None = None):
    """Download one document (conditional GET when it is already in the library) and ingest it."""
    url, auth = _clean_http(url)
    for equipment_id in equipment_ids:
        lib.get_equipment(equipment_id)
    entry = FeedDocument(url=url, sha256=sha256, version=revision, title=title, equipment=list(equipment_ids),
                         kind=kind)
    tmp_dir = lib.root / "cache" / "incoming"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    label = title or PurePosixPath(urlsplit(url).path).name or url
    budget = _Budget(deadline or _env_seconds("FIELDLENS_SYNC_DEADLINE_S", DOWNLOAD_DEADLINE_S), timeout)
    with _client(timeout, auth) as client:
        try:
            _, doc_id, _ = _sync_document(lib, client, url, entry, tmp_dir, 1, 1, label, on_progress, budget)
        except (httpx.HTTPError, _Stop) as err:
            raise SyncError(f"{label} could not be downloaded: {_reason(err)}.") from None
    return lib.document(doc_id)


def _known(lib: Library, equipment_id: str) -> bool:
    return lib.store.one("SELECT 1 FROM equipment WHERE id=?", (equipment_id,)) is not None
