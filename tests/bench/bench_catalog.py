"""Benchmark: catalog operations at fleet sizes, on a real Library (SQLite) with N entries.
Prints medians for `find_equipment` (text and fault-code queries), an asset-tag lookup, the
nameplate identification of a plate with an unlabelled model line (the path that scans the
whole catalog), and `equipment add`. Never asserts on time.

    python tests/bench/bench_catalog.py [--sizes 10 100 1000] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from assistant.domain import Equipment  # noqa: E402
from assistant.library import Library  # noqa: E402
from assistant.library import catalog  # noqa: E402
from assistant.perception.catalog import identify_nameplate  # noqa: E402


def entry(n: int) -> Equipment:
    return Equipment(id=f"unit-{n:04d}", name=f"Machine {n:04d}", manufacturer=f"Maker {n % 37}",
                     model=f"MX-{n:04d}", aliases=[f"MX{n:04d}", f"MX-{n:04d}-B"], asset_tags=[f"FL-{n:06d}"],
                     serial_patterns=[rf"^MX{n:04d}-\d{{5}}$"])


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    print(f"{'entries':>8} {'find text':>10} {'find code':>10} {'tag':>8} {'plate':>8} {'add':>8}  (median ms)")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            lib = Library(Path(tmp) / "lib")
            for n in range(size):
                lib.upsert_equipment(entry(n))
            manual = Path(tmp) / "manual.md"
            manual.write_text("# M\n\n## Fault codes\n\n| Code | Fault |\n|---|---|\n| QX-17 | Pump dry |\n"
                              "| QX-18 | Motor hot |\n", encoding="utf-8")
            lib.add(manual, equipment_ids=[f"unit-{size // 2:04d}"])
            probe = size // 2
            lines = [f"Maker {probe % 37} GmbH", f"MX-{probe:04d}", "400 V 3~ 50 Hz", "32 A", "IP54"]
            find_text = median_ms(lambda: catalog.find_equipment(lib, f"machine {probe:04d}"), args.runs)
            find_code = median_ms(lambda: catalog.find_equipment(lib, "QX-17"), args.runs)
            tag = median_ms(lambda: lib.equipment_for_tag(f"FL-{probe:06d}"), args.runs)
            plate = median_ms(lambda: identify_nameplate(lib, {}, lines), args.runs)
            counter = iter(range(10_000, 10_000 + args.runs))
            add = median_ms(lambda: catalog.add_equipment(lib, entry(next(counter))), args.runs)
            lib.close()
        print(f"{size:>8} {find_text:>10.1f} {find_code:>10.1f} {tag:>8.1f} {plate:>8.1f} {add:>8.1f}")


if __name__ == "__main__":
    main()
