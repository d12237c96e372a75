"""Gathering the evidence for one question: the `Retriever` protocol the
library satisfies, fault codes read off photos or named in the question, the
passages retrieved for them, and an honest relevance test.

Relevance (documented, deterministic):
- a fault code counts as evidence when `retriever.lookup_code` returns an entry;
- a search hit counts as relevant when the passage shares enough *subject
  terms* with the query: the query's words minus stop words and generic
  service verbs ("replace", "check", "fix" ...), compared after light
  stemming. At least half of the subject terms (and at least one; two when
  the query has four or more) must occur in the passage's title, section or
  text. The search engine's own score only ranks hits and gives the retrieval
  margin (top hit versus the next); its scale is the library's business, so
  no absolute score floor is assumed beyond "the hit was returned".
So "how do I replace the flux capacitor on a toaster" against pump manuals
abstains: of {flux, capacitor, toaster} at most one term can match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

from assistant.domain import (
    Equipment,
    FaultCode,
    Observation,
    ObservationKind,
    Passage,
    PassageKind,
    PhotoReading,
    SearchHit,
)
from assistant.errors import FieldlensError


@runtime_checkable
class Retriever(Protocol):
    """What reasoning needs from the library (`assistant.library.Library` satisfies it)."""

    def search(self, query: str, *, equipment_id: str | None = None, doc_id: str | None = None,
               kinds: Sequence[PassageKind] | None = None, limit: int = 10) -> list[SearchHit]: ...

    def passage(self, passage_id: str) -> Passage: ...

    def lookup_code(self, code: str, equipment_id: str | None = None) -> list[FaultCode]: ...


STOP_WORDS = frozenset(
    """a an the and or but if then else of on in at to for from by with without into onto over under
    is are was were be been being am do does did doing done have has had having can could should would
    will shall may might must i me my we our you your it its this that these those there here what which
    who whom whose when where why how not no yes so than too very just also again still up down out off
    please help need want get got keeps keep after before while during about any some all each every
    one two per via as tell show give know""".split()
)
GENERIC_TERMS = frozenset(
    """replace replacing replacement change changing fix fixing repair repairing install installing
    remove removing check checking clean cleaning reset resetting test testing inspect inspecting adjust
    adjusting troubleshoot troubleshooting solve problem issue issues work working works procedure step
    steps manual machine unit equipment thing showing shows display displayed says reading read code
    error fault alarm message""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:[-/][a-z0-9]+)*")
_CODE_TOKEN = re.compile(r"\b([A-Za-z]{1,3}[-\s]?\d{1,4}[A-Za-z]?)\b")
_SUFFIXES = ("ings", "ing", "ions", "ion", "ies", "ied", "ers", "er", "ed", "es", "ly", "s", "y", "e")


def stem(word: str) -> str:
    """A deliberately light stemmer: strip one common suffix, keep at most 5 letters."""
    w = word.lower()
    for suf in _SUFFIXES:
        if len(w) - len(suf) >= 3 and w.endswith(suf):
            w = w[: -len(suf)]
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # stopped -> stop, tripping -> trip
                w = w[:-1]
            break
    return w[:5]


def subject_terms(text: str) -> list[str]:
    """Stemmed content words of a query, minus stop words and generic service verbs, in order."""
    seen: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOP_WORDS or word in GENERIC_TERMS or len(word) < 2:
            continue
        if word.isdigit() and len(word) < 2:
            continue
        s = stem(word)
        if s not in seen:
            seen.append(s)
    return seen


def term_coverage(terms: Sequence[str], text: str) -> float:
    """Share of `terms` whose stem occurs among the stems of `text`."""
    if not terms:
        return 0.0
    stems = {stem(w) for w in _WORD.findall(text.lower())}
    return sum(1 for t in terms if t in stems) / len(terms)


def is_relevant(terms: Sequence[str], passage: Passage) -> tuple[bool, float]:
    text = f"{passage.title} {passage.section} {passage.text}"
    cov = term_coverage(terms, text)
    matched = round(cov * len(terms))
    needed = 2 if len(terms) >= 4 else 1
    return (bool(terms) and cov >= 0.5 and matched >= needed), cov


