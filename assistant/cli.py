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
            docs = fl.add_documents(args.paths, equipment_id=args.equipment)
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
                    print(f"{h.score:6.2f}  {h.title} {where}  {h.section}\n        {h.snippet}")
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
    if answer.summary:
        print(f"\n{answer.summary}")
    if answer.abstained:
        print("\nThe manuals do not cover this question; no steps are suggested.")
    for step in answer.steps:
        print(f"\n{step.index}. {step.action}  [{step.confidence.value}]")
        if step.detail:
            print(f"   {step.detail}")
        for note in step.safety:
            print(f"   SAFETY: {note}")
        for c in step.citations:
            where = f"p.{c.page}" if c.page else c.section
            print(f"   ↳ {c.title} {where}: “{c.quote}”")
        for f in step.flags:
            print(f"   ! {f.code.value}: {f.message}")
    if answer.flags or answer.unsure_because:
        print("\nUnsure because:")
        for reason in answer.unsure_because:
            print(f"  - {reason}")
        for f in answer.flags:
            print(f"  ! {f.code.value}: {f.message}")


def cmd_sessions(args: argparse.Namespace) -> int:
    with _service() as fl:
        if args.sessions_cmd == "list":
            rows = fl.list_sessions(limit=args.limit)
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
    return EXIT_OK


def _print_session(session: Any) -> None:
    print(f"Session {session.id}")
    print(f"  equipment {session.equipment_id or '-'}, technician {session.technician or '-'}, "
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
    with _service() as fl:
        review = fl.review(args.id, verdict=args.verdict, comment=args.comment or "", reviewer=args.reviewer or "",
                           step_ratings=ratings)
        print(f"Review saved for session {args.id}: {review.verdict.value if review.verdict else 'no verdict'}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
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
    ask.set_defaults(func=cmd_ask)

    ses = sub.add_parser("sessions", help="saved sessions")
    ses_sub = ses.add_subparsers(dest="sessions_cmd", required=True)
    sl = ses_sub.add_parser("list")
    sl.add_argument("--limit", type=int, default=50)
    sl.add_argument("--json", action="store_true")
    ss = ses_sub.add_parser("show")
    ss.add_argument("id")
    ss.add_argument("--json", action="store_true")
    se = ses_sub.add_parser("export")
    se.add_argument("id")
    se.add_argument("--format", choices=["pdf", "json", "html"], required=True)
    se.add_argument("--out", required=True)
    se.add_argument("--anonymize", action="store_true", help="remove technician and reviewer names")
    ses.set_defaults(func=cmd_sessions)

    rev = sub.add_parser("review", help="record a supervisor review")
    rev.add_argument("id")
    rev.add_argument("--verdict", choices=["approved", "needs_follow_up", "incorrect"])
    rev.add_argument("--comment")
    rev.add_argument("--reviewer")
    rev.add_argument("--step", type=int)
    rev.add_argument("--rating", choices=["good", "bad"])
    rev.set_defaults(func=cmd_review)

    doc = sub.add_parser("doctor", help="check every store of the data folder; --repair mends what it can")
    doc.add_argument("--repair", action="store_true",
                     help="rebuild the search index and caches, move what cannot be rebuilt aside (never deletes)")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)
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
