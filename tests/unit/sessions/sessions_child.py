"""A child process for the crash and two-writer tests: writes session events
and prints one line per committed write, flushed, only after the call returned.

usage: sessions_child.py ROOT SESSION_ID|new MODE COUNT SEED
  MODE crash : one writer; prints "COMMITTED <seq> <type>" (seq is known: one event per call)
  MODE writer: prints "DONE <marker>" after each note, for concurrent writers on one session
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

from PIL import Image

from assistant.domain import Answer, Citation, Confidence, Note, Photo, Step, StepOutcome, StepStatus, Turn
from assistant.sessions import SessionStore
from assistant.sessions.photos import sha256_hex


def jpeg(seed: int) -> bytes:
    rnd = random.Random(seed)
    img = Image.new("RGB", (320, 240), tuple(rnd.randint(0, 255) for _ in range(3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def answer(question: str, n: int) -> Answer:
    steps = [Step(index=i, action=f"Action {i} for {question}", confidence=Confidence.MEDIUM,
                  citations=[Citation(passage_id="p1", doc_id="d1", page=i, quote="quoted text " * 20)])
             for i in range(1, n + 1)]
    return Answer(question=question, provider="offline", steps=steps, summary="summary " * 50)


def main() -> None:
    root, sid, mode, count, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    rnd = random.Random(seed)
    store = SessionStore(Path(root))
    if sid == "new":
        sid = store.create(equipment_id="pump-cp40", technician="Child", device="test").id
        print(f"READY {sid} 1", flush=True)
    seq = len(store.events(sid))
    print(f"RESUMED {sid} {seq}", flush=True)
    if mode == "writer":
        shared = jpeg(424242)
        store.add_photo(sid, Photo(id=sha256_hex(shared), filename="shared.jpg"), shared)
        for i in range(count):
            marker = f"w{seed}-{i}"
            store.add_note(sid, Note(text=marker))
            print(f"DONE {marker}", flush=True)
        store.close()
        return
    for i in range(count):
        session = store.get(sid)
        op = rnd.choice(["turn", "answer", "step", "note", "photo", "photo"])
        unanswered = [t for t in session.turns if t.answer is None]
        answered = [t for t in session.turns if t.answer is not None]
        if op == "answer" and unanswered:
            t = unanswered[0]
            store.set_answer(sid, t.id, answer(t.question, rnd.randint(1, 4)))
            etype = "answer_set"
        elif op == "step" and answered:
            t = rnd.choice(answered)
            store.record_step(sid, StepOutcome(turn_id=t.id, step=rnd.randint(1, len(t.answer.steps)),
                                               status=rnd.choice(list(StepStatus)), note=f"n{seed}-{i}"))
            etype = "step_recorded"
        elif op == "photo":
            data = jpeg(rnd.randint(0, 30))  # some photos repeat: shared blobs
            store.add_photo(sid, Photo(id=sha256_hex(data), filename=f"p{i}.jpg"), data, prepared=data[: len(data) // 2])
            etype = "photo_added"
        elif op == "note":
            store.add_note(sid, Note(text=f"note {seed}-{i} " + "x" * rnd.randint(0, 2000)))
            etype = "note_added"
        else:
            store.add_turn(sid, Turn(question=f"question {seed}-{i}?"))
            etype = "turn_added"
        seq += 1
        print(f"COMMITTED {seq} {etype}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
