"""Benchmark: what bounded work costs, side by side with the plain library it improves on. Each case
runs in a child process and reports its wall time and peak resident memory (ru_maxrss from wait4).
Never asserts.

    python tests/bench/bench_robustness.py

Cases:
- a gzip-bomb body (1 GiB of zeros, ~1 MB on the wire) read by Fieldlens's bounded decoder (stops at
  16 MB) and by plain `httpx.get(...).content`;
- an 8000x8000 JPEG decoded by `load_photo` (reduced decode by libjpeg) and by plain `cv2.imdecode`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _child(code: str) -> tuple[float, float, str]:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read().decode("utf-8", "replace")
    _, _, usage = os.wait4(proc.pid, 0)
    return time.monotonic() - started, usage.ru_maxrss / 1024, out.strip().splitlines()[-1] if out.strip() else ""


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(16 * 1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(64)) + packer.flush()


def main() -> None:
    body = _bomb()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.json"
    rows = []
    rows.append(("gzip bomb, Fieldlens bounded decoder", *_child(f"""
        import httpx
        from assistant.library.sync import _Budget, _Stop, _client, _decoded, _open
        budget = _Budget(60, 30)
        with _client(30, None) as client, _open(client, "{url}", {{}}, budget) as response:
            try:
                size = sum(len(c) for c in _decoded(response, 16 * 1024 * 1024, budget, [0]))
                print("read", size)
            except _Stop as stop:
                print("stopped:", stop)
    """)))
    rows.append(("gzip bomb, plain httpx .content", *_child(f"""
        import httpx
        print("read", len(httpx.get("{url}", timeout=60).content))
    """)))
    server.shutdown()

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "big.jpg"
        subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            import cv2, numpy as np
            rng = np.random.default_rng(16)
            img = cv2.resize(rng.integers(0, 255, (500, 500, 3), dtype=np.uint8), (8000, 8000),
                             interpolation=cv2.INTER_NEAREST)
            cv2.imwrite("{photo}", img, [cv2.IMWRITE_JPEG_QUALITY, 70])
        """)], check=True)
        rows.append(("8000x8000 JPEG, load_photo", *_child(f"""
            from assistant.imaging import load_photo
            p = load_photo("{photo}")
            print(p.width, "x", p.height)
        """)))
        rows.append(("8000x8000 JPEG, plain cv2.imdecode", *_child(f"""
            import cv2, numpy as np
            img = cv2.imdecode(np.fromfile("{photo}", np.uint8), cv2.IMREAD_COLOR)
            print(img.shape[1], "x", img.shape[0])
        """)))
    print(f"{'case':<40} {'wall s':>7} {'peak MB':>8}  outcome")
    for name, seconds, peak, outcome in rows:
        print(f"{name:<40} {seconds:7.2f} {peak:8.0f}  {outcome[:70]}")


if __name__ == "__main__":
    main()
