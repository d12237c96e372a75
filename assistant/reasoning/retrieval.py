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
abstains: of {flux, capacitor, toaster} at most one term can match. Words no
passage of the library contains weigh too: more than a third of them unknown,
or any unknown while no passage covers 75 % of the terms, and the question
search keeps nothing ("how do I calibrate a bathroom scale").

One revision: a passage from a document that a newer revision of the same
manual supersedes (`Retriever.revisions`, when the library offers it) is not
offered as a source; it is kept in `Evidence.superseded` so the steps can be
checked against it for values that changed. Work instructions are preferred
over manual procedures for a code or a symptom, and third-party notes never
come before the manufacturer's passages.

The question that was asked: a code read off a photo is evidence only when the
question is about it (it names the code, says nothing beyond "what now?", or
its subject terms are mostly found in the code's entry, the equipment's name
or, for a follow-up, in what the session's earlier answers said). Otherwise
the question is answered from what it retrieves itself, or abstains.
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
from assistant.reasoning.followup import SessionContext


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
    one two per via as tell show give know often usually ever mean means meaning won don doesn isn aren wasn couldn wouldn shouldn didn t s""".split()
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


UNKNOWN_WORDS_SHARE = 1 / 3


def unknown_word_share(question: str, retriever: Retriever, equipment_id: str | None) -> float:
    """Share of the question's subject words that no passage of the library (or of the equipment's
    documents) contains at all: a question about sourdough or tyres is not about these manuals,
    however many common words ("feed", "pressure") it shares with them."""
    words = [w for w in dict.fromkeys(_WORD.findall(question.lower()))
             if w not in STOP_WORDS and w not in GENERIC_TERMS and len(w) >= 3 and not w.isdigit()]
    if not words:
        return 0.0
    unknown = 0
    for w in words:
        hits = retriever.search(w, equipment_id=equipment_id, limit=1)
        if not hits and equipment_id:
            hits = retriever.search(w, limit=1)
        unknown += not hits
    return unknown / len(words)


def is_relevant(terms: Sequence[str], passage: Passage) -> tuple[bool, float]:
    text = f"{passage.title} {passage.section} {passage.text}"
    cov = term_coverage(terms, text)
    matched = round(cov * len(terms))
    needed = 2 if len(terms) >= 4 else 1
    return (bool(terms) and cov >= 0.5 and matched >= needed), cov


def revision_order(revision: str) -> tuple:
    """Natural order of revision labels: 'B' < 'C', '2' < '10', '1.2' < '1.10'."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.findall(r"\d+|[a-z]+", (revision or "").lower()))


@dataclass(frozen=True)
class DocInfo:
    """What reasoning needs to know about a document beyond its passages."""

    kind: str = "manual"
    authority: str = "manufacturer"
    revision: str = ""
    newest: bool = True  # False when the library holds a newer revision of the same manual
    newest_doc: str = ""
    other_revisions: tuple[tuple[str, str], ...] = ()  # (doc_id, revision) of the manual's other revisions


def doc_info(retriever: object, doc_id: str, cache: dict[str, DocInfo]) -> DocInfo:
    """Kind, authority and revision standing of a document, from the retriever when it can tell."""
    if doc_id in cache:
        return cache[doc_id]
    info = DocInfo()
    getter = getattr(retriever, "document", None)
    doc = None
    if callable(getter):
        try:
            doc = getter(doc_id)
        except FieldlensError:
            doc = None
    if doc is not None:
        kind = getattr(doc, "kind", "manual")
        authority = getattr(doc, "authority", "manufacturer")
        revision = getattr(doc, "revision", "") or ""
        others: list[tuple[str, str]] = []
        newest, newest_doc = True, doc_id
        revisions = getattr(retriever, "revisions", None)
        if callable(revisions) and revision:
            try:
                family = [d for d in revisions(doc_id) if d.id != doc_id and d.revision]
            except FieldlensError:
                family = []
            others = [(d.id, d.revision) for d in family]
            newer = [d for d in family if revision_order(d.revision) > revision_order(revision)]
            if newer:
                newest = False
                newest_doc = max(newer, key=lambda d: revision_order(d.revision)).id
        info = DocInfo(kind=getattr(kind, "value", str(kind)), authority=getattr(authority, "value", str(authority)),
                       revision=revision, newest=newest, newest_doc=newest_doc, other_revisions=tuple(others))
    cache[doc_id] = info
    return info


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


_CODE_SHAPE = (r"\d{1,3}(?:-\d{1,3}){1,3}|[A-Za-z]{0,4}[-\s]?\d{1,5}(?:[.:]\d{1,3})?[A-Za-z]?|0x[0-9A-Fa-f]{2,8}|"
               r"[A-Z][A-Za-z]{1,2}")
