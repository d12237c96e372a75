"""The `fieldlens` command as scripts use it: the JSON contract of PRODUCT.md,
exit statuses, and one plain stderr line (never a traceback) for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def fieldlens(home: Path, *args: str, samples: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("FIELDLENS_")}
    full_env.update({"FIELDLENS_HOME": str(home), "FIELDLENS_SAMPLES": "1" if samples else "0"})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, status: int = 2) -> None:
    assert result.returncode == status, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("fieldlens: ")


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "home"


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    return json.loads((ROOT / "assets" / "photos" / "manifest.json").read_text())


def test_library_list_and_search_json_contract(seeded_home: Path) -> None:
    listed = fieldlens(seeded_home, "library", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    docs = json.loads(listed.stdout)
    assert len(docs) >= 3
    result = fieldlens(seeded_home, "library", "search", "--json", "overcurrent", "fault")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits, "the sample library mentions overcurrent"
    for key in ("doc_id", "title", "page", "section", "snippet", "score"):
        assert key in hits[0]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True), "hits are best first"


def test_library_show_unknown_document_is_bad_input(seeded_home: Path) -> None:
    assert_clean_failure(fieldlens(seeded_home, "library", "show", "no-such-doc"))


def test_ask_with_display_photo_cites_the_fault_code_entry(seeded_home: Path, manifest: list[dict]) -> None:
    display = next(p for p in manifest if p["kind"] == "display" and p.get("codes"))
    code = display["codes"][0]
    photo = ROOT / "assets" / "photos" / display["file"]
    result = fieldlens(seeded_home, "ask", "--photo", str(photo), "--json", "the machine stopped and shows this")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    for key in ("session_id", "provider", "model", "mode", "equipment", "observations", "steps", "flags",
                "confidence", "abstained", "summary"):
        assert key in answer
    assert answer["provider"] == "offline"
    assert not answer["abstained"]
    assert any(o["kind"] == "fault_code" and o["value"] == code for o in answer["observations"])
    first = answer["steps"][0]
    assert first["index"] == 1 and first["citations"], first
    for key in ("doc_id", "title", "page", "section", "quote"):
        assert key in first["citations"][0]
    cited_kinds = []
    for step in answer["steps"]:
        for citation in step["citations"]:
            shown = fieldlens(seeded_home, "library", "show", "--json", citation["doc_id"])
            passages = {p["id"]: p for p in json.loads(shown.stdout)["passages"]}
            cited = passages[citation["passage_id"]]
            assert citation["quote"] in cited["text"]
            if code in cited["text"]:
                cited_kinds.append(cited["kind"])
    # the code's own entry or the work instruction written for it grounds the answer (an isolation
    # step taken from a warning may come first)
    assert {"fault_code", "procedure"} & set(cited_kinds), cited_kinds
    citation = first["citations"][0]

    listed = json.loads(fieldlens(seeded_home, "sessions", "list", "--json").stdout)
    assert answer["session_id"] in [s["id"] for s in listed]
    session = json.loads(fieldlens(seeded_home, "sessions", "show", "--json", answer["session_id"]).stdout)
    assert session["turns"][0]["answer"]["steps"][0]["citations"][0]["quote"] == citation["quote"]
    assert len(session["photos"]) == 1


def test_ask_outside_the_library_abstains(seeded_home: Path) -> None:
    result = fieldlens(seeded_home, "ask", "--json", "how do I recalibrate the flux capacitor of a toaster oven")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["abstained"] is True
    assert "no_source" in [f["code"] for f in answer["flags"]]
    assert answer["steps"] == []


def test_review_and_export(seeded_home: Path, tmp_path: Path) -> None:
    asked = json.loads(fieldlens(seeded_home, "ask", "--json", "pump is cavitating and noisy").stdout)
    sid = asked["session_id"]
    reviewed = fieldlens(seeded_home, "review", sid, "--verdict", "needs_follow_up", "--comment", "check seal",
                         "--step", "1", "--rating", "good")
    assert reviewed.returncode == 0, reviewed.stderr
    out = tmp_path / "report.json"
    exported = fieldlens(seeded_home, "sessions", "export", sid, "--format", "json", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    report = json.loads(out.read_text())
    assert "check seal" in json.dumps(report)
    assert_clean_failure(fieldlens(seeded_home, "sessions", "show", "00000000-0000-0000-0000-000000000000"))
    assert_clean_failure(fieldlens(seeded_home, "review", sid, "--verdict", "approved", "--step", "1"))


@pytest.mark.parametrize("command", ["inspect", "ask"])
def test_bad_photos_exit_2_with_one_line(command: str, tmp_path: Path, seeded_home: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(300))
    for bad in (tmp_path / "missing.jpg", text, empty, corrupt):
        args = [command, str(bad)] if command == "inspect" else ["ask", "--photo", str(bad), "what is wrong"]
        result = fieldlens(seeded_home, *args)
        assert_clean_failure(result)
        assert bad.name in result.stderr


def test_required_provider_failure_exits_3(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = fieldlens(
        home, "ask", "--provider", "openai", "--no-fallback", "pump is noisy",
        env={"FIELDLENS_BASE_URL": "http://127.0.0.1:9", "FIELDLENS_MODEL": "m", "OPENAI_API_KEY": "sk-test-123456789"},
    )
    assert_clean_failure(result, status=3)
    assert "sk-test-123456789" not in result.stderr


def test_new_home_without_samples_is_empty(tmp_path: Path) -> None:
    result = fieldlens(tmp_path / "empty-home", "library", "list", "--json", samples=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_inspect_reports_the_fault_code_before_the_values_on_the_same_display(seeded_home: Path,
                                                                               manifest: list[dict]) -> None:
    display = next(p for p in manifest if p["kind"] == "display" and p.get("codes"))
    result = fieldlens(seeded_home, "inspect", "--json", str(ROOT / "assets" / "photos" / display["file"]))
    assert result.returncode == 0, result.stderr
    reading = json.loads(result.stdout)
    reading = reading[0] if isinstance(reading, list) else reading
    first = reading["observations"][0]
    assert first["kind"] == "fault_code" and first["value"] == display["codes"][0], reading["observations"]


def test_sessions_list_filters(seeded_home: Path) -> None:
    """`sessions list` narrows by review verdict, outcome, full text and date, locally as on the server."""
    def listed(*flags: str) -> set[str]:
        result = fieldlens(seeded_home, "sessions", "list", "--json", "--limit", "500", *flags)
        assert result.returncode == 0, result.stderr
        return {row["id"] for row in json.loads(result.stdout)}

    reviewed = json.loads(fieldlens(seeded_home, "ask", "--json", "the conveyor belt slips under load").stdout)
    other = json.loads(fieldlens(seeded_home, "ask", "--json", "hydraulic oil temperature too high").stdout)
    assert fieldlens(seeded_home, "review", reviewed["session_id"], "--verdict", "incorrect").returncode == 0
    closed = fieldlens(seeded_home, "sessions", "close", other["session_id"], "--outcome", "escalated")
    assert closed.returncode == 0, closed.stderr
    everything = listed()
    assert {reviewed["session_id"], other["session_id"]} <= everything
    incorrect = listed("--verdict", "incorrect")
    assert reviewed["session_id"] in incorrect and other["session_id"] not in incorrect
    escalated = listed("--outcome", "escalated", "--search", "hydraulic")
    assert other["session_id"] in escalated and reviewed["session_id"] not in escalated
    assert other["session_id"] not in listed("--outcome", "open")
    assert listed("--until", "2000-01-01") == set()
    assert_clean_failure(fieldlens(seeded_home, "sessions", "list", "--since", "yesterday"))
