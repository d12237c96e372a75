"""Remote sync against a real threaded HTTP server on 127.0.0.1: conditional GETs (304),
sha256 verification, a connection dropped mid-download, bad JSON, an unreachable feed."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import MARKDOWN, make_drive_manual

from assistant.errors import SyncError


class FeedServer:
    """Serves `files` (path -> bytes) with ETag/Last-Modified; records what it sent."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.drop: set[str] = set()  # paths whose connection is cut halfway through the body
        self.log: list[tuple[str, int, int]] = []  # (path, status, body bytes sent)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                data = server.files.get(path)
                if data is None:
                    self._send(404, b"not found")
                    return
                etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
                if self.headers.get("If-None-Match") == etag:
                    server.record(path, 304, 0)  # logged before answering: the client must not outrun the log
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path in server.drop:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    half = data[: len(data) // 2]
                    server.record(path, 200, len(half))
                    self.wfile.write(half)
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._send(200, data, etag)

            def _send(self, status, body, etag=None):
                server.record(self.path, status, len(body))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", formatdate(usegmt=True))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def record(self, path, status, size):
        with self.lock:
            self.log.append((path, status, size))

    def body_bytes(self, prefix="/docs/"):
        return sum(size for path, status, size in self.log if path.startswith(prefix))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FeedServer()
    yield s
    s.close()


def _publish(server, tmp_path, *, manual_remedy=None, wrong_sha=False, extra=()):
    manual = make_drive_manual(tmp_path / "vx9.pdf", overcurrent_remedy=manual_remedy).read_bytes()
    guide = MARKDOWN.encode()
    server.files["/docs/vx9.pdf"] = manual
    server.files["/docs/rs5.md"] = guide
    documents = [
        {"url": "docs/vx9.pdf", "sha256": hashlib.sha256(manual).hexdigest() if not wrong_sha else "0" * 64,
         "version": "B", "title": "VX-9 manual", "equipment": ["vx9"], "kind": "manual"},
        {"url": f"{server.url}/docs/rs5.md", "sha256": hashlib.sha256(guide).hexdigest(), "version": 3,
         "title": "RS-5 guide", "equipment": ["rs5-feed"]},
        *extra,
    ]
    feed = {"documents": documents,
            "equipment": [{"id": "rs5-feed", "name": "RS-5 from the feed", "model": "RS-5F"}]}
    server.files["/feed.json"] = json.dumps(feed).encode()
    return f"{server.url}/feed.json"


def test_first_sync_adds_second_transfers_nothing(lib, server, tmp_path):
    url = _publish(server, tmp_path)
    events = []
    report = lib.sync(url, on_progress=events.append)
    assert report.ok and len(report.added) == 2 and report.equipment == ["rs5-feed"]
    assert {d.title for d in lib.documents()} == {"VX-9 manual", "RS-5 guide"}
    assert lib.get_equipment("rs5-feed").document_ids == [report.added[1]]
    assert lib.lookup_code("F0001")[0].equipment_ids == ["vx9"]
    assert lib.document(report.added[1]).revision == "3"
    stages = [e.stage for e in events]
    assert stages[0] == "feed" and stages[-1] == "done" and "download" in stages and "ingest" in stages
    downloads = [e for e in events if e.stage == "download" and e.doc == "VX-9 manual"]
    assert downloads[-1].bytes_done == downloads[-1].bytes_total == len(server.files["/docs/vx9.pdf"])

    before = server.body_bytes()
    server.log.clear()
    again = lib.sync(url)
    assert again.ok and again.feed_unchanged and sorted(again.unchanged) == sorted(report.added)
    assert again.added == again.updated == [] and again.bytes_downloaded == 0
    assert server.body_bytes("/docs/") == 0 and server.body_bytes("/feed.json") == 0  # no bodies at all
    assert ("/feed.json", 304, 0) in server.log
    assert before > 0


def test_changed_document_is_updated(lib, server, tmp_path):
    url = _publish(server, tmp_path)
    first = lib.sync(url)
    url = _publish(server, tmp_path, manual_remedy="Replace the output stage")
    server.log.clear()
    report = lib.sync(url)
    assert report.ok and len(report.updated) == 1 and len(report.unchanged) == 1
    assert report.updated[0] in first.added
    assert lib.lookup_code("F0001")[0].remedy == "Replace the output stage"
    assert server.body_bytes("/docs/rs5.md") == 0  # the unchanged guide was not downloaded again


def test_sha_mismatch_keeps_previous_copy(lib, server, tmp_path):
    url = _publish(server, tmp_path)
    lib.sync(url)
    old_remedy = lib.lookup_code("F0001")[0].remedy
    url = _publish(server, tmp_path, manual_remedy="Tampered remedy", wrong_sha=True)
    report = lib.sync(url)
    assert len(report.failed) == 1 and "integrity check" in report.failed[0].reason
    assert report.failed[0].title == "VX-9 manual"
    assert lib.lookup_code("F0001")[0].remedy == old_remedy
    assert not list((lib.root / "cache" / "incoming").iterdir())  # no partial downloads left behind


def test_dropped_connection_mid_download(lib, server, tmp_path):
    url = _publish(server, tmp_path)
    server.drop.add("/docs/vx9.pdf")
    report = lib.sync(url)
    assert [f.title for f in report.failed] == ["VX-9 manual"]
    assert "dropped" in report.failed[0].reason
    assert len(report.added) == 1  # the other document still arrived
    assert lib.known_codes("vx9") == set()
    assert not list((lib.root / "cache" / "incoming").iterdir())
    server.drop.clear()
    retry = lib.sync(url)
    assert len(retry.added) == 1 and len(retry.unchanged) == 1 and lib.known_codes("vx9")


def test_bad_json_feed(lib, server, tmp_path):
    server.files["/feed.json"] = b"{not json"
    with pytest.raises(SyncError, match="malformed"):
        lib.sync(f"{server.url}/feed.json")
    server.files["/feed.json"] = json.dumps({"documents": [{"title": "no url"}]}).encode()
    with pytest.raises(SyncError, match="malformed"):
        lib.sync(f"{server.url}/feed.json")


def test_unreachable_feed_leaves_library_working(lib, server, tmp_path, docs):
    url = _publish(server, tmp_path)
    lib.sync(url)
    count = len(lib.documents())
    port = server.httpd.server_address[1]
    server.close()
    report = lib.sync(f"http://127.0.0.1:{port}/feed.json", timeout=2)
    assert report.offline and report.error and "cannot be reached" in report.error
    assert len(lib.documents()) == count and lib.search("cooling fan")  # still searchable offline


def test_missing_document_and_bad_feed_entries(lib, server, tmp_path):
    url = _publish(server, tmp_path, extra=[{"url": "docs/missing.pdf", "title": "Ghost"}])
    report = lib.sync(url)
    assert len(report.added) == 2 and [f.title for f in report.failed] == ["Ghost"]
    assert "404" in report.failed[0].reason
    with pytest.raises(SyncError):
        lib.sync("ftp://example.com/feed.json")


def test_feed_without_checksums_uses_conditional_gets(lib, server, tmp_path):
    server.files["/docs/rs5.md"] = MARKDOWN.encode()
    server.files["/feed.json"] = json.dumps({"documents": [{"url": "docs/rs5.md", "title": "RS-5 guide"}]}).encode()
    url = f"{server.url}/feed.json"
    assert len(lib.sync(url).added) == 1
    server.files["/feed.json"] += b" "  # the feed changed (new ETag), the document did not
    server.log.clear()
    report = lib.sync(url)
    assert not report.feed_unchanged and len(report.unchanged) == 1
    assert ("/docs/rs5.md", 304, 0) in server.log and server.body_bytes("/docs/") == 0


def test_add_url(lib, server, tmp_path):
    server.files["/docs/rs5.md"] = MARKDOWN.encode()
    doc = lib.add_url(f"{server.url}/docs/rs5.md", equipment_ids=["rs5"])
    assert doc.title == "Compressor RS-5 service guide" and doc.equipment_ids == ["rs5"]
    assert doc.source == f"{server.url}/docs/rs5.md"
    server.log.clear()
    again = lib.add_url(f"{server.url}/docs/rs5.md")
    assert again.id == doc.id and server.log == [("/docs/rs5.md", 304, 0)]
    with pytest.raises(SyncError, match="404"):
        lib.add_url(f"{server.url}/docs/missing.pdf")


# ---------------------------------------------------------------------------- hostile feeds


import gzip  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(16 * 1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + packer.flush()


class HostileServer:
    """Answers each path with a scripted behaviour: ('bytes', body, headers), ('status', code),
    ('redirect', location), ('trickle', seconds_per_byte)."""

    def __init__(self):
        self.routes: dict[str, tuple] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Authorization header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Authorization")))
                route = server.routes.get(self.path.split("?")[0], ("status", 404))
                kind = route[0]
                try:
                    if kind == "bytes":
                        body, headers = route[1], route[2] if len(route) > 2 else {}
                        self.send_response(200)
                        for k, v in headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    elif kind == "status":
                        self.send_response(route[1])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif kind == "redirect":
                        self.send_response(302)
                        self.send_header("Location", route[1])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif kind == "trickle":
                        self.send_response(200)
                        self.send_header("Content-Length", "100000")
                        self.end_headers()
                        deadline = time.monotonic() + 60  # the server stops by itself
                        while time.monotonic() < deadline:
                            self.wfile.write(b"{")
                            self.wfile.flush()
                            time.sleep(route[1])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # clients hanging up on purpose is the point
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile():
    s = HostileServer()
    yield s
    s.close()


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from harness import run_fieldlens  # noqa: E402  (the robustness suite's child-process runner)


def _run_cli(home: Path, *args: str, env_extra: dict | None = None, timeout: float = 60):
    """`fieldlens ARGS` in a child process: (exit status, stdout, stderr, seconds, the child's own peak MB)."""
    run = run_fieldlens(home, *args, timeout=timeout, **(env_extra or {}))
    return run.status, run.stdout, run.stderr, run.seconds, run.peak_mb


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("behaviour, words", [
    ("refused", "cannot be reached"),
    (("status", 500), "HTTP 500"),
    (("status", 404), "HTTP 404"),
    (("redirect", "/feed.json"), "redirected too many times"),
    (("redirect", "http://localhost:1/feed.json"), "another site"),
])
def test_cli_sync_that_cannot_read_its_feed_fails(tmp_path, hostile, behaviour, words):
    url = f"{hostile.url}/feed.json"
    if behaviour == "refused":
        hostile.close()
    else:
        hostile.routes["/feed.json"] = behaviour
    status, out, err, _, _ = _run_cli(tmp_path / "home", "library", "sync", url)
    assert status == 2 and "Sync finished" not in out
    line = _one_line(err)
    assert words in line and "library was left as it was" in line


def test_gzip_bomb_feed_stops_at_the_limit_with_little_memory(tmp_path, hostile):
    bomb = _gzip_of_zeros(1024**3)  # 1 GiB of zeros in ~1 MB
    hostile.routes["/feed.json"] = ("bytes", bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"})
    hostile.routes["/docs/a.md"] = ("bytes", bomb, {"Content-Encoding": "gzip"})
    status, out, err, seconds, peak_mb = _run_cli(tmp_path / "home", "library", "sync", f"{hostile.url}/feed.json")
    assert status == 2 and "larger than 16 MB" in _one_line(err)
    assert peak_mb < 300, peak_mb
    # a document body that is a bomb fails alone, the sync itself still finishes
    hostile.routes["/feed.json"] = ("bytes", json.dumps({"documents": [{"url": "docs/a.md"}]}).encode())
    status, out, err, seconds, peak_mb = _run_cli(tmp_path / "home", "library", "sync", f"{hostile.url}/feed.json")
    assert status == 2 and "larger than" in out and peak_mb < 300
    _one_line(err)


def test_stacked_encodings_are_refused(lib, hostile):
    body = gzip.compress(gzip.compress(b'{"documents": []}'))
    hostile.routes["/feed.json"] = ("bytes", body, {"Content-Encoding": "gzip, gzip"})
    report = lib.sync(f"{hostile.url}/feed.json")
    assert report.error and "encoding" in report.error


def test_gzip_feed_within_limits_is_read(lib, hostile):
    hostile.routes["/docs/rs5.md"] = ("bytes", gzip.compress(MARKDOWN.encode()), {"Content-Encoding": "gzip"})
    feed = {"documents": [{"url": "docs/rs5.md", "sha256": hashlib.sha256(MARKDOWN.encode()).hexdigest()}]}
    hostile.routes["/feed.json"] = ("bytes", gzip.compress(json.dumps(feed).encode()), {"Content-Encoding": "gzip"})
    report = lib.sync(f"{hostile.url}/feed.json")
    assert report.ok and len(report.added) == 1


def test_trickling_feed_stops_at_the_deadline(tmp_path, hostile):
    hostile.routes["/feed.json"] = ("trickle", 0.5)
    status, out, err, seconds, _ = _run_cli(tmp_path / "home", "library", "sync", f"{hostile.url}/feed.json",
                                            env_extra={"FIELDLENS_SYNC_DEADLINE_S": "3"})
    assert status == 2 and seconds < 15, seconds
    assert "longer than 3 s" in _one_line(err)


def test_trickling_document_stops_the_sync_and_keeps_the_library(lib, hostile):
    hostile.routes["/docs/ok.md"] = ("bytes", MARKDOWN.encode())
    hostile.routes["/docs/slow.md"] = ("trickle", 0.5)
    feed = {"documents": [{"url": "docs/ok.md"}, {"url": "docs/slow.md"}, {"url": "docs/ok.md"}]}
    hostile.routes["/feed.json"] = ("bytes", json.dumps(feed).encode())
    started = time.monotonic()
    from assistant.library.sync import sync_feed

    report = sync_feed(lib, f"{hostile.url}/feed.json", deadline=3)
    assert time.monotonic() - started < 10
    assert report.error and "time limit" in report.error and len(report.added) == 1
    assert len(lib.documents()) == 1 and not list((lib.root / "cache" / "incoming").iterdir())


def test_feed_entries_must_stay_on_the_feed_origin(lib, hostile):
    hostile.routes["/docs/ok.md"] = ("bytes", MARKDOWN.encode())
    hostile.routes["/etc/passwd"] = ("bytes", b"root:x:0:0:root:/root:/bin/bash\n")
    hostile.routes["/docs/hop.md"] = ("redirect", "http://localhost:%d/docs/ok.md" % hostile.port)
    hostile.routes["/docs/inside.md"] = ("redirect", "/docs/ok.md")
    feed = {"documents": [
        {"url": "../../etc/passwd", "title": "dots"},
        {"url": "/etc/passwd", "title": "absolute"},
        {"url": "%2e%2e/etc/passwd", "title": "encoded dots"},
        {"url": "http://localhost:%d/docs/ok.md" % hostile.port, "title": "other host"},
        {"url": "file:///etc/passwd", "title": "file"},
        {"url": "docs/hop.md", "title": "redirect away"},
        {"url": "docs/inside.md", "title": "redirect inside"},
        {"url": "docs/ok.md", "title": "bad equipment", "equipment": ["../../x"]},
    ], "equipment": [{"id": "../../etc", "name": "<script>alert(1)</script>"}, {"id": "pump-7", "name": "Pump 7"}]}
    hostile.routes["/feed.json"] = ("bytes", json.dumps(feed).encode())
    report = lib.sync(f"{hostile.url}/feed.json")
    assert report.error is None
    assert [d.title for d in lib.documents()] == ["redirect inside"]
    assert {f.title for f in report.failed} == {"dots", "absolute", "encoded dots", "other host", "file",
                                                "redirect away", "bad equipment", "../../etc"}
    assert report.equipment == ["pump-7"]
    assert not any(path.startswith("/etc") for path, _ in hostile.requests)


def test_feed_credentials_are_sent_never_stored_and_add_nothing_twice(lib, hostile, tmp_path):
    hostile.routes["/docs/rs5.md"] = ("bytes", MARKDOWN.encode())
    hostile.routes["/feed.json"] = ("bytes", json.dumps({"documents": [{"url": "docs/rs5.md"}]}).encode())
    with_password = f"http://svc:Passw0rd-77@127.0.0.1:{hostile.port}/feed.json"
    first = lib.sync(with_password)
    assert first.ok and len(first.added) == 1 and "Passw0rd" not in first.model_dump_json()
    assert all(auth and auth.startswith("Basic ") for _, auth in hostile.requests)
    again = lib.sync(f"{hostile.url}/feed.json")
    assert len(again.added) == 0 and len(lib.documents()) == 1
    assert lib.document(first.added[0]).source == f"{hostile.url}/docs/rs5.md"
    lib.close()
    raw = b"".join(p.read_bytes() for p in lib.root.rglob("*") if p.is_file())
    assert b"Passw0rd" not in raw
    status, out, err, _, _ = _run_cli(tmp_path / "home", "library", "sync", with_password)
    assert status == 0 and "Passw0rd" not in out + err
    home_files = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert home_files and not [p for p in home_files if b"Passw0rd" in p.read_bytes()]  # index, cache, log
    with pytest.raises(SyncError) as refused:
        lib.sync("ftp://svc:Passw0rd-77@127.0.0.1/feed.json")
    assert "Passw0rd" not in str(refused.value)
