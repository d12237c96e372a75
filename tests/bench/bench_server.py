"""Benchmark of the fleet server on a real PostgreSQL (started here, as in the tests):

1. ingest: events per second the server takes from 10 tablets pushing at once (the sync client's
   batches of 200, realistic answers), beside the tablet's own store appending the same events one
   by one (the plain path every event takes on the device);
2. listing + filtering 100,000 sessions on PostgreSQL, p50/p95 per filter, through the HTTP API (as
   a supervisor's `sessions list --server` does) and in-process (the store alone).

Run: python tests/bench/bench_server.py [--sessions N] [--tablets N] [--events-per-tablet N]
Prints figures; never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit" / "server"), str(ROOT / "tests" / "bench")]

import httpx  # noqa: E402

from bench_sessions import make_session  # noqa: E402
from pg_harness import PostgresCluster, pg_bin_dir  # noqa: E402

from assistant.domain import FlagCode, Note, Outcome, Session, utc_now  # noqa: E402
from assistant.server.store import FleetFilter, open_fleet_store  # noqa: E402
from assistant.server.tokens import TokenStore  # noqa: E402
from assistant.sessions import SessionFilter, SessionStore  # noqa: E402
from assistant.sessions import events as ev  # noqa: E402

from fleet_harness import ServerProcess  # noqa: E402


def session_events(rnd: random.Random, now, device: str) -> list[dict]:
    """A realistic session as the event log a tablet pushes: created, then per question the turn,
    its full answer and a step tick, a note, and the close."""
    full = make_session(rnd, now)
    bare = Session(id=full.id, equipment_id=full.equipment_id, technician=full.technician, device=device,
                   created_at=full.created_at, updated_at=full.created_at)
    log = [(ev.CREATED, {"session": ev.dump(bare)})]
    for turn in full.turns:
        log.append((ev.TURN_ADDED, {"turn": ev.dump(turn.model_copy(update={"answer": None}))}))
        log.append((ev.ANSWER_SET, {"turn_id": turn.id, "answer": ev.dump(turn.answer), "error": None}))
    for outcome in full.step_outcomes:
        log.append((ev.STEP_RECORDED, {"outcome": ev.dump(outcome)}))
    log.append((ev.NOTE_ADDED, {"note": ev.dump(Note(text="checked the coupling", at=full.created_at))}))
    log.append((ev.CLOSED, {"outcome": "fixed", "closed_at": full.updated_at.isoformat()}))
    at = full.created_at
    out = []
    for seq, (etype, payload) in enumerate(log, start=1):
        at = at + timedelta(seconds=30)
        out.append({"id": str(uuid.uuid4()),
                    "session_id": full.id, "seq": seq, "type": etype, "payload": payload, "at": at.isoformat()})
    return out


def bench_ingest(server_url: str, tokens: list[str], events_per_tablet: int) -> tuple[int, float]:
    rnd = random.Random(15)
    now = utc_now()
    work: list[list[list[dict]]] = []
    for i, _ in enumerate(tokens):
        batches, batch, count = [], [], 0
        while count < events_per_tablet:
            for e in session_events(rnd, now, f"bench-tab-{i}"):
                batch.append(e)
                count += 1
                if len(batch) == 200:
                    batches.append(batch)
                    batch = []
        if batch:
            batches.append(batch)
        work.append(batches)
    total = sum(len(b) for w in work for b in w)
    barrier = threading.Barrier(len(tokens) + 1)
    errors: list[str] = []

    def tablet(token: str, batches: list[list[dict]]) -> None:
        with httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
            barrier.wait()
            for batch in batches:
                r = c.post("/api/sync/events", content=json.dumps({"events": batch}),
                           headers={"Content-Type": "application/json"})
                if r.status_code != 200:
                    errors.append(r.text)
                    return

    threads = [threading.Thread(target=tablet, args=(t, w)) for t, w in zip(tokens, work)]
    for th in threads:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"push failed: {errors[0]}")
    return total, elapsed


def bench_local_append(n: int) -> float:
    """Events per second a tablet's own store appends (one transaction + fsync per event)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore(Path(tmp))
        sid = store.create(technician="Bench").id
        t0 = time.perf_counter()
        for i in range(n):
            store.add_note(sid, Note(text=f"note {i}"))
        elapsed = time.perf_counter() - t0
        store.close()
    return n / elapsed


