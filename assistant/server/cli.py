"""The fleet sub-commands of `fieldlens`: `server` (run it, manage tokens and the manual feed) and
`sync` (a tablet's push/pull), plus the `--server`/`--token` options the supervisor's `sessions`
and `review` commands take. Registered by `assistant.cli.build_parser`; kept here so the main CLI
module only wires them in.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from assistant.errors import FieldlensError


def default_data_dir() -> Path:
    env = os.environ.get("FIELDLENS_SERVER_DATA")
    if env:
        return Path(env).expanduser()
    from assistant.config import default_home

    return default_home() / "server"


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _print_rows(rows: list[dict], as_json: bool, line, empty: str) -> None:
    """A listing as JSON, or one line per row (`empty` when there is none)."""
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        print(line(row))
    if not rows:
        print(empty)


def add_remote_options(parser: argparse.ArgumentParser, *, device_filter: bool = False) -> None:
    """--server URL [--token TOKEN]: work on the fleet's sessions on the central server."""
    parser.add_argument("--server", metavar="URL", help="the fleet server (token from --token, "
                        "FIELDLENS_SERVER_TOKEN or secrets.json)")
    parser.add_argument("--token", help="the token for --server (saved in secrets.json for next time)")
    if device_filter:
        parser.add_argument("--device", action="append", default=[],
                            help="with --server: only sessions pushed by this device (token name)")


def remote_sessions(args: argparse.Namespace):
    """The fleet's sessions when --server was given, else None."""
    if not getattr(args, "server", None):
        if getattr(args, "device", None):
            raise FieldlensError("--device filters the fleet's sessions: give --server URL too.")
        return None
    from assistant.config import default_home
    from assistant.sessions import sync_credentials
    from assistant.sessions.sync_http import RemoteSessions

    creds = sync_credentials.resolve(default_home(), args.server, args.token, purpose="review")
    return RemoteSessions(creds, device=getattr(args, "device", None) or None)


# ---------------------------------------------------------------------------- server


def _store_args(args: argparse.Namespace) -> tuple[Path, str | None]:
    data = Path(getattr(args, "sub_data", None) or args.data or default_data_dir())
    database = getattr(args, "sub_database", None) or args.database or os.environ.get("FIELDLENS_SERVER_DATABASE")
    return data, database


def _open_store(args: argparse.Namespace):
    from assistant.server.app import remember_database
    from assistant.server.store import open_fleet_store

    data, database = _store_args(args)
    return open_fleet_store(data, remember_database(data, database))


def cmd_server(args: argparse.Namespace) -> int:
    if args.server_cmd is None:
        from assistant.server.app import serve

        data, database = _store_args(args)
        serve(data, database, args.host, args.port)
        return 0
    store = _open_store(args)
    try:
        if args.server_cmd == "tokens":
            return _tokens(args, store)
        return _library(args, store)
    finally:
        store.close()


def _tokens(args: argparse.Namespace, store) -> int:
    from assistant.server.tokens import TokenStore, feed_key

    tokens = TokenStore(store.engine)
    if args.tokens_cmd == "create":
        token = tokens.create(args.name, args.role)
        if args.json:
            _print_json({"name": args.name, "role": args.role, "token": token,
                         "feed_path": f"/feed/{feed_key(token)}/feed.json"})
        else:
            print(token)
            print(f"Token for {args.name} ({args.role}). It is shown only this once; the server keeps only a "
                  "hash.", file=sys.stderr)
            print(f"Manual feed for `fieldlens library sync`: <server>/feed/{feed_key(token)}/feed.json",
                  file=sys.stderr)
    elif args.tokens_cmd == "list":
        def token_line(r: dict) -> str:
            state = f"revoked {r['revoked_at'][:16]}" if r["revoked_at"] else "active"
            return f"{r['name']:<24} {r['role']:<11} created {r['created_at'][:16]}  {state}"

        _print_rows(tokens.list(), args.json, token_line, "No tokens yet.")
    else:
        tokens.revoke(args.name)
        print(f"Token {args.name} revoked.")
    return 0


