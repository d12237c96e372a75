"""The offline engine: answers from the manuals alone, with no model.

For each fault code read off the photos or named in the question (and known
to the library): a first step that cites the fault-code entry, then the
remedy split into steps, then the numbered steps of the matching
troubleshooting procedure, each citing its passage with a verbatim quote.
With no known code: the steps of the best relevant procedure the question
retrieves (or, from a prose passage, its sentences that mention the
question's subject); with nothing relevant, it abstains.

It speaks the same interface as the model providers and returns the same
structured JSON, so its output goes through the same grounding checks.
Photo and verification sub-tasks are answered from the on-device readings
and by a literal quote check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant.domain import FaultCode, ProviderName
from assistant.reasoning.providers.base import Completion, ModelRequest, OnText, Provider
from assistant.reasoning.retrieval import Evidence, Source, term_coverage
from assistant.reasoning.schema import ModelAnswer, ModelCitation, ModelStep

MAX_STEPS = 14


@dataclass
class OfflineContext:
    evidence: Evidence
    verdict_source: str = ""  # for "verdict" requests: the cited passage text
    verdict_quote: str = ""


_NUMBERED = re.compile(r"(?:(?<=\s)|^)(\d{1,2})[.)]\s+(?=\S)", re.M)
_BULLET = re.compile(r"^\s*[-*•]\s+(.+)$", re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
_ITEM_SPLIT = re.compile(r"\s*(?:;|(?<=[.!?])\s+(?=[A-Z])|\n+|\s\(\d\)\s)\s*")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" -–•;")


def numbered_steps(text: str) -> list[str]:
    """The items of a numbered list (1. 2. 3. ... in sequence), else bullets, else []."""
    matches = list(_NUMBERED.finditer(text))
    seq: list[re.Match] = []
    expected = 1
    for m in matches:
        if int(m.group(1)) == expected:
            seq.append(m)
            expected += 1
    if len(seq) >= 2:
        items = []
        for i, m in enumerate(seq):
            end = seq[i + 1].start() if i + 1 < len(seq) else len(text)
            item = _clean(text[m.end():end])
            if item:
                items.append(item)
        return items
    bullets = [_clean(b) for b in _BULLET.findall(text)]
    return [b for b in bullets if b] if len(bullets) >= 2 else []


def split_items(text: str) -> list[str]:
    """A remedy text split into actions (sentences, semicolons, numbered or bulleted items)."""
    items = numbered_steps(text)
    if items:
        return items
    return [c for c in (_clean(p) for p in _ITEM_SPLIT.split(text or "")) if len(c) > 3]


def verbatim(passage_text: str, wanted: str) -> str:
    """`wanted` as it is written in the passage (whitespace may differ), or the passage's
    sentence that best contains it; falls back to `wanted`."""
    flat = re.sub(r"\s+", " ", passage_text)
    w = re.sub(r"\s+", " ", wanted).strip()
    pos = flat.lower().find(w.lower())
    if pos >= 0:
        return flat[pos:pos + len(w)]
    return w


def sentence_with(passage_text: str, needle: str) -> str:
    flat = re.sub(r"\s+", " ", passage_text).strip()
    for sentence in _SENTENCE.split(flat):
        if needle.lower() in sentence.lower():
            return sentence[:300]
    return flat[:200]


def _cite(src: Source, quote: str) -> list[ModelCitation]:
    return [ModelCitation(source=src.sid, quote=quote[:400])]


def _procedure_steps(src: Source, terms: list[str] | None = None) -> list[ModelStep]:
    """The numbered (or bulleted) steps of a passage; for prose, the sentences that
    mention the question's subject terms (at most four, in the manual's order)."""
    items = numbered_steps(src.passage.text)
    if not items:
        sentences = [s for s in (_clean(x) for x in _SENTENCE.split(src.passage.text))
                     if len(s) > 12 and sum(ch.islower() for ch in s) > len(s) // 3]
        if terms:
            on_topic = [s for s in sentences if term_coverage(terms, s) > 0]
            sentences = on_topic or sentences[:2]
        items = sentences[:4]
    return [ModelStep(action=item, citations=_cite(src, verbatim(src.passage.text, item))) for item in items]


def _fault_steps(fc: FaultCode, src: Source) -> list[ModelStep]:
    text = src.passage.text
    head = f"Fault {fc.code}" + (f": {fc.title}" if fc.title else "")
    steps = [ModelStep(action=head, detail=f"Cause: {fc.cause}" if fc.cause else "",
                       citations=_cite(src, sentence_with(text, fc.code)))]
    for item in split_items(fc.remedy):
        steps.append(ModelStep(action=item, citations=_cite(src, verbatim(text, item))))
    return steps


def offline_answer(ev: Evidence) -> ModelAnswer:
    steps: list[ModelStep] = []
    unsure: list[str] = []
    headline: list[str] = []
    used_procedures: set[str] = set()
    for ce in ev.codes:
        if not ce.entries:
            unsure.append(f"The code {ce.code} read off the photo is not in the library's fault-code tables.")
            continue
        fc = ce.entries[0]
        src = ev.source_for_passage(fc.passage_id)
        if src is None:
            continue
        headline.append(f"fault {fc.code}" + (f" ({fc.title})" if fc.title else ""))
        steps += _fault_steps(fc, src)
        for proc in (s for s in ev.sources if s.reason == "procedure" and s.topic == ce.code):
            if proc.passage.id not in used_procedures:
                used_procedures.add(proc.passage.id)
                steps += _procedure_steps(proc)
    if not steps:
        ranked = [s for s in ev.sources if s.reason == "procedure"] + [s for s in ev.sources if s.reason == "search"]
        if ranked:
            best = ranked[0]
            steps = _procedure_steps(best, ev.query_terms)
            headline.append(f"{best.passage.section or best.passage.title}")
    if not steps:
        return ModelAnswer(abstain=True, confidence="low",
                           unsure_because=unsure + ["Nothing in the cached manuals covers this question."],
                           summary="The cached manuals do not cover this question.")
    titles = sorted({s.passage.title for s in ev.sources if any(c.source == s.sid for st in steps for c in st.citations)})
    summary = (f"Answered from the manuals alone: {', '.join(headline)}; "
               f"{min(len(steps), MAX_STEPS)} step(s) from {', '.join(t for t in titles if t) or 'the library'}.")
    return ModelAnswer(steps=steps[:MAX_STEPS], confidence="high", unsure_because=unsure, summary=summary)


class OfflineProvider(Provider):
    """The manuals-only engine behind the provider interface."""

    name = ProviderName.OFFLINE
    model = "manuals-only"

    async def complete(self, request: ModelRequest, on_text: OnText | None = None) -> Completion:
        ctx = request.context
        if request.purpose == "answer":
            if not isinstance(ctx, OfflineContext):
                raise TypeError("the offline engine needs the evidence in request.context")
            text = offline_answer(ctx.evidence).model_dump_json()
        elif request.purpose == "verdict":
            ok = bool(ctx and ctx.verdict_quote and
                      re.sub(r"\s+", " ", ctx.verdict_quote).lower() in re.sub(r"\s+", " ", ctx.verdict_source).lower())
            text = json.dumps({"supported": ok, "reason": "literal quote check"})
        else:
            text = json.dumps({"visible": "on-device readings only", "legible_text": [], "unreadable": []})
        if on_text:
            on_text(text)
        return Completion(text=text, structured="engine")
