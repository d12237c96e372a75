"""Local, deterministic grounding checks on a structured answer.

- Every citation must name a source that was provided (S1..Sn, or the
  passage id itself); otherwise it is removed and `citation_invalid` raised.
- Its quote must be found in that passage: both are normalised (case,
  punctuation and whitespace folded) and compared exactly, then with
  rapidfuzz `partial_ratio` (>= QUOTE_THRESHOLD); a quote longer than the
  passage must match it as a whole (`ratio`). Quotes shorter than
  MIN_QUOTE_CHARS normalised characters cannot be checked and count as
  invalid. A valid citation keeps the passage's own words (the matched span),
  not the model's paraphrase.
- Quotes may differ from the passage in case, punctuation, spacing and small
  typos, but never in their numbers or negations ("10 bar" is not "16 bar",
  "do not remove" is not "remove").
- A step left without a valid citation gets `ungrounded_step` and low
  confidence; so does a step whose cited passages do not mention what it says
  (fewer than half of its subject terms occur in them: a real quote pinned to
  an unrelated instruction).
- A step whose text, safety notes or quotes touch hazardous energy
  (electrical, voltage, stored energy), pressure, heat / hot surfaces,
  lockout/tagout, PPE or rotating parts, or that cites a manual WARNING /
  DANGER / CAUTION on those topics (a warning passage, or a warning printed
  next to the quoted words), gets
  `safety_critical` and the manual's own warning text (the cited warning, else
  the best WARNING passage of the same document, else of the equipment's
  library, found through the retriever).
- A step that tells the technician to defeat a safety device, to work on live
  or pressurised equipment without isolation, or to exceed a rated limit (its
  own words or the words it cites; `hazards`) keeps a prominent `danger`
  warning, a critical `safety_critical` flag and low confidence, whoever
  wrote it: a valid citation does not make a dangerous instruction safe.
- `conflicting_sources`: two provided passages from different revisions of the
  same document (same doc id or near-identical title, or shared equipment and
  similar title) under a similar section heading whose texts differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from assistant.domain import Citation, Confidence, Flag, FlagCode, Passage, PassageKind, Severity, Step
from assistant.errors import FieldlensError
from assistant.reasoning.hazards import danger_in, danger_message
from assistant.reasoning.retrieval import Evidence, Retriever, Source, doc_info, subject_terms, term_coverage
from assistant.reasoning.schema import ModelStep

QUOTE_THRESHOLD = 90.0
MIN_QUOTE_CHARS = 8
SECTION_SIMILARITY = 85.0
SAME_TEXT = 97.0

_WARNING_WORD = re.compile(r"\b(?:WARNING|DANGER|CAUTION)\b")
SAFETY_PATTERNS: dict[str, re.Pattern[str]] = {
    "lockout/tagout": re.compile(r"\block[\s-]?out\b|\blockout\b|\btag[\s-]?out\b|\bloto\b|\bisolat\w*", re.I),
    "electrical": re.compile(r"\belectric\w*|\bvoltage\b|\bvolts?\b|\blive\b|\benergi[sz]ed\b|\bde-?energi[sz]\w*|"
                             r"\bshock\b|\barc[\s-]?flash\b|\bcapacitors?\b|\bmains\b|\bterminals?\b|\b\d+\s?V\b", re.I),
    "hazardous energy": re.compile(r"\bhazardous energy\b|\bstored energy\b|\bspring[\s-]loaded\b", re.I),
    "pressure": re.compile(r"\bpressur\w*|\bbar\b|\bpsi\b|\bcompressed\b|\bdepressuri\w*|\brelief valve\b", re.I),
    "heat": re.compile(r"\bhot\b|\bheat\w*|\bburns?\b|\bscald\w*|\bhigh temperature\b", re.I),
    "PPE": re.compile(r"\bppe\b|\bgloves?\b|\bgoggles\b|\bsafety glasses\b|\beye protection\b|\bhearing protection\b|"
                      r"\bface shield\b|\bprotective equipment\b", re.I),
    "rotating parts": re.compile(r"\brotat\w*|\bmoving parts?\b|\bcoupling\b|\bshaft\b|\bfan blades?\b|\bbelts?\b|"
                                 r"\bimpeller\b|\bentangle\w*", re.I),
}


# --------------------------------------------------------------------------- quotes


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Lowercase, punctuation and whitespace folded to single spaces; plus, for each
    normalised character, the index of the original character it came from."""
    out: list[str] = []
    idx: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isalnum():
            if pending_space and out:
                out.append(" ")
                idx.append(i)
            out.append(ch.lower())
            idx.append(i)
            pending_space = False
        else:
            pending_space = True
    return "".join(out), idx


