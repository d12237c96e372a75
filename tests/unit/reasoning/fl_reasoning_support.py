"""Test support for reasoning: a small real in-memory Retriever (BM25 over a
hand-written pump / drive manual), photo readings, images with EXIF, and
scripted model servers on 127.0.0.1 that speak the OpenAI, Anthropic and
Ollama protocols and record every request they receive."""

from __future__ import annotations

import io
import json
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Sequence

from PIL import Image

from assistant.config import Settings
from assistant.domain import (
    Equipment,
    FaultCode,
    Flag,
    FlagCode,
    Observation,
    ObservationKind,
    Passage,
    PassageKind,
    Photo,
    PhotoReading,
    PreparedImage,
    QualityReport,
    SearchHit,
    Severity,
)
from assistant.errors import UnknownDocument

_TOKEN = re.compile(r"[a-z0-9]+")


class MemoryRetriever:
    """A real (tiny) retriever: BM25 over passages held in memory, OR semantics."""

    def __init__(self, passages: Sequence[Passage], codes: Sequence[FaultCode] = (),
                 equipment: Sequence[Equipment] = ()) -> None:
        self.passages = {p.id: p for p in passages}
        self.codes = list(codes)
        self.equipment_by_id = {e.id: e for e in equipment}
        self.calls: list[tuple[str, Any]] = []
        self._tokens = {p.id: _TOKEN.findall(f"{p.section} {p.text}".lower()) for p in passages}
        n = len(self._tokens) or 1
        df: Counter[str] = Counter()
        for toks in self._tokens.values():
            df.update(set(toks))
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._avg = sum(len(t) for t in self._tokens.values()) / n

    def search(self, query, *, equipment_id=None, doc_id=None, kinds=None, limit=10) -> list[SearchHit]:
        self.calls.append(("search", query))
        terms = set(_TOKEN.findall(query.lower()))
        hits = []
        for pid, toks in self._tokens.items():
            p = self.passages[pid]
            if equipment_id and equipment_id not in p.equipment_ids:
                continue
            if doc_id and p.doc_id != doc_id:
                continue
            if kinds and p.kind not in kinds:
                continue
            tf = Counter(toks)
            score = 0.0
            for t in terms:
                if tf[t]:
                    score += self._idf[t] * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * len(toks) / self._avg))
            if score > 0:
                hits.append(SearchHit(passage_id=pid, doc_id=p.doc_id, title=p.title, page=p.page, section=p.section,
                                      snippet=p.text[:80], score=round(score, 4), kind=p.kind))
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    def passage(self, passage_id: str) -> Passage:
        self.calls.append(("passage", passage_id))
        try:
            return self.passages[passage_id]
        except KeyError:
            raise UnknownDocument(f"There is no passage {passage_id} in the library.") from None

    def lookup_code(self, code: str, equipment_id: str | None = None) -> list[FaultCode]:
        self.calls.append(("lookup_code", code))
        want = code.upper().replace(" ", "")
        return [c for c in self.codes if c.code.upper() == want and (not equipment_id or equipment_id in c.equipment_ids)]

    def get_equipment(self, equipment_id: str) -> Equipment:
        return self.equipment_by_id[equipment_id]


PUMP = Equipment(id="pump-x20", name="Centrifugal pump X-20 with 5.5 kW motor", model="X-20", category="pump")
DOC = "doc-x20-manual"
TITLE = "X-20 Pump Operating and Service Manual"


def _p(pid: str, page: int, section: str, kind: PassageKind, text: str, *, doc: str = DOC, title: str = TITLE,
       revision: str = "D") -> Passage:
    return Passage(id=pid, doc_id=doc, title=title, page=page, section=section, kind=kind, text=text,
                   equipment_ids=[PUMP.id], revision=revision)


