"""Running `fieldlens` as a person or a script would: in a child process, with a fresh home, measuring
its exit status, stdout, stderr, wall time and peak memory.

Peak memory is the child's own VmHWM (/proc/self/status), written by the child as it exits: ru_maxrss
from wait4 is not used because Linux carries the parent's peak over into a child at exec."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ASSETS = REPO / "assets"

# Limits of the product for any single input (not benchmarks): generous on purpose.
MAX_SECONDS = 20.0
MAX_PEAK_MB = 1024.0


# Runs the CLI like `python -m assistant.cli`, and at exit writes this process's VmHWM (kB) to the file
# named by FIELDLENS_TEST_PEAK_FILE.
PEAK_WRAPPER = """
import atexit, os, runpy, sys

def _peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["FIELDLENS_TEST_PEAK_FILE"], "w") as out:
        out.write(kb)

atexit.register(_peak)
sys.argv[0] = "fieldlens"
runpy.run_module("assistant.cli", run_name="__main__", alter_sys=True)
"""


def read_peak_mb(path: Path) -> float:
    try:
        return int(path.read_text()) / 1024
    except (OSError, ValueError):
        return 0.0


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def one_sentence(self) -> str:
        """The single stderr line of a refusal (asserts there is exactly one, from Fieldlens, no traceback)."""
        lines = self.stderr_lines()
        assert len(lines) == 1 and lines[0].startswith("fieldlens: "), self.stderr[-2000:]
        return lines[0]


def child_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDLENS_", "OPENAI_", "ANTHROPIC_"))}
    env.update({"FIELDLENS_HOME": str(home), "FIELDLENS_SAMPLES": "0", "PYTHONPATH": str(REPO)})
    env.update(extra)
    return env


def run_fieldlens(home: Path, *args: str, timeout: float = 90, preexec=None, **env: str) -> Run:
    """`python -m assistant.cli ARGS` in a child; a child still running after `timeout` is killed and fails."""
    started = time.monotonic()
    peak_file = Path(tempfile.mkstemp(prefix="fieldlens-peak-")[1])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", PEAK_WRAPPER, *args], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, cwd=REPO, preexec_fn=preexec,
                                env=child_env(home, FIELDLENS_TEST_PEAK_FILE=str(peak_file), **env))
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise AssertionError(f"fieldlens {' '.join(args)} ran longer than {timeout} s")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        peak_mb = read_peak_mb(peak_file)
        peak_file.unlink(missing_ok=True)
        return Run(proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                   seconds, peak_mb)


def run_batch(home: Path, jobs: list[list[str]], timeout: float = 600) -> tuple[list[dict], float]:
    """Many CLI invocations in one child (fuzz_worker.py): per job its status, stderr and seconds; and the
    child's peak memory over all of them (an upper bound for each one)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(jobs, fh)
    results_path = Path(fh.name + ".out")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fuzz_worker.py")), fh.name,
                             str(results_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=child_env(home), cwd=REPO)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise AssertionError(f"the fuzz batch ran longer than {timeout} s")
        time.sleep(0.05)
    stray = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    assert os.waitstatus_to_exitcode(status) == 0, stray[-3000:]
    payload = json.loads(results_path.read_text())
    os.unlink(fh.name)
    results_path.unlink()
    return payload["results"], payload["peak_kb"] / 1024