def normalise(text: str) -> str:
    return normalise_with_map(text)[0]


def match_quote(quote: str, passage_text: str) -> tuple[float, str | None]:
    """(score 0..100, the passage's own words for the matched span or None)."""
    nq = normalise(quote)
    np_, idx = normalise_with_map(passage_text)
    if len(nq) < MIN_QUOTE_CHARS or not np_:
        return 0.0, None
    pos = np_.find(nq)
    if pos >= 0:
        return 100.0, passage_text[idx[pos]: idx[pos + len(nq) - 1] + 1]
    if len(nq) > len(np_):
        score = fuzz.ratio(nq, np_)
        return score, (passage_text.strip() if score >= QUOTE_THRESHOLD else None)
    al = fuzz.partial_ratio_alignment(nq, np_)
    if al is None or al.score < QUOTE_THRESHOLD:
        return (al.score if al else 0.0), None
    start, end = al.dest_start, max(al.dest_start, al.dest_end - 1)
    span = np_[max(0, start - 12): end + 13]  # a little slack: alignment can clip a word at either end
    if not _critical_tokens(nq) <= _critical_tokens(span):
        return al.score, None  # a changed number or an added negation is a different statement
    return al.score, passage_text[idx[start]: idx[end] + 1]


_NEGATIONS = frozenset({"not", "no", "never", "without", "dont", "don", "cannot", "nor"})


def _critical_tokens(normalised: str) -> set[str]:
    """Numbers and negations: words a fuzzy match must not be allowed to change."""
    return {w for w in normalised.split() if any(ch.isdigit() for ch in w) or w in _NEGATIONS}


# --------------------------------------------------------------------------- citations


def resolve_source(ref: str, evidence: Evidence) -> Source | None:
    ref = ref.strip().strip("[]()").strip()
    m = re.fullmatch(r"[Ss]\s*(\d+)", ref)
    if m:
        return evidence.by_sid().get(f"S{int(m.group(1))}")
    return evidence.source_for_passage(ref)


def citation_for(passage: Passage, quote: str) -> Citation:
    return Citation(passage_id=passage.id, doc_id=passage.doc_id, title=passage.title, page=passage.page,
                    section=passage.section, quote=quote, revision=passage.revision)


@dataclass
class StepCheck:
    """What grounding found for one step (kept for confidence and the eval)."""

    index: int
    valid: list[tuple[Source, float]] = field(default_factory=list)
    invalid_unknown: list[str] = field(default_factory=list)
    invalid_quote: list[str] = field(default_factory=list)
    safety_topics: list[str] = field(default_factory=list)

    unsupported: bool = False  # valid quotes, but the passages do not mention what the step says
    danger: str = ""  # why the step would defeat safety ("" when it would not)

    @property
    def grounded(self) -> bool:
        return bool(self.valid) and not self.unsupported

    @property
    def weakest_quote(self) -> float:
        return min((s for _, s in self.valid), default=0.0)


SUPPORT_COVERAGE = 0.5


def supports(step_text: str, passages: list[str]) -> bool:
    """Does the cited text mention what the step says? At least half of the step's
    subject terms (stemmed, minus stop words and generic verbs) must occur in it."""
    terms = subject_terms(step_text)
    if not terms:
        return True
    return term_coverage(terms, " ".join(passages)) >= SUPPORT_COVERAGE


_NEW_ITEM = re.compile(r"\s*(?:\d{1,2}[.)]|[-*•])\s|\s*$")


def nearby_warnings(quote: str, passage: Passage) -> list[str]:
    """The WARNING / DANGER / CAUTION sentences of a (non-warning) passage printed in the same
    list item or paragraph as the quoted words: a warning under step 4 of a procedure is not about
    its step 1."""
    if passage.kind == PassageKind.WARNING:
        return []
    text = passage.text
    at = text.find(quote)
    if at < 0:
        region = text  # the quote could not be placed: the whole passage counts
    else:
        begin = text.rfind("\n", 0, at) + 1
        stop = text.find("\n", at + len(quote))
        while stop >= 0:
            nxt = text.find("\n", stop + 1)
            line = text[stop + 1: nxt if nxt >= 0 else len(text)]
            if _NEW_ITEM.match(line):
                break
            stop = nxt
        region = text[begin: stop if stop >= 0 else len(text)]
    out = []
    for m in _WARNING_WORD.finditer(region):
        tail = re.search(r"(?<=[.!?])\s|\n", region[m.end():])
        out.append(region[m.start(): m.end() + (tail.start() if tail else len(region) - m.end())])
    return out


