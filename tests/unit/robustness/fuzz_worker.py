"""Runs many `fieldlens` command lines in this one process (so the OCR engine loads once), each with
file descriptors 1 and 2 pointed at files of its own: what C libraries print is caught too.

    python fuzz_worker.py JOBS.json RESULTS.json

Each job is an argv list; each result is {args, status, stderr, seconds, error}. A job that runs over
its alarm (25 s) is stopped and recorded with error 'timeout'."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import traceback


class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm()


def main() -> int:
    from assistant.cli import main as fieldlens

    jobs = json.load(open(sys.argv[1]))
    results = []
    signal.signal(signal.SIGALRM, _on_alarm)
    saved_out, saved_err = os.dup(1), os.dup(2)
    for args in jobs:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            error = None
            started = time.monotonic()
            signal.alarm(25)
            try:
                status = fieldlens(args)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
            except _Alarm:
                status, error = -1, "timeout"
            except BaseException:  # noqa: BLE001 - a crash is exactly what the fuzz suite records
                status, error = -1, traceback.format_exc()[-3000:]
            finally:
                signal.alarm(0)
                seconds = time.monotonic() - started
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved_out, 1)
                os.dup2(saved_err, 2)
            err.seek(0)
            results.append({"args": args, "status": status, "stderr": err.read().decode("utf-8", "replace"),
                            "seconds": seconds, "error": error})
    with open("/proc/self/status") as status:  # this process's own peak (see harness.py)
        peak_kb = int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
    json.dump({"results": results, "peak_kb": peak_kb}, open(sys.argv[2], "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
