"""The app and the fleet server, without a browser: a real `fieldlens server` process (SQLite),
the tablet enrolled from Settings, background sync started and triggered, a supervisor's review
on the server pulled back into History, and the review desk pointed at the server."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from app.shell import Shell
from app.state import ServiceHost, sync_words
from assistant.domain import Outcome, Verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from fleet_harness import ServerProcess  # noqa: E402
from test_app_views import _ids  # noqa: E402


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("fleet") / "data", None).start()
    yield proc
    proc.stop()


def test_sync_line_words() -> None:
    now = time.time()
    done = {"last_report": {"finished_at": "2026-01-01T10:00:00+00:00"}, "last_error": None, "running": True}
    from datetime import datetime

    t = datetime.fromisoformat("2026-01-01T10:00:00+00:00").timestamp()
    assert sync_words(done, t + 125) == "synced 2 min ago"
    assert sync_words(done, t + 10) == "synced just now"
    assert sync_words({"last_report": None, "last_error": None, "running": True}, now) == "syncing…"
    refused = {**done, "last_error": "The token was revoked."}
    assert sync_words(refused, t + 30).startswith("sync refused: The token was revoked")


def test_unenrolled_tablet_says_so_and_has_no_sync(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)
    asyncio.run(shell.go("settings"))
    assert seeded_host.syncer is None
    assert shell.views["settings"].sync_line == "not enrolled"
    assert "settings-fleet" in _ids(shell.layout()) and "settings-sync-now" not in _ids(shell.layout())
    settings = shell.views["settings"]
    settings.server_field.value, settings.token_field.value = "fleet.example.com", "some-device-token"
    asyncio.run(settings.enrol())
    kind, text = shell.messages[-1]
    assert kind == "error" and "http://" in text and text.endswith(".")  # one plain sentence
    settings.server_field.value, settings.token_field.value = "https://fleet.example.com", ""
    asyncio.run(settings.enrol())
    assert shell.messages[-1] == ("error", "Paste the device token the fleet administrator created for this tablet.")
    assert seeded_host.syncer is None and seeded_host.sync_line() == "not enrolled"  # nothing was saved


def test_an_unreachable_server_is_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fleet_harness import free_port

    monkeypatch.setenv("FIELDLENS_HOME", str(tmp_path))
    for name in ("FIELDLENS_SERVER", "FIELDLENS_SERVER_TOKEN", "FIELDLENS_SAMPLES"):
        monkeypatch.delenv(name, raising=False)
    host = ServiceHost()
    try:
        shell = Shell(None, host)
        settings = shell.views["settings"]
        settings.server_field.value = f"http://127.0.0.1:{free_port()}"  # nobody listens there
        settings.token_field.value = "device-token-that-nobody-checks"
        asyncio.run(settings.enrol())
        assert settings.token_field.value == "" and host.syncer is not None
        assert _wait(lambda: (line := host.sync_line()).startswith("server unreachable") and line) \
            == "server unreachable, will retry"
        assert "device-token-that-nobody-checks" not in settings.enrolled_token  # shown masked
        host.call(shell.state.save_settings, technician="Sam")  # saving the settings keeps the enrolment
        assert host.call(shell.state.enrolment_words)[1] == "••••ecks"
    finally:
        host.close()
    assert host.syncer is None  # stopped on exit


def test_enrol_sync_review_on_server_and_back(seeded_host: ServiceHost, server: ServerProcess) -> None:
    device_token = server.token("tablet-7", "device")
    supervisor_token = server.token("supervisor-ann", "supervisor")
    shell = Shell(None, seeded_host)
    fl = seeded_host.fl
    sid = seeded_host.call(lambda: fl.start_session("vfd-vx500", technician="Sam").id)
    seeded_host.call(lambda: fl.ask("Drive trips on acceleration, F004", session_id=sid))

    async def enrol() -> None:
        await shell.go("settings")
        settings = shell.views["settings"]
        settings.server_field.value = server.url
        settings.token_field.value = device_token
        await settings.enrol()
        assert settings.token_field.value == "" and settings.enrolled_url == server.url
        assert device_token not in settings.enrolled_token and settings.enrolled_token.startswith("••••")

    asyncio.run(enrol())
    assert _wait(lambda: (line := seeded_host.sync_line()).startswith("synced") and line) == "synced just now"
    assert device_token in (Path(fl.settings.home) / "secrets.json").read_text()

    # closing the session wakes the sync: the server has the outcome without waiting a minute
    shell.state.resume(sid)
    seeded_host.call(shell.state.close, Outcome.FIXED)
    review = shell.views["review"]

    async def desk() -> None:
        await shell.go("review")
        await review.use_source(True)
        assert "review-server-connect" in _ids(shell.layout())
        assert review.fleet_url_field.value == server.url  # the tablet's server, offered
        review.fleet_token_field.value = supervisor_token
        await review.connect()
        assert review.connected and review.fleet_token_field.value == ""
        assert "review-source-line" in _ids(shell.layout())

    asyncio.run(desk())

    def closed_on_server():
        asyncio.run(review.apply_filters())
        return [s for s in shell.state.summaries if s.id == sid and s.outcome == Outcome.FIXED]

    row = _wait(closed_on_server)[0]
    assert row.device == "tablet-7" and row.technician == "Sam"

    async def write_review() -> None:
        await review.open(sid)
        assert "device tablet-7" in _texts(shell.layout()) and "Sam" in _texts(shell.layout())
        await review.set_verdict(Verdict.NEEDS_FOLLOW_UP)
        review.comment_field.value = "Check the DC bus before restarting."
        review.reviewer_field.value = "Ann"
        await review.submit()

    asyncio.run(write_review())
    assert not [m for m in shell.messages if m[0] == "error"], shell.messages
    assert fl.get_session(sid).reviews == []  # written on the server, not here

    seeded_host.trigger_sync()
    pulled = _wait(lambda: fl.get_session(sid).reviews)
    assert pulled[-1].comment == "Check the DC bus before restarting."

    async def history() -> None:
        await shell.go("sessions")
        await shell.views["sessions"].open(sid)
        assert "review-latest" in _ids(shell.layout())

    asyncio.run(history())
    banner_text = _texts(shell.views["sessions"].review_banner(fl.get_session(sid)))
    assert "Needs follow-up" in banner_text and "Check the DC bus" in banner_text and "Ann" in banner_text

    asyncio.run(review.use_source(False))  # back to this device's sessions
    assert all(not getattr(s, "device", "") for s in shell.state.summaries)


def _texts(control) -> str:
    import flet as ft

    out = []
    if isinstance(control, ft.Text) and control.value:
        out.append(str(control.value))
    for name in ("content", "controls"):
        child = getattr(control, name, None)
        for c in child if isinstance(child, list) else [child] if isinstance(child, ft.Control) else []:
            out.append(_texts(c))
    return " ".join(out)


class _CountingSync:
    """Stands in for the background sync's thread handle: counts wake-ups."""

    def __init__(self) -> None:
        self.triggers = 0

    def trigger(self) -> None:
        self.triggers += 1

    def stop(self, timeout: float = 0) -> None:
        pass


