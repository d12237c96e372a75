"""Benchmark of the sessions store: 10,000 realistic sessions; list + filter and open-one medians.

Run: python tests/bench/bench_sessions.py [--sessions N] [--keep DIR]
Targets (issue 6): list/filter median <= 50 ms, opening one session median <= 30 ms. Prints figures;
never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from assistant.domain import (  # noqa: E402
    Answer,
    Citation,
    Confidence,
    Flag,
    FlagCode,
    Mode,
    Note,
    Observation,
    ObservationKind,
    Outcome,
    Passage,
    Photo,
    Review,
    Session,
    Severity,
    Step,
    StepOutcome,
    StepStatus,
    Turn,
    Verdict,
    utc_now,
)
from assistant.sessions import SessionFilter, SessionStore  # noqa: E402
from assistant.sessions import events as ev  # noqa: E402

EQUIPMENT = [f"eq-{i:03d}" for i in range(40)]
TECHS = [f"Technician {i}" for i in range(25)]
SYMPTOMS = ["cavitation noise at start-up", "E-101 low flow on the display", "belt slipping under load",
            "oil leak near the shaft seal", "motor trips on overload", "discharge pressure too high",
            "compressor short cycling", "hydraulic press will not reach pressure", "bearing runs hot"]
WORDS = ("check the strainer coupling alignment impeller seal bearing pressure valve filter motor supply "
         "isolate lock tag verify restart inspect replace clean tighten measure record").split()


def _text(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def make_session(rnd: random.Random, now) -> Session:
    created = now - timedelta(days=rnd.uniform(0, 365))
    s = Session(equipment_id=rnd.choice(EQUIPMENT), technician=rnd.choice(TECHS), device=f"tab-{rnd.randint(1, 30)}",
                created_at=created, updated_at=created)
    photo_id = f"{rnd.getrandbits(256):064x}"
    s.photos.append(Photo(id=photo_id, filename="panel.jpg", width=4032, height=3024, added_at=created))
    s.observations.append(Observation(photo=photo_id, kind=ObservationKind.FAULT_CODE, value="E-101", confidence=0.8))
    for t in range(rnd.randint(1, 3)):
        q = f"{rnd.choice(SYMPTOMS)} ({t})"
        sources = [Passage(id=f"p{k}", doc_id="doc-1", title="Service manual", page=rnd.randint(1, 80),
                           section="Troubleshooting", text=_text(rnd, 80)) for k in range(3)]
        steps = [Step(index=i, action=_text(rnd, 12), detail=_text(rnd, 20),
                      citations=[Citation(passage_id="p0", doc_id="doc-1", page=3, quote=_text(rnd, 15))],
                      confidence=rnd.choice(list(Confidence)),
                      flags=[Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.INFO, message="energy")]
                      if i == 1 else [])
                 for i in range(1, rnd.randint(3, 6))]
        flags = [Flag(code=rnd.choice([FlagCode.NO_SOURCE, FlagCode.READING_UNCERTAIN, FlagCode.OFFLINE_FALLBACK]),
                      severity=Severity.WARNING, message="flag")] if rnd.random() < 0.3 else []
        answer = Answer(session_id=s.id, question=q, provider="offline", mode=Mode.INSTANT, steps=steps, flags=flags,
                        confidence=rnd.choice(list(Confidence)), summary=_text(rnd, 30), sources=sources)
        turn = Turn(question=q, answer=answer, asked_at=created)
        s.turns.append(turn)
        if rnd.random() < 0.6:
            s.step_outcomes.append(StepOutcome(turn_id=turn.id, step=1, status=rnd.choice(list(StepStatus)),
                                               at=created))
    if rnd.random() < 0.4:
        s.notes.append(Note(text=_text(rnd, 15), at=created))
    s.updated_at = created + timedelta(minutes=rnd.randint(5, 120))
    if rnd.random() < 0.8:
        s.outcome = rnd.choice(list(Outcome))
        s.closed_at = s.updated_at
    if rnd.random() < 0.35:
        s.reviews.append(Review(session_id=s.id, reviewer="Supervisor", verdict=rnd.choice(list(Verdict)),
                                at=s.updated_at))
    return s


def event_log(rnd: random.Random, now) -> list[dict]:
    """A realistic log to fold: a session created empty, then its photo, readings, questions with full
    answers, step outcomes and notes as separate events (as a tablet pushes them to the server)."""
    full = make_session(rnd, now)
    empty = Session(id=full.id, equipment_id=full.equipment_id, technician=full.technician,
                    device=full.device, created_at=full.created_at, updated_at=full.created_at)
    log = [(ev.CREATED, {"session": ev.dump(empty)})]
    log += [(ev.PHOTO_ADDED, {"photo": ev.dump(p)}) for p in full.photos]
    log.append((ev.OBSERVATIONS_ADDED, {"observations": [ev.dump(o) for o in full.observations]}))
    for turn in full.turns:
        log.append((ev.TURN_ADDED, {"turn": ev.dump(turn.model_copy(update={"answer": None}))}))
        log.append((ev.ANSWER_SET, {"turn_id": turn.id, "answer": ev.dump(turn.answer), "error": None}))
        for step in range(1, len(turn.answer.steps) + 1):
            log.append((ev.STEP_RECORDED, {"outcome": ev.dump(StepOutcome(turn_id=turn.id, step=step,
                                                                          status=StepStatus.DONE))}))
    log += [(ev.NOTE_ADDED, {"note": ev.dump(Note(text=_text(rnd, 15)))}) for _ in range(5)]
    return [{"type": t, "payload": p, "at": now} for t, p in log]


def fold_copying(log: list[dict]) -> Session:
    """The fold as it was: every event deep-copies the whole session."""
    session = None
    for e in log:
        session = ev.apply_event(session, e["type"], e["payload"], e["at"])
    return session


def bench_fold(rnd: random.Random, now) -> None:
    logs = [event_log(rnd, now) for _ in range(200)]
    n_events = sum(len(log) for log in logs)
    assert all(fold_copying(log) == ev.replay(log) for log in logs[:20])  # same result either way
    before = median_ms(lambda: [fold_copying(log) for log in logs], 5)
    after = median_ms(lambda: [ev.replay(log) for log in logs], 5)
    print(f"\nfolding events (apply_event; {len(logs)} logs, {n_events} events), median of 5, wall / CPU ms")
    print(f"  before: deep copy of the session per event   {before[0]:7.1f}  {before[1]:7.1f}"
          f"   ({n_events / before[1] * 1000:,.0f} events/s CPU)")
    print(f"  after:  one private copy, folded in place   {after[0]:7.1f}  {after[1]:7.1f}"
          f"   ({n_events / after[1] * 1000:,.0f} events/s CPU)")


def median_ms(fn, repeat: int) -> tuple[float, float]:
    """(wall, CPU) medians in ms. CPU time is the intrinsic cost; wall time includes waiting for a
    core on a shared machine (and, for writes, the fsync)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, default=None, help="store folder to use (kept afterwards)")
    args = ap.parse_args()
    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
    else:
        root = args.keep
    rnd = random.Random(6)
    now = utc_now()
    store = SessionStore(root)
    have = store.count()
    t0 = time.perf_counter()
    if have < args.sessions:
        batch = []
        for _ in range(args.sessions - have):
            batch.append(make_session(rnd, now))
            if len(batch) == 500:
                store.import_sessions(batch)
                batch = []
        if batch:
            store.import_sessions(batch)
    seed_s = time.perf_counter() - t0
    n = store.count()
    size_mb = sum(p.stat().st_size for p in root.glob("sessions.sqlite*")) / 1e6
    print(f"sessions: {n}  (seeded in {seed_s:.1f} s; database {size_mb:.0f} MB; schema v{store.schema_version})")

    filters = {
        "list, no filter (100 newest)": SessionFilter(),
        "equipment": SessionFilter(equipment_id="eq-007"),
        "technician + date range": SessionFilter(technician="Technician 3", date_from=now - timedelta(days=90)),
        "outcome + flagged": SessionFilter(outcome=[Outcome.NOT_FIXED, Outcome.ESCALATED], flagged=True),
        "flag code": SessionFilter(flag_codes=[FlagCode.NO_SOURCE]),
        "low confidence, not reviewed": SessionFilter(confidence="low", reviewed=False),
        "full text 'cavitation'": SessionFilter(query="cavitation"),
        "full text + equipment": SessionFilter(query="shaft seal", equipment_id="eq-012"),
    }
    results = {}
    for name, f in filters.items():
        store.list(f)  # warm
        results[name] = (median_ms(lambda f=f: store.list(f), 30), len(store.list(f)))
    ids = [s.id for s in store.list(limit=2000)]
    picks = [rnd.choice(ids) for _ in range(200)]
    it = iter(picks)
    get_ms = median_ms(lambda: store.get(next(it)), 200)
    dash_ms = median_ms(lambda: store.dashboard(), 10)
    note_sid = ids[0]
    write_ms = median_ms(lambda: store.add_note(note_sid, Note(text="bench note")), 30)
    events_ms = median_ms(lambda: store.events(note_sid), 30)

    try:
        load = " (load average %.1f on %d cores)" % (os.getloadavg()[0], os.cpu_count() or 0)
    except OSError:
        load = ""
    print(f"\nmedians, wall / CPU ms{load}")
    print("list + filter (median of 30, limit 100)         wall     cpu   rows")
    for name, ((wall, cpu), rows) in results.items():
        print(f"  {name:<44} {wall:6.1f}  {cpu:6.1f}  {rows:5d}")
    worst = max(w for (w, _), _ in results.values())
    worst_cpu = max(c for (_, c), _ in results.values())
    print(f"  worst filter median: {worst:.1f} ms wall, {worst_cpu:.1f} ms CPU   (target <= 50 ms)")
    print(f"\nopen one session (get), median of 200:         {get_ms[0]:6.2f}  {get_ms[1]:6.2f}  (target <= 30 ms)")
    print(f"dashboard over all sessions, median of 10:     {dash_ms[0]:6.1f}  {dash_ms[1]:6.1f}")
    print(f"append one event (add_note, synchronous=FULL): {write_ms[0]:6.2f}  {write_ms[1]:6.2f}")
    print(f"event log of one session:                      {events_ms[0]:6.2f}  {events_ms[1]:6.2f}")
    store.close()
    bench_fold(rnd, now)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
