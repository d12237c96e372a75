"""The fleet server's HTTP API (Starlette, served by uvicorn). Every route is authenticated with a
bearer token (`Authorization: Bearer flt_...`), except that the manual feed can also be read under
a token's read-only feed key (`/feed/<key>/feed.json`) by mirror clients that send no header.

Owns: routes, roles per route, request size limits and the mapping of errors to HTTP statuses
(a refused request gets a 4xx and `{"error": "<one plain sentence>"}`, and changes nothing).
Storage work runs in the thread pool: the store is synchronous (SQLAlchemy Core).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from assistant.domain import Review, StepRating, Verdict
from assistant.errors import FieldlensError, StorageError
from assistant.server.errors import NotAllowed, NotFound, Refused, TooLarge
from assistant.server.library import FleetLibrary
from assistant.server.store import MAX_PHOTO_BYTES, FleetFilter, FleetStore, parse_push
from assistant.server.tokens import Caller, Role, TokenStore

MAX_JSON_BYTES = 16 * 1024 * 1024  # one push of events (photos travel on their own)
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")
log = logging.getLogger("fieldlens.server")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Verdict | None = None
    comment: str = Field("", max_length=20_000)
    reviewer: str = Field("", max_length=200)
    step_ratings: dict[int, StepRating] = Field(default_factory=dict)
    turn_id: str | None = None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: Role


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _json(value, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False, default=str), status_code=status,
                    media_type="application/json")


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"The {what} is larger than the server's {limit // 1024**2} MB limit; nothing was stored.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The {what} is larger than the server's {limit // 1024**2} MB limit; nothing was stored.")
        chunks.append(chunk)
    return b"".join(chunks)


def _model(model: type[BaseModel], body: bytes, what: str) -> BaseModel:
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise Refused(f"The {what} is malformed ({where}: {first['msg']}); nothing was changed.", 422) from None


def create_app(store: FleetStore) -> Starlette:
    tokens = TokenStore(store.engine)
    library = FleetLibrary(store.engine, store.root / "library")

    async def caller_of(request: Request, *roles: Role) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        caller = await run_in_threadpool(tokens.check, token.strip()) if scheme.lower() == "bearer" else None
        if caller is None:
            raise Refused("A valid token is required (Authorization: Bearer ...); this one is missing, unknown "
                          "or revoked.", 401)
        allowed = set(roles) | ({Role.ADMIN} if Role.SUPERVISOR in roles else set())
        if roles and caller.role not in allowed:
            raise NotAllowed(f"A {caller.role} token may not do this.")
        return caller

    def endpoint(fn):
        async def wrapped(request: Request) -> Response:
            try:
                response = await fn(request)
            except Refused as exc:
                response = _error(str(exc), exc.status)
                if exc.status == 401:
                    response.headers["WWW-Authenticate"] = "Bearer"
            except StorageError as exc:
                response = _error(str(exc), 503)
            except ClientDisconnect:  # the body was cut off: nothing was parsed, nothing stored
                log.info("%s %s cut off by the client", request.method, _log_path(request.url.path))
                return Response(status_code=400)
            except FieldlensError as exc:  # unknown session, turn or step in a review
                response = _error(str(exc), 404 if "No saved session" in str(exc) else 422)
            log.info("%s %s %s", request.method, _log_path(request.url.path), response.status_code)
            return response
        return wrapped

    # ---------------------------------------------------------------- sync (tablets)

    async def whoami(request: Request) -> Response:
        caller = await caller_of(request)
        return _json({"name": caller.name, "role": str(caller.role)})

    async def cursors(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE)
        return _json({"sessions": await run_in_threadpool(store.cursors, caller.name)})

    async def push_events(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE)
        push = parse_push(await read_body(request, MAX_JSON_BYTES, "push"))
        return _json(await run_in_threadpool(store.ingest, caller.name, push))

    async def photo(request: Request) -> Response:
        sha = request.path_params["sha"]
        if not _SHA.match(sha):
            raise Refused("A photo is addressed by the sha256 of its bytes (64 hex digits).", 400)
        if request.method == "PUT":
            await caller_of(request, Role.DEVICE)
            data = await read_body(request, MAX_PHOTO_BYTES, "photo")
            created = await run_in_threadpool(store.put_photo, sha, request.headers.get("content-type", ""), data)
            return _json({"id": sha, "stored": created}, 201 if created else 200)
        caller = await caller_of(request)
        if request.method == "HEAD":  # a tablet asking whether to send it; only existence is revealed
            return Response(status_code=200 if await run_in_threadpool(store.has_photo, sha) else 404)
        if not await run_in_threadpool(store.photo_readable_by, sha, caller.device):
            raise NotFound("No photo of yours on the server has this id.")
        try:
            path = await run_in_threadpool(store.photo_path, sha)
        except FieldlensError:
            raise NotFound("No photo on the server has this id.") from None
        return FileResponse(path, headers={"Cache-Control": "private, max-age=31536000, immutable"})

    async def pull_reviews(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE, Role.SUPERVISOR)
        after = _int(request.query_params.get("after", "0"), "after")
        limit = min(max(_int(request.query_params.get("limit", "500"), "limit"), 1), 1000)
        rows = await run_in_threadpool(store.reviews_after, after, caller.device, limit)
        return _json({"reviews": [{"n": n, "review": r.model_dump(mode="json")} for n, r in rows],
                      "last": rows[-1][0] if rows else after})

    # ---------------------------------------------------------------- sessions (supervisors)

    def _filters(request: Request) -> FleetFilter:
        raw = request.query_params.get("filter", "")
        try:
            return FleetFilter.model_validate_json(raw) if raw else FleetFilter()
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Refused(f"The filter is malformed ({'.'.join(str(p) for p in first['loc'])}: "
                          f"{first['msg']}).", 422) from None

    async def list_sessions(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE, Role.SUPERVISOR)
        filters = _filters(request)
        if caller.device is not None:
            filters = filters.model_copy(update={"device": [caller.device]})
        limit = min(max(_int(request.query_params.get("limit", "100"), "limit"), 0), 1000)
        offset = max(_int(request.query_params.get("offset", "0"), "offset"), 0)

        def work():
            rows = store.list(filters, limit=limit, offset=offset)
            devices = store.devices_of([r.id for r in rows])
            return [dict(r.model_dump(mode="json"), device=devices.get(r.id, "")) for r in rows]

        return _json({"sessions": await run_in_threadpool(work)})

    async def count_sessions(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE, Role.SUPERVISOR)
        filters = _filters(request)
        if caller.device is not None:
            filters = filters.model_copy(update={"device": [caller.device]})
        return _json({"count": await run_in_threadpool(store.count, filters)})

    async def dashboard(request: Request) -> Response:
        await caller_of(request, Role.SUPERVISOR)
        return _json(await run_in_threadpool(store.dashboard, _filters(request)))

    async def get_session(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE, Role.SUPERVISOR)
        sid = request.path_params["sid"]

        def work():
            store.check_readable(sid, caller.device)
            return {"session": store.get(sid).model_dump(mode="json"), "device": store.owner_of(sid) or ""}

        return _json(await run_in_threadpool(work))

    async def session_events(request: Request) -> Response:
        caller = await caller_of(request, Role.DEVICE, Role.SUPERVISOR)
        sid = request.path_params["sid"]

        def work():
            store.check_readable(sid, caller.device)
            return [dict(e, at=e["at"].isoformat()) for e in store.events(sid)]

        return _json({"events": await run_in_threadpool(work)})

    async def add_review(request: Request) -> Response:
        caller = await caller_of(request, Role.SUPERVISOR)
        sid = request.path_params["sid"]
        data = _model(ReviewIn, await read_body(request, 1024 * 1024, "review"), "review")

        def work():
            store.check_readable(sid, None)
            review = Review(session_id=sid, reviewer=data.reviewer or caller.name, verdict=data.verdict,
                            comment=data.comment, step_ratings=data.step_ratings, turn_id=data.turn_id)
            return store.review(review)

        review = await run_in_threadpool(work)
        return _json(review.model_dump(mode="json"), 201)

    # ---------------------------------------------------------------- admin

    async def tokens_route(request: Request) -> Response:
        await caller_of(request, Role.ADMIN)
        if request.method == "POST":
            data = _model(TokenIn, await read_body(request, 64 * 1024, "token request"), "token request")
            token = await run_in_threadpool(tokens.create, data.name, data.role)
            return _json({"name": data.name, "role": str(data.role), "token": token}, 201)
        return _json({"tokens": await run_in_threadpool(tokens.list)})

    async def revoke_token(request: Request) -> Response:
        await caller_of(request, Role.ADMIN)
        await run_in_threadpool(tokens.revoke, request.path_params["name"])
        return _json({"revoked": request.path_params["name"]})

    async def library_route(request: Request) -> Response:
        await caller_of(request, Role.ADMIN)
        if request.method == "POST":
            q = request.query_params
            filename = q.get("filename", "")
            data = await read_body(request, MAX_DOCUMENT_BYTES, "document")
            equipment = [e for e in q.get("equipment", "").split(",") if e.strip()]
            entry = await run_in_threadpool(lambda: library.add(
                filename, data, title=q.get("title", ""), version=q.get("version", ""), kind=q.get("kind") or None,
                equipment=equipment, key=q.get("key") or None))
            return _json(entry, 201)
        return _json({"documents": await run_in_threadpool(library.entries)})

    async def library_remove(request: Request) -> Response:
        await caller_of(request, Role.ADMIN)
        await run_in_threadpool(library.remove, request.path_params["key"])
        return _json({"removed": request.path_params["key"]})

    async def _feed_caller(request: Request) -> Caller:
        key = request.path_params.get("feed_key")
        if key is None:
            return await caller_of(request)
        caller = await run_in_threadpool(tokens.check_feed_key, key)
        if caller is None:
            raise Refused("This feed address belongs to an unknown or revoked token.", 401)
        return caller

    async def feed(request: Request) -> Response:
        await _feed_caller(request)
        body = await run_in_threadpool(library.feed)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag, "Cache-Control": "no-cache"})

    async def feed_file(request: Request) -> Response:
        await _feed_caller(request)
        path, media_type, sha = await run_in_threadpool(library.file, request.path_params["key"],
                                                        request.path_params["filename"])
        etag = f'"{sha}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return FileResponse(path, media_type=media_type, headers={"ETag": etag})

    async def not_found(request: Request) -> Response:
        return _error("There is no such address on this server.", 404)

    routes = [
        Route("/api/whoami", endpoint(whoami)),
        Route("/api/sync/cursors", endpoint(cursors)),
        Route("/api/sync/events", endpoint(push_events), methods=["POST"]),
        Route("/api/sync/reviews", endpoint(pull_reviews)),
        Route("/api/photos/{sha}", endpoint(photo), methods=["GET", "HEAD", "PUT"]),
        Route("/api/sessions", endpoint(list_sessions)),
        Route("/api/sessions/count", endpoint(count_sessions)),
        Route("/api/dashboard", endpoint(dashboard)),
        Route("/api/sessions/{sid}", endpoint(get_session)),
        Route("/api/sessions/{sid}/events", endpoint(session_events)),
        Route("/api/sessions/{sid}/reviews", endpoint(add_review), methods=["POST"]),
        Route("/api/tokens", endpoint(tokens_route), methods=["GET", "POST"]),
        Route("/api/tokens/{name}", endpoint(revoke_token), methods=["DELETE"]),
        Route("/api/library", endpoint(library_route), methods=["GET", "POST"]),
        Route("/api/library/{key}", endpoint(library_remove), methods=["DELETE"]),
        Route("/api/library/feed.json", endpoint(feed)),
        Route("/api/library/files/{key}/{filename}", endpoint(feed_file)),
        Route("/feed/{feed_key}/feed.json", endpoint(feed)),
        Route("/feed/{feed_key}/files/{key}/{filename}", endpoint(feed_file)),
    ]
    app = Starlette(routes=routes)
    app.add_route("/{path:path}", endpoint(not_found), methods=["GET", "POST", "PUT", "DELETE", "HEAD"])
    return app


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Refused(f"{name} must be a whole number.", 400) from None


def _log_path(path: str) -> str:
    """Request paths as logged: a feed key is a credential, so it is masked."""
    return re.sub(r"^/feed/[^/]+", "/feed/…", path)


SERVER_CONFIG = "server.json"


def remember_database(data_dir: Path, database: str | None) -> str | None:
    """The database URL for this data folder: the one given (saved, mode 0600, for the `server tokens`
    and `server library` commands), or the one saved before."""
    import os

    config = Path(data_dir) / SERVER_CONFIG
    if database:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        tmp = config.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"database": database}, fh)
        os.replace(tmp, config)
        return database
    if config.exists():
        try:
            return json.loads(config.read_text(encoding="utf-8")).get("database") or None
        except (OSError, json.JSONDecodeError):
            raise Refused(f"{config} is unreadable; give --database again.") from None
    return None


def serve(data_dir: Path, database: str | None, host: str, port: int) -> None:
    import uvicorn

    from assistant.server.store import open_fleet_store

    database = remember_database(data_dir, database)
    store = open_fleet_store(data_dir, database)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    where = "PostgreSQL" if database and database.startswith("postgres") else f"SQLite in {data_dir}"
    log.info("fieldlens server: %s sessions on %s, listening on http://%s:%d", store.session_count(), where,
             host, port)
    try:
        # uvicorn's access log would print feed keys; our own log line masks them
        uvicorn.run(create_app(store), host=host, port=port, access_log=False, log_level="info")
    finally:
        store.close()
