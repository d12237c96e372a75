"""The app and a real fleet server (its own process, SQLite): a session asked and closed on the
tablet, the tablet enrolled from Settings (the sync line turns to "synced"), the review desk
pointed at the server (sessions with device and technician), a verdict written there, and the
technician seeing it in History after the next sync. Screenshots for each step."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

import conftest as harness  # tests/e2e/conftest.py: the browser-test harness
from test_flow_e2e import _wait_text
from test_sessions_e2e import _ask

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "server"))
from fleet_harness import ServerProcess  # noqa: E402

pytestmark = pytest.mark.e2e


def _scroll_to(app: harness.App, identifier: str, tries: int = 10) -> None:
    """Scroll the pane the node is in (the wheel goes to the pane under the mouse) until it is in view."""
    vp = app.page.viewport_size
    for _ in range(tries):
        box = app.wait(identifier).bounding_box()
        if box and box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] - 60:
            return
        app.page.mouse.move(box["x"] + box["width"] / 2 if box else vp["width"] / 2, vp["height"] / 2)
        app.page.mouse.wheel(0, 400 if (box is None or box["y"] > 0) else -400)
        time.sleep(0.4)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    server = ServerProcess(tmp_path_factory.mktemp("fleet") / "data", None).start()
    yield server
    server.stop()


def test_enrol_the_tablet_and_review_on_the_fleet_server(app: harness.App, fleet: ServerProcess,
                                                         artifacts: Path) -> None:
    device_token = fleet.token("tablet-e2e", "device")
    supervisor_token = fleet.token("supervisor-e2e", "supervisor")
    app.click("equipment-vfd-vx500")
    app.wait("capture-camera-open")
    app.click("nav-answer")
    _ask(app, "The drive trips when the motor accelerates")
    app.tap_until("close-fixed", "close-confirm")
    app.click("close-confirm")
    _wait_text(app, "session-closed", "Fixed")

    app.tap_until("nav-settings", "settings-fleet")
    _wait_text(app, "settings-sync-status", "not enrolled")
    _scroll_to(app, "settings-server-token")  # a tap on a field below the fold would land on what scrolls there
    app.fill("settings-server-url", fleet.url)
    app.fill("settings-server-token", device_token)
    _scroll_to(app, "settings-enrol")
    app.click("settings-enrol")
    _wait_text(app, "settings-sync-status", "synced", timeout=60)
    enrolment = _wait_text(app, "settings-enrolment", fleet.url)
    assert device_token not in enrolment and "••••" in enrolment  # never shown again in full
    _scroll_to(app, "settings-sync-now")
    app.assert_touch_targets(["settings-enrol", "settings-sync-now"])
    app.screenshot(artifacts / "50-fleet-enrolled.png")

    app.tap_until("nav-review", "review-source-fleet")
    app.tap_until("review-source-fleet", "review-server-connect")
    assert fleet.url in app.text("review-server-url") or app.wait("review-server-url")
    app.fill("review-server-url", fleet.url)
    app.fill("review-server-token", supervisor_token)
    app.click("review-server-connect")
    _wait_text(app, "review-source-line", fleet.url)
    row = _wait_text(app, "session-row-0", "device tablet-e2e")
    assert "Fixed" in row, row
    app.assert_touch_targets(["review-source-device", "review-source-fleet", "session-row-0"])
    app.screenshot(artifacts / "51-review-desk-fleet.png")

    app.tap_until("session-row-0", "verdict-bar")
    _wait_text(app, "session-meta", "device tablet-e2e")
    app.click("verdict-needs_follow_up")
    _wait_text(app, "review-draft", "Needs follow-up")
    app.fill("review-comment", "Check the DC bus before the next restart.")
    app.fill("review-reviewer", "Ann from the office")
    app.click("review-submit")
    _wait_text(app, "review-latest", "Needs follow-up")
    app.screenshot(artifacts / "52-review-written-on-server.png")

    app.tap_until("nav-settings", "settings-sync-now")
    app.click("settings-sync-now")  # the technician need not wait for the next round either
    deadline = time.monotonic() + 60
    while True:  # the review arrives with the next sync; History shows it on the session
        app.tap_until("nav-sessions", "session-row-0")
        app.tap_until("session-row-0", "session-timeline")
        if app.has("review-latest"):
            break
        assert time.monotonic() < deadline, "the review never reached the tablet's History"
        app.click("nav-settings")
        time.sleep(2)
    text = _wait_text(app, "review-latest", "Check the DC bus")
    assert "Needs follow-up" in text and "Ann from the office" in text, text
    app.screenshot(artifacts / "53-history-pulled-review.png")
