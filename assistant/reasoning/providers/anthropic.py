"""Anthropic Messages API: `x-api-key` and `anthropic-version` headers, photos
as base64 image blocks, the answer forced through a single tool whose
`input_schema` is our JSON schema (streamed as `input_json_delta` events), and
the server-sent event stream (message_start ... message_stop). If the server
refuses tools (400), the schema goes into the prompt instead.
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

API_VERSION = "2023-06-01"


class AnthropicProvider(HttpProvider):
    name = ProviderName.ANTHROPIC
    default_base_url = "https://api.anthropic.com"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        base = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        self.url = base + "/v1/messages"
        self._tools_ok = True

    def headers(self) -> dict[str, str]:
        h = {"content-type": "application/json", "anthropic-version": API_VERSION, "accept": "text/event-stream"}
        if self._key:
            h["x-api-key"] = self._key
        return h

    def body(self, request: ModelRequest, tools: bool) -> tuple[dict, int]:
        content: list[dict] = []
        for img in request.images:
            data, media, _, _ = safe_image(img, self.long_side)
            content.append({"type": "image", "source": {"type": "base64", "media_type": media, "data": b64(data)}})
        user = request.user if tools else schema_in_prompt(request.user, request.schema)
        content.append({"type": "text", "text": user})
        body: dict = {
            "model": self.model or "claude-sonnet-4-5",
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "system": request.system,
            "messages": [{"role": "user", "content": content}],
            "stream": True,
        }
        if tools:
            body["tools"] = [{"name": f"fieldlens_{request.purpose}",
                              "description": "Return the structured reply.", "input_schema": request.schema}]
            body["tool_choice"] = {"type": "tool", "name": f"fieldlens_{request.purpose}"}
        return body, len(request.images)

    async def complete(self, request: ModelRequest, on_text: OnText | None = None) -> Completion:
        for tools in ((True, False) if self._tools_ok else (False,)):
            body, images_sent = self.body(request, tools)
            try:
                completion = await self.stream_post(self.url, body, self._consume, on_text)
            except RequestRejected as exc:
                if tools and exc.status == 400:
                    self._tools_ok = False
                    continue
                raise
            completion.structured = "tool" if tools else "prompt"
            completion.images_sent = images_sent
            return completion
        raise ProviderError(f"The model provider at {self.host} rejected the request.")

    async def _consume(self, resp: httpx.Response, on_text: OnText | None) -> Completion:
        tool_json: list[str] = []
        text: list[str] = []
        stop_reason = None
        stopped = False
        try:
            async for sse in EventSource(resp).aiter_sse():
                try:
                    event = json.loads(sse.data, strict=False) if sse.data.strip() else {}
                except ValueError:
                    continue
                kind = event.get("type") or sse.event
                if kind == "error":
                    err = (event.get("error") or {}).get("type", "error")
                    raise ProviderError(f"The model provider at {self.host} reported an error while answering ({err}).")
                if kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    if delta.get("type") == "input_json_delta":
                        piece = delta.get("partial_json", "")
                        tool_json.append(piece)
                    elif delta.get("type") == "text_delta":
                        piece = delta.get("text", "")
                        text.append(piece)
                    else:
                        piece = ""
                    if piece and on_text:
                        on_text(piece)
                elif kind == "message_delta":
                    stop_reason = (event.get("delta") or {}).get("stop_reason") or stop_reason
                elif kind == "message_stop":
                    stopped = True
                    break
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout, SSEError):
            pass
        out = "".join(tool_json) or "".join(text)
        if not out and not stopped:
            raise StreamCut("stream ended before any answer")
        notes: list[str] = []
        finished = stopped and stop_reason != "max_tokens"
        if stop_reason == "max_tokens":
            notes.append("The model's answer was cut off at its length limit.")
        elif not stopped:
            notes.append(STOPPED_MID_ANSWER)
        return Completion(text=out, finished=finished, notes=notes)