def safety_topics(text: str) -> list[str]:
    return [topic for topic, pat in SAFETY_PATTERNS.items() if pat.search(text)]


class WarningFinder:
    """The manual's own warning text for a hazard, looked up once per (document, topics)."""

    def __init__(self, retriever: Retriever, evidence: Evidence) -> None:
        self.retriever = retriever
        self.evidence = evidence
        self._cache: dict[tuple[str, tuple[str, ...]], Passage | None] = {}

    def _search(self, query: str, doc_id: str | None) -> Passage | None:
        hits = self.retriever.search(query, equipment_id=self.evidence.equipment_id if doc_id is None else None,
                                     doc_id=doc_id, kinds=[PassageKind.WARNING], limit=3)
        for hit in hits:
            if not doc_info(self.retriever, hit.doc_id, self.evidence.docs).newest:
                continue  # a newer revision of this manual has its own warning
            try:
                return self.retriever.passage(hit.passage_id)
            except FieldlensError:
                continue
        return None

    def find(self, doc_ids: list[str], topics: list[str], cited: list[Passage]) -> Passage | None:
        for p in cited:
            if p.kind == PassageKind.WARNING:
                return p
        key = (",".join(doc_ids), tuple(topics))
        if key in self._cache:
            return self._cache[key]
        words = {"lockout/tagout": "lock out", "electrical": "electrical", "hazardous energy": "energy",
                 "pressure": "pressure", "heat": "hot", "PPE": "protective", "rotating parts": "rotating"}
        queries = [" ".join(words[t] for t in topics)] + [words[t] for t in topics] + ["warning"]
        found = None
        for doc in doc_ids + [None]:  # the cited documents first, then the equipment's library
            for q in queries:
                found = self._search(q, doc)
                if found:
                    break
            if found:
                break
        self._cache[key] = found
        return found


def ground_step(ms: ModelStep, index: int, evidence: Evidence, warnings: WarningFinder) -> tuple[Step, StepCheck]:
    check = StepCheck(index=index)
    flags: list[Flag] = []
    citations: list[Citation] = []
    cited: list[Passage] = []
    for mc in ms.citations:
        src = resolve_source(mc.source, evidence)
        if src is None and len(re.findall(r"[Ss]\s*\d+", mc.source)) > 1:
            # "S2, S3": the quote decides which of them it comes from
            candidates = [evidence.by_sid().get(f"S{int(n)}") for n in re.findall(r"[Ss]\s*(\d+)", mc.source)]
            src = next((c for c in candidates if c is not None and match_quote(mc.quote, c.passage.text)[1]), None) or \
                next((c for c in candidates if c is not None), None)
        if src is None:
            check.invalid_unknown.append(mc.source)
            flags.append(Flag(code=FlagCode.CITATION_INVALID, severity=Severity.WARNING, step=index,
                              message=f"Step {index} cited “{mc.source[:40]}”, which is not one of the sources provided; the citation was removed."))
            continue
        score, words = match_quote(mc.quote, src.passage.text)
        if words is None:
            check.invalid_quote.append(src.sid)
            flags.append(Flag(code=FlagCode.CITATION_INVALID, severity=Severity.WARNING, step=index,
                              message=f"Step {index}: the quoted words are not in {src.passage.title or src.passage.doc_id}"
                                      f"{_where(src.passage)}; the citation was removed."))
            continue
        if any(c.passage_id == src.passage.id and c.quote == words for c in citations):
            continue
        check.valid.append((src, score))
        citations.append(citation_for(src.passage, words.strip()))
        if src.passage not in cited:
            cited.append(src.passage)
    confidence = Confidence.HIGH if all(s >= 99 for _, s in check.valid) else Confidence.MEDIUM
    if check.valid and not supports(ms.action + " " + ms.detail, [p.text for p in cited]):
        check.unsupported = True
        confidence = Confidence.LOW
        flags.append(Flag(code=FlagCode.UNGROUNDED_STEP, severity=Severity.WARNING, step=index,
                          message=f"Step {index}: the cited passage does not mention what the step tells you to do; treat it with caution."))
    elif not check.grounded:
        confidence = Confidence.LOW
        flags.append(Flag(code=FlagCode.UNGROUNDED_STEP, severity=Severity.WARNING, step=index,
                          message=f"Step {index} has no citation that checks out against the manuals: treat it with caution."))
    safety = [s for s in ms.safety if s.strip()]
    # the step's words, its quotes, cited warning passages, and warnings printed next to the quoted words
    warned = [p.text for p in cited if p.kind == PassageKind.WARNING]
    warned += [w for c in citations for w in nearby_warnings(c.quote, next(p for p in cited if p.id == c.passage_id))]
    topics = safety_topics(" ".join([ms.action, ms.detail, *safety, *(c.quote for c in citations), *warned]))
    check.safety_topics = topics
    if topics:
        warning = warnings.find(list(dict.fromkeys(p.doc_id for p in cited)), topics, cited)
        if warning is not None:
            text = re.sub(r"\s+", " ", warning.text).strip()
            note = f"{text} ({warning.title}{_where(warning)})"
            safety = [note] + [s for s in safety if normalise(s) not in normalise(text)]
            message = f"Step {index} involves {', '.join(topics)}. The manual warns: {text[:300]}"
        else:
            message = (f"Step {index} involves {', '.join(topics)}; no warning text was found in the manual: "
                       "follow your site's lockout/tagout and PPE rules.")
            safety = safety or [message]
        flags.append(Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.CRITICAL, step=index, message=message))
    danger = ""
    reason = danger_in(f"{ms.action}. {ms.detail}") or next(
        (r for r in (danger_in(c.quote) for c in citations) if r), "")
    if reason:
        danger = danger_message(index, reason)
        check.danger = reason
        confidence = Confidence.LOW
        flags.insert(0, Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.CRITICAL, step=index, message=danger))
    step = Step(index=index, action=ms.action.strip() or "(no action given)", detail=ms.detail.strip(),
                citations=citations, confidence=confidence, safety=safety, flags=flags, danger=danger)
    return step, check


