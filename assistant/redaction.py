"""The one scrubber of secrets: it knows every secret this process holds (API keys, passwords
taken out of base URLs, the fleet server token, whatever secrets.json stores) and replaces each
with a placeholder in any text before it is written or shown.

Secrets are registered where they enter the process (`assistant.config.load_settings`, and each
network provider for the key and credentials it was given); the write and show boundaries call
`scrub` / `scrub_data`: provider replies before they are parsed or cached, the response cache,
the session store's events, error messages, and every log record (a log-record factory installed
with the first secret).

Also here: `split_credentials`, which takes `user:password@` out of a URL, because a URL with
credentials is itself a secret and must never be shown.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

PLACEHOLDER = "••••"
MIN_LENGTH = 4  # shorter values would scrub ordinary words; no real secret is that short
SECRET_ENV_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "FIELDLENS_API_KEY", "FIELDLENS_SERVER_TOKEN")

_lock = threading.Lock()
_known: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first, so a secret containing another is replaced whole


def remember(*values: str | None) -> None:
    """Register secrets (and the encodings they travel in: percent-encoded, in a Basic header)."""
    global _ordered
    added = False
    with _lock:
        for value in values:
            if not value or not isinstance(value, str):
                continue
            for form in {value, quote(value, safe=""), unquote(value)}:
                if len(form) >= MIN_LENGTH and form not in _known:
                    _known.add(form)
                    added = True
        if added:
            _ordered = tuple(sorted(_known, key=len, reverse=True))
    if added:
        _install_log_scrubbing()


def remember_basic_credentials(user: str, password: str) -> None:
    """A username:password pair: the password, and the Basic header value a server could echo."""
    remember(password, base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))


def remember_environment(env: dict[str, str]) -> None:
    remember(*(env.get(name) for name in SECRET_ENV_VARS))


def remember_secrets_file(path: Path) -> None:
    """Every string stored in a secrets file, at any depth (an unreadable file holds none we can know)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return
    remember(*_strings(data))
    for value in _strings(data):  # a stored base URL with credentials: its password too
        _, user, password = split_credentials(value)
        if password:
            remember_basic_credentials(user, password)


def forget_all() -> None:
    """For tests: forget every registered secret."""
    global _ordered
    with _lock:
        _known.clear()
        _ordered = ()


def scrub(text: str) -> str:
    """`text` with every known secret replaced by the placeholder."""
    if not text or not _ordered or not isinstance(text, str):
        return text
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, PLACEHOLDER)
    return text


def scrub_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with every known secret scrubbed from its strings."""
    if not _ordered:
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_data(v) for v in value)
    return value


class StreamScrubber:
    """Scrubs text that arrives in pieces: a secret split across two pieces is still caught,
    because the end of each piece that could begin a secret is held back until the next one."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = scrub(self._pending + piece)
        hold = _longest_secret_prefix_suffix(text)
        self._pending = text[len(text) - hold:] if hold else ""
        return text[:len(text) - hold] if hold else text

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return scrub(text)


def _longest_secret_prefix_suffix(text: str) -> int:
    """Length of the longest end of `text` that is the start of a known secret (not all of it)."""
    best = 0
    for secret in _ordered:
        for n in range(min(len(secret) - 1, len(text)), best, -1):
            if secret.startswith(text[-n:]):
                best = n
                break
    return best


def split_credentials(url: str) -> tuple[str, str, str]:
    """(the URL without `user:password@`, the user, the password), both percent-decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, "", ""
    if "@" not in parts.netloc:
        return url, "", ""
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=hostport)), unquote(user), unquote(password)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# --------------------------------------------------------------------------- logs

_factory_installed = False


def _install_log_scrubbing() -> None:
    """Every log record, from any logger (httpx's included), is scrubbed when it is made."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: leave it to logging's own handling
            return record
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
