"""The app's side of the fleet, through the façade: enrolment, a background sync that never blocks
the caller and goes on by itself when the server comes back, and the review desk pointed at the
server."""

from __future__ import annotations

import time
from pathlib import Path

from fleet_harness import ServerProcess

from assistant.config import load_settings
from assistant.service import Fieldlens


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_background_sync_works_offline_first(home: Path, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "server-data", None)
    token = server.token("tab-1", "device")
    supervisor = server.token("boss", "supervisor")
    with Fieldlens() as fl:
        fl.enrol_server(server.url, token)  # the server is not running yet
        session = fl.start_session(technician="Ana")
        fl.add_note(session.id, "pump restarted after reset")
        started = time.monotonic()
        syncer = fl.start_background_sync(interval_s=0.5, library=False)
        syncer.retry_s = 0.3
        assert time.monotonic() - started < 0.5, "starting the syncer must not wait for the server"
        try:
            assert wait_for(lambda: syncer.status()["last_error"] is not None)
            assert "cannot be reached" in syncer.status()["last_error"]
            fl.add_note(session.id, "written offline")  # the app keeps working meanwhile
            server.start()
            assert wait_for(lambda: (syncer.status()["last_report"] or {}).get("events_pushed", 0) > 0)
            with fl.fleet_sessions(server.url, supervisor) as desk:
                remote = desk.get_session(session.id)
                assert [n.text for n in remote.notes] == ["pump restarted after reset", "written offline"]
                desk.review(session.id, verdict="approved", comment="good work")
            syncer.trigger()
            assert wait_for(lambda: bool(fl.get_session(session.id).reviews))
            assert fl.get_session(session.id).reviews[-1].comment == "good work"
        finally:
            syncer.stop()
            server.stop()
    assert not syncer.status()["running"]


def test_saving_a_model_key_keeps_the_server_token(home: Path) -> None:
    with Fieldlens() as fl:
        fl.enrol_server("http://127.0.0.1:8600", "flt_example-token")
        fl.update_settings(provider="openai", api_key="sk-test-0123456789abcdef")
        creds = fl.server_credentials()
    assert creds.url == "http://127.0.0.1:8600" and creds.token == "flt_example-token"
    assert "flt_example" not in repr(creds)
    assert load_settings().api_key.get_secret_value() == "sk-test-0123456789abcdef"
