"""Where a tablet (or a supervisor's machine) keeps the fleet server's address and its token.

Owns: the `server_url` and `server_token` entries of `<home>/secrets.json` (mode 0600, beside the
model API key, which is left as it is). Given explicitly (`--server`/`--token`) or by the
environment (`FIELDLENS_SERVER`, `FIELDLENS_SERVER_TOKEN`), they are saved; later calls need
neither. A saved token is only ever sent to the server it was saved with.
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


def saved(home: Path) -> ServerCredentials | None:
    data = _read(Path(home) / "secrets.json")
    if data.get("server_url") and data.get("server_token"):
        return ServerCredentials(data["server_url"], data["server_token"])
    return None


def save(home: Path, creds: ServerCredentials) -> None:
    path = Path(home) / "secrets.json"
    data = _read(path)
    data.update(server_url=creds.url, server_token=creds.token)
    _write(path, data)


def resolve(home: Path, url: str | None = None, token: str | None = None, env: dict | None = None, *,
            remember: bool = True) -> ServerCredentials:
    """The server and token to use: given > environment > saved. New ones are saved (`remember`)."""
    env = os.environ if env is None else env
    url = url or env.get("FIELDLENS_SERVER") or None
    token = token or env.get("FIELDLENS_SERVER_TOKEN") or None
    stored = saved(home)
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
        save(home, creds)
    return creds