def _library(args: argparse.Namespace, store) -> int:
    from assistant.server.library import FleetLibrary

    library = FleetLibrary(store.engine, store.root / "library")
    if args.library_cmd == "add":
        added = []
        for path in args.paths:
            path = Path(path)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise FieldlensError(f"{path} cannot be read ({exc.strerror}).") from None
            added.append(library.add(path.name, data, title=args.title or "", version=args.version or "",
                                     kind=args.kind, equipment=args.equipment, key=args.key))
        if args.json:
            _print_json(added)
        else:
            for e in added:
                print(f"{e['key']}  {e['filename']}  sha256 {e['sha256'][:12]}  in the feed")
    elif args.library_cmd == "list":
        _print_rows(library.entries(), args.json,
                    lambda e: f"{e['key']:<30} {e['filename']:<40} {e['version'] or '-':<6} {e['title']}",
                    "The feed is empty.")
    else:
        library.remove(args.key)
        print(f"{args.key} removed from the feed.")
    return 0


# ---------------------------------------------------------------------------- sync (tablet)


def cmd_sync(args: argparse.Namespace) -> int:
    from assistant.service import Fieldlens

    with Fieldlens() as fl:
        report = fl.sync_now(args.server, args.token, library=not args.no_library)
    data = report.model_dump(mode="json")
    if args.json:
        _print_json(data)
    else:
        print(f"Synced with {data['server']}: {data['events_pushed']} event(s) in {data['sessions_pushed']} "
              f"session(s) and {data['photos_sent']} photo(s) sent, {data['reviews_pulled']} review(s) received.")
        lib = data.get("library")
        if lib:
            if lib.get("error"):
                print(f"Manuals: {lib['error']}")
            else:
                print(f"Manuals: {len(lib['added'])} added, {len(lib['updated'])} updated, "
                      f"{len(lib['failed'])} failed.")
    return 0


# ---------------------------------------------------------------------------- parsers


def add_fleet_commands(sub) -> None:
    srv = sub.add_parser("server", help="the central fleet server (and its tokens and manual feed)")
    srv.add_argument("--database", help="postgresql://user@host/db for a fleet (default: SQLite under --data); "
                     "remembered in <data>/server.json")
    srv.add_argument("--data", help="photos, manuals and the embedded database (default: "
                     "$FIELDLENS_SERVER_DATA or <home>/server)")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8600)
    srv_sub = srv.add_subparsers(dest="server_cmd")

    def store_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--database", dest="sub_database", help=argparse.SUPPRESS)
        p.add_argument("--data", dest="sub_data", help=argparse.SUPPRESS)

    tok = srv_sub.add_parser("tokens", help="API tokens (device, supervisor, admin)")
    tok_sub = tok.add_subparsers(dest="tokens_cmd", required=True)
    create = tok_sub.add_parser("create", help="print a new token once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["device", "supervisor", "admin"], required=True)
    create.add_argument("--json", action="store_true")
    listing = tok_sub.add_parser("list")
    listing.add_argument("--json", action="store_true")
    revoke = tok_sub.add_parser("revoke")
    revoke.add_argument("name")
    for p in (tok, create, listing, revoke):
        store_options(p)

    lib = srv_sub.add_parser("library", help="the manual feed tablets mirror")
    lib_sub = lib.add_subparsers(dest="library_cmd", required=True)
    add = lib_sub.add_parser("add", help="add or replace manuals in the feed")
    add.add_argument("paths", nargs="+")
    add.add_argument("--title")
    add.add_argument("--version")
    add.add_argument("--kind", choices=["manual", "work_instruction"])
    add.add_argument("--equipment", action="append", default=[])
    add.add_argument("--key", help="the feed entry to replace (default: the file name without extension)")
    add.add_argument("--json", action="store_true")
    llist = lib_sub.add_parser("list")
    llist.add_argument("--json", action="store_true")
    remove = lib_sub.add_parser("remove")
    remove.add_argument("key")
    for p in (lib, add, llist, remove):
        store_options(p)
    srv.set_defaults(func=cmd_server)

    syn = sub.add_parser("sync", help="push sessions to the fleet server, pull reviews, mirror its manuals")
    syn.add_argument("--server", metavar="URL", help="enrol with this server (or FIELDLENS_SERVER); saved")
    syn.add_argument("--token", help="this tablet's device token (or FIELDLENS_SERVER_TOKEN); saved")
    syn.add_argument("--no-library", action="store_true", help="do not mirror the server's manual feed")
    syn.add_argument("--json", action="store_true")
    syn.set_defaults(func=cmd_sync)
