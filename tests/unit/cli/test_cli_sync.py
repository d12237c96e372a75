"""`fieldlens library sync URL` against a real feed server on 127.0.0.1: first sync
adds, second transfers nothing, and the documents are searchable."""

from __future__ import annotations

import hashlib
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from test_cli_contract import fieldlens  # sibling module: pytest puts this folder on sys.path

MANUAL = """# Chiller CH-9 service manual

## Alarm list

| Alarm | Description | Cause | Remedy |
|-------|-------------|-------|--------|
| H71 | Condenser fan fault | Fan motor overload tripped | Reset the overload and check the fan bearings |
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_sync_adds_then_transfers_nothing(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "ch9.md").write_text(MANUAL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feed = {"documents": [{"url": f"{base}/ch9.md", "sha256": hashlib.sha256(MANUAL.encode()).hexdigest(),
                           "version": "1", "title": "Chiller CH-9 service manual", "equipment": ["chiller-ch9"]}],
            "equipment": [{"id": "chiller-ch9", "name": "Chiller CH-9", "model": "CH-9"}]}
    (served / "feed.json").write_text(json.dumps(feed))
    home = tmp_path / "home"
    try:
        first = fieldlens(home, "library", "sync", f"{base}/feed.json", "--json", samples=False)
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert len(report["added"]) == 1 and not report["failed"]
        second = json.loads(fieldlens(home, "library", "sync", f"{base}/feed.json", "--json", samples=False).stdout)
        assert not second["added"] and not second["updated"] and second["bytes_downloaded"] == 0
        hits = json.loads(fieldlens(home, "library", "search", "--json", "H71", samples=False).stdout)
        assert hits and hits[0]["kind"] == "fault_code" and "H71" in hits[0]["snippet"]
        human = fieldlens(home, "library", "sync", f"{base}/feed.json", samples=False)
        assert human.returncode == 0 and human.stdout.startswith("Sync finished.")
    finally:
        server.shutdown()
