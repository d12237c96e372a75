"""Benchmark: the reasoning pipeline's own overhead around the model call, and
what one request sends.

    python tests/bench/bench_reasoning.py

Overhead = evidence gathering over the in-memory test retriever + prompt
building + request body (image guard, base64) + parsing + grounding +
confidence + assembling the Answer, measured in-process with a scripted reply
(no network, no model). Target: median <= 50 ms. Also prints the bytes and
image count of one request with 1 and 3 photos prepared the way imaging
prepares them (1568 px, JPEG q85, no EXIF), and the same through a real
OpenAI-compatible scripted server on 127.0.0.1 end to end. Prints figures;
asserts nothing about time.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "reasoning"))

from PIL import Image  # noqa: E402

import fl_reasoning_support as S  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.domain import Mode, PreparedImage  # noqa: E402
from assistant.reasoning import answer_question  # noqa: E402
from assistant.reasoning.engine import Draft, _answer_request, assemble, base_flags  # noqa: E402
from assistant.reasoning.grounding import WarningFinder, ground_step  # noqa: E402
from assistant.reasoning.parsing import parse_reply  # noqa: E402
from assistant.reasoning.providers import OpenAIProvider  # noqa: E402
from assistant.reasoning.retrieval import gather  # noqa: E402
from assistant.reasoning.schema import ModelAnswer  # noqa: E402

RUNS = 60


def prepared_photo(photo_id: str) -> PreparedImage:
    """A demo photo prepared by imaging (1568 px, JPEG q85, no EXIF); a synthetic one if unavailable."""
    photos = sorted((ROOT / "assets" / "photos").glob("*display*.jpg"))
    if photos:
        from assistant.config import PhotoPolicy
        from assistant.imaging import load_photo, prepare_for_model

        img = prepare_for_model(load_photo(photos[int(photo_id, 16) % len(photos)]), PhotoPolicy())
        return img.model_copy(update={"photo_id": photo_id})
    import numpy as np

    rng = np.random.default_rng(abs(hash(photo_id)) % 2**32)
    arr = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    arr[::8] = 30
    im = Image.fromarray(arr).resize((1568, 1176), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=85)
    return PreparedImage(photo_id=photo_id, width=1568, height=1176, data=out.getvalue())


def overhead_once(settings: Settings, images: list[PreparedImage], reply: str, retriever) -> dict[str, float]:
    t0 = time.perf_counter()
    readings = [S.photo_reading(img.photo_id) for img in images] or [S.photo_reading()]
    ev = gather("the motor keeps tripping", readings=readings, equipment=S.PUMP, retriever=retriever)
    request, prompt = _answer_request(ev, images, None)
    provider = OpenAIProvider(settings)
    body, _, _ = provider.body(request, "json_schema", True)
    payload = json.dumps(body)
    t1 = time.perf_counter()
    parsed = parse_reply(reply, ModelAnswer)
    wf = WarningFinder(retriever, ev)
    steps, checks = [], []
    for i, ms in enumerate(parsed.value.steps, start=1):
        s, c = ground_step(ms, i, ev, wf)
        steps.append(s)
        checks.append(c)
    draft = Draft(answer=parsed.value, steps=steps, checks=checks, prompt_hash=prompt.prompt_hash)
    answer = assemble(question="the motor keeps tripping", evidence=ev, equipment=S.PUMP, draft=draft,
                      provider_used=provider, mode=Mode.INSTANT, flags=base_flags(ev, S.PUMP), fallback=None,
                      extra_unsure=[], timings={})
    t2 = time.perf_counter()
    asyncio.run(provider.aclose())
    assert answer.steps
    return {"prompt_ms": (t1 - t0) * 1000, "verify_ms": (t2 - t1) * 1000, "total_ms": (t2 - t0) * 1000,
            "bytes": len(payload), "images": len(images)}


def main() -> None:
    reply = S.answer_json(S.GOOD_STEPS * 3)  # nine cited steps
    retriever = S.retriever()
    with tempfile.TemporaryDirectory() as tmp:
        settings = S.settings_for(Path(tmp), "openai", "http://127.0.0.1:9/v1")
        for n in (0, 1, 3):
            images = [prepared_photo(f"{i:064x}") for i in range(n)]
            overhead_once(settings, images, reply, retriever)  # warm
            runs = [overhead_once(settings, images, reply, retriever) for _ in range(RUNS)]
            med = {k: statistics.median(r[k] for r in runs) for k in ("prompt_ms", "verify_ms", "total_ms")}
            p90 = sorted(r["total_ms"] for r in runs)[int(RUNS * 0.9) - 1]
            print(f"overhead, {n} photo(s): median {med['total_ms']:.1f} ms (prompt {med['prompt_ms']:.1f} ms, "
                  f"verification {med['verify_ms']:.1f} ms), p90 {p90:.1f} ms; request {runs[0]['bytes'] / 1024:.0f} KiB, "
                  f"{runs[0]['images']} image(s)   [target <= 50 ms]")

        # offline engine end to end (no model at all)
        offline_settings = Settings(home=Path(tmp) / "off")
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            a = answer_question("the motor keeps tripping", readings=[S.photo_reading()], images=[], equipment=S.PUMP,
                                retriever=retriever, settings=offline_settings)
            times.append((time.perf_counter() - t) * 1000)
        print(f"offline engine answer end to end: median {statistics.median(times):.1f} ms, {len(a.steps)} steps")

        # end to end through a scripted OpenAI-compatible server on 127.0.0.1
        images = [prepared_photo("e" * 64)]
        with S.ScriptedServer([S.Reply(kind="openai_sse", text=reply)]) as server:
            st = S.settings_for(Path(tmp) / "e2e", "openai", server.url + "/v1")
            times = []
            for i in range(10):
                t = time.perf_counter()
                answer_question(f"the motor keeps tripping ({i})", readings=[S.photo_reading("e" * 64)], images=images,
                                equipment=S.PUMP, retriever=retriever, settings=st)
                times.append((time.perf_counter() - t) * 1000)
            sizes = [len(r.raw) for r in server.received]
        print(f"instant answer via local scripted server (SSE, no model time): median {statistics.median(times):.1f} ms; "
              f"request {statistics.median(sizes) / 1024:.0f} KiB with 1 image")


if __name__ == "__main__":
    main()
