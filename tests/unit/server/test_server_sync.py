"""Tablets syncing with a real server process, on SQLite and on a real PostgreSQL: every event
arrives exactly once whatever breaks (a cut connection, a lost answer, a SIGKILLed server), two
tablets sync at once, reviews come back to the tablet, and the audit trail keeps every review."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest

from fleet_factories import build_session

from assistant.domain import Note
from assistant.sessions import sync_tablet
from assistant.sessions.sync_credentials import ServerCredentials
from assistant.sessions.sync_http import RemoteSessions, ServerUnreachable


class Interrupting(httpx.BaseTransport):
    """Passes requests to the server until the `cut_at`-th push of events, then breaks: either the
    request never arrives (`lose="request"`) or it is carried out and its answer is lost."""

    def __init__(self, cut_at: int, lose: str = "request", on_cut=None):
        self.inner = httpx.HTTPTransport()
        self.cut_at, self.lose, self.on_cut = cut_at, lose, on_cut
        self.pushes = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/sync/events":
            self.pushes += 1
            if self.pushes == self.cut_at:
                if self.on_cut is not None:
                    self.on_cut()
                    return self.inner.handle_request(request)
                if self.lose == "answer":
                    self.inner.handle_request(request).read()
                raise httpx.ReadError("connection cut")
            if self.pushes > self.cut_at and self.on_cut is None:
                raise httpx.ConnectError("network gone")
        return self.inner.handle_request(request)


def assert_exactly_once(server, tablet, session_ids) -> None:
    store = server.store()
    try:
        for sid in session_ids:
            local = tablet.store.events(sid)
            remote = store.events(sid)
            counts = Counter(e["id"] for e in remote)
            assert all(n == 1 for n in counts.values()), "an event was stored twice"
            assert [e["id"] for e in remote] == [e["id"] for e in local], "an event is missing or out of order"
            assert [e["seq"] for e in remote] == list(range(1, len(remote) + 1))
            assert store.get(sid) == tablet.store.get(sid)
            assert store.verify(sid) == []
    finally:
        store.close()


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(sync_tablet, "BATCH_EVENTS", 4)


def test_push_cut_midway_resumes_without_loss_or_duplicates(server, make_tablet, small_batches) -> None:
    token = server.token("tab-1", "device")
    server.start()
    tablet = make_tablet("a", server.url, token)
    sids = [build_session(tablet.store, seed=i, notes=6) for i in range(3)]
    with pytest.raises(ServerUnreachable):
        tablet.sync(Interrupting(cut_at=3, lose="request"))
    with pytest.raises(ServerUnreachable):
        tablet.sync(Interrupting(cut_at=2, lose="answer"))  # stored on the server, answer lost
    report = tablet.sync()
    assert report.events_pushed > 0
    assert_exactly_once(server, tablet, sids)
    again = tablet.sync()
    assert again.events_pushed == 0 and again.photos_sent == 0


def test_server_sigkilled_during_push_then_retried(server, make_tablet, small_batches) -> None:
    token = server.token("tab-1", "device")
    server.start()
    tablet = make_tablet("a", server.url, token)
    sids = [build_session(tablet.store, seed=i, notes=8, photos=2) for i in range(3)]

    killer = threading.Timer(0.003, server.kill)

    with pytest.raises(ServerUnreachable):
        tablet.sync(Interrupting(cut_at=4, on_cut=killer.start))
    killer.join(15)
    assert server.proc.poll() is not None, "the server was killed"
    server.start()  # same data, same database, same port
    tablet.store.add_note(sids[0], Note(text="written while the server was down"))
    tablet.sync()
    assert_exactly_once(server, tablet, sids)


def test_two_tablets_sync_at_once_and_see_only_their_own(server, make_tablet) -> None:
    tokens = {name: server.token(name, "device") for name in ("tab-a", "tab-b")}
    server.start()
    tablets = {name: make_tablet(name, server.url, tok) for name, tok in tokens.items()}
    sids = {name: [build_session(t.store, seed=10 * n + i, technician=name.upper(), device=name)
                   for i in range(2)] for n, (name, t) in enumerate(tablets.items())}
    errors: list[BaseException] = []

    def run(t):
        try:
            t.sync()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in tablets.values()]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    for name, t in tablets.items():
        assert_exactly_once(server, t, sids[name])
        with RemoteSessions(t.creds) as mine:
            listed = {s.id for s in mine.list_sessions()}
            assert listed == set(sids[name])
            assert all(s.device == name for s in mine.list_sessions())
    supervisor = RemoteSessions(ServerCredentials(server.url, server.token("boss", "supervisor")))
    with supervisor:
        rows = supervisor.list_sessions(limit=10)
        assert {s.id for s in rows} == set(sids["tab-a"]) | set(sids["tab-b"])
        assert {s.id for s in supervisor.list_sessions(device="tab-b")} == set(sids["tab-b"])
        assert {s.id for s in supervisor.list_sessions({"technician": "tab-a"})} == set(sids["tab-a"])
        shown = supervisor.get_session(sids["tab-a"][0])
        assert shown.technician == "TAB-A" and shown.device == "tab-a"
        assert supervisor.session_device(sids["tab-a"][0]) == "tab-a"
        assert supervisor.count_sessions({"technician": "tab-b"}) == 2
        board = supervisor.dashboard()
        assert board["sessions"] == 4 and board["closed"] == 4 and board["outcomes"] == {"fixed": 4}


def test_two_supervisors_review_the_same_session_both_kept_in_order(server, make_tablet) -> None:
    token = server.token("tab-1", "device")
    sup_tokens = [server.token("sup-1", "supervisor"), server.token("sup-2", "supervisor")]
    server.start()
    tablet = make_tablet("a", server.url, token)
    sid = build_session(tablet.store, seed=1)
    tablet.sync()
    barrier = threading.Barrier(2)
    written = {}

    def review(i: int) -> None:
        with RemoteSessions(ServerCredentials(server.url, sup_tokens[i])) as desk:
            barrier.wait()
            written[i] = desk.review(sid, verdict="approved" if i == 0 else "needs_follow_up", comment=f"from {i}")

    threads = [threading.Thread(target=review, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert len(written) == 2
    store = server.store()
    try:
        trail = store.get(sid).reviews
        log = [e for e in store.events(sid) if e["type"] == "reviewed"]
    finally:
        store.close()
    assert {r.id for r in trail} == {written[0].id, written[1].id}
    assert [r.id for r in trail] == [e["payload"]["review"]["id"] for e in log], "audit trail follows the log"
    assert {r.reviewer for r in trail} == {"sup-1", "sup-2"}
    report = tablet.sync()
    assert report.reviews_pulled == 2
    assert [r.id for r in tablet.store.get(sid).reviews] == [r.id for r in trail]
    assert tablet.store.get(sid).reviews[-1].comment == trail[-1].comment
    assert tablet.sync().reviews_pulled == 0
    assert_exactly_once_reviews(server, sid)


def assert_exactly_once_reviews(server, sid) -> None:
    """The reviews the tablet pulled and pushed back with its log are not stored a second time."""
    store = server.store()
    try:
        ids = [r.id for r in store.get(sid).reviews]
    finally:
        store.close()
    assert len(ids) == len(set(ids)) == 2
