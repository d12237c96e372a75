"""The technician's flow through the fake camera, then the supervisor's review
of that same session with an export (same app server, run in file order)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _wait_text(app, identifier: str, needle: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        if app.has(identifier):
            text = app.text(identifier)
            if needle.lower() in text.lower():
                return text
        time.sleep(0.3)
    raise AssertionError(f"{identifier!r} never showed {needle!r}; last text: {text!r}")


def _click_until(app, identifier: str, shows_in: str, needle: str, tries: int = 3) -> None:
    """Tap, and tap again if the screen did not take it (a tap can land on a node being replaced)."""
    for _ in range(tries):
        app.click(identifier)
        try:
            _wait_text(app, shows_in, needle, timeout=4)
            return
        except AssertionError:
            continue
    raise AssertionError(f"tapping {identifier!r} never showed {needle!r} in {shows_in!r}")


def test_capture_readings_ask_steps_close(app, artifacts: Path) -> None:
    app.click("equipment-vfd-vx500")
    app.wait("capture-camera-open")
    app.click("capture-camera-open")
    _wait_text(app, "camera-status", "ready", timeout=40)
    app.click("capture-camera-shoot")
    _wait_text(app, "camera-status", "1 photo taken", timeout=120)
    app.screenshot(artifacts / "01-camera.png")
    app.click("capture-camera-close")

    app.wait("photo-1")
    chip = app.wait("photo-1-reading-0", timeout=30000)
    assert "F004" in (chip.get_attribute("aria-label") or chip.inner_text()), "the fault code was not read"
    app.click("photo-1")
    app.wait("annotated-photo")
    app.click("reading-0-confirm")
    app.screenshot(artifacts / "02-capture.png")

    app.click("capture-to-ask")
    app.fill("ask-input", "The drive trips when the motor accelerates")
    app.click("ask-submit")
    app.wait("step-1", timeout=120000)
    app.wait("answer-meta", timeout=120000)  # the whole answer is in, not only the first streamed step
    app.wait("step-1-cite-0")
    ids = app.ids()
    steps = sorted({i.split("-")[1] for i in ids if i.startswith("step-") and i.count("-") == 1})
    assert len(steps) >= 2, f"expected several steps, got {steps}"
    top = _wait_text(app, "answer-top-code", "F004")
    assert "confirmed by you" in top or "% sure" in top, top  # how sure the read was
    assert "Overall confidence" in app.text("answer-top-confidence")
    assert app.text("answer-top-unsure").startswith(("Unsure because", "Nothing flagged"))
    if app.has("answer-unsure"):  # every reason, right under the top line and above the steps, unfolded on a tap
        assert app.wait("answer-unsure").bounding_box()["y"] < app.wait("step-1").bounding_box()["y"]
        app.click("answer-unsure-toggle")
        _wait_text(app, "answer-unsure-toggle", "Hide")
        app.screenshot(artifacts / "03b-answer-unsure-open.png")
        app.click("answer-unsure-toggle")
        _wait_text(app, "answer-unsure-toggle", "Show all")
    chip = app.text("step-1-cite-0")
    assert "rev." in chip and "p." in chip, chip  # document, revision and page in full
    app.screenshot(artifacts / "03-answer.png")
    app.assert_touch_targets(["step-1-cite-0", "step-1-done", "step-1-note", "answer-mode-steps", "close-fixed"])

    app.click("step-1-done")
    _wait_text(app, "step-1-status", "Done")
    app.click("step-2-note")
    app.fill("step-note-input", "Accel ramp was 2 s, set to 5 s")
    app.click("step-2-nohelp")
    _wait_text(app, "step-2-status", "Accel ramp")

    app.click("step-2-note")  # a note saved with its own button, no status needed
    app.fill("step-note-input", "Motor cable checked")
    app.click("step-2-note-save")
    _wait_text(app, "snackbar", "Note saved with step 2")

    app.click("step-1-cite-0")  # on a landscape tablet the page opens beside the steps
    app.wait("page-viewer")
    app.wait("page-viewer-passage")
    assert "marked in yellow" in _wait_text(app, "page-viewer-marked", "marked")
    assert app.has("step-1") and not app.has("ask-input")
    app.screenshot(artifacts / "04-source.png")
    app.click("source-close")
    app.gone("page-viewer")

    app.click("answer-mode-steps")  # one step at a time, big buttons
    _wait_text(app, "step-progress", "2 ticked")
    app.assert_touch_targets(["step-3-done", "step-3-nohelp", "step-3-skip"], minimum=72)
    app.assert_touch_targets(["step-next", "step-prev"])
    app.screenshot(artifacts / "05-one-step.png")
    app.click("step-3-skip")
    _wait_text(app, "step-progress", "3 ticked")
    app.click("answer-mode-list")

    app.tap_until("close-fixed", "close-unticked")  # steps 4.. are not ticked: listed, and asked first
    _wait_text(app, "close-unticked", "not ticked")
    app.click("close-confirm")
    _wait_text(app, "session-closed", "Fixed")
    app.screenshot(artifacts / "05b-closed.png")


def test_supervisor_review_and_export(app, artifacts: Path, app_home: Path) -> None:
    app.click("nav-review")
    app.wait("dashboard")  # with no session open the dashboard has the pane's room
    assert "Needs review" in app.text("dash-needs-review")
    app.screenshot(artifacts / "06a-dashboard.png")
    row = app.text("session-row-0")
    assert "Variable-frequency drive VX-500" in row and "vfd-vx500" not in row, row  # named, not an id
    app.tap_until("session-row-0", "session-timeline")
    timeline = app.text("session-timeline")
    assert "Closed: Fixed" in timeline and "Step 1: Done" in timeline
    for target, shows in (("rate-1-good", "1 good"), ("rate-2-bad", "1 bad"), ("verdict-approved", "Approved")):
        _click_until(app, target, "review-draft", shows)
    app.page.mouse.move(900, 500)
    app.page.mouse.wheel(0, 8000)  # far down the steps, the verdict bar is still in view
    time.sleep(0.8)
    bar = app.wait("verdict-bar").bounding_box()
    assert bar and 0 <= bar["y"] < 800, bar
    app.fill("review-comment", "Good call on the ramp time.")
    app.fill("review-reviewer", "M. Supervisor")
    app.click("review-submit")
    _wait_text(app, "review-latest", "Approved")
    draft = _wait_text(app, "review-draft", "Approved")
    assert "1 good, 1 bad" in draft, draft  # the ratings stay after saving

    app.click("export-pdf")
    result = _wait_text(app, "export-result", ".pdf")
    assert str(app_home) not in result and "/" not in result, result  # no server folder
    app.click("export-json")
    _wait_text(app, "export-result", ".json")
    app.page.mouse.move(900, 500)
    app.page.mouse.wheel(0, -8000)  # back to the top: a node half under the verdict bar measures short
    time.sleep(0.8)
    app.screenshot(artifacts / "06-review.png")
    app.assert_touch_targets(["verdict-approved", "review-submit", "rate-1-good", "export-pdf", "filter-flagged",
                              "session-row-0"])

    pdfs = sorted((app_home / "exports").glob("*.pdf"))
    assert pdfs and pdfs[-1].read_bytes().startswith(b"%PDF")
    exported = json.loads(sorted((app_home / "exports").glob("*.json"))[-1].read_text())
    text = json.dumps(exported)
    assert "Good call on the ramp time." in text and "approved" in text
