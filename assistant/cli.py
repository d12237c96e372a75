"""The `fieldlens` command: the engine for admins, scripts and tests.

Exit status: 0 on success (an abstaining answer is a success), 2 for bad
input (one plain line on stderr, no traceback), 3 when a required model
provider failed and no fallback was allowed.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.errors import FieldlensError

EXIT_OK, EXIT_BAD_INPUT, EXIT_PROVIDER = 0, 2, 3


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_dump(value), indent=2, ensure_ascii=False))


def _service():
    from assistant.service import Fieldlens

    fl = Fieldlens()
    for problem in fl.settings.load_problems:  # the command still runs, on the defaults
        print(f"fieldlens: {problem}", file=sys.stderr)
    return fl


def cmd_doctor(args: argparse.Namespace) -> int:
    from assistant.config import load_settings
    from assistant.doctor import PROBLEM, run_doctor

    findings = run_doctor(load_settings(), repair=args.repair)
    if args.json:
        _print_json([f.as_dict() for f in findings])
    else:
        for f in findings:
            print(f"{f.status:<9} {f.check:<18} {f.path}" + (f"\n          {f.detail}" if f.detail else ""))
    problems = [f for f in findings if f.status == PROBLEM]
    if problems:
        hint = "" if args.repair else "; run `fieldlens doctor --repair` to mend what can be mended"
        raise FieldlensError(f"{len(problems)} problem(s) found{hint}.")
    return EXIT_OK


# ---------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    from app.main import run

    with _service() as fl:  # seed the home before the UI starts; a damaged library is said, the app still starts
        problem = fl.library_problem()
        if problem:
            print(f"fieldlens: {problem}", file=sys.stderr)
    run(web=True if args.web else None, host=args.host, port=args.port)
    return EXIT_OK


def cmd_library(args: argparse.Namespace) -> int:
    with _service() as fl:
        if args.library_cmd == "add":
            docs = fl.add_documents(args.paths, equipment_id=args.equipment, authority=args.authority)
            if args.json:
                _print_json(docs)
            else:
                for d in docs:
                    print(f"{d.id}  {d.title}  ({d.format.value}, {d.passage_count} passages)")
        elif args.library_cmd == "list":
            docs = fl.list_documents(args.equipment)
            if args.json:
                _print_json(docs)
            else:
                for d in docs:
                    eq = ", ".join(d.equipment_ids) or "-"
                    rev = f" rev {d.revision}" if d.revision else ""
                    print(f"{d.id}  {d.title}{rev}  [{eq}]")
        elif args.library_cmd == "search":
            hits = fl.search(" ".join(args.query), equipment_id=args.equipment, limit=args.limit)
            if args.json:
                _print_json(hits)
            else:
                if not hits:
                    print("No passages match.")
                for h in hits:
                    where = f"p.{h.page}" if h.page else ""
                    rev = f" rev {h.revision}" if h.revision else ""
                    print(f"{h.score:6.2f}  {h.title}{rev} {where}  {h.section}\n        {h.snippet}")
        elif args.library_cmd == "show":
            doc = fl.get_document(args.doc_id)
            passages = fl.passages(doc.id)
            if args.json:
                _print_json({"document": doc, "outline": fl.outline(doc.id), "passages": passages})
            else:
                print(f"{doc.title}  ({doc.id})")
                print(f"format {doc.format.value}, {doc.page_count or '-'} pages, {len(passages)} passages, "
                      f"equipment {', '.join(doc.equipment_ids) or '-'}")
                for entry in fl.outline(doc.id):
                    entry = _dump(entry)
                    indent = "  " * max(0, int(entry.get("level", 1)) - 1)
                    page = f"  p.{entry['page']}" if entry.get("page") else ""
                    title = entry.get("title") or entry.get("section", "")
                    print(f"  {indent}{title}{page}")
        elif args.library_cmd == "sync":
            report = fl.sync_library(args.url, on_progress=_progress_bar())
            if args.json:
                _print_json(report)
            elif not report.error:
                print(_sync_summary(report))
            _raise_if_sync_failed(report)
    return EXIT_OK


def _progress_bar():
    if not sys.stderr.isatty():  # bars are for people; scripts read the one-line outcome
        return None
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def on_progress(progress: Any) -> None:
        p = _dump(progress)
        key = str(p.get("document") or p.get("doc") or p.get("url") or "feed")
        total = p.get("total_bytes") or p.get("bytes_total")
        done = p.get("done_bytes") or p.get("bytes_done") or 0
        bar = bars.get(key)
        if bar is None:
            bar = bars[key] = tqdm(total=total, desc=key[-40:], unit="B", unit_scale=True, file=sys.stderr, leave=False)
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return on_progress


def _sync_summary(report: Any) -> str:
    r = _dump(report)
    parts = [f"{k}: {len(v) if isinstance(v, list) else v}" for k, v in r.items() if k in {"added", "updated", "unchanged", "failed"}]
    lines = ["Sync finished. " + ", ".join(parts)]
    for failure in r.get("failed", []) or []:
        lines.append(f"  failed: {failure}")
    return "\n".join(lines)


def _raise_if_sync_failed(report: Any) -> None:
    """A sync that could not read its feed, or left documents behind, is a failure (exit 2)."""
    from assistant.errors import SyncError

    if report.error:
        raise SyncError(report.error)
    if report.failed:
        raise SyncError(f"{len(report.failed)} document(s) of the feed could not be synced; the others are in "
                        "the library and the failed ones are as they were.")


def cmd_inspect(args: argparse.Namespace) -> int:
    from assistant.imaging import load_photo

    # Refuse bad input before the (slow) OCR warm-up.
    photos = [load_photo(Path(p)) for p in args.photos]
    with _service() as fl:
        readings = []
        for path, photo in zip(args.photos, photos):
            reading = fl.inspect(photo.data, filename=Path(path).name, equipment_id=args.equipment)
            readings.append({"photo": str(path), "id": reading.photo.id, "quality": reading.quality,
                             "observations": reading.observations, "text": reading.text_lines,
                             "flags": reading.flags, "timings_ms": reading.timings_ms})
        if args.json:
            _print_json(readings)
        else:
            for r in readings:
                q = r["quality"]
                print(f"{r['photo']}  {q.width}x{q.height}")
                for f in r["flags"]:
                    print(f"  ! {f.code.value}: {f.message}")
                for o in r["observations"]:
                    label = o.field or o.kind.value
                    print(f"  {label:<12} {o.value:<24} confidence {o.confidence:.2f}")
                if not r["observations"]:
                    print("  no codes, tags or nameplate fields read")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.imaging import load_photo

    for p in args.photo:
        load_photo(Path(p))  # bad photos are refused before anything else happens
    question = " ".join(args.question)
    with _service() as fl:
        on_event = _print_event if sys.stderr.isatty() and not args.json else None
        answer = fl.ask(
            question,
            session_id=args.session,
            photos=[Path(p) for p in args.photo],
            equipment_id=args.equipment,
            mode=args.mode,
            provider=args.provider,
            allow_fallback=False if args.no_fallback else None,
            on_event=on_event,
        )
        if args.json:
            payload = answer.model_dump(mode="json")
            payload["equipment"] = answer.equipment.model_dump(mode="json") if answer.equipment else None
            _print_json(payload)
        else:
            _print_answer(answer)
    return EXIT_OK


def _print_event(event: Any) -> None:
    if event.step is None and event.message:
        print(f"… {event.message}", file=sys.stderr)


def _print_answer(answer: Any) -> None:
    eq = answer.equipment.name if answer.equipment else "unidentified equipment"
    print(f"Session {answer.session_id}  ·  {eq}  ·  {answer.provider}{'/' + answer.model if answer.model else ''}"
          f"  ·  confidence {answer.confidence.value}")
    if answer.code_read is not None:
        print(f"Code read: {answer.code_read.message}")
    if answer.unsure_summary:
        print(f"Unsure because: {answer.unsure_summary}")
    if answer.summary:
        print(f"\n{answer.summary}")
    if answer.abstained:
        print("\nThe manuals do not cover this question; no steps are suggested.")
    for step in answer.steps:
        if step.danger:
            print(f"\n!!! {step.danger}")
        print(f"\n{step.index}. {step.action}  [{step.confidence.value}]")
        if step.detail:
            print(f"   {step.detail}")
        for note in step.safety:
            print(f"   SAFETY: {note}")
        for c in step.citations:
            where = f"p.{c.page}" if c.page else c.section
            rev = f" rev {c.revision}" if c.revision else ""
            print(f"   ↳ {c.title}{rev} {where}: “{c.quote}”")
        for f in step.flags:
            print(f"   ! {f.code.value}: {f.message}")
    if answer.flags or answer.unsure_because:
        print("\nUnsure because:")
        for reason in answer.unsure_because:
            print(f"  - {reason}")
        for f in answer.flags:
            print(f"  ! {f.code.value}: {f.message}")


def _sessions_backend(args: argparse.Namespace):
    """The fleet's sessions on the server with --server, else this device's."""
    from assistant.server.cli import remote_sessions

    return remote_sessions(args) or _service()


def _session_filter(args: argparse.Namespace):
    """The `sessions list` filter flags as a SessionFilter (None when none was given)."""
    from datetime import datetime

    from assistant.sessions import SessionFilter

    def day(value: str | None, flag: str) -> datetime | None:
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise FieldlensError(f"{flag} takes a date like 2026-11-30 or 2026-11-30T14:00, not '{value}'.") from None

    closed = [o for o in args.outcome if o != "open"]
    fields = {
        "equipment_id": args.equipment, "technician": args.technician, "outcome": closed,
        "flag_codes": args.flag, "verdict": args.verdict, "query": args.search or "",
        "date_from": day(args.since, "--since"), "date_to": day(args.until, "--until"),
        "needs_review": True if args.needs_review else None,
        "open": True if "open" in args.outcome and not closed else None,
    }
    if "open" in args.outcome and closed:
        raise FieldlensError("--outcome open cannot be combined with the outcomes of closed sessions.")
    filters = SessionFilter(**fields)
    return None if filters.is_empty() else filters


def cmd_sessions(args: argparse.Namespace) -> int:
    with _sessions_backend(args) as fl:
        if args.sessions_cmd == "list":
            rows = fl.list_sessions(_session_filter(args), limit=args.limit)
            if args.json:
                _print_json(rows)
            else:
                if not rows:
                    print("No sessions yet.")
                for s in rows:
                    outcome = s.outcome.value if s.outcome else "open"
                    conf = s.confidence.value if s.confidence else "-"
                    print(f"{s.id}  {s.created_at:%Y-%m-%d %H:%M}  {s.equipment_id or '-':<16} {outcome:<12} "
                          f"{conf:<6} {s.first_question[:60]}")
        elif args.sessions_cmd == "show":
            session = fl.get_session(args.id)
            if args.json:
                _print_json(session)
            else:
                _print_session(session)
        elif args.sessions_cmd == "export":
            out = fl.export_session(args.id, args.format, Path(args.out), anonymize=args.anonymize)
            print(f"Wrote {out}")
        elif args.sessions_cmd == "step":
            outcome = fl.record_step_outcome(args.id, args.step, args.status, turn=args.turn, note=args.note or "")
            print(f"Step {outcome.step} marked {outcome.status.value} in session {args.id}.")
        elif args.sessions_cmd == "close":
            fl.close_session(args.id, args.outcome)
            print(f"Session {args.id} closed: {args.outcome}.")
    return EXIT_OK


def _print_session(session: Any) -> None:
    print(f"Session {session.id}")
    print(f"  equipment {session.equipment_id or '-'}, technician {session.technician or '-'}, "
          f"device {session.device or '-'}, "
          f"started {session.created_at:%Y-%m-%d %H:%M}, outcome {session.outcome.value if session.outcome else 'open'}")
    print(f"  {len(session.photos)} photo(s), {len(session.observations)} reading(s)")
    for turn in session.turns:
        print(f"\n  Q: {turn.question}")
        if turn.error:
            print(f"  (not answered: {turn.error})")
        if turn.answer:
            for step in turn.answer.steps:
                print(f"    {step.index}. {step.action}")
    for o in session.step_outcomes:
        print(f"  step {o.step}: {o.status.value} {o.note}")
    for r in session.reviews:
        print(f"  review by {r.reviewer or '-'}: {r.verdict.value if r.verdict else '-'} {r.comment}")


def cmd_review(args: argparse.Namespace) -> int:
    ratings = {}
    if args.step is not None or args.rating is not None:
        if args.step is None or args.rating is None:
            raise FieldlensError("--step and --rating go together.")
        ratings = {args.step: args.rating}
    with _sessions_backend(args) as fl:
        review = fl.review(args.id, verdict=args.verdict, comment=args.comment or "", reviewer=args.reviewer or "",
                           step_ratings=ratings)
        print(f"Review saved for session {args.id}: {review.verdict.value if review.verdict else 'no verdict'}")
    return EXIT_OK


def cmd_equipment(args: argparse.Namespace) -> int:
    from assistant.domain import Equipment

    with _service() as fl:
        if args.equipment_cmd == "list":
            items = fl.list_equipment()
            if args.json:
                _print_json(items)
            else:
                if not items:
                    print("The catalog is empty: add equipment with `fieldlens equipment add ID --name NAME`.")
                for e in items:
                    print(f"{e.id}  {e.name}  [{e.model or '-'}]  {len(e.document_ids)} document(s)")
            return EXIT_OK
        if args.equipment_cmd == "remove":
            unlinked = fl.remove_equipment(args.id)
            if args.json:
                _print_json({"removed": args.id, "unlinked_documents": unlinked})
            else:
                print(f"Removed equipment {args.id}; {len(unlinked)} document(s) unlinked and kept in the library.")
            return EXIT_OK
        if args.equipment_cmd == "add":
            item = fl.add_equipment(Equipment(
                id=args.id, name=args.name, manufacturer=args.manufacturer or "", model=args.model or "",
                category=args.category or "", aliases=args.alias, asset_tags=args.asset_tag,
                serial_patterns=args.serial_pattern))
        elif args.equipment_cmd == "edit":
            item = fl.edit_equipment(
                args.id, name=args.name, manufacturer=args.manufacturer, model=args.model, category=args.category,
                add_aliases=args.alias, remove_aliases=args.remove_alias, add_asset_tags=args.asset_tag,
                remove_asset_tags=args.remove_asset_tag, add_serial_patterns=args.serial_pattern,
                remove_serial_patterns=args.remove_serial_pattern)
        else:
            item = fl.get_equipment(args.id)
        if args.json:
            _print_json(item)
        else:
            _print_equipment(item, fl.list_documents(item.id))
    return EXIT_OK


def _print_equipment(item: Any, documents: Sequence[Any]) -> None:
    print(f"{item.id}  {item.name}")
    for label, value in (("manufacturer", item.manufacturer), ("model", item.model), ("category", item.category),
                         ("aliases", ", ".join(item.aliases)), ("asset tags", ", ".join(item.asset_tags)),
                         ("serial patterns", "  ".join(item.serial_patterns))):
        print(f"  {label:<16}{value or '-'}")
    print(f"  {'documents':<16}{len(documents)}")
    for d in documents:
        print(f"    {d.id}  {d.title}")


def _equipment_parser(sub: Any) -> None:
    eq = sub.add_parser("equipment", help="build the equipment catalog")
    eq_sub = eq.add_subparsers(dest="equipment_cmd", required=True)
    lst = eq_sub.add_parser("list", help="every catalog entry")
    lst.add_argument("--json", action="store_true")
    show = eq_sub.add_parser("show", help="one entry and its documents")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    add = eq_sub.add_parser("add", help="create a catalog entry")
    edit = eq_sub.add_parser("edit", help="change an entry: text options replace, --alias/--asset-tag/"
                                          "--serial-pattern add, --remove-... remove")
    for p, is_edit in ((add, False), (edit, True)):
        p.add_argument("id", help="lower-case letters, digits and - _ . (e.g. pump-cp40)")
        p.add_argument("--name", required=not is_edit)
        p.add_argument("--manufacturer")
        p.add_argument("--model")
        p.add_argument("--category")
        p.add_argument("--alias", action="append", default=[], help="another name or model on nameplates")
        p.add_argument("--asset-tag", action="append", default=[], help="a QR or barcode tag of one unit")
        p.add_argument("--serial-pattern", action="append", default=[], help="a regular expression for serials")
        p.add_argument("--json", action="store_true")
    for option in ("--remove-alias", "--remove-asset-tag", "--remove-serial-pattern"):
        edit.add_argument(option, action="append", default=[])
    rm = eq_sub.add_parser("remove", help="delete an entry (its documents stay, unlinked)")
    rm.add_argument("id")
    rm.add_argument("--json", action="store_true")
    eq.set_defaults(func=cmd_equipment)


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from assistant.server.cli import add_fleet_commands, add_remote_options

    parser = argparse.ArgumentParser(prog="fieldlens", description="Grounded troubleshooting from photos and manuals.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the app")
    run.add_argument("--web", action="store_true", help="serve the web app even when a display is available")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8550)
    run.set_defaults(func=cmd_run)

    lib = sub.add_parser("library", help="manage and search the manual library")
    lib_sub = lib.add_subparsers(dest="library_cmd", required=True)
    add = lib_sub.add_parser("add", help="ingest PDF, Markdown, HTML, text or YAML work instructions")
    add.add_argument("paths", nargs="+")
    add.add_argument("--equipment")
    add.add_argument("--authority", choices=["manufacturer", "third_party"],
                     help="whose document this is: the manufacturer's (default) or third-party notes")
    add.add_argument("--json", action="store_true")
    sync = lib_sub.add_parser("sync", help="mirror a remote manual feed")
    sync.add_argument("url")
    sync.add_argument("--json", action="store_true")
    lst = lib_sub.add_parser("list")
    lst.add_argument("--equipment")
    lst.add_argument("--json", action="store_true")
    search = lib_sub.add_parser("search")
    search.add_argument("query", nargs="+")
    search.add_argument("--equipment")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true")
    show = lib_sub.add_parser("show")
    show.add_argument("doc_id")
    show.add_argument("--json", action="store_true")
    lib.set_defaults(func=cmd_library)

    insp = sub.add_parser("inspect", help="on-device read: quality, text, codes, asset tags")
    insp.add_argument("photos", nargs="+")
    insp.add_argument("--equipment")
    insp.add_argument("--json", action="store_true")
    insp.set_defaults(func=cmd_inspect)

    ask = sub.add_parser("ask", help="ask for grounded troubleshooting steps")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--photo", action="append", default=[])
    ask.add_argument("--equipment")
    ask.add_argument("--mode", choices=["instant", "thinking"], default="instant")
    ask.add_argument("--provider", choices=["offline", "openai", "anthropic", "ollama"])
    ask.add_argument("--no-fallback", action="store_true", help="fail (exit 3) instead of answering offline")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--session", help="continue this session (a follow-up question)")
    ask.set_defaults(func=cmd_ask)

    ses = sub.add_parser("sessions", help="saved sessions")
    ses_sub = ses.add_subparsers(dest="sessions_cmd", required=True)
    sl = ses_sub.add_parser("list")
    sl.add_argument("--limit", type=int, default=50)
    from assistant.domain import FlagCode, Outcome, Verdict

    sl.add_argument("--equipment", action="append", default=[], metavar="ID", help="only this equipment (repeatable)")
    sl.add_argument("--technician", action="append", default=[], metavar="NAME", help="only this technician")
    sl.add_argument("--since", metavar="DATE", help="started on or after this date (ISO, UTC)")
    sl.add_argument("--until", metavar="DATE", help="started before this date (ISO, UTC)")
    sl.add_argument("--outcome", action="append", default=[], choices=["open", *[o.value for o in Outcome]],
                    help="open, or how a closed session ended (repeatable)")
    sl.add_argument("--flag", action="append", default=[], choices=[f.value for f in FlagCode], metavar="FLAG",
                    help="raised this flag code, e.g. safety_critical (repeatable)")
    sl.add_argument("--verdict", action="append", default=[], choices=[v.value for v in Verdict],
                    help="its latest review verdict (repeatable)")
    sl.add_argument("--needs-review", action="store_true", help="only sessions that need a reviewer")
    sl.add_argument("--search", metavar="TEXT", help="full text over questions, answers and notes")
    sl.add_argument("--json", action="store_true")
    ss = ses_sub.add_parser("show")
    ss.add_argument("id")
    ss.add_argument("--json", action="store_true")
    se = ses_sub.add_parser("export")
    se.add_argument("id")
    se.add_argument("--format", choices=["pdf", "json", "html"], required=True)
    se.add_argument("--out", required=True)
    se.add_argument("--anonymize", action="store_true", help="remove technician and reviewer names")
    add_remote_options(sl, device_filter=True)
    for p in (ss, se):
        add_remote_options(p)
    sst = ses_sub.add_parser("step", help="record what a step did")
    sst.add_argument("id")
    sst.add_argument("--step", type=int, required=True)
    sst.add_argument("--status", choices=["done", "did_not_help", "skipped"], required=True)
    sst.add_argument("--turn", help="turn id or number (default: the latest answer)")
    sst.add_argument("--note")
    scl = ses_sub.add_parser("close", help="close a session with its outcome")
    scl.add_argument("id")
    scl.add_argument("--outcome", choices=["fixed", "escalated", "parts_needed", "not_fixed"], required=True)
    ses.set_defaults(func=cmd_sessions)

    rev = sub.add_parser("review", help="record a supervisor review")
    rev.add_argument("id")
    rev.add_argument("--verdict", choices=["approved", "needs_follow_up", "incorrect"])
    rev.add_argument("--comment")
    rev.add_argument("--reviewer")
    rev.add_argument("--step", type=int)
    rev.add_argument("--rating", choices=["good", "bad"])
    add_remote_options(rev)
    rev.set_defaults(func=cmd_review)

    doc = sub.add_parser("doctor", help="check every store of the data folder; --repair mends what it can")
    doc.add_argument("--repair", action="store_true",
                     help="rebuild the search index and caches, move what cannot be rebuilt aside (never deletes)")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)

    _equipment_parser(sub)
    add_fleet_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.limits import prepare_process
    from assistant.stores import sentence_for

    args = build_parser().parse_args(argv)
    prepare_process()
    try:
        return args.func(args)
    except FieldlensError as exc:
        print(f"fieldlens: {exc}", file=sys.stderr)
        return exc.exit_code
    # unreadable paths, full disks, damaged files: one line, no traceback
    except (OSError, sqlite3.Error, UnicodeDecodeError) as exc:
        print(f"fieldlens: {sentence_for(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