def normalise_code(code: str) -> str:
    return re.sub(r"\s+", "", code.strip().upper())


def codes_in_question(question: str) -> list[str]:
    """Tokens of the question that look like fault codes (letters then digits: E04, F-12, OC1)."""
    out: list[str] = []
    for m in _CODE_TOKEN.finditer(question):
        token = normalise_code(m.group(1))
        if token not in out:
            out.append(token)
    return out


@dataclass
class CodeEvidence:
    code: str
    entries: list[FaultCode]
    reading: Observation | None  # None when the code came from the question


@dataclass
class Source:
    """A passage offered to the model under the id `sid` (S1..Sn)."""

    sid: str
    passage: Passage
    score: float | None = None
    coverage: float = 0.0
    reason: str = ""  # fault_code, procedure, search
    topic: str = ""  # the fault code a fault_code / procedure source was retrieved for


@dataclass
class Evidence:
    question: str
    equipment: Equipment | None
    equipment_id: str | None
    readings: list[PhotoReading]
    observations: list[Observation]
    codes: list[CodeEvidence] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    query_terms: list[str] = field(default_factory=list)
    search_hits: list[SearchHit] = field(default_factory=list)
    relevant_search: bool = False
    margin: float | None = None  # (top - next) / |top| of the question search, None if < 2 hits
    top_coverage: float = 0.0
    unreadable_passages: list[str] = field(default_factory=list)

    @property
    def has_evidence(self) -> bool:
        return bool(self.sources)

    def by_sid(self) -> dict[str, Source]:
        return {s.sid: s for s in self.sources}

    def source_for_passage(self, passage_id: str) -> Source | None:
        for s in self.sources:
            if s.passage.id == passage_id:
                return s
        return None


MAX_SOURCES = 8


class EvidenceBuilder:
    """Collects sources in a stable order without duplicates."""

    def __init__(self, evidence: Evidence, retriever: Retriever) -> None:
        self.ev = evidence
        self.retriever = retriever

    def add(self, passage: Passage, *, score: float | None = None, coverage: float = 0.0, reason: str = "",
            topic: str = "") -> Source:
        existing = self.ev.source_for_passage(passage.id)
        if existing:
            return existing
        src = Source(sid=f"S{len(self.ev.sources) + 1}", passage=passage, score=score, coverage=coverage, reason=reason,
                     topic=topic)
        self.ev.sources.append(src)
        return src

    def fetch(self, passage_id: str) -> Passage | None:
        try:
            return self.retriever.passage(passage_id)
        except FieldlensError:
            self.ev.unreadable_passages.append(passage_id)
            return None

    @property
    def full(self) -> bool:
        return len(self.ev.sources) >= MAX_SOURCES


def fault_observations(readings: Sequence[PhotoReading]) -> list[Observation]:
    return [o for r in readings for o in r.observations if o.kind == ObservationKind.FAULT_CODE]


def equipment_id_from(equipment: Equipment | None, readings: Sequence[PhotoReading]) -> str | None:
    if equipment is not None:
        return equipment.id
    ids = [o.equipment_id for r in readings for o in r.observations
           if o.equipment_id and o.kind in (ObservationKind.ASSET_TAG, ObservationKind.NAMEPLATE)]
    ids = ids or [o.equipment_id for r in readings for o in r.observations if o.equipment_id]
    return ids[0] if ids else None


def lookup_codes(evidence: Evidence, retriever: Retriever) -> None:
    """Fault codes from the photos (best reading first) and from the question."""
    seen: set[str] = set()
    readings = sorted(fault_observations(evidence.readings), key=lambda o: -o.confidence)
    candidates: list[tuple[str, Observation | None]] = [(normalise_code(o.value), o) for o in readings]
    candidates += [(c, None) for c in codes_in_question(evidence.question)]
    for code, obs in candidates[:6]:
        if code in seen:
            continue
        seen.add(code)
        entries = retriever.lookup_code(code, evidence.equipment_id)
        if not entries and evidence.equipment_id:
            entries = []  # a code unknown for this equipment is not borrowed from another machine
        if entries or obs is not None:
            evidence.codes.append(CodeEvidence(code=code, entries=entries, reading=obs))


