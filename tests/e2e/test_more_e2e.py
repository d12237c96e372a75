"""Home: scanning the asset tag through the fake camera (its own Chromium fed
with a clip of the VX-500's QR tag) makes that drive the current equipment.
Ask: a Thinking-mode question to the offline engine shows its stages and
cited steps. Both run on the harness's app server (tests/e2e/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import conftest as harness  # tests/e2e/conftest.py: the browser-test harness
from app.components.words import STAGE_WORDS
from test_flow_e2e import _click_until, _wait_text

assert Path(harness.__file__).parent == Path(__file__).parent, "imported the wrong conftest"

pytestmark = pytest.mark.e2e

TAG_PHOTO = harness.ROOT / "assets" / "photos" / "vfd-vx500-asset-tag-qr.jpg"


def _catalog_entry(equipment_id: str) -> dict:
    import yaml

    catalog = yaml.safe_load((harness.ROOT / "assets" / "library" / "catalog.yaml").read_text())
    return next(e for e in catalog["equipment"] if e["id"] == equipment_id)


def _expected(photo: Path) -> dict:
    for entry in json.loads((photo.parent / "manifest.json").read_text()):
        if entry["file"] == photo.name:
            return entry
    raise AssertionError(f"{photo.name} is not in the photo manifest")


@pytest.fixture(scope="module")
def tag_camera_context(browser_context: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A second Chromium (same Playwright) whose fake camera films the asset tag."""
    work = tmp_path_factory.mktemp("chromium-tag")
    clip = harness.make_clip(TAG_PHOTO, work / "asset-tag.mjpeg")  # pre-mirrored, as in the flow test
    args = harness.BASE_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    browser_type = browser_context.browser.browser_type  # type: ignore[attr-defined]
    ctx = browser_type.launch_persistent_context(
        str(work / "profile"), executable_path=harness.CHROMIUM, headless=True, args=args,
        viewport={"width": 1280, "height": 800},
    )
    ctx.route("**/*", harness._only_loopback)
    ctx.set_default_timeout(30000)
    yield ctx
    ctx.close()


@pytest.fixture
def tag_app(request: pytest.FixtureRequest, tag_camera_context: object, app_url: str,
            artifacts: Path) -> Iterator[harness.App]:
    page = tag_camera_context.new_page()  # type: ignore[attr-defined]
    driver = harness.App(page, app_url).open()
    yield driver
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        page.screenshot(path=str(artifacts / f"FAILED-{request.node.name}.png"))
        (artifacts / f"FAILED-{request.node.name}.ids.txt").write_text("\n".join(driver.ids()))
    page.close()


def test_scan_asset_tag_with_camera_sets_equipment(tag_app: harness.App, artifacts: Path) -> None:
    app = tag_app
    expected = _expected(TAG_PHOTO)
    equipment = _catalog_entry(expected["equipment_id"])
    assert not app.has("home-current-equipment"), "a fresh page should have no equipment chosen"

    app.click("home-scan-camera")
    _wait_text(app, "camera-status", "ready", timeout=40)
    app.screenshot(artifacts / "12-scan-camera.png")
    app.click("home-scan-camera-shoot")

    # A match closes the camera and moves on to Capture for that equipment.
    app.gone("home-scan-camera-shoot", timeout=120000)
    app.wait("capture-camera-open")
    app.click("nav-home")
    current = _wait_text(app, "home-current-equipment", equipment["name"], timeout=30)
    assert equipment["model"] in current, current
    note = _wait_text(app, "home-scan-note", "Identified")
    assert expected["asset_tags"][0] in note, note
    app.wait(f"equipment-{expected['equipment_id']}")
    app.screenshot(artifacts / "13-scan-identified.png")


def test_thinking_mode_shows_stages_and_cited_steps(app: harness.App, artifacts: Path) -> None:
    app.click("equipment-vfd-vx500")
    app.wait("capture-camera-open")
    app.click("nav-answer")
    _click_until(app, "ask-mode-thinking", "ask-mode-note", "Thinking")
    app.fill("ask-input", "The drive trips on overcurrent when the motor accelerates")
    app.click("ask-submit")

    app.wait("step-1", timeout=120000)
    app.wait("step-1-cite-0")
    meta = _wait_text(app, "answer-meta", "Thinking")
    assert "offline" in meta.lower(), meta
    stages = app.text("answer-stages")
    for stage in ("searching", "drafting", "synthesising", "done"):
        assert STAGE_WORDS[stage].lower() in stages.lower(), (stage, stages)
    ids = app.ids()
    steps = sorted({i.split("-")[1] for i in ids if i.startswith("step-") and i.count("-") == 1})
    assert len(steps) >= 2, f"expected several steps, got {steps}"
    cited = [s for s in steps if f"step-{s}-cite-0" in ids]
    assert len(cited) == len(steps), f"steps without a citation: {set(steps) - set(cited)}"
    app.screenshot(artifacts / "14-thinking-answer.png")
    app.page.mouse.move(900, 500)  # scroll the answer pane down to the stages record
    app.page.mouse.wheel(0, 6000)
    app.screenshot(artifacts / "15-thinking-stages.png")

    app.click("step-1-cite-0")
    app.wait("page-viewer-passage")
    app.screenshot(artifacts / "16-thinking-source.png")
    app.click("source-close")
    app.gone("page-viewer")
