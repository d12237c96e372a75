"""Anthropic Messages and Ollama native chat providers against scripted servers on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

import fl_reasoning_support as S
from assistant.domain import Confidence, FlagCode
from assistant.errors import ProviderUnavailable
from assistant.reasoning import answer_question

KEY = "sk-ant-test-SECRET-987654321"


def ask(settings, **kw):
    events = []
    answer = answer_question("the motor keeps tripping", readings=[S.photo_reading()], images=[S.prepared()],
                             equipment=S.PUMP, retriever=S.retriever(), settings=settings, on_event=events.append, **kw)
    return answer, events


def _jpeg_ok(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and max(im.size) <= 1568
        assert not im.getexif() and "exif" not in im.info


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_request_and_event_stream(home):
    with S.ScriptedServer([S.Reply(kind="anthropic_sse", text=S.answer_json(S.GOOD_STEPS))]) as server:
        answer, events = ask(S.settings_for(home, "anthropic", server.url, key=KEY, model="claude-test"))
    (req,) = server.received
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == KEY and req.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in req.headers
    assert KEY.encode() not in req.raw
    body = req.json
    assert body["stream"] is True and body["model"] == "claude-test" and body["system"].startswith("You are Fieldlens")
    content = body["messages"][0]["content"]
    images = [c for c in content if c["type"] == "image"]
    assert len(images) == 1 and images[0]["source"]["type"] == "base64"
    _jpeg_ok(base64.b64decode(images[0]["source"]["data"]))
    assert body["tools"][0]["input_schema"]["properties"]["steps"]
    assert body["tool_choice"] == {"type": "tool", "name": body["tools"][0]["name"]}
    assert "E21 Motor overcurrent" in content[-1]["text"]
    assert answer.provider == "anthropic" and len(answer.steps) == 3 and answer.confidence == Confidence.HIGH
    assert [e.step.index for e in events if e.step] == [1, 2, 3]


def test_anthropic_401_and_cut_stream(home):
    with S.ScriptedServer([S.Reply(status=401, text='{"type":"error","error":{"type":"authentication_error"}}')]) as server:
        settings = S.settings_for(home, "anthropic", server.url, key=KEY)
        with pytest.raises(ProviderUnavailable) as err:
            ask(settings, allow_fallback=False)
    assert "the API key was refused" in str(err.value) and KEY not in str(err.value)

    full = S.answer_json(S.GOOD_STEPS)
    with S.ScriptedServer([S.Reply(kind="anthropic_sse", text=full, cut_after=3 + (full.index("Turn the shaft") + 60) // 24)]) as server:
        answer, _ = ask(S.settings_for(home, "anthropic", server.url, key=KEY, retries=0))
    assert answer.provider == "anthropic" and FlagCode.MODEL_OUTPUT_REPAIRED in [f.code for f in answer.flags]
    assert answer.steps[0].citations


def test_anthropic_without_tools_support_uses_schema_in_prompt(home):
    def no_tools(rec):
        if "tools" in rec.json:
            return S.Reply(status=400, text='{"type":"error","error":{"type":"invalid_request_error"}}')
        return S.Reply(kind="anthropic_sse", text=S.answer_json(S.GOOD_STEPS))

    with S.ScriptedServer(no_tools) as server:
        answer, _ = ask(S.settings_for(home, "anthropic", server.url, key=KEY))
    assert len(server.received) == 2 and "valid against this JSON schema" in server.received[1].json["messages"][0]["content"][-1]["text"]
    assert len(answer.steps) == 3


# --------------------------------------------------------------------------- Ollama


def test_ollama_request_and_ndjson_stream(home):
    with S.ScriptedServer([S.Reply(kind="ollama_ndjson", text=S.answer_json(S.GOOD_STEPS))]) as server:
        answer, events = ask(S.settings_for(home, "ollama", server.url, key="", model="llava:7b"))
    (req,) = server.received
    assert req.path == "/api/chat"
    body = req.json
    assert body["model"] == "llava:7b" and body["stream"] is True
    assert body["format"]["properties"]["steps"]["type"] == "array"
    user = body["messages"][1]
    assert user["role"] == "user" and len(user["images"]) == 1
    _jpeg_ok(base64.b64decode(user["images"][0]))
    assert "Switch off and lock out the main isolator" in user["content"]
    assert answer.provider == "ollama" and len(answer.steps) == 3
    assert [e.step.index for e in events if e.step] == [1, 2, 3]


def test_ollama_v1_base_url_is_trimmed_and_404_falls_back(home):
    with S.ScriptedServer([S.Reply(status=404, text=json.dumps({"error": "model 'nope' not found"}))]) as server:
        answer, _ = ask(S.settings_for(home, "ollama", server.url + "/v1", key="", model="nope"))
    assert server.received[0].path == "/api/chat"
    fb = [f for f in answer.flags if f.code == FlagCode.OFFLINE_FALLBACK]
    assert fb and "not found" in fb[0].message and answer.provider == "offline"


def test_ollama_truncated_output(home):
    full = S.answer_json(S.GOOD_STEPS)
    cut = full[: full.index("Check the motor current") + 3]
    with S.ScriptedServer([S.Reply(kind="ollama_ndjson", text=cut, stop="length")]) as server:
        answer, _ = ask(S.settings_for(home, "ollama", server.url, key="", model="m"))
    assert FlagCode.MODEL_OUTPUT_REPAIRED in [f.code for f in answer.flags]
    assert len(answer.steps) >= 2
