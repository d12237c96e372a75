"""Where a tablet (or a supervisor's machine) keeps the fleet server's address and its token.

Owns: the `server_url` and `server_token` entries of `<home>/secrets.json` (mode 0600, beside the
model API key, which is left as it is): the tablet's enrolment, used by `sync`; and
`review_server_url` / `review_server_token`, the token a supervisor's `--server` commands use, kept
apart so a supervisor working on a tablet does not replace its device enrolment. Given explicitly
(`--server`/`--token`) or by the environment (`FIELDLENS_SERVER`, `FIELDLENS_SERVER_TOKEN`), they
are saved; later calls need neither. A saved token is only ever sent to the server it was saved with.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError


@dataclass(frozen=True)
class ServerCredentials:
    url: str
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"ServerCredentials(url={self.url!r}, token='••••')"


def normalise_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"The server address must start with http:// or https:// (got {url or 'nothing'}).")
    return url


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise ConfigError(f"{path} is unreadable; remove it and enrol the tablet again.") from None
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


_KEYS = {"sync": ("server_url", "server_token"), "review": ("review_server_url", "review_server_token")}


def saved(home: Path, purpose: str = "sync") -> ServerCredentials | None:
    data = _read(Path(home) / "secrets.json")
    url_key, token_key = _KEYS[purpose]
    if data.get(url_key) and data.get(token_key):
        return ServerCredentials(data[url_key], data[token_key])
    if purpose == "review":
        return saved(home, "sync")  # a tablet's own token reads its own sessions on the server
    return None


def save(home: Path, creds: ServerCredentials, purpose: str = "sync") -> None:
    path = Path(home) / "secrets.json"
    data = _read(path)
    url_key, token_key = _KEYS[purpose]
    data.update({url_key: creds.url, token_key: creds.token})
    _write(path, data)


def resolve(home: Path, url: str | None = None, token: str | None = None, env: dict | None = None, *,
            remember: bool = True, purpose: str = "sync") -> ServerCredentials:
    """The server and token to use: given > environment > saved. New ones are saved (`remember`)
    under `purpose` ("sync": the tablet's enrolment; "review": a supervisor's --server commands)."""
    env = os.environ if env is None else env
    url = url or env.get("FIELDLENS_SERVER") or None
    token = token or env.get("FIELDLENS_SERVER_TOKEN") or None
    stored = saved(home, purpose)
    if url is None and stored is None:
        raise ConfigError("No fleet server is set: give --server URL --token TOKEN once "
                          "(or set FIELDLENS_SERVER and FIELDLENS_SERVER_TOKEN).")
    url = normalise_url(url) if url else stored.url
    if token is None:
        if stored is None or normalise_url(stored.url) != url:
            raise ConfigError(f"No token is saved for {url}: give --token TOKEN (or set FIELDLENS_SERVER_TOKEN).")
        token = stored.token
    token = token.strip()
    creds = ServerCredentials(url, token)
    if remember and (stored is None or stored.url != creds.url or stored.token != creds.token):
        save(home, creds, purpose)
    return creds