PASSAGES = [
    _p("x20-p2-warn", 2, "1 Safety > 1.1 Electrical hazards", PassageKind.WARNING,
       "WARNING: Hazardous voltage. Before opening the terminal box or touching the coupling, switch off the "
       "main isolator, lock it out and tag it, and verify zero voltage at the motor terminals."),
    _p("x20-p2-hot", 2, "1 Safety > 1.2 Hot surfaces", PassageKind.WARNING,
       "CAUTION: The pump casing can exceed 70 °C when pumping hot liquid. Wear heat-resistant gloves."),
    _p("x20-p3-spec", 3, "2 Specifications", PassageKind.TABLE,
       "Rated flow 20 m3/h. Rated head 32 m. Motor 5.5 kW, 400 V, 50 Hz. Maximum casing pressure 10 bar."),
    _p("x20-p6-e21", 6, "6 Fault codes > E21", PassageKind.FAULT_CODE,
       "E21 Motor overcurrent. Cause: the impeller is blocked or the motor bearings are worn. "
       "Remedy: Isolate the pump and clear the impeller; Check the motor current against the nameplate."),
    _p("x20-p6-e34", 6, "6 Fault codes > E34", PassageKind.FAULT_CODE,
       "E34 Dry running detected. Cause: the suction valve is closed or the tank is empty. "
       "Remedy: Open the suction valve fully; Refill the tank and vent the pump casing."),
    _p("x20-p7-proc-oc", 7, "7 Troubleshooting > 7.2 Clearing a blocked impeller", PassageKind.PROCEDURE,
       "Procedure for motor overcurrent (E21):\n1. Switch off and lock out the main isolator.\n"
       "2. Remove the coupling guard.\n3. Turn the shaft by hand; it must turn freely.\n"
       "4. If the shaft is stiff, remove the pump cover and clear debris from the impeller.\n"
       "5. Refit the guard and restart the pump."),
    _p("x20-p7-proc-dry", 7, "7 Troubleshooting > 7.3 Dry running", PassageKind.PROCEDURE,
       "Procedure for dry running (E34):\n1. Check that the suction valve is open.\n"
       "2. Check the tank level.\n3. Open the vent screw until liquid flows, then close it."),
    _p("x20-p8-noise", 8, "7 Troubleshooting > 7.4 Noise and vibration", PassageKind.PROCEDURE,
       "If the pump is noisy or vibrates:\n1. Check the foundation bolts for tightness.\n"
       "2. Check the shaft alignment with a dial gauge.\n3. Replace worn bearings."),
    _p("x20-p9-seal", 9, "8 Maintenance > 8.1 Mechanical seal", PassageKind.TEXT,
       "Inspect the mechanical seal every 2000 operating hours. A leak of more than 10 drops per minute means "
       "the seal must be replaced."),
]

CODES = [
    FaultCode(code="E21", title="Motor overcurrent", cause="the impeller is blocked or the motor bearings are worn",
              remedy="Isolate the pump and clear the impeller; Check the motor current against the nameplate.",
              doc_id=DOC, passage_id="x20-p6-e21", page=6, section="6 Fault codes > E21", equipment_ids=[PUMP.id]),
    FaultCode(code="E34", title="Dry running detected", cause="the suction valve is closed or the tank is empty",
              remedy="Open the suction valve fully; Refill the tank and vent the pump casing.",
              doc_id=DOC, passage_id="x20-p6-e34", page=6, section="6 Fault codes > E34", equipment_ids=[PUMP.id]),
]


def retriever(extra: Sequence[Passage] = ()) -> MemoryRetriever:
    return MemoryRetriever(list(PASSAGES) + list(extra), CODES, [PUMP])


def photo_reading(photo_id: str = "a" * 64, code: str | None = "E21", confidence: float = 0.93,
                  text_lines: Sequence[str] = (), flags: Sequence[FlagCode] = (),
                  alternatives: Sequence[str] = ()) -> PhotoReading:
    qflags = [Flag(code=f, severity=Severity.WARNING, message=f"photo is {f.value}", photo=photo_id) for f in flags]
    quality = QualityReport(width=4000, height=3000, sharpness=250.0, brightness=120.0, overexposed_fraction=0.0,
                            glare_fraction=0.0, flags=qflags)
    obs = []
    if code:
        obs.append(Observation(photo=photo_id, kind=ObservationKind.FAULT_CODE, value=code, confidence=confidence,
                               raw=code, source="ocr", alternatives=list(alternatives)))
    lines = [Observation(photo=photo_id, kind=ObservationKind.TEXT, value=t, confidence=0.9, source="ocr")
             for t in text_lines]
    return PhotoReading(photo=Photo(id=photo_id, filename="display.jpg", width=4000, height=3000, quality=quality),
                        quality=quality, observations=obs, text_lines=lines)