_ASKED_CODE = re.compile(
    rf"(?:\b(?:code|fault|error|alarm|warning|shows?|showing|display(?:s|ing)?|says|reads|throws|throwing|"
    rf"flash(?:es|ing)?|gives|indicates|got|exception|returns|reports)\s+(?:an?\s+|the\s+|code\s+|error\s+|fault\s+|alarm\s+)?[\"“'‘]?"
    rf"(?P<a>{_CODE_SHAPE})\b)|(?:\bwhat\s+(?:does|is)\s+[\"“'‘]?(?P<b>{_CODE_SHAPE})[\"”'’]?\s+mean)|"
    rf"(?:\b(?P<c>{_CODE_SHAPE})\s+(?:error|fault|alarm)\b)",
    re.I)


def asked_codes(question: str) -> list[str]:
    """Codes the question asks about as codes ("shows E3", "what does F8 mean", "Err 44 error",
    "what does Ed mean" with a capital): a stricter reading than `codes_in_question`."""
    out: list[str] = []
    for m in _ASKED_CODE.finditer(question):
        raw = m.group("a") or m.group("b") or m.group("c") or ""
        token = normalise_code(raw)
        if token.startswith("0X"):
            token = "0x" + token[2:]
        letters_only = token.isalpha()
        if letters_only and (raw[0].islower() or raw.lower() in STOP_WORDS or raw.lower() in GENERIC_TERMS):
            continue  # "what does it mean", "shows no" are not codes; "Ed", "FA" typed as codes are
        if token and token not in out:
            out.append(token)
    return out


@dataclass
class CodeEvidence:
    code: str
    entries: list[FaultCode]
    reading: Observation | None  # None when the code came from the question
    asked: bool = False  # the question asks about this code as a code


@dataclass
class Source:
    """A passage offered to the model under the id `sid` (S1..Sn)."""

    sid: str
    passage: Passage
    score: float | None = None
    coverage: float = 0.0
    reason: str = ""  # fault_code, procedure, search, safety
    topic: str = ""  # the fault code a fault_code / procedure source was retrieved for
    doc_kind: str = "manual"  # manual | work_instruction
    authority: str = "manufacturer"  # manufacturer | third_party


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
    superseded: list[Source] = field(default_factory=list)  # retrieved, but a newer revision answers
    out_of_scope: list[CodeEvidence] = field(default_factory=list)  # codes read, but the question is not about them
    session: SessionContext | None = None
    docs: dict[str, DocInfo] = field(default_factory=dict)

    @property
    def unknown_codes(self) -> list[CodeEvidence]:
        """Codes read off a photo that no manual in the library lists, and that the question is about."""
        return [ce for ce in self.codes if not ce.entries and (ce.reading is not None or ce.asked)]

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

    def info(self, doc_id: str) -> DocInfo:
        return doc_info(self.retriever, doc_id, self.ev.docs)

    def add(self, passage: Passage, *, score: float | None = None, coverage: float = 0.0, reason: str = "",
            topic: str = "") -> Source | None:
        """Offer a passage as a source; a superseded revision's passage is set aside (None)."""
        existing = self.ev.source_for_passage(passage.id)
        if existing:
            return existing
        info = self.info(passage.doc_id)
        src = Source(sid=f"S{len(self.ev.sources) + 1}", passage=passage, score=score, coverage=coverage, reason=reason,
                     topic=topic, doc_kind=info.kind, authority=info.authority)
        if not info.newest:
            if all(s.passage.id != passage.id for s in self.ev.superseded):
                self.ev.superseded.append(src)
            return None
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
    """Code readings: codes the library lists and codes shaped like one that no manual lists."""
    return [o for r in readings for o in r.observations
            if o.kind in (ObservationKind.FAULT_CODE, ObservationKind.UNKNOWN_CODE)]


def equipment_id_from(equipment: Equipment | None, readings: Sequence[PhotoReading]) -> str | None:
    if equipment is not None:
        return equipment.id
    ids = [o.equipment_id for r in readings for o in r.observations
           if o.equipment_id and o.kind in (ObservationKind.ASSET_TAG, ObservationKind.NAMEPLATE)]
    ids = ids or [o.equipment_id for r in readings for o in r.observations if o.equipment_id]
    return ids[0] if ids else None


_TITLE_NOISE = frozenset("""manual manuals service user users guide handbook operating operation operations
    installation instructions instruction maintenance technical error errors codes code fault faults alarm alarms list
    table and for with the of pdf md html txt rev revision version edition""".split())
NAMED_DOCUMENT = 0.5


def title_tokens(text: str) -> set[str]:
    return {w for w in re.findall(r"\w{3,}", text.lower()) if w not in _TITLE_NOISE and not w.isdigit()}


