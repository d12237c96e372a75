"""The HTTP client of the fleet server, for tablets and supervisors.

Owns: `ServerClient` (bearer token, short timeouts, errors turned into one plain sentence) and
`RemoteSessions`, the fleet's sessions behind the same methods the façade offers for the local
ones (`list_sessions`, `get_session`, `review`, `export_session`, `dashboard`), so the CLI and the
app's review desk work on either. The token never appears in an error message or a repr.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from assistant.domain import Review, Session, SessionSummary, StepRating, Verdict
from assistant.errors import FieldlensError, SyncError, UnknownSession
from assistant.sessions.sync_credentials import ServerCredentials


class ServerRefused(FieldlensError):
    """The server answered with a refusal (bad token, not allowed, malformed request)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class ServerUnreachable(SyncError):
    """The server could not be reached or dropped the connection; nothing was lost."""


class FleetSessionSummary(SessionSummary):
    """A row of the fleet's sessions list: the tablet's summary plus the device that pushed it."""

    device: str = ""


class ServerClient:
    def __init__(self, creds: ServerCredentials, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.creds = creds
        self._http = httpx.Client(base_url=creds.url, timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                                  headers={"Authorization": f"Bearer {creds.token}",
                                           "User-Agent": "fieldlens-sync"},
                                  transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"ServerClient({self.creds.url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ServerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ServerUnreachable(f"The server at {self.creds.url} did not answer in time; nothing was lost, "
                                    "try again later.") from None
        except httpx.HTTPError:
            raise ServerUnreachable(f"The server at {self.creds.url} cannot be reached; nothing was lost, "
                                    "try again later.") from None
        if response.status_code in ok:
            return response
        raise self._refusal(response)

    def _refusal(self, response: httpx.Response) -> FieldlensError:
        try:
            message = response.json().get("error") or ""
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            message = ""
        status = response.status_code
        if status == 401:
            return ServerRefused(f"The server at {self.creds.url} refused the token (unknown or revoked).", 401)
        if status == 404 and "session" in message.lower():
            return UnknownSession(message)
        if status >= 500:
            return ServerUnreachable(f"The server at {self.creds.url} failed (HTTP {status}); nothing was lost, "
                                     "try again later.")
        return ServerRefused(message or f"The server answered HTTP {status}.", status)

    def get_json(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs).json()

    def whoami(self) -> dict:
        return self.get_json("/api/whoami")


def _filter_param(filters: Any) -> dict:
    if filters is None:
        return {}
    if hasattr(filters, "model_dump"):
        data = filters.model_dump(mode="json", exclude_defaults=True)
    else:
        data = {k: v for k, v in dict(filters).items() if v not in (None, [], "")}
    return {"filter": json.dumps(data, default=str)} if data else {}


class RemoteSessions:
    """The fleet's sessions on the server, with the façade's method names and return types."""

    def __init__(self, creds: ServerCredentials, *, transport: httpx.BaseTransport | None = None,
                 device: list[str] | None = None):
        self.client = ServerClient(creds, transport=transport)
        self.device = device  # a default device filter for list_sessions (the CLI's --device)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "RemoteSessions":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def list_sessions(self, filters: Any | None = None, limit: int = 100, offset: int = 0,
                      device: str | list[str] | None = None) -> list[FleetSessionSummary]:
        params = _filter_param(filters)
        device = device or self.device
        if device:
            data = json.loads(params.get("filter", "{}"))
            data["device"] = device if isinstance(device, list) else [device]
            params["filter"] = json.dumps(data)
        body = self.client.get_json("/api/sessions", params={**params, "limit": limit, "offset": offset})
        return [FleetSessionSummary.model_validate(row) for row in body["sessions"]]

    def count_sessions(self, filters: Any | None = None) -> int:
        return int(self.client.get_json("/api/sessions/count", params=_filter_param(filters))["count"])

    def get_session(self, session_id: str) -> Session:
        return Session.model_validate(self.client.get_json(f"/api/sessions/{session_id}")["session"])

    def session_device(self, session_id: str) -> str:
        """The device (token name) that pushed the session."""
        return self.client.get_json(f"/api/sessions/{session_id}")["device"]

    def session_events(self, session_id: str) -> list[dict]:
        events = self.client.get_json(f"/api/sessions/{session_id}/events")["events"]
        return [dict(e, at=datetime.fromisoformat(e["at"])) for e in events]

    def review(self, session_id: str, verdict: Verdict | str | None = None, comment: str = "",
               reviewer: str = "", step_ratings: dict[int, StepRating | str] | None = None,
               turn_id: str | None = None) -> Review:
        body = {"verdict": str(Verdict(verdict)) if verdict else None, "comment": comment or "",
                "reviewer": reviewer or "", "turn_id": turn_id,
                "step_ratings": {str(int(k)): str(StepRating(v)) for k, v in (step_ratings or {}).items()}}
        response = self.client.request("POST", f"/api/sessions/{session_id}/reviews", json=body)
        return Review.model_validate(response.json())

    def photo_bytes(self, photo_id: str) -> bytes | None:
        try:
            return self.client.request("GET", f"/api/photos/{photo_id}").content
        except ServerRefused:
            return None

    def export_session(self, session_id: str, fmt: str, out: Path | str, anonymize: bool = False) -> Path:
        from assistant.sessions.export import export_session

        if fmt not in {"pdf", "json", "html"}:
            raise FieldlensError(f"Unknown export format '{fmt}': use pdf, json or html.")
        session = self.get_session(session_id)
        log = self.session_events(session_id)
        return export_session(session, log, fmt, Path(out), anonymize=anonymize, photo_loader=self.photo_bytes)

    def dashboard(self, filters: Any | None = None) -> dict:
        return self.client.get_json("/api/dashboard", params=_filter_param(filters))
