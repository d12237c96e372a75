"""The one provider interface and the HTTP plumbing the network providers share.

A provider turns a `ModelRequest` (system text, user text, images, the JSON
schema wanted, and, for the offline engine, the evidence itself) into a
`Completion` (the reply text, whether the stream finished, notes such as
"the photos could not be sent", and what was sent). Text deltas are passed to
`on_text` as they stream in.

HTTP behaviour shared by all network providers:
- httpx timeouts from `settings.timeout_s` (connect at most 10 s);
- up to `settings.max_retries` retries with exponential backoff (0.5 s, 1 s,
  2 s ... capped at 20 s) on 429, 502, 503, 504, 529, timeouts, connection
  failures and dropped streams, honouring `Retry-After` (seconds or an HTTP
  date) whenever the server sends it;
- 401/403 -> "the API key was refused", 404 -> "model or endpoint not found",
  400/422/500 -> `RequestRejected` (callers may try a simpler request shape);
- three kinds of network failure, each reported in its own words: a server that
  could not be reached (connection refused, DNS), one that did not answer in
  time, and one that accepted the connection and then stopped answering (closed
  or reset it mid-reply, an incomplete chunked body, or refused new connections
  after it had answered before: a crashed model server) - `ServerStoppedAnswering`;
- the API key only ever travels in its header; credentials given in the base URL
  (`https://user:password@host`) are taken out of it and sent as HTTP Basic
  authorization (unless the API key already takes the Authorization header; a user
  with no password is the API key when none is set), so `host` and every message
  show the URL without them;
- every known secret (`assistant.redaction`) is scrubbed from what the server
  sends before anyone sees it: the reply text (also while it streams, a secret
  split across two pieces included), notes, error details and log lines.
Images are checked before sending: anything larger than the photo policy's
long side, carrying EXIF, or not JPEG/PNG is re-encoded as a downscaled JPEG
without metadata (defence in depth: imaging already prepares them).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import io
import logging
import ssl
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import certifi
import httpx
from PIL import Image, UnidentifiedImageError

from assistant import redaction
from assistant.config import Settings
from assistant.domain import PreparedImage, ProviderName
from assistant.errors import ProviderError

log = logging.getLogger("fieldlens.reasoning")

OnText = Callable[[str], None]


@dataclass
class ModelRequest:
    purpose: str  # "answer", "photo" or "verdict": which schema in `schema.py`
    system: str
    user: str
    schema: dict
    prompt_hash: str
    images: list[PreparedImage] = field(default_factory=list)
    max_tokens: int = 1800
    temperature: float = 0.1
    context: Any = None  # the offline engine reads the evidence from here; network providers ignore it


@dataclass
class Completion:
    text: str
    finished: bool = True  # False when the stream was cut or the output hit max_tokens
    notes: list[str] = field(default_factory=list)
    images_sent: int = 0
    request_bytes: int = 0
    structured: str = ""  # how structure was asked for: json_schema, json_object, prompt, tool, format, engine
    cached: bool = False
    attempts: int = 1
    stopped: str = ""  # set when the server dropped the connection mid-answer: the sentence that says so


class RequestRejected(ProviderError):
    """The server refused this request shape (400/422/500): a simpler shape may work."""

    def __init__(self, message: str, status: int, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail  # the server's own words, scrubbed of the key; for logic and logs, not users


class StreamCut(ProviderError):
    """The connection dropped before any of the answer arrived."""


class ServerStoppedAnswering(RequestRejected):
    """The server accepted the connection, then closed or reset it before answering.

    A `RequestRejected` because llama.cpp drops the stream on request shapes it cannot
    handle, so the OpenAI-compatible ladder may still try a simpler shape; a server that is
    gone for good then fails to connect, which is reported in these same words."""

    def __init__(self, host: str) -> None:
        super().__init__(stopped_answering(host), 200)


def stopped_answering(host: str) -> str:
    return (f"The model server at {host} stopped answering: it accepted the connection, "
            "then closed it before the answer was complete.")


STOPPED_MID_ANSWER = "The model server stopped answering before its answer was complete (the connection dropped)."


class Provider(ABC):
    """One interface for every provider, the offline engine included."""

    name: ProviderName
    model: str = ""

    @abstractmethod
    async def complete(self, request: ModelRequest, on_text: OnText | None = None) -> Completion: ...

    async def aclose(self) -> None:
        return None

    @property
    def is_model(self) -> bool:
        return self.name != ProviderName.OFFLINE


# --------------------------------------------------------------------------- images

_SAFE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


_SAFE_CACHE: "OrderedDict[tuple[str, int], tuple[bytes, str, int, int]]" = OrderedDict()


def safe_image(image: PreparedImage, long_side: int) -> tuple[bytes, str, int, int]:
    """The bytes to send for `image`: as prepared when already small, EXIF-free
    JPEG/PNG; otherwise re-encoded (downscaled JPEG q85, no metadata)."""
    key = (hashlib.sha256(image.data).hexdigest(), long_side)
    if key in _SAFE_CACHE:
        _SAFE_CACHE.move_to_end(key)
        return _SAFE_CACHE[key]
    result = _safe_image(image, long_side)
    _SAFE_CACHE[key] = result
    while len(_SAFE_CACHE) > 16:
        _SAFE_CACHE.popitem(last=False)
    return result


def _safe_image(image: PreparedImage, long_side: int) -> tuple[bytes, str, int, int]:
    try:
        with Image.open(io.BytesIO(image.data)) as im:
            fmt = im.format or ""
            w, h = im.size
            has_meta = bool(im.getexif()) or "exif" in im.info or "xmp" in im.info
            if fmt in _SAFE_FORMATS and max(w, h) <= long_side and not has_meta:
                return image.data, _SAFE_FORMATS[fmt], w, h
            im.load()
            rgb = im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ProviderError("A photo could not be prepared for the model: it is not a readable image.") from exc
    if max(w, h) > long_side:
        scale = long_side / max(w, h)
        rgb = rgb.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), "image/jpeg", rgb.width, rgb.height


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- HTTP

RETRY_STATUSES = {429, 502, 503, 504, 529}  # 529: Anthropic's "overloaded"
REJECT_STATUSES = {400, 413, 415, 422, 500}


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building it (loading the CA bundle) costs tens of ms."""
    return ssl.create_default_context(cafile=certifi.where())