def big_exif_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A real JPEG larger than the policy with EXIF (camera make and GPS) attached."""
    im = Image.new("RGB", (width, height), (40, 90, 140))
    for x in range(0, width, 97):
        im.paste((230, 230, 40), (x, 0, x + 20, height))
    exif = Image.Exif()
    exif[0x010F] = "FieldCam"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS IFD
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=80, exif=exif)
    return out.getvalue()


def prepared(photo_id: str = "a" * 64, data: bytes | None = None) -> PreparedImage:
    data = data if data is not None else big_exif_jpeg()
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
    return PreparedImage(photo_id=photo_id, width=w, height=h, data=data)


def settings_for(home, provider: str, base_url: str, *, key: str = "sk-test-SECRET-0123456789", model: str = "m",
                 timeout: float = 5.0, retries: int = 1, **kw) -> Settings:
    from pydantic import SecretStr

    return Settings(home=home, provider=provider, base_url=base_url, model=model, timeout_s=timeout,
                    max_retries=retries, api_key=SecretStr(key) if key else None, **kw)


# --------------------------------------------------------------------------- scripted servers


@dataclass
class Reply:
    """One scripted response."""

    status: int = 200
    kind: str = "json"  # json | openai_sse | anthropic_sse | ollama_ndjson | raw
    text: str = ""  # the model's answer text (streamed in pieces) or the raw body
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # stream only this many chunks, then drop the connection
    delay_s: float = 0.0
    chunk: int = 24
    stop: str = "stop"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class ScriptedServer:
    """A threaded HTTP server on 127.0.0.1 answering from a script (a list of Reply or a function)."""

    def __init__(self, script: list[Reply] | Callable[[Received], Reply]) -> None:
        self.script = script
        self.received: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                rec = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                outer.received.append(rec)
                reply = outer.next_reply(rec)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    outer.send(self, reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_reply(self, rec: Received) -> Reply:
        if callable(self.script):
            return self.script(rec)
        if len(self.script) > 1:
            return self.script.pop(0)
        return self.script[0]

    # ---- wire formats
    @staticmethod
    def _pieces(reply: Reply) -> list[str]:
        return [reply.text[i:i + reply.chunk] for i in range(0, len(reply.text), reply.chunk)] or [""]

    def send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.kind in ("json", "raw") or reply.status >= 400:
            body = reply.text.encode() if reply.kind == "raw" or reply.status >= 400 else reply.text.encode()
            h.send_response(reply.status)
            h.send_header("content-type", "application/json")
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.send_header("content-length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        events = getattr(self, f"_events_{reply.kind}")(reply)
        ctype = "application/x-ndjson" if reply.kind == "ollama_ndjson" else "text/event-stream"
        h.send_response(reply.status)
        h.send_header("content-type", ctype)
        h.send_header("transfer-encoding", "chunked")
        for k, v in reply.headers.items():
            h.send_header(k, v)
        h.end_headers()
        for i, ev in enumerate(events):
            if reply.cut_after is not None and i >= reply.cut_after:
                h.wfile.flush()
                h.close_connection = True
                h.connection.shutdown(2)  # drop mid-stream, no terminating chunk
                return
            data = ev.encode()
            h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            h.wfile.flush()
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    def _events_openai_sse(self, reply: Reply) -> list[str]:
        out = [f"data: {json.dumps({'id': 'c1', 'object': 'chat.completion.chunk', 'choices': [{'index': 0, 'delta': {'role': 'assistant'}}]})}\n\n"]
        for piece in self._pieces(reply):
            out.append("data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk",
                                              "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}) + "\n\n")
        out.append("data: " + json.dumps({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": reply.stop}]}) + "\n\n")
        out.append("data: [DONE]\n\n")
        return out

    def _events_anthropic_sse(self, reply: Reply) -> list[str]:
        def ev(name: str, data: dict) -> str:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n"

        out = [ev("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                                        "content": [], "stop_reason": None}}),
               ev("content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "tool_use", "id": "tu_1", "name": "fieldlens_answer", "input": {}}}),
               ev("ping", {"type": "ping"})]
        for piece in self._pieces(reply):
            out.append(ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "input_json_delta", "partial_json": piece}}))
        out += [ev("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use" if reply.stop == "stop" else reply.stop},
                                     "usage": {"output_tokens": 10}}),
                ev("message_stop", {"type": "message_stop"})]
        return out

    def _events_ollama_ndjson(self, reply: Reply) -> list[str]:
        out = [json.dumps({"model": "m", "message": {"role": "assistant", "content": piece}, "done": False}) + "\n"
               for piece in self._pieces(reply)]
        out.append(json.dumps({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True,
                               "done_reason": reply.stop}) + "\n")
        return out


def answer_json(steps: list[dict], **kw: Any) -> str:
    body = {"observations": kw.pop("observations", [{"photo": "P1", "visible": "A pump display showing E21.", "unreadable": []}]),
            "steps": steps, "confidence": kw.pop("confidence", "high"), "unsure_because": kw.pop("unsure_because", []),
            "abstain": kw.pop("abstain", False), "summary": kw.pop("summary", "Motor overcurrent: clear the impeller.")}
    body.update(kw)
    return json.dumps(body)


GOOD_STEPS = [
    {"action": "Switch off and lock out the main isolator.", "detail": "",
     "citations": [{"source": "S2", "quote": "Switch off and lock out the main isolator."}], "safety": []},
    {"action": "Turn the shaft by hand to check it turns freely.", "detail": "",
     "citations": [{"source": "S2", "quote": "Turn the shaft by hand; it must turn freely."}], "safety": []},
    {"action": "Check the motor current against the nameplate.", "detail": "",
     "citations": [{"source": "S1", "quote": "Check the motor current against the nameplate"}], "safety": []},
]