def seed_sessions(store, n: int) -> float:
    """Bulk-load `n` sessions (rows as the store writes them: sessions, state, flags, one imported
    event, owner) with multi-row inserts, so that seeding 100,000 takes minutes, not an hour."""
    from assistant.server import schema as fleet_schema
    from assistant.sessions import schema as s_schema

    rnd = random.Random(6)
    now = ev.naive_utc(utc_now())
    have = store.session_count()
    t0 = time.perf_counter()
    rows: dict[str, list[dict]] = {"sessions": [], "state": [], "flags": [], "events": [], "owners": []}

    def flush() -> None:
        with store.engine.begin() as conn:
            conn.execute(s_schema.sessions.insert(), rows["sessions"])
            conn.execute(s_schema.session_state.insert(), rows["state"])
            if rows["flags"]:
                conn.execute(s_schema.session_flags.insert(), rows["flags"])
            conn.execute(s_schema.events.insert(), rows["events"])
            conn.execute(fleet_schema.fleet_sessions.insert(), rows["owners"])
        for v in rows.values():
            v.clear()

    for i in range(have, n):
        s = make_session(rnd, utc_now())
        for turn in s.turns:  # the retrieved passages are the bulk of a session, and no filter reads them
            if turn.answer:
                turn.answer.sources = []
        fields = ev.row_fields(s)
        search = fields.pop("search_text")
        snapshot = s.model_dump_json()
        rows["sessions"].append(dict(id=s.id, last_seq=1, **fields))
        rows["state"].append({"session_id": s.id, "snapshot": snapshot, "search_text": search})
        rows["flags"].extend({"session_id": s.id, "code": c} for c in json.loads(fields["flag_codes"]))
        rows["events"].append({"id": str(__import__("uuid").uuid4()), "session_id": s.id, "seq": 1,
                               "type": ev.IMPORTED, "payload": json.dumps({"session": json.loads(snapshot)}),
                               "at": fields["updated_at"]})
        rows["owners"].append({"session_id": s.id, "owner": f"tab-{rnd.randint(1, 30)}", "device_seq": 1,
                               "first_seen": now, "last_push": now})
        if len(rows["sessions"]) == 1000:
            flush()
    if rows["sessions"]:
        flush()
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - t0


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--tablets", type=int, default=10)
    ap.add_argument("--events-per-tablet", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--skip-ingest", action="store_true", help="only the list + filter part")
    args = ap.parse_args()
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries (apt-get install postgresql)")
    cluster = PostgresCluster(bin_dir).start()
    tmp = tempfile.TemporaryDirectory()
    server = None
    try:
        try:
            load = " (load average %.1f on %d cores)" % (os.getloadavg()[0], os.cpu_count() or 0)
        except OSError:
            load = ""
        print(f"fleet server benchmark{load}")
        for backend in () if args.skip_ingest else ("postgresql", "sqlite"):
            url = cluster.create_database() if backend == "postgresql" else None
            server = ServerProcess(Path(tmp.name) / f"ingest-{backend}", url)
            tokens = [server.token(f"bench-tab-{i}", "device") for i in range(args.tablets)]
            server.start()
            total, elapsed = bench_ingest(server.url, tokens, args.events_per_tablet)
            server.stop()
            print(f"ingest on {backend:<10}: {total} events from {args.tablets} tablets at once in {elapsed:.1f} s "
                  f"= {total / elapsed:,.0f} events/s")
        if not args.skip_ingest:
            print(f"baseline: a tablet's own store appends {bench_local_append(200):,.0f} events/s "
                  "(one fsynced transaction per event)")

        url = cluster.create_database()
        data = Path(tmp.name) / "list"
        store = open_fleet_store(data, url)
        seconds = seed_sessions(store, args.sessions)
        n = store.session_count()
        print(f"\nlist + filter over {n:,} sessions on PostgreSQL (seeded in {seconds:.0f} s), "
              f"{args.repeat} runs each, limit 100")
        now = utc_now()
        filters = {
            "list, no filter (100 newest)": SessionFilter(),
            "equipment": SessionFilter(equipment_id="eq-007"),
            "technician + date range": SessionFilter(technician="Technician 3", date_from=now - timedelta(days=90)),
            "outcome + flagged": SessionFilter(outcome=[Outcome.NOT_FIXED, Outcome.ESCALATED], flagged=True),
            "flag code": SessionFilter(flag_codes=[FlagCode.NO_SOURCE]),
            "low confidence, not reviewed": SessionFilter(confidence="low", reviewed=False),
            "device": FleetFilter(device=["tab-7"]),
            "full text 'cavitation'": SessionFilter(query="cavitation"),
        }
        server = ServerProcess(data, url)
        token = TokenStore(store.engine).create("bench-supervisor", "supervisor")
        server.start()
        rows = []
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for name, f in filters.items():
                body = f.model_dump(mode="json", exclude_defaults=True)
                params = {"filter": json.dumps(body, default=str), "limit": 100}
                for _ in range(3):  # warm
                    http.get("/api/sessions", params=params).raise_for_status()
                api, local = [], []
                count = 0
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    r = http.get("/api/sessions", params=params)
                    api.append((time.perf_counter() - t0) * 1000)
                    count = len(r.json()["sessions"])
                    t0 = time.perf_counter()
                    store.list(f)
                    local.append((time.perf_counter() - t0) * 1000)
                rows.append((name, percentiles(api), percentiles(local), count))
        print(f"  {'filter':<32} {'API p50':>8} {'API p95':>8} {'store p50':>10} {'store p95':>10}  rows")
        for name, (a50, a95), (l50, l95), count in rows:
            print(f"  {name:<32} {a50:8.1f} {a95:8.1f} {l50:10.1f} {l95:10.1f}  {count:4d}")
        print(f"  worst p95: API {max(r[1][1] for r in rows):.1f} ms, store {max(r[2][1] for r in rows):.1f} ms")
        store.close()
    finally:
        if server is not None:
            server.stop()
        cluster.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
