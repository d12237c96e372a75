"""Who may do what on the server, and what a bad request gets: every call needs a valid token, a
device sees only its own sessions, revoked tokens are refused, malformed or oversized pushes get
a 4xx with a plain message and change nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from fleet_factories import build_session, make_jpeg

from assistant.sessions.photos import sha256_hex


def call(server, token: str | None, method: str, path: str, **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, server.url + path, headers=headers, timeout=20, **kwargs)


@pytest.fixture
def fleet(server, make_tablet):
    tokens = {"a": server.token("tab-a", "device"), "b": server.token("tab-b", "device"),
              "sup": server.token("boss", "supervisor"), "admin": server.token("root", "admin")}
    server.start()
    tablet_a = make_tablet("a", server.url, tokens["a"])
    sid_a = build_session(tablet_a.store, seed=1)
    tablet_a.sync()
    tablet_b = make_tablet("b", server.url, tokens["b"])
    sid_b = build_session(tablet_b.store, seed=2)
    tablet_b.sync()
    return server, tokens, sid_a, sid_b


def test_every_call_needs_a_valid_token(fleet) -> None:
    server, tokens, sid_a, _ = fleet
    for method, path in [("GET", "/api/whoami"), ("GET", "/api/sessions"), ("GET", f"/api/sessions/{sid_a}"),
                         ("POST", "/api/sync/events"), ("GET", "/api/sync/reviews"), ("GET", "/api/tokens"),
                         ("GET", "/api/library/feed.json"), ("GET", "/feed/0123456789/feed.json")]:
        for token in (None, "flt_not-a-real-token"):
            r = call(server, token, method, path)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"]
    assert call(server, tokens["a"], "GET", "/api/whoami").json() == {"name": "tab-a", "role": "device"}


def test_revoked_token_is_refused(fleet) -> None:
    server, tokens, sid_a, _ = fleet
    assert call(server, tokens["sup"], "GET", f"/api/sessions/{sid_a}").status_code == 200
    r = call(server, tokens["admin"], "DELETE", "/api/tokens/boss")
    assert r.status_code == 200
    r = call(server, tokens["sup"], "GET", f"/api/sessions/{sid_a}")
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    listed = {t["name"]: t for t in call(server, tokens["admin"], "GET", "/api/tokens").json()["tokens"]}
    assert listed["boss"]["revoked_at"] and not listed["tab-a"]["revoked_at"]
    assert all("token" not in t and "token_hash" not in t for t in listed.values())


def test_device_cannot_read_or_write_another_devices_session(fleet) -> None:
    server, tokens, sid_a, sid_b = fleet
    assert call(server, tokens["a"], "GET", f"/api/sessions/{sid_a}").status_code == 200
    r = call(server, tokens["a"], "GET", f"/api/sessions/{sid_b}")
    assert r.status_code == 403 and "only the sessions this device pushed" in r.json()["error"]
    assert call(server, tokens["a"], "GET", f"/api/sessions/{sid_b}/events").status_code == 403
    listed = call(server, tokens["a"], "GET", "/api/sessions", params={"filter": json.dumps({"device": ["tab-b"]})})
    assert [s["id"] for s in listed.json()["sessions"]] == [sid_a] or listed.json()["sessions"] == []
    assert sid_b not in {s["id"] for s in listed.json()["sessions"]}
    # pushing into tablet b's session with tablet a's token changes nothing
    server_store = server.store()
    before = server_store.events(sid_b)
    server_store.close()
    forged = {"events": [{"id": "f" * 36, "session_id": sid_b, "seq": len(before) + 1, "type": "note_added",
                          "payload": {"note": {"text": "forged"}}, "at": "2026-12-01T10:00:00+00:00"}]}
    r = call(server, tokens["a"], "POST", "/api/sync/events", json=forged)
    assert r.status_code == 403
    server_store = server.store()
    assert server_store.events(sid_b) == before
    server_store.close()
    # a photo of tablet b's session is not readable by tablet a, but is by a supervisor
    photo_id = server.store().get(sid_b).photos[0].id
    assert call(server, tokens["a"], "GET", f"/api/photos/{photo_id}").status_code == 404
    assert call(server, tokens["sup"], "GET", f"/api/photos/{photo_id}").status_code == 200


def test_roles(fleet) -> None:
    server, tokens, sid_a, _ = fleet
    review = {"verdict": "approved", "comment": "ok"}
    assert call(server, tokens["a"], "POST", f"/api/sessions/{sid_a}/reviews", json=review).status_code == 403
    assert call(server, tokens["sup"], "POST", f"/api/sessions/{sid_a}/reviews", json=review).status_code == 201
    assert call(server, tokens["sup"], "GET", "/api/tokens").status_code == 403
    assert call(server, tokens["sup"], "POST", "/api/library", params={"filename": "x.md"},
                content=b"# x").status_code == 403
    assert call(server, tokens["a"], "GET", "/api/tokens").status_code == 403
    assert call(server, tokens["sup"], "POST", "/api/sync/events", json={"events": []}).status_code == 403
    r = call(server, tokens["admin"], "POST", "/api/tokens", json={"name": "tab-c", "role": "device"})
    assert r.status_code == 201 and r.json()["token"].startswith("flt_")
    assert call(server, r.json()["token"], "GET", "/api/whoami").json()["role"] == "device"
    again = call(server, tokens["admin"], "POST", "/api/tokens", json={"name": "tab-c", "role": "device"})
    assert again.status_code == 409
    assert call(server, tokens["sup"], "POST", f"/api/sessions/{sid_a}/reviews",
                json={"verdict": "great"}).status_code == 422
    r = call(server, tokens["sup"], "POST", "/api/sessions/no-such-session/reviews", json=review)
    assert r.status_code == 404 and "session" in r.json()["error"]


MALFORMED = [
    (b"not json", 422),
    (json.dumps({"events": [{"id": "x"}]}).encode(), 422),
    (json.dumps({"events": [{"id": "e1", "session_id": "s-new", "seq": 1, "type": "exploded", "payload": {},
                             "at": "2026-12-01T10:00:00Z"}]}).encode(), 422),
    # a well-formed event that does not fit the session: first event is not a creation
    (json.dumps({"events": [{"id": "e2", "session_id": "s-new", "seq": 1, "type": "note_added",
                             "payload": {"note": {"text": "x"}}, "at": "2026-12-01T10:00:00Z"}]}).encode(), 422),
    # a creation whose payload is not a session
    (json.dumps({"events": [{"id": "e3", "session_id": "s-new", "seq": 1, "type": "created",
                             "payload": {"session": {"nope": 1}}, "at": "2026-12-01T10:00:00Z"}]}).encode(), 422),
]


def test_malformed_push_is_refused_and_changes_nothing(fleet) -> None:
    server, tokens, sid_a, _ = fleet
    store = server.store()
    before = (store.session_count(), store.events(sid_a))
    store.close()
    for body, status in MALFORMED:
        r = call(server, tokens["a"], "POST", "/api/sync/events", content=body,
                 headers={"Content-Type": "application/json"})
        assert r.status_code == status, r.text
        message = r.json()["error"]
        assert "nothing was stored" in message and "\n" not in message and "Traceback" not in message
        store = server.store()
        assert (store.session_count(), store.events(sid_a)) == before
        store.close()


def test_a_push_that_breaks_half_way_stores_none_of_it(fleet) -> None:
    server, tokens, sid_a, _ = fleet
    store = server.store()
    log = store.events(sid_a)
    store.close()
    good = {"id": "a" * 36, "session_id": sid_a, "seq": len(log) + 1, "type": "note_added",
            "payload": {"note": {"text": "fine"}}, "at": "2026-12-01T10:00:00+00:00"}
    bad = {"id": "b" * 36, "session_id": sid_a, "seq": len(log) + 2, "type": "answer_set",
           "payload": {"turn_id": "unknown-turn", "answer": None}, "at": "2026-12-01T10:00:01+00:00"}
    r = call(server, tokens["a"], "POST", "/api/sync/events", json={"events": [good, bad]})
    assert r.status_code == 422 and "unknown turn" in r.json()["error"]
    store = server.store()
    assert store.events(sid_a) == log
    store.close()


def test_size_limits(fleet) -> None:
    server, tokens, _, _ = fleet
    huge = b'{"events": [' + b" " * (17 * 1024 * 1024) + b"]}"
    r = call(server, tokens["a"], "POST", "/api/sync/events", content=huge,
             headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    data = make_jpeg(99)
    wrong = "0" * 64
    r = call(server, tokens["a"], "PUT", f"/api/photos/{wrong}", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 422 and "sha256" in r.json()["error"]
    sha = sha256_hex(data)
    r = call(server, tokens["a"], "PUT", f"/api/photos/{sha}", content=data, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert call(server, tokens["a"], "HEAD", f"/api/photos/{sha}").status_code == 404
    r = call(server, tokens["a"], "PUT", f"/api/photos/{sha}", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201
    r = call(server, tokens["a"], "PUT", f"/api/photos/{sha}", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200 and r.json()["stored"] is False  # idempotent by hash


def test_push_of_events_whose_photo_was_never_sent_is_refused(fleet) -> None:
    server, tokens, sid_a, _ = fleet
    store = server.store()
    log = store.events(sid_a)
    store.close()
    photo = {"id": "c" * 64, "media_type": "image/jpeg", "role": "capture"}
    event = {"id": "d" * 36, "session_id": sid_a, "seq": len(log) + 1, "type": "photo_added",
             "payload": {"photo": photo}, "at": "2026-12-01T10:00:00+00:00"}
    r = call(server, tokens["a"], "POST", "/api/sync/events", json={"events": [event]})
    assert r.status_code == 409 and "not on the server" in r.json()["error"]


def test_admin_adds_a_manual_over_the_api_and_devices_read_the_feed(fleet) -> None:
    server, tokens, _, _ = fleet
    body = b"# Dryer D-2 manual\n\n## Alarms\n\n| Alarm | Description |\n|---|---|\n| D12 | Drum motor overload |\n"
    r = call(server, tokens["admin"], "POST", "/api/library", content=body,
             params={"filename": "d2.md", "title": "Dryer D-2 manual", "version": "3", "equipment": "dryer-d2"})
    assert r.status_code == 201, r.text
    assert call(server, tokens["admin"], "POST", "/api/library", content=b"MZ\x90",
                params={"filename": "setup.exe"}).status_code == 415
    feed = call(server, tokens["a"], "GET", "/api/library/feed.json")
    assert feed.status_code == 200
    (entry,) = feed.json()["documents"]
    assert entry == {"url": "files/d2/d2.md", "sha256": sha256_hex(body), "version": "3",
                     "title": "Dryer D-2 manual", "equipment": ["dryer-d2"]}
    assert call(server, tokens["a"], "GET", "/api/library/feed.json",
                headers={"If-None-Match": feed.headers["etag"]}).status_code == 304
    file = call(server, tokens["sup"], "GET", "/api/library/" + entry["url"])
    assert file.status_code == 200 and file.content == body
    assert call(server, None, "GET", "/api/library/" + entry["url"]).status_code == 401
    assert call(server, tokens["admin"], "DELETE", "/api/library/d2").status_code == 200
    assert call(server, tokens["a"], "GET", "/api/library/feed.json").json()["documents"] == []


def test_a_push_cut_off_inside_its_body_stores_nothing(fleet, make_tablet) -> None:
    import socket
    from urllib.parse import urlparse

    server, tokens, sid_a, _ = fleet
    store = server.store()
    log = store.events(sid_a)
    store.close()
    event = {"id": "e" * 36, "session_id": sid_a, "seq": len(log) + 1, "type": "note_added",
             "payload": {"note": {"text": "half sent"}}, "at": "2026-12-01T10:00:00+00:00"}
    body = json.dumps({"events": [event]}).encode()
    where = urlparse(server.url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall((f"POST /api/sync/events HTTP/1.1\r\nHost: {where.netloc}\r\n"
                      f"Authorization: Bearer {tokens['a']}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body[: len(body) // 2])
    assert call(server, tokens["a"], "GET", "/api/whoami").status_code == 200
    store = server.store()
    assert store.events(sid_a) == log
    store.close()
    r = call(server, tokens["a"], "POST", "/api/sync/events", content=body,
             headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == 1