class HttpProvider(Provider):
    """Shared client, retries and error mapping for the network providers."""

    default_base_url = ""

    def __init__(self, settings: Settings, *, model: str = "", base_url: str = "",
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.model = model or settings.model
        given_url, url_user, url_password = redaction.split_credentials(base_url)  # an explicit URL may carry them too
        self.base_url = (given_url or settings.base_url or self.default_base_url).rstrip("/")
        self._key = settings.api_key.get_secret_value() if settings.api_key else ""
        creds = (url_user, url_password) if (url_user or url_password) else settings.url_credentials()
        self._basic = ""
        if creds and creds[0] and not creds[1] and not self._key:
            self._key = creds[0]  # https://KEY@host: the token-in-URL convention
        elif creds:
            self._basic = "Basic " + b64(f"{creds[0]}:{creds[1]}".encode())
            redaction.remember_basic_credentials(*creds)
        redaction.remember(self._key)
        timeout = httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s))
        self.client = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False,
                                        verify=_ssl_context())
        self.max_retries = settings.max_retries
        self.long_side = settings.photo_policy.long_side
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self._answered_before = False  # any reply or dropped reply seen: the server was there

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- things subclasses provide
    def headers(self) -> dict[str, str]:
        return {"content-type": "application/json"}

    def scrub(self, text: str) -> str:
        return redaction.scrub(text.replace(self._key, redaction.PLACEHOLDER) if self._key else text)

    def _all_headers(self) -> dict[str, str]:
        h = self.headers()
        if self._basic and "authorization" not in h:
            h["authorization"] = self._basic
        return h

    def _scrubbed(self, completion: Completion) -> Completion:
        completion.text = self.scrub(completion.text)
        completion.notes = [self.scrub(n) for n in completion.notes]
        return completion

    def _status_error(self, status: int, detail: str = "") -> ProviderError:
        who = f"The model provider at {self.host}"
        if status in (401, 403):
            return ProviderError(f"{who} refused the request: the API key was refused (HTTP {status}).")
        if status == 404:
            return ProviderError(f"{who} says the model or endpoint was not found (HTTP 404): check the model name and base URL.")
        if status in REJECT_STATUSES:
            return RequestRejected(f"{who} rejected the request (HTTP {status}).", status, detail)
        if status == 429:
            return ProviderError(f"{who} is rate-limiting requests (HTTP 429); try again later.")
        return ProviderError(f"{who} failed (HTTP {status}).")

    async def stream_post(self, url: str, body: dict,
                          consume: Callable[[httpx.Response, OnText | None], Awaitable[Completion]],
                          on_text: OnText | None = None) -> Completion:
        """POST `body` with retries; `consume` reads the streamed response, passing the text
        to `on_text` (scrubbed of secrets) as it arrives."""
        attempt = 0
        payload = httpx.Request("POST", url, json=body).content  # serialise once, count the bytes
        while True:
            delay: float | None = None
            try:
                async with self.client.stream("POST", url, content=payload, headers=self._all_headers()) as resp:
                    self._answered_before = True
                    if resp.status_code >= 400:
                        raw = (await resp.aread())[:500].decode("utf-8", "replace")
                        log.info("provider %s HTTP %s: %s", self.host, resp.status_code, self.scrub(raw))
                        if resp.status_code in RETRY_STATUSES and attempt < self.max_retries:
                            delay = retry_after_seconds(resp.headers.get("retry-after"))
                            if delay is None:
                                delay = 0.5 * 2**attempt
                        else:
                            raise self._status_error(resp.status_code, self.scrub(raw))
                    else:
                        sink = _ScrubbedSink(on_text) if on_text else None
                        completion = self._scrubbed(await consume(resp, sink))
                        if sink is not None:
                            sink.flush()
                        if STOPPED_MID_ANSWER in completion.notes:
                            completion.stopped = stopped_answering(self.host)
                        completion.request_bytes = len(payload)
                        completion.attempts = attempt + 1
                        return completion
            except httpx.TimeoutException:
                if attempt >= self.max_retries:
                    raise ProviderError(f"The model provider at {self.host} did not answer within {self.settings.timeout_s:g} s.") from None
                delay = 0.5 * 2**attempt
            except (StreamCut, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
                # connected, then the server dropped the request (or sent a 200 whose stream closed
                # before any answer): llama.cpp does this when it fails on a request shape, so
                # callers may try a simpler shape. Unreachable servers fail in connect instead.
                self._answered_before = True
                if attempt >= self.max_retries:
                    raise ServerStoppedAnswering(self.host) from None
                delay = 0.5 * 2**attempt
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    if self._answered_before and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                        # it was there a moment ago: the server died (a crash, not a wrong address)
                        raise ProviderError(stopped_answering(self.host)) from None
                    raise ProviderError(f"The model provider at {self.host} could not be reached ({exc.__class__.__name__}).") from None
                delay = 0.5 * 2**attempt
            except httpx.HTTPError as exc:  # anything else httpx can raise (decoding, redirects ...)
                raise ProviderError(f"The model provider at {self.host} sent a reply that could not be read ({exc.__class__.__name__}).") from None
            attempt += 1
            await asyncio.sleep(min(delay, 20.0))


class _ScrubbedSink:
    """Passes streamed text on with every known secret scrubbed, even one split across pieces."""

    def __init__(self, on_text: OnText) -> None:
        self.on_text = on_text
        self.scrubber = redaction.StreamScrubber()

    def __call__(self, piece: str) -> None:
        if out := self.scrubber.feed(piece):
            self.on_text(out)

    def flush(self) -> None:
        if out := self.scrubber.flush():
            self.on_text(out)


async def iter_lines_safely(resp: httpx.Response) -> AsyncIterator[str]:
    """Lines of a streamed body; a dropped connection just ends the iteration."""
    try:
        async for line in resp.aiter_lines():
            yield line
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout):
        return
