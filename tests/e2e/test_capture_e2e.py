"""Capture with the fake camera: a photo removed, then retaken; a reading corrected redraws both the
photo's boxes and its chips; "confirm all" confirms the rest; every control is a 48 px target."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import conftest as harness  # tests/e2e/conftest.py: the browser-test harness
from test_flow_e2e import _wait_text

pytestmark = pytest.mark.e2e


def _annotated_png(app: harness.App) -> bytes:
    time.sleep(1.0)
    return app.wait("annotated-photo").screenshot()


def test_remove_correct_and_confirm_all(app: harness.App, artifacts: Path) -> None:
    app.click("equipment-vfd-vx500")
    app.click("capture-camera-open")
    _wait_text(app, "camera-status", "ready", timeout=40)
    app.click("capture-camera-shoot")
    _wait_text(app, "camera-status", "1 photo taken", timeout=120)
    app.click("capture-camera-close")

    app.wait("photo-1")
    app.assert_touch_targets(["photo-1-retake", "photo-1-remove", "capture-to-ask"])
    app.click("photo-1-remove")
    app.gone("photo-1")
    app.wait("capture-camera-open")
    app.click("capture-camera-open")  # retake: the same display again
    _wait_text(app, "camera-status", "ready", timeout=40)
    app.click("capture-camera-shoot")
    _wait_text(app, "camera-status", "1 photo taken", timeout=120)
    app.click("capture-camera-close")
    app.wait("photo-1")
    assert not app.has("photo-2")

    app.tap_until("photo-1", "annotated-photo")
    assert "F004" in app.text("photo-1-reading-0")
    before = _annotated_png(app)
    app.click("reading-0-edit")
    app.fill("reading-edit-input", "F005")
    app.click("reading-edit-save")
    _wait_text(app, "photo-1-reading-0", "F005")
    assert "F004" not in app.text("reading-0")
    after = _annotated_png(app)
    assert after != before, "the photo's boxes were not redrawn after the correction"
    app.screenshot(artifacts / "40-capture-corrected.png")

    if app.has("readings-confirm-all"):
        app.assert_touch_targets(["readings-confirm-all", "reading-0-edit"])
        app.click("readings-confirm-all")
        app.gone("readings-confirm-all")
    app.screenshot(artifacts / "41-capture-confirmed.png")
