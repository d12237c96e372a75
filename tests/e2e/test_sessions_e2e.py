"""Several sessions one after another on one page: a first one asked and closed, a second new
one whose answer must appear as it streams, then History → Continue on an open session with
every control back. Regression: Flet patched re-attached screens against stale snapshots, so
the second session's answer and the continued session's controls never reached the browser."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import conftest as harness  # tests/e2e/conftest.py: the browser-test harness
from test_flow_e2e import _wait_text

pytestmark = pytest.mark.e2e

ASK_CONTROLS = ["ask-input", "ask-mode-instant", "ask-mode-thinking", "ask-submit", "session-note-input",
                "session-note-add", "close-fixed", "close-escalated", "close-parts_needed", "close-not_fixed"]


def _ask(app: harness.App, question: str) -> None:
    app.fill("ask-input", question)
    app.click("ask-submit")
    _wait_text(app, "answer-question", question, timeout=120)
    app.wait("answer-meta", timeout=120000)  # the answer is complete, not only streaming
    app.wait("step-1-cite-0")
    time.sleep(0.5)


def test_second_new_session_and_a_continued_one_show_everything(app: harness.App, artifacts: Path) -> None:
    app.click("equipment-vfd-vx500")
    app.wait("capture-camera-open")
    app.click("nav-answer")
    _ask(app, "The drive trips when the motor accelerates")
    app.tap_until("close-fixed", "close-confirm")  # first session: closed, unticked steps confirmed
    app.click("close-confirm")
    _wait_text(app, "session-closed", "Fixed")

    app.click("session-new")
    app.wait("capture-camera-open")
    app.wait("capture-pick")
    app.screenshot(artifacts / "20-second-session-capture.png")
    app.click("nav-answer")
    for identifier in ASK_CONTROLS[:4]:
        app.wait(identifier)
    _ask(app, "Display shows F004 after a few seconds")  # second session: its answer appears
    app.screenshot(artifacts / "21-second-session-answer.png")
    app.assert_touch_targets(["step-1-cite-0", "step-1-done", "ask-submit", "close-fixed", "nav-sessions"])

    app.click("nav-sessions")
    app.wait("session-row-1")
    open_row = next(i for i in range(2) if "Open" in app.text(f"session-row-{i}"))
    app.tap_until(f"session-row-{open_row}", "session-resume")
    _wait_text(app, "session-timeline", "Display shows F004")
    app.click("session-resume")
    for identifier in ASK_CONTROLS:  # third visit to the Ask screen: everything is there
        app.wait(identifier)
    _wait_text(app, "answer-question", "Display shows F004")
    _ask(app, "Still trips after raising the ramp time")  # a follow-up in the continued session streams in
    app.screenshot(artifacts / "22-continued-session.png")
    app.wait("turn-1")
    app.wait("turn-2")