def named_document(question: str, retriever: object) -> str | None:
    """With no equipment identified: the document the question names ("the Mr Silence heat pump
    shows E3"), when most of one title's distinctive words are in the question."""
    lister = getattr(retriever, "documents", None)
    if not callable(lister):
        return None
    try:
        docs = lister()
    except FieldlensError:
        return None
    words = title_tokens(question)
    best, best_score = None, 0.0
    for doc in docs:
        title = title_tokens(getattr(doc, "title", ""))
        if not title:
            continue
        share = len(title & words) / len(title)
        if share > best_score:
            best, best_score = doc, share
    return best.id if best is not None and best_score >= NAMED_DOCUMENT else None


def lookup_codes(evidence: Evidence, retriever: Retriever) -> None:
    """Fault codes from the photos (best reading first) and from the question."""
    seen: set[str] = set()
    readings = sorted(fault_observations(evidence.readings), key=lambda o: -o.confidence)
    candidates: list[tuple[str, Observation | None]] = [(normalise_code(o.value), o) for o in readings]
    asked = asked_codes(evidence.question)
    candidates += [(c, None) for c in codes_in_question(evidence.question)]
    candidates += [(c, None) for c in asked if c not in {k for k, _ in candidates}]
    named = named_document(evidence.question, retriever) if evidence.equipment_id is None and candidates else None
    for code, obs in candidates[:8]:
        if code in seen:
            continue
        seen.add(code)
        entries = retriever.lookup_code(code, evidence.equipment_id)
        if not entries and evidence.equipment_id:
            entries = []  # a code unknown for this equipment is not borrowed from another machine
        if named is not None and entries:
            family = {named} | {d for d, _ in doc_info(retriever, named, evidence.docs).other_revisions}
            own = [e for e in entries if e.doc_id in family]
            entries = own or entries  # the named product's own entry, when its manual lists the code
        if entries or obs is not None or code in asked:
            evidence.codes.append(CodeEvidence(code=code, entries=entries, reading=obs, asked=code in asked))


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
    relevant: list[tuple[SearchHit, Passage, float]] = []
    for hit in hits:
        if builder.info(hit.doc_id).newest is False:
            continue  # a newer revision of this manual answers
        passage = builder.fetch(hit.passage_id)
        if passage is None:
            continue
        ok, cov = is_relevant(terms, passage)
        if ok:
            relevant.append((hit, passage, cov))
    if kinds and PassageKind.PROCEDURE in kinds:
        # a work instruction written for the job comes before a manual's procedure; the manufacturer's first
        relevant.sort(key=lambda r: (builder.info(r[0].doc_id).kind != "work_instruction",
                                     builder.info(r[0].doc_id).authority == "third_party"))
    else:
        relevant.sort(key=lambda r: builder.info(r[0].doc_id).authority == "third_party")
    kept: list[Source] = []
    for hit, passage, cov in relevant:
        if len(kept) >= take or builder.full:
            break
        src = builder.add(passage, score=hit.score, coverage=cov, reason=reason, topic=topic)
        if src is not None:
            kept.append(src)
    return kept


def retrieval_margin(hits: Sequence[SearchHit]) -> float | None:
    if len(hits) < 2:
        return None
    top, nxt = hits[0].score, hits[1].score
    denom = max(abs(top), 1e-9)
    return abs(top - nxt) / denom


SCOPE_COVERAGE = 0.5
# words that only say the machine is in trouble: with nothing else asked, the question is about the code shown
SYMPTOM_STEMS = frozenset(stem(w) for w in """stopped stops stop tripped trips trip tripping failed fails failure halted
    halts quit quits shut shutdown start starting started run running runs broke broken dead won't wont cant can't
    anymore suddenly again now""".split())


def _code_context(ce: CodeEvidence, ev: Evidence) -> str:
    bits = [ce.code]
    for fc in ce.entries[:2]:
        bits += [fc.title, fc.cause, fc.remedy]
    eq = ev.equipment
    if eq is not None:
        bits += [eq.name, eq.model, eq.category, *eq.aliases]
    return " ".join(b for b in bits if b)


def question_is_about(ce: CodeEvidence, ev: Evidence) -> bool:
    """Is the question about this code read off a photo? (See the module docstring.)"""
    if ce.reading is None or normalise_code(ce.code) in codes_in_question(ev.question):
        return True
    terms = subject_terms(ev.question)
    if not [t for t in terms if t not in SYMPTOM_STEMS]:
        return True  # "what now?", "what does this mean?", "it stopped and shows this"
    context = _code_context(ce, ev)
    if term_coverage(terms, context) >= SCOPE_COVERAGE:
        return True
    session = ev.session
    if session is not None and session.is_follow_up and (not session.previous_codes or ce.code in session.previous_codes):
        # a follow-up continues the fault when it shares its subject with what was said about it
        return term_coverage(terms, context + " " + session.previous_text) > 0
    return False


