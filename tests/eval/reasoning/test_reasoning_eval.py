"""Evaluation of the grounding checks on scripted model answers with known defects.

Cases are generated (fixed seed) from the passages actually retrieved for a
few questions: genuine citations (exact quotes, case/punctuation/spacing
changes, a typo, a shortened quote) and fabricated ones (source ids that were
not provided, including a real library passage that was not retrieved;
invented quotes; quotes copied from a different passage; a number changed; a
negation added); supported steps and unsupported ones (no citation, only
fabricated citations, or a real quote pinned to an unrelated instruction).
Prints precision and recall; every fabricated citation and every unsupported
step must be caught (recall 1.0).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "reasoning"))

import fl_reasoning_support as S  # noqa: E402
from assistant.domain import FlagCode  # noqa: E402
from assistant.reasoning.grounding import WarningFinder, ground_step  # noqa: E402
from assistant.reasoning.retrieval import gather  # noqa: E402
from assistant.reasoning.schema import ModelCitation, ModelStep  # noqa: E402

INVENTED = [
    "Replace the impeller seal kit every 500 operating hours.",
    "Reset the controller by holding the stop button for ten seconds.",
    "The overload relay must be set to 120 percent of rated current.",
    "Grease the motor bearings with lithium grease before every start.",
    "Bypass the pressure switch to run the pump without liquid.",
]
UNRELATED_ACTIONS = [
    "Replace the variable-frequency drive's DC bus capacitors.",
    "Recharge the refrigerant circuit with R-410A.",
    "Update the controller firmware from a USB stick.",
    "Recalibrate the flow meter's zero point.",
]
QUESTIONS = [("motor keeps tripping", "E21"), ("dry running alarm", "E34"), ("pump is noisy and vibrating", None),
             ("mechanical seal leaking drops", None)]


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.;:])\s+|\n+|\s(?=\d\.\s)", text)
    return [p.strip() for p in parts if len(re.sub(r"\W", "", p)) >= 12]


def typo(quote: str, rng: random.Random) -> str | None:
    words = quote.split()
    idxs = [i for i, w in enumerate(words) if len(w) >= 7 and w.isalpha()]
    if not idxs:
        return None
    i = rng.choice(idxs)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def change_number(quote: str) -> str | None:
    m = re.search(r"\d+", quote)
    if not m:
        return None
    n = int(m.group())
    return quote[: m.start()] + str(n * 2 + 1) + quote[m.end():]


def build_cases(rng: random.Random):
    """Yields (evidence, ModelStep, citation truth list [True=genuine], step truth [True=supported])."""
    r = S.retriever()
    for question, code in QUESTIONS:
        readings = [S.photo_reading(code=code)] if code else []
        ev = gather(question, readings=readings, equipment=S.PUMP, retriever=r)
        assert ev.sources, question
        provided = {s.passage.id for s in ev.sources}
        not_provided = [p.id for p in S.PASSAGES if p.id not in provided]
        for src in ev.sources:
            others = [o for o in ev.sources if o is not src]
            for sent in sentences(src.passage.text):
                genuine = [sent, re.sub(r"(?<!\d)[.,](?!\d)", "", sent.lower()), "  ".join(sent.split())]
                t = typo(sent, rng)
                if t:
                    genuine.append(t)
                words = sent.split()
                if len(words) >= 8:
                    genuine.append(" ".join(words[: max(4, len(words) * 2 // 3)]))
                for g in genuine:
                    yield ev, ModelStep(action=sent, citations=[ModelCitation(source=src.sid, quote=g)]), [True], True
                # fabricated citations, each alone on a step (step unsupported) and beside a genuine one
                fakes = [ModelCitation(source=f"S{len(ev.sources) + rng.randint(1, 9)}", quote=sent),
                         ModelCitation(source="manual p. 4", quote=sent),
                         ModelCitation(source=src.sid, quote=rng.choice(INVENTED))]
                if not_provided:
                    fakes.append(ModelCitation(source=rng.choice(not_provided), quote=sent))
                for other in others:
                    for osent in sentences(other.passage.text)[:2]:
                        if osent.lower() not in src.passage.text.lower():
                            fakes.append(ModelCitation(source=src.sid, quote=osent))
                changed = change_number(sent)
                if changed:
                    fakes.append(ModelCitation(source=src.sid, quote=changed))
                fakes.append(ModelCitation(source=src.sid, quote="Do not " + sent[0].lower() + sent[1:]))
                for fake in fakes:
                    yield ev, ModelStep(action=sent, citations=[fake]), [False], False
                    yield ev, ModelStep(action=sent, citations=[ModelCitation(source=src.sid, quote=sent), fake]), [True, False], True
                # unsupported steps: no citation, or a real quote pinned to an unrelated instruction
                yield ev, ModelStep(action=rng.choice(UNRELATED_ACTIONS), citations=[]), [], False
                yield ev, ModelStep(action=rng.choice(UNRELATED_ACTIONS),
                                    citations=[ModelCitation(source=src.sid, quote=sent)]), [True], False


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def test_grounding_catches_every_fabricated_citation_and_unsupported_step():
    rng = random.Random(20261122)
    r = S.retriever()
    cit = {"tp": 0, "fp": 0, "fn": 0, "n": 0}
    stp = {"tp": 0, "fp": 0, "fn": 0, "n": 0}
    missed: list[str] = []
    finders: dict[int, WarningFinder] = {}
    for ev, ms, cit_truth, step_supported in build_cases(rng):
        wf = finders.setdefault(id(ev), WarningFinder(r, ev))
        step, check = ground_step(ms, 1, ev, wf)
        kept_quotes = len(check.valid)
        removed = len(check.invalid_quote) + len(check.invalid_unknown)
        genuine = sum(cit_truth)
        fabricated = len(cit_truth) - genuine
        cit["n"] += len(cit_truth)
        # a "positive" is a citation the checks reject
        caught = min(removed, fabricated)
        cit["tp"] += caught
        cit["fn"] += fabricated - caught
        cit["fp"] += max(0, removed - fabricated)
        if fabricated - caught:
            missed.append(f"citation kept: {ms.citations}")
        flagged = FlagCode.UNGROUNDED_STEP in [f.code for f in step.flags]
        stp["n"] += 1
        if not step_supported:
            stp["tp" if flagged else "fn"] += 1
            if not flagged:
                missed.append(f"unsupported step passed: {ms.action} {ms.citations}")
        elif flagged:
            stp["fp"] += 1
        assert kept_quotes + removed == len({(c.source, c.quote) for c in ms.citations}) or kept_quotes + removed == len(ms.citations)
    cp, cr = _prf(cit["tp"], cit["fp"], cit["fn"])
    sp, sr = _prf(stp["tp"], stp["fp"], stp["fn"])
    print(f"\ncitations: {cit['n']} checked, {cit['tp'] + cit['fn']} fabricated; precision {cp:.3f} recall {cr:.3f}")
    print(f"steps: {stp['n']} checked, {stp['tp'] + stp['fn']} unsupported; precision {sp:.3f} recall {sr:.3f}")
    assert not missed, missed[:5]
    assert cr == 1.0 and sr == 1.0
    assert cit["n"] > 300 and stp["n"] > 300


def test_pipeline_end_to_end_flags_every_defect():
    """The same checks through a scripted OpenAI-compatible server and answer_question."""
    import tempfile

    from assistant.reasoning import answer_question
    from assistant.reasoning.providers.openai import forget_negotiated_shapes

    forget_negotiated_shapes()
    steps = [S.GOOD_STEPS[0],
             {"action": "Set the overload relay to 120 percent.", "citations": [{"source": "S2", "quote": INVENTED[2]}]},
             {"action": "Check the motor current against the nameplate.", "citations": [{"source": "S8", "quote": "Check the motor current"}]},
             {"action": "Recharge the refrigerant circuit with R-410A.", "citations": [{"source": "S1", "quote": "E21 Motor overcurrent"}]},
             {"action": "Replace the bearings.", "citations": []}]
    with tempfile.TemporaryDirectory() as tmp, S.ScriptedServer([S.Reply(kind="openai_sse", text=S.answer_json(steps))]) as server:
        settings = S.settings_for(Path(tmp), "openai", server.url + "/v1")
        answer = answer_question("motor trips", readings=[S.photo_reading()], images=[], equipment=S.PUMP,
                                 retriever=S.retriever(), settings=settings)
    flagged = [s.index for s in answer.steps if FlagCode.UNGROUNDED_STEP in [f.code for f in s.flags]]
    invalid = [s.index for s in answer.steps if FlagCode.CITATION_INVALID in [f.code for f in s.flags]]
    print(f"\nend to end: ungrounded steps {flagged}, invalid citations on steps {invalid}")
    assert flagged == [2, 3, 4, 5] and invalid == [2, 3]