def search_relevant(builder: EvidenceBuilder, query: str, *, kinds: Sequence[PassageKind] | None = None,
                    doc_id: str | None = None, limit: int = 5, take: int = 1, reason: str = "search",
                    terms: Sequence[str] | None = None, topic: str = "") -> list[Source]:
    """Search, keep up to `take` relevant hits as sources, and return them."""
    ev = builder.ev
    terms = list(terms) if terms is not None else subject_terms(query)
    if not query.strip() or not terms:
        return []
    hits = builder.retriever.search(query, equipment_id=ev.equipment_id, doc_id=doc_id, kinds=kinds, limit=limit)
    if not hits and ev.equipment_id and doc_id is None:
        # equipment tagging can be incomplete: a second chance across the library, still relevance-checked
        hits = builder.retriever.search(query, doc_id=None, kinds=kinds, limit=limit)
    kept: list[Source] = []
    for hit in hits:
        if len(kept) >= take or builder.full:
            break
        passage = builder.fetch(hit.passage_id)
        if passage is None:
            continue
        ok, cov = is_relevant(terms, passage)
        if ok:
            kept.append(builder.add(passage, score=hit.score, coverage=cov, reason=reason, topic=topic))
    return kept


def retrieval_margin(hits: Sequence[SearchHit]) -> float | None:
    if len(hits) < 2:
        return None
    top, nxt = hits[0].score, hits[1].score
    denom = max(abs(top), 1e-9)
    return abs(top - nxt) / denom


def gather(question: str, *, readings: Sequence[PhotoReading], equipment: Equipment | None,
           retriever: Retriever) -> Evidence:
    """All evidence for a question, in prompt order: fault-code entries, their
    procedures, then what the question itself retrieves."""
    ev = Evidence(question=question, equipment=equipment, equipment_id=equipment_id_from(equipment, readings),
                  readings=list(readings), observations=[o for r in readings for o in r.observations])
    builder = EvidenceBuilder(ev, retriever)
    lookup_codes(ev, retriever)
    for ce in ev.codes:
        for fc in ce.entries[:2]:
            passage = builder.fetch(fc.passage_id)
            if passage is not None:
                builder.add(passage, coverage=1.0, reason="fault_code", topic=ce.code)
    for ce in ev.codes:
        for fc in ce.entries[:1]:
            q = f"{fc.code} {fc.title}".strip()
            terms = subject_terms(f"{fc.code} {fc.title}") or [stem(fc.code)]
            got = search_relevant(builder, q, kinds=[PassageKind.PROCEDURE], limit=5, take=1, reason="procedure",
                                  terms=terms, topic=ce.code)
            if not got and fc.title:
                search_relevant(builder, fc.title, kinds=[PassageKind.PROCEDURE], limit=5, take=1, reason="procedure",
                                topic=ce.code)
    ev.query_terms = subject_terms(question)
    if ev.query_terms:
        hits = retriever.search(question, equipment_id=ev.equipment_id, limit=8)
        if not hits and ev.equipment_id:
            hits = retriever.search(question, limit=8)
        ev.search_hits = hits
        ev.margin = retrieval_margin(hits)
        kept = 0
        for hit in hits:
            if builder.full or kept >= 4:
                break
            passage = builder.fetch(hit.passage_id)
            if passage is None:
                continue
            ok, cov = is_relevant(ev.query_terms, passage)
            if hit is hits[0]:
                ev.top_coverage = cov
            if ok:
                ev.relevant_search = True
                builder.add(passage, score=hit.score, coverage=cov, reason="search")
                kept += 1
        if ev.relevant_search and not any(s.reason == "procedure" for s in ev.sources):
            search_relevant(builder, question, kinds=[PassageKind.PROCEDURE], limit=5, take=1, reason="procedure",
                            terms=ev.query_terms)
    return ev