STRONG_COVERAGE = 0.75


def _clearly_about_something_else(question: str, ev: Evidence, retriever: Retriever) -> bool:
    """For a code no manual lists: does the question name another subject that a passage covers
    well (how to replace the fan)? If not, the question is about the code on the display, and
    answering it from loosely related passages would be answering around the code."""
    terms = subject_terms(question)
    if not terms:
        return False
    for hit in retriever.search(question, equipment_id=ev.equipment_id, limit=3):
        try:
            passage = retriever.passage(hit.passage_id)
        except FieldlensError:
            continue
        ok, cov = is_relevant(terms, passage)
        if ok and cov >= STRONG_COVERAGE:
            return True
    return False


def _third_party_last(ev: Evidence) -> None:
    """Third-party passages after the manufacturer's (stable), source ids renumbered in order."""
    ordered = sorted(ev.sources, key=lambda s: s.authority == "third_party")
    if ordered != ev.sources:
        ev.sources = ordered
        for i, src in enumerate(ev.sources, start=1):
            src.sid = f"S{i}"


def gather(question: str, *, readings: Sequence[PhotoReading], equipment: Equipment | None,
           retriever: Retriever, session: SessionContext | None = None) -> Evidence:
    """All evidence for a question, in prompt order: fault-code entries, their
    procedures, then what the question itself retrieves."""
    ev = Evidence(question=question, equipment=equipment, equipment_id=equipment_id_from(equipment, readings),
                  readings=list(readings), observations=[o for r in readings for o in r.observations],
                  session=session)
    builder = EvidenceBuilder(ev, retriever)
    lookup_codes(ev, retriever)
    in_scope = [ce for ce in ev.codes if question_is_about(ce, ev) or
                (not ce.entries and not _clearly_about_something_else(question, ev, retriever))]
    ev.out_of_scope = [ce for ce in ev.codes if ce not in in_scope]
    ev.codes = in_scope
    for ce in ev.codes:
        for fc in ce.entries[:2]:
            passage = builder.fetch(fc.passage_id)
            if passage is not None:
                builder.add(passage, coverage=1.0, reason="fault_code", topic=ce.code)
    for ce in ev.codes:
        for fc in ce.entries[:1]:
            q = f"{fc.code} {fc.title}".strip()
            terms = subject_terms(f"{fc.code} {fc.title}") or [stem(fc.code)]
            got = search_relevant(builder, q, kinds=[PassageKind.PROCEDURE], limit=8, take=1, reason="procedure",
                                  terms=terms, topic=ce.code)
            if not got and fc.title:
                search_relevant(builder, fc.title, kinds=[PassageKind.PROCEDURE], limit=8, take=1, reason="procedure",
                                topic=ce.code)
    ev.query_terms = subject_terms(question)
    if ev.unknown_codes and not any(ce.entries for ce in ev.codes):
        return ev  # the question is about a code no manual lists: nothing is answered around it
    unknown_share = 0.0
    if ev.query_terms and not any(ce.entries for ce in ev.codes):
        unknown_share = unknown_word_share(question, retriever, ev.equipment_id)
        if unknown_share > UNKNOWN_WORDS_SHARE:
            ev.query_terms = []  # the question is about something the manuals never mention
    if ev.query_terms:
        hits = retriever.search(question, equipment_id=ev.equipment_id, limit=8)
        if not hits and ev.equipment_id:
            hits = retriever.search(question, limit=8)
        ev.search_hits = hits
        ev.margin = retrieval_margin(hits)
        ranked = sorted(hits, key=lambda h: builder.info(h.doc_id).authority == "third_party")
        relevant: list[tuple[SearchHit, Passage, float]] = []
        for hit in ranked:
            if builder.info(hit.doc_id).newest is False:
                continue
            passage = builder.fetch(hit.passage_id)
            if passage is None:
                continue
            ok, cov = is_relevant(ev.query_terms, passage)
            if hit is ranked[0]:
                ev.top_coverage = cov
            if ok:
                relevant.append((hit, passage, cov))
        if unknown_share and max((cov for _, _, cov in relevant), default=0.0) < STRONG_COVERAGE:
            relevant = []  # a word the manuals never use, and nothing that covers the rest well
        kept = 0
        for hit, passage, cov in relevant:
            if builder.full or kept >= 4:
                break
            ev.relevant_search = True
            if builder.add(passage, score=hit.score, coverage=cov, reason="search") is not None:
                kept += 1
        if ev.relevant_search and not any(s.reason == "procedure" for s in ev.sources):
            search_relevant(builder, question, kinds=[PassageKind.PROCEDURE], limit=8, take=1, reason="procedure",
                            terms=ev.query_terms)
    _third_party_last(ev)
    return ev
