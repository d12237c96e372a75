"""A model server that accepted the connection and then died is reported as "stopped answering",
distinct from one that could not be reached and from one that timed out; the answer still falls
back to the offline engine (or, without fallback, fails with ProviderUnavailable). Real servers
on 127.0.0.1, for the OpenAI-compatible, Anthropic and Ollama providers."""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

import fl_reasoning_support as S
from assistant.domain import FlagCode
from assistant.errors import ProviderUnavailable
from assistant.reasoning import answer_question
from assistant.reasoning.providers.openai import forget_negotiated_shapes

PROVIDERS = ["openai", "anthropic", "ollama"]
STOPPED = "stopped answering"
UNREACHABLE = "could not be reached"


@pytest.fixture(autouse=True)
def _fresh_negotiation():
    forget_negotiated_shapes()
    yield
    forget_negotiated_shapes()


def _read_request(conn: socket.socket) -> bytes:
    """Read one HTTP request (headers and a content-length body)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _partial_stream(provider: str) -> bytes:
    """Response headers and the first chunk of a streamed answer, with no terminating chunk."""
    if provider == "openai":
        event, ctype = b'data: {"choices": [{"index": 0, "delta": {"content": "{\\"steps\\": [{\\"act"}}]}\n\n', b"text/event-stream"
    elif provider == "anthropic":
        event, ctype = (b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": '
                        b'{"type": "input_json_delta", "partial_json": "{\\"steps\\": [{\\"act"}}\n\n'), b"text/event-stream"
    else:
        event, ctype = b'{"message": {"role": "assistant", "content": "{\\"steps\\": [{\\"act"}, "done": false}\n', b"application/x-ndjson"
    return (b"HTTP/1.1 200 OK\r\ncontent-type: " + ctype + b"\r\ntransfer-encoding: chunked\r\n\r\n"
            + f"{len(event):x}\r\n".encode() + event + b"\r\n")


class DyingServer:
    """A TCP server on 127.0.0.1 that accepts each connection, reads the request and then misbehaves:

    - "close": closes without a response;
    - "reset": resets the connection (RST) without a response;
    - "partial": sends the headers and the start of the stream, then closes (incomplete chunked body);
    - "silent": answers nothing and keeps the connection open (a hang).
    With `die_after` the server stops listening after that many connections (a crashed process)."""

    def __init__(self, behaviour: str, provider: str, die_after: int | None = None) -> None:
        self.behaviour, self.provider, self.die_after = behaviour, provider, die_after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> "DyingServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        for conn in self._open:
            conn.close()
        self.sock.close()

    def _serve(self) -> None:
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            _read_request(conn)
            if self.behaviour == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif self.behaviour == "partial":
                conn.sendall(_partial_stream(self.provider))
                conn.close()
            elif self.behaviour == "silent":
                self._open.append(conn)
            else:
                conn.close()
            if self.die_after is not None and self.accepted >= self.die_after:
                self.sock.close()  # the process is gone: new connections are refused
                return


def ask(settings, **kw):
    return answer_question("the motor keeps tripping", readings=[S.photo_reading()], images=[S.prepared()],
                           equipment=S.PUMP, retriever=S.retriever(), settings=settings, **kw)


def _fallback_message(answer) -> str:
    assert answer.provider == "offline"
    (flag,) = [f for f in answer.flags if f.code == FlagCode.OFFLINE_FALLBACK]
    assert answer.steps and answer.steps[0].citations  # the manuals still answered
    return flag.message


def _settings(home, provider, url, **kw):
    return S.settings_for(home, provider, url + ("/v1" if provider == "openai" else ""), **kw)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("behaviour", ["close", "reset", "partial"])
def test_a_server_that_drops_the_answer_stopped_answering_and_the_manuals_answer(home, provider, behaviour):
    with DyingServer(behaviour, provider) as server:
        answer = ask(_settings(home, provider, server.url, retries=0))
    assert server.accepted >= 1
    message = _fallback_message(answer)
    assert STOPPED in message and UNREACHABLE not in message, message
    assert "Answered from the manuals alone" in message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_server_that_crashed_on_its_first_answer_stopped_answering_not_unreachable(home, provider):
    # the llama.cpp failure: the first request is accepted and dropped, then the process is gone,
    # so every later attempt (simpler shapes, retries) is refused at connect
    with DyingServer("partial", provider, die_after=1) as server:
        answer = ask(_settings(home, provider, server.url, retries=1))
        assert server.accepted == 1
    message = _fallback_message(answer)
    assert STOPPED in message and UNREACHABLE not in message, message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_without_fallback_a_dead_server_is_provider_unavailable_saying_it_stopped(home, provider):
    with DyingServer("close", provider, die_after=1) as server:
        with pytest.raises(ProviderUnavailable) as err:
            ask(_settings(home, provider, server.url, retries=0), allow_fallback=False)
    assert STOPPED in str(err.value) and UNREACHABLE not in str(err.value)
    assert err.value.exit_code == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nothing_listening_is_still_could_not_be_reached(home, provider):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    answer = ask(_settings(home, provider, f"http://127.0.0.1:{port}", retries=0))
    message = _fallback_message(answer)
    assert UNREACHABLE in message and STOPPED not in message, message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_server_that_hangs_is_a_timeout(home, provider):
    with DyingServer("silent", provider) as server:
        answer = ask(_settings(home, provider, server.url, retries=0, timeout=1.0))
    message = _fallback_message(answer)
    assert "did not answer within 1 s" in message and STOPPED not in message and UNREACHABLE not in message, message
