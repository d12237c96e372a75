"""The fleet through the `fieldlens` command, as an admin, a tablet and a supervisor use it: tokens,
enrolment kept in secrets.json (and nowhere else), `sync`, the `--server` session commands with the
local JSON contract and exit codes, and the manual feed an admin adds once."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from fleet_harness import ServerProcess
from fleet_factories import build_session

from assistant.sessions import SessionStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from test_cli_contract import assert_clean_failure, fieldlens  # noqa: E402

MANUAL = """# Chiller CH-9 service manual

## Alarm list

| Alarm | Description | Cause | Remedy |
|-------|-------------|-------|--------|
| H71 | Condenser fan fault | Fan motor overload tripped | Reset the overload and check the fan bearings |
"""


def admin(data: Path, *args: str) -> "object":
    return fieldlens(data.parent / "admin-home", "server", *args, "--data", str(data), samples=False)


@pytest.fixture
def running(tmp_path: Path):
    server = ServerProcess(tmp_path / "server-data", None)
    created = admin(server.data, "tokens", "create", "--name", "tab-1", "--role", "device", "--json")
    assert created.returncode == 0, created.stderr
    device = json.loads(created.stdout)
    sup = admin(server.data, "tokens", "create", "--name", "boss", "--role", "supervisor")
    assert sup.returncode == 0, sup.stderr
    supervisor_token = sup.stdout.strip()
    assert supervisor_token.startswith("flt_") and "\n" not in supervisor_token
    server.start()
    yield server, device, supervisor_token
    server.stop()


def test_tokens_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "srv"
    made = admin(data, "tokens", "create", "--name", "tab-9", "--role", "device")
    assert made.returncode == 0 and made.stdout.strip().startswith("flt_")
    assert "shown only this once" in made.stderr
    listed = json.loads(admin(data, "tokens", "list", "--json").stdout)
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed] == [("tab-9", "device", None)]
    token = made.stdout.strip()
    assert token not in (data / "sessions.sqlite").read_bytes().decode("latin-1")  # stored hashed
    assert admin(data, "tokens", "revoke", "tab-9").returncode == 0
    assert json.loads(admin(data, "tokens", "list", "--json").stdout)[0]["revoked_at"]
    assert_clean_failure(admin(data, "tokens", "revoke", "tab-9"))
    assert_clean_failure(admin(data, "tokens", "revoke", "nobody"))
    assert_clean_failure(admin(data, "tokens", "create", "--name", "tab-9", "--role", "device"))
    assert_clean_failure(admin(data, "tokens", "create", "--name", "bad name!", "--role", "device"))


def test_tablet_enrols_syncs_and_keeps_the_token_only_in_secrets(running, tmp_path: Path) -> None:
    server, device, supervisor_token = running
    home = tmp_path / "tablet"
    with SessionStore(home / "sessions") as store:
        sid = build_session(store, seed=3)
    first = fieldlens(home, "sync", "--server", server.url, "--token", device["token"], "--json", samples=False)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["events_pushed"] >= 9 and report["photos_sent"] == 1
    secrets = home / "secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert json.loads(secrets.read_text()) == {"server_url": server.url, "server_token": device["token"]}
    # later syncs need neither the address nor the token; a model key saved later keeps them
    again = fieldlens(home, "sync", "--json", samples=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["events_pushed"] == 0
    assert json.loads(again.stdout)["library"] is not None
    exported = tmp_path / "report.json"
    assert fieldlens(home, "sessions", "export", sid, "--format", "json", "--out", str(exported),
                     samples=False).returncode == 0
    feed_key = device["feed_path"].split("/")[2].encode()
    for path in [*home.rglob("*")]:
        if path.is_file() and path.name != "secrets.json":
            body = path.read_bytes()
            assert device["token"].encode() not in body, f"the token leaked into {path}"
            if feed_key in body:  # the read-only feed address is the library's own record of its feed
                assert path.is_relative_to(home / "library"), f"the feed key leaked into {path}"
    assert device["token"] not in first.stdout + first.stderr + again.stdout + again.stderr
    assert device["token"] not in exported.read_text()
    assert device["token"] not in server.log.read_text()


def test_supervisor_commands_on_the_server_match_the_local_contract(running, tmp_path: Path) -> None:
    server, device, supervisor_token = running
    home = tmp_path / "tablet"
    with SessionStore(home / "sessions") as store:
        sid = build_session(store, seed=4, technician="Ana", device="tablet-04")
    env = {"FIELDLENS_SERVER": server.url, "FIELDLENS_SERVER_TOKEN": device["token"]}
    assert fieldlens(home, "sync", "--no-library", samples=False, env=env).returncode == 0
    office = tmp_path / "office"
    remote = ["--server", server.url]
    sup_env = {"FIELDLENS_SERVER_TOKEN": supervisor_token}

    local_list = json.loads(fieldlens(home, "sessions", "list", "--json", samples=False).stdout)
    listed = fieldlens(office, "sessions", "list", "--json", *remote, samples=False, env=sup_env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [r["id"] for r in local_list]
    assert set(local_list[0]) <= set(rows[0]) and rows[0]["device"] == "tab-1"
    assert {k: rows[0][k] for k in local_list[0]} == local_list[0]

    by_device = fieldlens(office, "sessions", "list", "--json", "--device", "tab-1", *remote, samples=False,
                          env=sup_env)
    assert [r["id"] for r in json.loads(by_device.stdout)] == [sid]
    other = fieldlens(office, "sessions", "list", "--json", "--device", "tab-2", *remote, samples=False, env=sup_env)
    assert json.loads(other.stdout) == []
    assert_clean_failure(fieldlens(office, "sessions", "list", "--device", "tab-1", samples=False))

    local_show = json.loads(fieldlens(home, "sessions", "show", sid, "--json", samples=False).stdout)
    shown = fieldlens(office, "sessions", "show", sid, "--json", *remote, samples=False, env=sup_env)
    assert shown.returncode == 0 and json.loads(shown.stdout) == local_show
    human = fieldlens(office, "sessions", "show", sid, *remote, samples=False, env=sup_env)
    assert "technician Ana" in human.stdout and "device tablet-04" in human.stdout

    assert_clean_failure(fieldlens(office, "sessions", "show", "no-such-id", *remote, samples=False, env=sup_env))
    reviewed = fieldlens(office, "review", sid, "--verdict", "needs_follow_up", "--comment", "check the seal",
                         "--step", "1", "--rating", "good", *remote, samples=False, env=sup_env)
    assert reviewed.returncode == 0, reviewed.stderr
    assert_clean_failure(fieldlens(office, "review", "no-such-id", "--verdict", "approved", *remote,
                                   samples=False, env=sup_env))
    out = tmp_path / "fleet-report.html"
    exported = fieldlens(office, "sessions", "export", sid, "--format", "html", "--out", str(out), *remote,
                         samples=False, env=sup_env)
    assert exported.returncode == 0, exported.stderr
    assert "check the seal" in out.read_text()
    # a device token on the --server commands sees its own session but cannot review
    assert fieldlens(office, "sessions", "show", sid, *remote, samples=False,
                     env={"FIELDLENS_SERVER_TOKEN": device["token"]}).returncode == 0
    assert_clean_failure(fieldlens(office, "review", sid, "--verdict", "approved", *remote, samples=False,
                                   env={"FIELDLENS_SERVER_TOKEN": device["token"]}))
    wrong = fieldlens(tmp_path / "other", "sync", "--server", server.url, "--token", supervisor_token,
                      "--no-library", samples=False)
    assert_clean_failure(wrong)
    assert "device token" in wrong.stderr
    # the technician sees the verdict and comment after the next sync
    assert fieldlens(home, "sync", "--no-library", samples=False).returncode == 0
    local = json.loads(fieldlens(home, "sessions", "show", sid, "--json", samples=False).stdout)
    assert local["reviews"][-1]["verdict"] == "needs_follow_up" and local["reviews"][-1]["comment"] == "check the seal"


def test_manual_added_once_on_the_server_reaches_tablets(running, tmp_path: Path) -> None:
    server, device, _ = running
    manual = tmp_path / "ch9.md"
    manual.write_text(MANUAL)
    added = admin(server.data, "library", "add", str(manual), "--title", "Chiller CH-9 service manual",
                  "--version", "1", "--json")
    assert added.returncode == 0, added.stderr
    home = tmp_path / "tablet"
    feed = f"{server.url}{device['feed_path']}"
    first = fieldlens(home, "library", "sync", feed, "--json", samples=False)
    assert first.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)["added"]) == 1
    second = json.loads(fieldlens(home, "library", "sync", feed, "--json", samples=False).stdout)
    assert not second["added"] and not second["updated"] and second["bytes_downloaded"] == 0
    hits = json.loads(fieldlens(home, "library", "search", "--json", "H71", samples=False).stdout)
    assert hits and "H71" in hits[0]["snippet"]
    # a new revision under the same name replaces it on the next `fieldlens sync`
    manual.write_text(MANUAL.replace("check the fan bearings", "replace the fan capacitor"))
    assert admin(server.data, "library", "add", str(manual), "--version", "2").returncode == 0
    synced = fieldlens(home, "sync", "--server", server.url, "--token", device["token"], "--json", samples=False)
    assert synced.returncode == 0, synced.stderr
    library = json.loads(synced.stdout)["library"]
    assert len(library["updated"]) == 1
    assert device["feed_path"].split("/")[2] not in synced.stdout
    hits = json.loads(fieldlens(home, "library", "search", "--json", "capacitor", samples=False).stdout)
    assert hits and "capacitor" in hits[0]["snippet"]


def test_sync_without_a_server_or_when_it_is_down(tmp_path: Path) -> None:
    home = tmp_path / "tablet"
    assert_clean_failure(fieldlens(home, "sync", samples=False))
    down = fieldlens(home, "sync", "--server", "http://127.0.0.1:9", "--token", "flt_x", samples=False)
    assert_clean_failure(down)
    assert "cannot be reached" in down.stderr and "flt_x" not in down.stderr
    assert_clean_failure(fieldlens(home, "sync", "--server", "ftp://x", "--token", "flt_x", samples=False))