def _where(p: Passage) -> str:
    bits = []
    if p.page is not None:
        bits.append(f"p. {p.page}")
    if p.section:
        bits.append(p.section)
    return (", " + ", ".join(bits)) if bits else ""


# --------------------------------------------------------------------------- conflicts


def _same_document(a: Passage, b: Passage) -> bool:
    if a.doc_id == b.doc_id:
        return True
    ta, tb = normalise(a.title), normalise(b.title)
    if ta and tb and fuzz.token_set_ratio(ta, tb) >= 90:
        return True
    return bool(set(a.equipment_ids) & set(b.equipment_ids)) and bool(ta and tb) and fuzz.token_set_ratio(ta, tb) >= 75


def _leaf(section: str) -> str:
    """The innermost heading, without its numbering: "7 Troubleshooting > 7.2 Fault codes" -> "fault codes"."""
    leaf = section.split(">")[-1]
    return " ".join(re.sub(r"\b\d+(\.\d+)*\b", " ", normalise(leaf)).split())


def conflicting_sources(sources: list[Source]) -> list[Flag]:
    """One flag per pair of document revisions whose provided passages disagree under the same heading."""
    groups: dict[tuple[str, str], list[str]] = {}
    names: dict[tuple[str, str], tuple[Passage, Passage]] = {}
    for i, a in enumerate(sources):
        for b in sources[i + 1:]:
            pa, pb = a.passage, b.passage
            if not pa.revision or not pb.revision or pa.revision == pb.revision:
                continue
            if not _same_document(pa, pb):
                continue
            la, lb = _leaf(pa.section), _leaf(pb.section)
            if la or lb:
                if not (la and lb and fuzz.ratio(la, lb) >= SECTION_SIMILARITY):
                    continue
            elif pa.kind != pb.kind:
                continue
            if fuzz.ratio(normalise(pa.text), normalise(pb.text)) >= SAME_TEXT:
                continue
            first, second = (pa, pb) if pa.revision > pb.revision else (pb, pa)
            key = (first.doc_id + "@" + first.revision, second.doc_id + "@" + second.revision)
            where = first.section or second.section or first.kind.value
            groups.setdefault(key, [])
            if where not in groups[key]:
                groups[key].append(where)
            names[key] = (first, second)
    flags: list[Flag] = []
    for key, sections in groups.items():
        newer, older = names[key]
        flags.append(Flag(code=FlagCode.CONFLICTING_SOURCES, severity=Severity.WARNING,
                          message=(f"Revision {newer.revision} and revision {older.revision} of "
                                   f"“{newer.title or newer.doc_id}” say different things under "
                                   + "; ".join(f"“{s}”" for s in sections[:3])
                                   + ": check which revision applies to this machine.")))
    return flags
