"""A phone (390x844) against an app whose model server is down, and a second client open at
the same time: the header says "checking" then "unreachable" (never "Online"), agreeing with
the answer's "Answered offline" banner; the bottom bar has five items with the rest under
More; messages float above the bar; large text grows the title and switch labels without
cutting them; and display choices made on one client leave the other alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import conftest as harness  # tests/e2e/conftest.py: the browser-test harness
from test_flow_e2e import _wait_text

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def down_url(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[str]:
    if not Path(harness.CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    closed = harness.free_port()  # bound and released, never listening: connections are refused at once
    with harness.run_app(tmp_path_factory.mktemp("fieldlens-down"), artifacts / "app-server-down.log",
                         {"FIELDLENS_PROVIDER": "openai", "FIELDLENS_MODEL": "qwen2.5-vl-7b",
                          "FIELDLENS_BASE_URL": f"http://127.0.0.1:{closed}/v1"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser(browser_context: object, down_url: str) -> Iterator[object]:
    """A plain Chromium from the harness's Playwright (one sync Playwright per process)."""
    browser_type = browser_context.browser.browser_type  # type: ignore[attr-defined]
    b = browser_type.launch(executable_path=harness.CHROMIUM, headless=True, args=harness.BASE_ARGS)
    yield b
    b.close()


def _client(browser: object, url: str, viewport: dict) -> harness.App:
    ctx = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    ctx.route("**/*", harness._only_loopback)
    ctx.set_default_timeout(30000)
    return harness.App(ctx.new_page(), url).open()


def test_status_is_honest_and_agrees_with_the_answer(browser: object, down_url: str, artifacts: Path) -> None:
    app = _client(browser, down_url, {"width": 1280, "height": 800})
    status = _wait_text(app, "provider-status", "unreachable", timeout=30)
    assert "online" not in status.lower() and "qwen2.5-vl-7b" in status, status
    app.click("equipment-vfd-vx500")
    app.wait("capture-camera-open")
    app.tap_until("nav-answer", "ask-input")
    app.fill("ask-input", "The drive trips when the motor accelerates")
    app.click("ask-submit")
    app.wait("answer-offline", timeout=120000)
    assert "unreachable" in app.text("provider-status")  # the header agrees with the banner
    app.screenshot(artifacts / "30-status-unreachable.png")
    app.page.context.close()


def test_phone_bar_more_large_text_and_per_device_display(browser: object, down_url: str,
                                                          artifacts: Path) -> None:
    phone = _client(browser, down_url, PHONE)
    other = _client(browser, down_url, {"width": 1280, "height": 800})
    bar = sorted(i for i in phone.ids() if i.startswith("nav-"))
    assert bar == ["nav-answer", "nav-capture", "nav-home", "nav-more", "nav-sessions"], bar
    phone.assert_touch_targets(bar)
    phone.screenshot(artifacts / "31-phone-home.png")

    phone.click("nav-more")
    _wait_text(phone, "screen-title", "More")
    phone.assert_touch_targets(["nav-library", "nav-review", "nav-settings"])
    phone.click("nav-settings")
    title = _wait_text(phone, "screen-title", "Settings")
    for identifier in ("settings-large-text", "settings-dark-theme"):
        phone.bring_into_view(identifier)
        phone.tap_center(identifier)
        time.sleep(0.4)
    phone.bring_into_view("settings-save")
    phone.click("settings-save")
    _wait_text(phone, "snackbar", "Settings saved")
    time.sleep(0.8)
    snack = phone.wait("snackbar").bounding_box()
    bar_top = phone.wait("nav-home").bounding_box()["y"]
    assert snack["y"] + snack["height"] <= bar_top + 1, "the message covers the bottom bar"
    phone.screenshot(artifacts / "32-phone-settings-large-dark.png")
    phone.page.mouse.wheel(0, -5000)
    w, h = phone.size("screen-title")
    assert h >= 34, f"the title did not grow with large text ({h:.0f} px)"
    assert "Settings" in phone.text("screen-title"), title
    phone.page.mouse.move(195, 400)
    phone.page.mouse.wheel(0, 5000)  # the display switches and Save sit at the bottom of Settings
    time.sleep(1.0)
    phone.screenshot(artifacts / "34-phone-settings-bottom.png")
    phone.assert_touch_targets(["settings-large-text", "settings-dark-theme", "nav-more", "settings-save"])
    phone.page.mouse.wheel(0, -5000)
    _, switch_h = phone.size("settings-large-text")
    assert switch_h >= 56

    # the other client (another device) keeps its own text size and theme
    other.page.reload()
    other.open()
    _wait_text(other, "screen-title", "Fieldlens")
    _, other_title_h = other.size("screen-title")
    assert other_title_h < h, (other_title_h, h)
    other.screenshot(artifacts / "33-other-client-unchanged.png")

    # an answer on the phone: closing is one tap away, and the cited page opens full screen
    phone.tap_until("nav-answer", "ask-input")
    phone.fill("ask-input", "Drive shows F004 when accelerating")
    phone.click("ask-submit")
    phone.wait("answer-meta", timeout=120000)
    phone.page.mouse.wheel(0, -8000)
    phone.screenshot(artifacts / "35-phone-answer.png")
    phone.bring_into_view("step-1-cite-0")
    phone.tap_until("step-1-cite-0", "source-back")
    assert not phone.has("ask-input")
    phone.screenshot(artifacts / "36-phone-source.png")
    phone.click("source-back")
    phone.wait("step-1")
    phone.page.mouse.wheel(0, -8000)
    phone.tap_until("answer-jump-close", "close-fixed")
    time.sleep(1.0)
    box = phone.wait("close-fixed").bounding_box()
    assert box and 0 <= box["y"] <= PHONE["height"], box
    phone.page.context.close()
    other.page.context.close()
