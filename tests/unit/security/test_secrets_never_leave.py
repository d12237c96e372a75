"""Secrets never leave their place: credentials in a base URL are taken out of it (sent as HTTP
Basic authorization, shown as http://host/...), and every known secret (API key, URL password,
the fleet server token, secrets.json entries) is scrubbed from model replies, the response
cache, sessions, exports, logs and errors. Real servers on 127.0.0.1 echo the secrets back in
every field they can; the `fieldlens` command runs as a user runs it."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reasoning"))

import fl_reasoning_support as S  # noqa: E402
from assistant import redaction  # noqa: E402
from assistant.config import Settings, load_settings, save_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
KEY = "sk-live-KEY-4242xyzzy"
USER = "svc"
PASSWORD = "Passw0rd!x9q"
TOKEN = "fleet-TOKEN-77aa19"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
FORMS = [KEY, PASSWORD, "Passw0rd%21x9q", BASIC, TOKEN]


@pytest.fixture(autouse=True)
def _forget():
    redaction.forget_all()
    yield
    redaction.forget_all()


def _leaks(blob: bytes | str) -> list[str]:
    data = blob.encode() if isinstance(blob, str) else blob
    return [f for f in FORMS if f.encode() in data]


def _tree_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()) if folder.exists() else b""


# --------------------------------------------------------------------------- the scrubber


def test_scrub_replaces_every_registered_form_and_streams_split_secrets():
    redaction.remember(KEY)
    redaction.remember_basic_credentials(USER, PASSWORD)
    text = f"key {KEY}, pass {PASSWORD} (url form Passw0rd%21x9q), header Basic {BASIC}."
    assert _leaks(redaction.scrub(text)) == []
    assert redaction.scrub("nothing secret here") == "nothing secret here"
    assert redaction.scrub_data({"a": [KEY, {"b": f"x{PASSWORD}"}], KEY: 1}) == {"a": ["••••", {"b": "x••••"}], "••••": 1}
    stream = redaction.StreamScrubber()
    pieces = ["before sk-li", "ve-KEY-42", "42xyz", "zy after, Pass", "w0rd!x9q end sk"]
    out = "".join(stream.feed(p) for p in pieces) + stream.flush()
    assert out == "before •••• after, •••• end sk"  # a trailing start of a secret that never completed is kept


def test_split_credentials_and_settings_never_show_or_store_them_in_settings(home):
    assert redaction.split_credentials("https://svc:Passw0rd%21x9q@host:8443/v1") == ("https://host:8443/v1", USER, PASSWORD)
    assert redaction.split_credentials("https://host/v1") == ("https://host/v1", "", "")
    s = load_settings(home, env={"FIELDLENS_PROVIDER": "openai", "FIELDLENS_BASE_URL": "https://svc:Passw0rd%21x9q@h.example/v1"})
    assert s.base_url == "https://h.example/v1" and s.url_credentials() == (USER, PASSWORD)
    assert _leaks(repr(s)) == [] and _leaks(s.model_dump_json()) == []
    save_settings(s)
    assert _leaks(s.settings_file.read_bytes()) == []
    assert oct(s.secrets_file.stat().st_mode & 0o777) == "0o600"
    again = load_settings(home, env={})
    assert again.base_url == "https://h.example/v1" and again.url_credentials() == (USER, PASSWORD)
    # the credentials belong to their URL: another base URL never gets them
    moved = load_settings(home, env={"FIELDLENS_BASE_URL": "https://other.example/v1"})
    assert moved.url_credentials() is None
    assert Settings(**{**again.model_dump(), "base_url": "https://other.example/v1"}).url_credentials() is None


def test_log_records_are_scrubbed(caplog):
    redaction.remember(TOKEN)
    with caplog.at_level(logging.INFO, logger="fieldlens.test"):
        logging.getLogger("fieldlens.test").info("server said %s", f"token={TOKEN}")
    assert caplog.records and _leaks(caplog.text) == []


# --------------------------------------------------------------------------- echoing servers


def _echo(rec: S.Received) -> str:
    """Everything the server knows, as a model would leak it: the headers it received and the secrets."""
    seen = " ".join(f"{k}={v}" for k, v in rec.headers.items())
    return f"{seen} {KEY} {PASSWORD} {TOKEN}"


def _echoing_script(provider: str):
    calls = {"n": 0}

    def reply(rec: S.Received) -> S.Reply:
        calls["n"] += 1
        leak = _echo(rec)
        if calls["n"] == 1:  # an error body that reflects the request headers, with a status each provider survives
            return S.Reply(status={"openai": 500, "anthropic": 400, "ollama": 503}[provider], text=json.dumps({"error": {"message": f"bad request from {leak}",
                                                                  "model": leak}}))
        steps = [{**step, "detail": f"see {leak}"} for step in S.GOOD_STEPS]
        steps.append({"action": f"Send the log to {leak}", "detail": leak,
                      "citations": [{"source": "S1", "quote": leak}], "safety": [leak]})
        text = S.answer_json(steps, summary=f"Overcurrent. {leak}", unsure_because=[leak],
                             observations=[{"photo": "P1", "visible": leak, "unreadable": [leak]}])
        kind = {"openai": "openai_sse", "anthropic": "anthropic_sse", "ollama": "ollama_ndjson"}[provider]
        return S.Reply(kind=kind, text=text, chunk=7)  # small pieces: secrets arrive split across them

    return reply


def fieldlens(home: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("FIELDLENS_")}
    full.update({"FIELDLENS_HOME": str(home), "FIELDLENS_SAMPLES": "1", "FIELDLENS_LOG": "debug", **env})
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama"])
def test_a_server_echoing_secrets_everywhere_leaks_none_of_them(tmp_path, provider):
    home = tmp_path / "home"
    with S.ScriptedServer(_echoing_script(provider)) as server:
        url = server.url.replace("http://", f"http://{USER}:Passw0rd%21x9q@") + ("/v1" if provider == "openai" else "")
        env = {"FIELDLENS_PROVIDER": provider, "FIELDLENS_BASE_URL": url, "FIELDLENS_MODEL": "m",
               "FIELDLENS_SERVER_TOKEN": TOKEN}
        if provider != "ollama":
            env[{"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}[provider]] = KEY
        else:  # no key for Ollama: the echoed KEY is known only as another entry of secrets.json
            home.mkdir()
            (home / "secrets.json").write_text(json.dumps({"other": {"fleet_key": KEY}}))
        asked = fieldlens(home, "ask", "--json", "overcurrent fault E21, the motor keeps tripping", env=env)
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        shown = fieldlens(home, "sessions", "show", answer["session_id"], env=env)
        exports = []
        for fmt in ("json", "html"):
            out = tmp_path / f"export.{fmt}"
            done = fieldlens(home, "sessions", "export", answer["session_id"], "--format", fmt, "--out", str(out), env=env)
            assert done.returncode == 0, done.stderr
            exports.append(out.read_bytes())
    assert len(server.received) >= 2, "the model was asked (after the error body)"
    # the credentials travelled as authorization, never in the URL
    last = server.received[-1]
    if provider == "openai":
        assert last.headers["authorization"] == f"Bearer {KEY}"  # the key takes the Authorization header
    else:
        assert last.headers["authorization"] == f"Basic {BASIC}"
    if provider == "anthropic":
        assert last.headers["x-api-key"] == KEY
    assert answer["provider"] == provider, answer["flags"]
    assert "••••" in asked.stdout  # the echoed secrets were there, and were replaced
    assert list((home / "cache" / "responses").glob("*")), "the reply was cached (so the cache is checked)"
    for where, blob in [("ask stdout", asked.stdout), ("ask stderr", asked.stderr),
                        ("sessions show", shown.stdout + shown.stderr),
                        ("sessions.sqlite", _tree_bytes(home / "sessions")),
                        ("cache", _tree_bytes(home / "cache")),
                        ("settings", _tree_bytes(home / "settings.json")),
                        ("json export", exports[0]), ("html export", exports[1])]:
        assert _leaks(blob) == [], f"a secret reached the {where}"


def test_unreachable_server_error_shows_the_host_without_credentials(tmp_path):
    home = tmp_path / "home"
    env = {"FIELDLENS_PROVIDER": "openai", "FIELDLENS_BASE_URL": f"http://{USER}:Passw0rd%21x9q@127.0.0.1:9/v1",
           "FIELDLENS_MODEL": "m", "FIELDLENS_SERVER_TOKEN": TOKEN}
    failed = fieldlens(home, "ask", "--no-fallback", "overcurrent fault E21, the motor keeps tripping", env=env)
    assert failed.returncode == 3, failed.stderr
    assert "127.0.0.1:9" in failed.stderr and "could not be reached" in failed.stderr
    assert _leaks(failed.stdout + failed.stderr) == [] and f"{USER}:" not in failed.stderr
    fallback = fieldlens(home, "ask", "--json", "overcurrent fault E21, the motor keeps tripping", env=env)
    assert fallback.returncode == 0, fallback.stderr
    assert "127.0.0.1:9" in fallback.stdout  # the fallback flag names the server ...
    assert _leaks(fallback.stdout + fallback.stderr) == [] and f"{USER}:" not in fallback.stdout  # ... without them
    assert _leaks(_tree_bytes(home / "sessions")) == []


def test_a_user_without_password_in_the_url_is_the_api_key(home):
    with S.ScriptedServer([S.Reply(kind="openai_sse", text=S.answer_json(S.GOOD_STEPS))]) as server:
        url = server.url.replace("http://", f"http://{KEY}@") + "/v1"
        settings = S.settings_for(home, "openai", url, key="")
        assert settings.base_url == server.url + "/v1"
        from assistant.reasoning import answer_question

        answer = answer_question("the motor keeps tripping", readings=[S.photo_reading()], images=[],
                                 equipment=S.PUMP, retriever=S.retriever(), settings=settings)
    (req,) = server.received
    assert req.headers["authorization"] == f"Bearer {KEY}" and KEY.encode() not in req.raw
    assert answer.provider == "openai" and _leaks(answer.model_dump_json()) == []
