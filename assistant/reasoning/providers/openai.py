"""OpenAI-compatible chat completions (hosted APIs, vLLM, llama.cpp, LM Studio,
Ollama's /v1): images as data URLs in content parts, SSE streaming ending in
`[DONE]`, and structured output negotiated down a ladder as the server allows:

1. `response_format: {"type": "json_schema", ...}`
2. `response_format: {"type": "json_object", "schema": ...}` (llama.cpp's form)
3. the schema written into the prompt, no `response_format`

and, when the server refuses content-part arrays (llama.cpp answers 500 or
drops the stream), plain string content with a note that the photos could not
be sent. A 400 that names `max_completion_tokens` or `temperature` (newer
hosted models) is answered by renaming / dropping that parameter once.

The shape that worked is remembered per base URL and model for the rest of
the process.
"""

from __future__ import annotations

import json

import httpx
from httpx_sse import EventSource, SSEError

from assistant.domain import ProviderName
from assistant.errors import ProviderError
from assistant.reasoning.prompts import schema_in_prompt
from assistant.reasoning.providers.base import (
    Completion,
    HttpProvider,
    ModelRequest,
    OnText,
    RequestRejected,
    STOPPED_MID_ANSWER,
    StreamCut,
    b64,
    safe_image,
)

STRUCTURED = ("json_schema", "json_object", "prompt")
IMAGES_NOT_SENT = "The model server would not accept photos, so the model saw only the on-device readings."

# (base_url, model) -> (structured mode, content parts accepted)
_WORKING: dict[tuple[str, str], tuple[str, bool]] = {}
# (base_url, model) -> (name of the token-limit parameter, whether temperature is accepted)
_PARAMS: dict[tuple[str, str], tuple[str, bool]] = {}


def forget_negotiated_shapes() -> None:
    """For tests: forget which request shapes worked."""
    _WORKING.clear()
    _PARAMS.clear()


class OpenAIProvider(HttpProvider):
    name = ProviderName.OPENAI
    default_base_url = "https://api.openai.com/v1"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.model and self.base_url == self.default_base_url:
            self.model = "gpt-4o-mini"  # the hosted API needs a name; local servers accept any
        self.tokens_param, self.send_temperature = _PARAMS.get((self.base_url, self.model), ("max_tokens", True))
        path = httpx.URL(self.base_url).path
        self.url = self.base_url + ("/v1" if path in ("", "/") else "") + "/chat/completions"

    def headers(self) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "text/event-stream"}
        if self._key:
            h["authorization"] = f"Bearer {self._key}"
        return h

    def _ladder(self, has_images: bool) -> list[tuple[str, bool]]:
        shapes = [(s, True) for s in STRUCTURED[:2]] if has_images else []
        shapes += [(s, False) for s in STRUCTURED]
        known = _WORKING.get((self.base_url, self.model))
        if known in shapes:
            shapes.remove(known)
            shapes.insert(0, known)
        return shapes

    def body(self, request: ModelRequest, structured: str, parts: bool) -> tuple[dict, int, list[str]]:
        notes: list[str] = []
        user = request.user if structured != "prompt" else schema_in_prompt(request.user, request.schema)
        images_sent = 0
        if request.images and parts:
            content: list[dict] | str = [{"type": "text", "text": user}]
            for img in request.images:
                data, media, _, _ = safe_image(img, self.long_side)
                content.append({"type": "image_url", "image_url": {"url": f"data:{media};base64,{b64(data)}"}})
                images_sent += 1
        else:
            if request.images:
                user += f"\n\n({len(request.images)} photo(s) were taken but could not be sent; rely on the READINGS block.)"
                notes.append(IMAGES_NOT_SENT)
            content = user
        body: dict = {
            "model": self.model or "default",
            "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": content}],
            "stream": True,
            self.tokens_param: request.max_tokens,
        }
        if self.send_temperature:
            body["temperature"] = request.temperature
        if structured == "json_schema":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": f"fieldlens_{request.purpose}", "schema": request.schema}}
        elif structured == "json_object":
            body["response_format"] = {"type": "json_object", "schema": request.schema}
        return body, images_sent, notes

    async def complete(self, request: ModelRequest, on_text: OnText | None = None) -> Completion:
        last: RequestRejected | None = None
        shapes = self._ladder(bool(request.images))
        i = 0
        while i < len(shapes):
            structured, parts = shapes[i]
            body, images_sent, notes = self.body(request, structured, parts)
            try:
                completion = await self.stream_post(self.url, body, self._consume, on_text)
            except RequestRejected as exc:
                last = exc
                if self._adapt_parameters(exc):
                    continue  # same shape again with the parameter the server asked for
                i += 1
                continue
            _WORKING[(self.base_url, self.model)] = (structured, parts)
            completion.structured = structured
            completion.images_sent = images_sent
            completion.notes = notes + completion.notes
            return completion
        assert last is not None
        raise ProviderError(f"{last} No simpler request shape was accepted either.")

    def _adapt_parameters(self, exc: RequestRejected) -> bool:
        """Newer hosted models refuse `max_tokens` (they want `max_completion_tokens`) or any
        non-default temperature: adapt once per parameter when the server says so."""
        detail = exc.detail.lower()
        if exc.status != 400:
            return False
        if self.tokens_param == "max_tokens" and "max_completion_tokens" in detail:
            self.tokens_param = "max_completion_tokens"
        elif self.send_temperature and "temperature" in detail:
            self.send_temperature = False
        else:
            return False
        _PARAMS[(self.base_url, self.model)] = (self.tokens_param, self.send_temperature)
        return True

    async def _consume(self, resp: httpx.Response, on_text: OnText | None) -> Completion:
        ctype = resp.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            raw = await resp.aread()
            try:
                data = json.loads(raw, strict=False)
                choice = data["choices"][0]
                text = choice["message"]["content"] or ""
            except (ValueError, KeyError, IndexError, TypeError):
                raise ProviderError(f"The model provider at {self.host} sent a reply that is not a chat completion.") from None
            if on_text and text:
                on_text(text)
            finished = choice.get("finish_reason") != "length"
            return Completion(text=text, finished=finished,
                              notes=[] if finished else ["The model's answer was cut off at its length limit."])
        chunks: list[str] = []
        done = False
        finish_reason = None
        try:
            async for sse in EventSource(resp).aiter_sse():
                if sse.data.strip() == "[DONE]":
                    done = True
                    break
                if not sse.data.strip():
                    continue
                try:
                    event = json.loads(sse.data, strict=False)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("error"):
                    raise ProviderError(f"The model provider at {self.host} reported an error while answering.")
                for choice in event.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        chunks.append(delta)
                        if on_text:
                            on_text(delta)
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout, SSEError):
            pass
        text = "".join(chunks)
        if not text and not done and finish_reason is None:
            raise StreamCut("stream ended before any answer")
        notes: list[str] = []
        finished = (done or finish_reason is not None) and finish_reason != "length"
        if finish_reason == "length":
            notes.append("The model's answer was cut off at its length limit.")
        elif not (done or finish_reason):
            notes.append(STOPPED_MID_ANSWER)
        return Completion(text=text, finished=finished, notes=notes)