def test_ticking_closing_and_reviewing_wake_the_sync(seeded_host: ServiceHost) -> None:
    from assistant.domain import StepStatus

    real, seeded_host.syncer = seeded_host.syncer, _CountingSync()
    try:
        shell = Shell(None, seeded_host)
        state = shell.state
        fl = seeded_host.fl
        sid = seeded_host.call(lambda: fl.start_session("vfd-vx500").id)
        seeded_host.call(lambda: fl.ask("Drive trips on acceleration, F004", session_id=sid))
        seeded_host.call(state.resume, sid)
        turn = state.session.turns[-1]
        seeded_host.call(state.record_step, turn.id, 1, StepStatus.DONE)
        assert seeded_host.syncer.triggers == 1
        seeded_host.call(state.close, Outcome.FIXED)
        assert seeded_host.syncer.triggers == 2
        seeded_host.call(state.open_session, sid)
        seeded_host.call(state.submit_review, Verdict.APPROVED, "", {}, None)
        assert seeded_host.syncer.triggers == 3
    finally:
        seeded_host.syncer = real


def test_history_redraws_when_the_sync_brings_reviews_back(seeded_host: ServiceHost) -> None:
    class Syncer(_CountingSync):
        def __init__(self) -> None:
            super().__init__()
            self.report = {"finished_at": "2026-01-01T10:00:00+00:00", "reviews_pulled": 0}

        def status(self) -> dict:
            return {"last_report": dict(self.report), "last_error": None, "running": True}

    shell = Shell(None, seeded_host)
    asyncio.run(shell.go("sessions"))
    shown = []
    history = shell.views["sessions"]
    original = history.on_show

    async def counting_on_show() -> None:
        shown.append(time.monotonic())
        await original()

    history.on_show = counting_on_show
    real, seeded_host.syncer = seeded_host.syncer, Syncer()

    async def run() -> None:
        watcher = asyncio.ensure_future(shell.watch_pulled_reviews(every_s=0.01))
        await asyncio.sleep(0.1)
        assert shown == []  # a sync that pulled nothing redraws nothing
        seeded_host.syncer.report = {"finished_at": "2026-01-01T10:01:00+00:00", "reviews_pulled": 1}
        await asyncio.sleep(0.3)
        assert len(shown) == 1  # once per sync that brought reviews back
        watcher.cancel()

    try:
        asyncio.run(run())
    finally:
        seeded_host.syncer = real
