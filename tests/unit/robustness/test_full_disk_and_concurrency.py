"""Writes that cannot complete (a full disk: a small tmpfs where this machine lets us mount one; a
file-size limit: RLIMIT_FSIZE everywhere) leave every store as it was and say so in one sentence, and the
next command works once there is room. Concurrent `library add` runs of two different files with the
same name each keep their document."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from harness import ASSETS, REPO, child_env, run_fieldlens

FIRST = ASSETS / "library" / "vfd-vx500" / "wi-vx500-fan-replacement.md"


def _big_markdown(path: Path, kib: int) -> Path:
    section = "## Section {n}\n\nCheck the drive cooling fan F{n:03d} and clean the heat sink fins.\n\n"
    with path.open("w") as fh:
        fh.write("# Big service manual\n\n")
        n = 0
        while fh.tell() < kib * 1024:
            fh.write(section.format(n=n))
            n += 1
    return path


def _titles(home: Path) -> list[str]:
    run = run_fieldlens(home, "library", "list", "--json")
    assert run.status == 0, run.stderr
    return sorted(d["title"] for d in json.loads(run.stdout))


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk needs a small tmpfs, and mounting one needs root (RLIMIT_FSIZE is tested below)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs ({done.stderr.strip()[:80]}); "
                    "RLIMIT_FSIZE is tested below")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave_bytes: int) -> Path:
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as fh:
        fh.truncate(0)
        block = bytes(1 << 20)
        remaining = free - leave_bytes
        while remaining > 0:
            fh.write(block[: min(len(block), remaining)])
            remaining -= len(block)
    return filler


def test_full_disk_leaves_the_stores_as_they_were(small_disk, tmp_path):
    home = small_disk / "home"
    assert run_fieldlens(home, "library", "add", str(FIRST)).status == 0
    assert run_fieldlens(home, "ask", "fan", "fault").status == 0
    big = _big_markdown(tmp_path / "big.md", 1024)
    filler = _fill(small_disk, 100 * 1024)

    add = run_fieldlens(home, "library", "add", str(big))
    assert add.status == 2 and "disk is full" in add.one_sentence()
    ask = run_fieldlens(home, "ask", "fan", "fault", "again")
    assert ask.status == 2 and ("disk is full" in ask.one_sentence() or "device is full" in ask.stderr)

    filler.unlink()  # room again: the next commands work, and nothing half-written is left
    assert _titles(home) == ["VX-500 drive: replace the cooling fan (F014, or F008 with a noisy fan)"]
    doctor = run_fieldlens(home, "doctor")
    assert doctor.status == 0, doctor.stdout + doctor.stderr
    assert run_fieldlens(home, "library", "add", str(big)).status == 0
    assert len(_titles(home)) == 2


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_is_said_and_changes_nothing(tmp_path):
    home = tmp_path / "home"
    assert run_fieldlens(home, "library", "add", str(FIRST)).status == 0
    big = _big_markdown(tmp_path / "big.md", 256)
    add = run_fieldlens(home, "library", "add", str(big), preexec=_file_size_limit(64 * 1024))
    assert add.status == 2 and "file-size limit" in add.one_sentence(), add.stderr
    assert _titles(home) == ["VX-500 drive: replace the cooling fan (F014, or F008 with a noisy fan)"]
    assert run_fieldlens(home, "doctor").status == 0
    assert run_fieldlens(home, "library", "add", str(big)).status == 0
    assert len(_titles(home)) == 2


def test_concurrent_adds_of_same_named_files_keep_both(tmp_path):
    home = tmp_path / "home"
    assert run_fieldlens(home, "library", "list").status == 0
    for round_ in range(3):
        words = [f"w{uuid.uuid4().hex[:10]}" for _ in range(2)]
        paths = []
        for k, word in enumerate(words):
            folder = tmp_path / f"r{round_}-{k}"
            folder.mkdir()
            path = folder / "service-notes.md"
            path.write_text(f"# Service notes {k}\n\n## Checks\n\nInspect the {word} gasket every month.\n")
            paths.append(path)
        procs = [subprocess.Popen([sys.executable, "-m", "assistant.cli", "library", "add", "--json", str(p)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(home), cwd=REPO)
                 for p in paths]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
        ids = [json.loads(o[0])[0]["id"] for o in outs]
        assert len(set(ids)) == 2, ids
        for word in words:
            hits = json.loads(run_fieldlens(home, "library", "search", word, "--json").stdout)
            assert hits and word in hits[0]["snippet"]


def test_two_services_adding_same_named_files_at_once_keep_both(tmp_path, monkeypatch):
    """Two façades on one home (as two processes would be), adding at the same instant two big different
    files with the same name: the race between choosing an id and writing it is closed by the lock."""
    import threading

    from assistant.config import load_settings
    from assistant.service import Fieldlens

    monkeypatch.setenv("FIELDLENS_SAMPLES", "0")
    home = tmp_path / "home"
    paths = []
    for k in range(2):
        folder = tmp_path / f"f{k}"
        folder.mkdir()
        path = _big_markdown(folder / "manual.md", 1024)
        path.write_text(path.read_text() + f"\n## Unique\n\nThe marker word is uniq{k}word.\n")
        paths.append(path)
    services = [Fieldlens(load_settings(home, env={})) for _ in paths]
    barrier = threading.Barrier(2)
    ids: list[str] = []

    def add(fl, path):
        barrier.wait()
        ids.append(fl.add_documents([path])[0].id)

    threads = [threading.Thread(target=add, args=(fl, p)) for fl, p in zip(services, paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert len(set(ids)) == 2, ids
        for k in range(2):
            assert services[0].search(f"uniq{k}word")
    finally:
        for fl in services:
            fl.close()
