"""Ollama's native chat API: POST /api/chat with the photos as a base64
`images` list on the user message, `format` set to our JSON schema, and
newline-delimited JSON streaming ({"message": {"content": ...}, "done": ...}).
A base URL ending in /v1 (Ollama's OpenAI-compatible path) is trimmed.
"""

from __future__ import annotations

import json

import httpx

from assistant.domain import ProviderName
from assistant.errors import ProviderError
from assistant.reasoning.providers.base import (
    Completion,
    HttpProvider,
    ModelRequest,
    OnText,
    STOPPED_MID_ANSWER,
    StreamCut,
    b64,
    iter_lines_safely,
    safe_image,
)


class OllamaProvider(HttpProvider):
    name = ProviderName.OLLAMA
    default_base_url = "http://127.0.0.1:11434"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        base = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        self.url = base + "/api/chat"

    def headers(self) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "application/x-ndjson"}
        if self._key:  # a proxy in front of Ollama may want one
            h["authorization"] = f"Bearer {self._key}"
        return h

    def body(self, request: ModelRequest) -> dict:
        user: dict = {"role": "user", "content": request.user}
        if request.images:
            user["images"] = [b64(safe_image(img, self.long_side)[0]) for img in request.images]
        return {
            "model": self.model or "llava",
            "messages": [{"role": "system", "content": request.system}, user],
            "format": request.schema,
            "stream": True,
            "options": {"temperature": request.temperature, "num_predict": request.max_tokens},
        }

    async def complete(self, request: ModelRequest, on_text: OnText | None = None) -> Completion:
        completion = await self.stream_post(self.url, self.body(request), self._consume, on_text)
        completion.structured = "format"
        completion.images_sent = len(request.images)
        return completion

    async def _consume(self, resp: httpx.Response, on_text: OnText | None) -> Completion:
        chunks: list[str] = []
        done = False
        reason = None
        async for line in iter_lines_safely(resp):
            if not line.strip():
                continue
            try:
                event = json.loads(line, strict=False)
            except ValueError:
                continue
            if event.get("error"):
                raise ProviderError(f"The model provider at {self.host} reported an error while answering.")
            piece = (event.get("message") or {}).get("content") or ""
            if piece:
                chunks.append(piece)
                if on_text:
                    on_text(piece)
            if event.get("done"):
                done = True
                reason = event.get("done_reason")
                break
        text = "".join(chunks)
        if not text and not done:
            raise StreamCut("stream ended before any answer")
        notes: list[str] = []
        if reason == "length":
            notes.append("The model's answer was cut off at its length limit.")
        elif not done:
            notes.append(STOPPED_MID_ANSWER)
        return Completion(text=text, finished=done and reason != "length", notes=notes)
