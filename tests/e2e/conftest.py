"""Browser-test harness: the app as a subprocess on a free loopback port with a
fresh data folder (samples seeded), Debian chromium driven by Playwright's
sync API (fake camera fed with a clip of a demo display photo), non-loopback
requests blocked, and helpers that drive the Flutter semantics tree by
`flt-semantics-identifier`.

Run on its own: `pytest tests/e2e` (Playwright's sync API and pytest-asyncio
clash in one process).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CLIP_PHOTO = ROOT / "assets" / "photos" / "vfd-vx500-display-f004.jpg"
BASE_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the app did not listen on port {port} within {timeout:.0f} s")


def make_clip(photo: Path, out: Path, frames: int = 30, size: tuple[int, int] = (1280, 960)) -> Path:
    """An MJPEG clip of one still photo, pre-mirrored (Chromium's fake capture mirrors it back)."""
    from PIL import Image, ImageOps

    with Image.open(photo) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        im = ImageOps.fit(im, size)
        im = ImageOps.mirror(im)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=92)
    frame = buf.getvalue()
    out.write_bytes(frame * frames)
    return out


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*"):
        stale.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fieldlens-home")


@contextlib.contextmanager
def run_app(home: Path, log_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The app serving the web client on a free loopback port with `home` as its data folder
    (samples seeded, no provider settings or keys from this shell); yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FIELDLENS_", "FLET_")) or k == "FIELDLENS_LOG"}
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(key, None)
    env.update({"FIELDLENS_HOME": str(home), "FIELDLENS_SAMPLES": "1", "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app", "--web", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_port(port, proc)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def app_url(app_home: Path, artifacts: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (make browser installs it)")
    with run_app(app_home, artifacts / "app-server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory, app_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("chromium")
    clip = make_clip(CLIP_PHOTO, work / "display.mjpeg")
    args = BASE_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(work / "profile"), executable_path=CHROMIUM, headless=True, args=args,
            viewport={"width": 1280, "height": 800}, accept_downloads=True,
        )
        ctx.route("**/*", _only_loopback)
        ctx.set_default_timeout(30000)
        yield ctx
        ctx.close()
    shutil.rmtree(work, ignore_errors=True)


def _only_loopback(route: object) -> None:
    url = route.request.url  # type: ignore[attr-defined]
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
        route.continue_()  # type: ignore[attr-defined]
    else:
        route.abort()  # type: ignore[attr-defined]


class App:
    """Drive the Flet app through its semantics tree."""

    def __init__(self, page: object, url: str) -> None:
        self.page = page
        self.url = url

    def open(self) -> App:
        p = self.page
        p.goto(self.url)
        p.wait_for_selector("#loading", state="detached", timeout=60000)
        p.locator("flt-semantics-placeholder").dispatch_event("click")
        self.wait("nav-home", timeout=30000)
        return self

    def sel(self, identifier: str) -> str:
        return f'[flt-semantics-identifier="{identifier}"]'

    def loc(self, identifier: str) -> object:
        return self.page.locator(self.sel(identifier)).first

    def wait(self, identifier: str, timeout: float = 30000) -> object:
        self.page.wait_for_selector(self.sel(identifier), timeout=timeout)
        return self.loc(identifier)

    def gone(self, identifier: str, timeout: float = 30000) -> None:
        self.page.wait_for_selector(self.sel(identifier), state="detached", timeout=timeout)

    def click(self, identifier: str, timeout: float = 30000) -> None:
        self.wait(identifier, timeout).click()

    def fill(self, identifier: str, text: str, tries: int = 5) -> None:
        """Type into a text field like a user (tap, select all, type) and check it took.

        Keys are only sent once the field's input really has the focus: typed into a
        focused button, a space would press it."""
        for _ in range(tries):
            field = self.wait(identifier).locator("input, textarea").first
            field.click()
            time.sleep(0.3)
            if not field.evaluate("e => e === document.activeElement"):
                field.focus()
                time.sleep(0.3)
                if not field.evaluate("e => e === document.activeElement"):
                    continue
            self.page.keyboard.press("Control+A")
            self.page.keyboard.press("Delete")
            self.page.keyboard.type(text, delay=15)
            time.sleep(0.6)  # let the value reach the server before the next tap
            field = self.wait(identifier).locator("input, textarea").first
            if field.count() and field.input_value() == text:
                return
        raise AssertionError(f"could not type into {identifier!r}")

    def text(self, identifier: str) -> str:
        el = self.wait(identifier)
        return el.evaluate(
            """e => [e, ...e.querySelectorAll('*')]
                 .map(n => [n.getAttribute('aria-label') || '',
                            n.childElementCount ? '' : (n.textContent || '')].join(' '))
                 .join(' ').replace(/\\s+/g, ' ').trim()"""
        )

    def has(self, identifier: str) -> bool:
        return self.page.locator(self.sel(identifier)).count() > 0

    def ids(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "[flt-semantics-identifier]", "els => els.map(e => e.getAttribute('flt-semantics-identifier'))")

    def size(self, identifier: str) -> tuple[float, float]:
        """(width, height) in CSS pixels of the node's box as drawn."""
        box = self.wait(identifier).bounding_box()
        assert box is not None, f"{identifier!r} is not drawn"
        return box["width"], box["height"]

    def assert_touch_targets(self, identifiers: list[str], minimum: float = 48.0) -> None:
        """Every listed control is at least `minimum` px tall and wide (gloved fingers)."""
        small = {}
        for identifier in identifiers:
            if not identifier.startswith("nav-"):  # a node cut by the screen edge measures short
                self.bring_into_view(identifier, tries=8)
            w, h = self.size(identifier)
            if w < minimum or h < minimum:
                small[identifier] = (round(w), round(h))
        assert not small, f"touch targets under {minimum:.0f} px: {small}"

    def tap_center(self, identifier: str) -> None:
        """Tap the middle of a node as a finger would (for nodes the canvas draws over, e.g. a
        switch with its label)."""
        box = self.wait(identifier).bounding_box()
        assert box is not None, f"{identifier!r} is not drawn"
        self.page.mouse.click(box["x"] + min(box["width"] / 2, 40), box["y"] + box["height"] / 2)

    def bring_into_view(self, identifier: str, tries: int = 20, margin: float = 90) -> None:
        """Scroll the Flutter view (mouse wheel over the page) until the node is fully on screen."""
        vp = self.page.viewport_size
        for _ in range(tries):
            box = self.wait(identifier).bounding_box()
            if box and box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] - margin:
                return
            # wheel over the node's own column, so the pane that holds it is the one that scrolls
            x = box["x"] + min(box["width"] / 2, 40) if box else vp["width"] / 2
            self.page.mouse.move(min(max(x, 1), vp["width"] - 1), vp["height"] / 2)
            self.page.mouse.wheel(0, 300 if (box is None or box["y"] > 0) else -300)
            time.sleep(0.3)

    def tap_until(self, identifier: str, shows: str, tries: int = 4, timeout: float = 5000) -> None:
        """Tap, and tap again if `shows` did not appear (a tap can land on a node being replaced)."""
        for _ in range(tries):
            self.click(identifier)
            try:
                self.wait(shows, timeout=timeout)
                return
            except Exception:  # playwright's TimeoutError: tap again
                continue
        raise AssertionError(f"tapping {identifier!r} never showed {shows!r}")

    def snackbar_text(self, timeout: float = 15000) -> str:
        return self.text("snackbar") if self.wait("snackbar", timeout) else ""

    def screenshot(self, path: Path, tries: int = 20) -> bytes:
        """Wait for two equal screenshots in a row, save, and check the image is not blank."""
        prev = None
        shot = b""
        for _ in range(tries):
            shot = self.page.screenshot()
            if shot == prev:
                break
            prev = shot
            time.sleep(0.4)
        path.write_bytes(shot)
        assert not is_blank(shot), f"{path.name} is blank"
        return shot


def is_blank(png: bytes, min_stddev: float = 8.0) -> bool:
    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(png)) as im:
        stat = ImageStat.Stat(im.convert("L"))
    return stat.stddev[0] < min_stddev


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


@pytest.fixture
def app(request: pytest.FixtureRequest, browser_context: object, app_url: str, artifacts: Path) -> Iterator[App]:
    page = browser_context.new_page()  # type: ignore[attr-defined]
    driver = App(page, app_url).open()
    yield driver
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:  # keep what the user would have seen
        page.screenshot(path=str(artifacts / f"FAILED-{request.node.name}.png"))
        (artifacts / f"FAILED-{request.node.name}.ids.txt").write_text("\n".join(driver.ids()))
    page.close()
