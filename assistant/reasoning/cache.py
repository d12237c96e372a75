"""The model-response cache: diskcache under `<cache_dir>/responses`, keyed by
provider, model, base URL, the request's purpose, prompt hash and the hashes
of the images sent. Only complete replies that parsed are stored; the offline
engine is never cached (the library may change under it). Replies are scrubbed of every
known secret before they are stored, and again when read (entries from older versions)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import diskcache

from assistant import redaction
from assistant.domain import PreparedImage

log = logging.getLogger("fieldlens.reasoning")
EXPIRE_S = 30 * 24 * 3600


def cache_key(provider: str, model: str, base_url: str, purpose: str, prompt_hash: str,
              images: list[PreparedImage]) -> str:
    h = hashlib.sha256()
    for part in (provider, model, base_url, purpose, prompt_hash):
        h.update(part.encode())
        h.update(b"\x00")
    for img in images:
        h.update(hashlib.sha256(img.data).digest())
    return h.hexdigest()


class ResponseCache:
    def __init__(self, cache_dir: Path) -> None:
        self.dir = Path(cache_dir) / "responses"

    def get(self, key: str) -> str | None:
        if not self.dir.exists():
            return None
        try:
            with diskcache.Cache(str(self.dir)) as cache:
                value = cache.get(key)
        except (OSError, diskcache.Timeout) as exc:
            log.warning("response cache unreadable: %s", exc.__class__.__name__)
            return None
        return redaction.scrub(value) if isinstance(value, str) else None

    def put(self, key: str, text: str) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with diskcache.Cache(str(self.dir)) as cache:
                cache.set(key, redaction.scrub(text), expire=EXPIRE_S)
        except (OSError, diskcache.Timeout) as exc:
            log.warning("response cache not written: %s", exc.__class__.__name__)
