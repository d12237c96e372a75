"""Fuzz suite: a few hundred seeded mutations of the sample library's photos and documents go through
`fieldlens inspect` and `fieldlens library add` (in a child process, the way a script calls them).

Every input ends with exit 0 and nothing on stderr, or exit 2 and exactly one `fieldlens:` sentence: no
traceback, no third-party warning, no other exit status, no input over 20 s, and the child's peak memory
under 1 GB. The counts are printed (`-s`) for the README."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import cv2
import pytest
from harness import ASSETS, MAX_PEAK_MB, MAX_SECONDS, run_batch
from mutate import mutate

SEED = 16
PHOTO_CASES = 120
DOCUMENT_CASES = 150


def _photo_bases() -> list[tuple[str, bytes]]:
    """Each sample photo at 640 px (quick to read) as JPEG, and a few as PNG and WebP."""
    bases = []
    for k, path in enumerate(sorted((ASSETS / "photos").glob("*.jpg"))):
        image = cv2.imread(str(path))
        small = cv2.resize(image, (640, 480), interpolation=cv2.INTER_AREA)
        bases.append((path.stem + ".jpg", cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()))
        if k % 4 == 0:
            bases.append((path.stem + ".png", cv2.imencode(".png", small)[1].tobytes()))
            bases.append((path.stem + ".webp", cv2.imencode(".webp", small)[1].tobytes()))
    return bases


def _document_bases() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((ASSETS / "library").glob("*/*"))
            if p.suffix in {".pdf", ".md", ".yaml", ".json", ".html", ".txt"}]


def _cases(bases, count: int, folder: Path, seed: int) -> list[tuple[Path, str]]:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    cases = []
    for i in range(count):
        name, data = bases[i % len(bases)]
        mutated, strategy = mutate(data, rng)
        path = folder / f"{i:03d}-{strategy}-{name}"
        path.write_bytes(mutated)
        cases.append((path, strategy))
    return cases


def _check(results: list[dict], peak_mb: float, what: str) -> Counter:
    outcomes: Counter = Counter()
    problems = []
    for r in results:
        lines = [line for line in r["stderr"].splitlines() if line.strip()]
        name = Path(r["args"][-1]).name
        if r["error"]:
            problems.append(f"{name}: {r['error'][-600:]}")
        elif r["status"] == 0 and lines:
            problems.append(f"{name}: exit 0 but printed on stderr: {lines[:3]}")
        elif r["status"] == 2 and not (len(lines) == 1 and lines[0].startswith("fieldlens: ")):
            problems.append(f"{name}: exit 2 with {len(lines)} stderr lines: {lines[:4]}")
        elif r["status"] not in (0, 2):
            problems.append(f"{name}: exit {r['status']}: {lines[-3:]}")
        if r["seconds"] > MAX_SECONDS:
            problems.append(f"{name}: took {r['seconds']:.1f} s")
        outcomes["accepted" if r["status"] == 0 else "refused"] += 1
    slowest = max(results, key=lambda r: r["seconds"])
    print(f"\n{what}: {len(results)} inputs, {outcomes['accepted']} read, {outcomes['refused']} refused with one "
          f"sentence, slowest {slowest['seconds']:.1f} s ({Path(slowest['args'][-1]).name}), peak {peak_mb:.0f} MB")
    assert not problems, "\n".join(problems[:20])
    assert peak_mb < MAX_PEAK_MB, f"peak memory {peak_mb:.0f} MB"
    return outcomes


@pytest.mark.slow
def test_fuzzed_photos_through_inspect(tmp_path):
    cases = _cases(_photo_bases(), PHOTO_CASES, tmp_path / "photos", SEED)
    results, peak_mb = run_batch(tmp_path / "home", [["inspect", str(p)] for p, _ in cases])
    outcomes = _check(results, peak_mb, "inspect")
    assert outcomes["accepted"] and outcomes["refused"]  # the mutations exercise both paths


def test_fuzzed_documents_through_library_add(tmp_path):
    cases = _cases(_document_bases(), DOCUMENT_CASES, tmp_path / "docs", SEED + 1)
    results, peak_mb = run_batch(tmp_path / "home", [["library", "add", str(p)] for p, _ in cases])
    outcomes = _check(results, peak_mb, "library add")
    assert outcomes["accepted"] and outcomes["refused"]
