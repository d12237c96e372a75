"""Benchmark the app: start to interactive, rendering an answer of 10+ steps,
opening a library page. Prints figures; never asserts on time.

    python tests/bench/bench_app.py

Uses the same harness as the browser tests (Debian chromium, loopback only).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import BASE_ARGS, CHROMIUM, App, _only_loopback, free_port, wait_port  # noqa: E402


def start_server(home: Path) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDLENS_", "FLET_"))}
    env.update({"FIELDLENS_HOME": str(home), "FIELDLENS_SAMPLES": "1"})
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app", "--web", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, timeout=120)
    return proc, f"http://127.0.0.1:{port}/", time.perf_counter() - t0


def wait_for(app: App, identifier: str, timeout: float = 120000) -> None:
    app.page.wait_for_selector(app.sel(identifier), timeout=timeout)


def headless_answer_build(home: Path) -> tuple[int, float]:
    """Build the Ask/Answer view for the latest answer without a browser (ms per build)."""
    os.environ["FIELDLENS_HOME"] = str(home)
    os.environ["FIELDLENS_SAMPLES"] = "1"
    from app.shell import Shell
    from app.state import ServiceHost

    host = ServiceHost()
    shell = Shell(None, host)
    rows = host.call(shell.state.recent_sessions)
    host.call(shell.state.resume, rows[0].id)
    asyncio.run(shell.go("answer"))
    steps = len(shell.state.turns()[-1].answer.steps)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        shell.layout()
        times.append((time.perf_counter() - t) * 1000)
    host.close()
    return steps, statistics.median(times)


def main() -> None:
    from playwright.sync_api import sync_playwright

    photo = ROOT / "assets" / "photos" / "vfd-vx500-display-f004.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        proc, url, t_listen = start_server(home)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BASE_ARGS)
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                ctx.route("**/*", _only_loopback)
                page = ctx.new_page()
                t0 = time.perf_counter()
                app = App(page, url)
                page.goto(url)
                page.wait_for_selector("#loading", state="detached", timeout=120000)
                t_flutter = time.perf_counter() - t0
                page.locator("flt-semantics-placeholder").dispatch_event("click")
                wait_for(app, "equipment-vfd-vx500")
                t_interactive = time.perf_counter() - t0

                # Answer of 10+ steps: a photo of the F004 display, then one question.
                app.click("equipment-vfd-vx500")
                wait_for(app, "capture-pick")
                with page.expect_file_chooser() as chooser:
                    app.click("capture-pick")
                chooser.value.set_files(str(photo))
                wait_for(app, "photo-1-reading-0")
                app.click("capture-to-ask")
                wait_for(app, "ask-input")
                app.fill("ask-input", "The drive trips when the motor accelerates")
                t1 = time.perf_counter()
                app.click("ask-submit")
                wait_for(app, "step-1")
                t_first_step = time.perf_counter() - t1
                wait_for(app, "step-10")
                app.wait("answer-question")
                t_ten = time.perf_counter() - t1
                steps = len([i for i in app.ids() if i.startswith("step-") and i.count("-") == 1])

                # Library page open: outline entry -> rendered page in the viewer.
                app.click("nav-library")
                app.click("library-eq-vfd-vx500")
                app.click("doc-0")
                wait_for(app, "section-0")
                sections = [i for i in app.ids() if i.startswith("section-")]
                opens = []
                for sid in sections[2:6]:
                    t2 = time.perf_counter()
                    app.click(sid)
                    wait_for(app, "page-viewer-image")
                    opens.append(time.perf_counter() - t2)
                    app.click("page-viewer-close")
                    app.gone("page-viewer")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
        n_steps, build_ms = headless_answer_build(home)

    print("Fieldlens app benchmark (web mode, Debian chromium headless, 1280x800)")
    print(f"  server listening after start            {t_listen * 1000:8.0f} ms")
    print(f"  Flutter client loaded (#loading gone)   {t_flutter * 1000:8.0f} ms")
    print(f"  start page interactive (catalog shown)  {t_interactive * 1000:8.0f} ms  (after page load)")
    print(f"  app start to interactive (total)        {(t_listen + t_interactive) * 1000:8.0f} ms")
    print(f"  ask -> first step on screen             {t_first_step * 1000:8.0f} ms  (offline engine)")
    print(f"  ask -> 10th step on screen              {t_ten * 1000:8.0f} ms  ({steps} steps shown)")
    print(f"  answer view build, {n_steps} steps (headless)  {build_ms:8.1f} ms  (median of 20)")
    if opens:
        print(f"  library page open (outline -> page)     {statistics.median(opens) * 1000:8.0f} ms  "
              f"(median of {len(opens)}, first {opens[0] * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
