"""Turning grounded steps into the list the technician works through, by fixed
rules that hold for the offline engine and every model alike:

1. Procedures first: when a step cites a work instruction, the work
   instruction's steps lead (after a first step that only identifies the
   fault), then the rest.
2. No repeats: a step whose content words are (nearly) all in an earlier step,
   with no number of its own, is merged into it; the citations of both are kept.
3. Follow-ups: steps the technician already marked done or "did not help" in
   this session are not offered again.
4. Safety first: isolation (lockout/tagout, de-energise, depressurise) and PPE
   steps come before the first hands-on step that involves a hazard; when the
   answer has no isolation step before it, one is inserted from the manual's
   own warning text, cited.
5. One revision: a step whose cited words carry values that an older revision
   of the same manual states differently gets `conflicting_sources` on the
   step, naming both values and both revisions, and is at most medium.
Steps are renumbered at the end and their flags follow them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from assistant.domain import Confidence, Flag, FlagCode, Passage, Severity, Step
from assistant.errors import FieldlensError
from assistant.reasoning.confidence import lowest
from assistant.reasoning.followup import SessionContext, is_tried
from assistant.reasoning.grounding import StepCheck, WarningFinder, citation_for, match_quote, normalise
from assistant.reasoning.retrieval import Evidence, Retriever, Source, doc_info, revision_order, subject_terms

DUPLICATE_COVERAGE = 0.8
SAME_WORDING = 75.0  # token_set_ratio of the words (numbers aside) for "the same statement" across revisions

ISOLATION = re.compile(
    r"\block(?:ed|ing)?[\s-]*(?:out|off)\b|\blockout\b|\btag(?:ged|ging)?[\s-]*out\b|\block\w*\s+and\s+tag\w*|"
    r"\bisolat(?:e|es|ed|ing|ion)\b|\bde-?energi[sz]\w*|\bdepressuri[sz]\w*|\brelease\s+(?:the\s+)?pressure|"
    r"\bswitch\w*\s+off\b[^.]{0,40}\block|\bdisconnect\w*\b[^.]{0,30}\b(?:supply|power|mains)\b|"
    r"\bopen\w*\b[^.]{0,30}\b(?:disconnect|isolator|main switch)\b", re.I)
PPE_STEP = re.compile(r"\b(?:wear|put on|use)\b[^.]{0,40}\b(?:gloves?|goggles|glasses|face shield|ppe|"
                      r"protective (?:equipment|clothing)|hearing protection|arc-rated)", re.I)
RESTORE = re.compile(r"\bremove\s+(?:your|the|all)\s+locks?\b|\bre-?energi[sz]|\brestore\s+(?:the\s+)?(?:power|supply)|"
                     r"\bswitch\s+(?:it\s+)?(?:back\s+)?on\b|\breconnect\b[^.]{0,20}\b(?:supply|power)", re.I)
HANDS_ON = re.compile(r"\b(?:open|remove|disconnect|reconnect|touch|replace|dismantle|unscrew|loosen|refit|install|"
                      r"clean|drain|bleed|detach|unplug|insulation|winding|megger|by hand|terminals?|inside|"
                      r"turn\w* the (?:shaft|impeller|rotor|fan|driven machine))\b", re.I)
NOT_PHYSICAL = re.compile(r"\b(?:menu|keypad|display|screen|history|parameter|app|software|log|settings?)\b", re.I)
HAZARD_TOPICS = {"electrical", "lockout/tagout", "hazardous energy", "pressure", "rotating parts", "heat"}
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?:[.,]\d+)?")
_IDENT_OR_WORD = re.compile(r"[A-Za-z]+\d[\w.]*|[A-Za-z]+")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass
class Composition:
    steps: list[Step]
    checks: list[StepCheck]
    tried_removed: int = 0
    merged: int = 0
    moved: int = 0
    inserted: list[Source] = field(default_factory=list)
    conflicts: int = 0


def _content(text: str) -> set[str]:
    return set(subject_terms(text))


def _numbers(text: str) -> list[str]:
    return [n.replace(",", ".") for n in _NUMBER.findall(text)]


def _step_text(step: Step) -> str:
    return f"{step.action} {step.detail}"


def is_duplicate(short: Step, long: Step) -> bool:
    a, b = _content(_step_text(short)), _content(_step_text(long))
    if len(a) < 3:
        return False
    if len(a & b) / len(a) < DUPLICATE_COVERAGE:
        return False
    return set(_numbers(_step_text(short))) <= set(_numbers(_step_text(long)))


def _cites(step: Step, evidence: Evidence, pred) -> bool:
    for c in step.citations:
        src = evidence.source_for_passage(c.passage_id)
        if src is not None and pred(src):
            return True
    return False


def procedure_first(pairs: list[tuple[Step, StepCheck]], evidence: Evidence) -> list[tuple[Step, StepCheck]]:
    def is_wi(s: Source) -> bool:
        return s.doc_kind == "work_instruction" and s.reason in ("procedure", "search")

    wi = [p for p in pairs if _cites(p[0], evidence, is_wi)]
    if not wi:
        return pairs
    head: list[tuple[Step, StepCheck]] = []
    first = pairs[0]
    if first not in wi and _cites(first[0], evidence, lambda s: s.reason == "fault_code"):
        head = [first]
    rest = [p for p in pairs if p not in wi and p not in head]
    return head + wi + rest


def merge_duplicates(pairs: list[tuple[Step, StepCheck]]) -> tuple[list[tuple[Step, StepCheck]], int]:
    out: list[tuple[Step, StepCheck]] = []
    merged = 0
    for step, check in pairs:
        target = next((o for o in out if is_duplicate(step, o[0]) or is_duplicate(o[0], step)), None)
        if target is None:
            out.append((step, check))
            continue
        keep, kcheck = target
        if len(_content(_step_text(step))) > len(_content(_step_text(keep))) and is_duplicate(keep, step):
            # the later step says more: it takes the earlier one's place, with both citations
            keep.action, keep.detail = step.action, step.detail or keep.detail
        for c in step.citations:
            if all((c.passage_id, c.quote) != (k.passage_id, k.quote) for k in keep.citations):
                keep.citations.append(c)
        keep.safety += [s for s in step.safety if s not in keep.safety]
        renamed = re.compile(rf"\b([Ss]tep) {step.index}\b")
        for f in step.flags:
            if f.code == FlagCode.SAFETY_CRITICAL and not step.danger and \
                    any(k.code == FlagCode.SAFETY_CRITICAL for k in keep.flags):
                continue  # one hazard note per step is enough; the safety texts are kept above
            moved = f.model_copy(update={"step": keep.index, "message": renamed.sub(rf"\g<1> {keep.index}", f.message)})
            if all((moved.code, moved.message) != (k.code, k.message) for k in keep.flags):
                keep.flags.append(moved)
        keep.danger = keep.danger or step.danger
        keep.confidence = lowest(keep.confidence, step.confidence) if step.danger or not check.grounded else keep.confidence
        kcheck.valid += [v for v in check.valid if v not in kcheck.valid]
        kcheck.safety_topics += [t for t in check.safety_topics if t not in kcheck.safety_topics]
        kcheck.danger = kcheck.danger or check.danger
        merged += 1
    return out, merged


def drop_tried(pairs: list[tuple[Step, StepCheck]], session: SessionContext | None) -> tuple[list[tuple[Step, StepCheck]], int]:
    if session is None or not session.tried:
        return pairs, 0
    kept = [p for p in pairs if is_tried(p[0], session.tried) is None]
    return kept, len(pairs) - len(kept)


def is_isolation(step: Step) -> bool:
    text = _step_text(step)
    return bool(ISOLATION.search(text)) and not RESTORE.search(text)


def is_protective(step: Step) -> bool:
    return is_isolation(step) or bool(PPE_STEP.search(_step_text(step)))


def needs_isolation(step: Step, check: StepCheck) -> bool:
    if is_protective(step) or step.danger:
        return False
    text = step.action
    if not HANDS_ON.search(text) or NOT_PHYSICAL.search(text):
        return False
    hazardous = any(f.code == FlagCode.SAFETY_CRITICAL for f in step.flags)
    return hazardous and bool(set(check.safety_topics) & HAZARD_TOPICS)


def _isolation_sentence(passage: Passage) -> str | None:
    flat = " ".join(passage.text.split())
    for sentence in _SENTENCE.split(flat):
        if ISOLATION.search(sentence) and len(sentence) >= 12:
            return sentence.strip()
    return None


def safety_first(pairs: list[tuple[Step, StepCheck]], evidence: Evidence, warnings: WarningFinder,
                 comp: Composition) -> list[tuple[Step, StepCheck]]:
    first = next((i for i, (s, c) in enumerate(pairs) if needs_isolation(s, c)), None)
    if first is None:
        return pairs
    before = pairs[:first]
    if any(is_isolation(s) for s, _ in before):
        later_ppe = [p for p in pairs[first:] if PPE_STEP.search(_step_text(p[0])) and not is_isolation(p[0])]
        if later_ppe and not any(PPE_STEP.search(_step_text(s)) for s, _ in before):
            comp.moved += len(later_ppe)
            rest = [p for p in pairs[first:] if p not in later_ppe]
            return before + later_ppe + rest
        return pairs
    later = [p for p in pairs[first:] if is_protective(p[0])]
    if any(is_isolation(s) for s, _ in later):
        comp.moved += len(later)
        rest = [p for p in pairs[first:] if p not in later]
        return before + later + rest
    inserted = _inserted_isolation(pairs[first], evidence, warnings, comp)
    if inserted is None:
        step = pairs[first][0]
        step.flags.append(Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.CRITICAL, step=step.index,
                               message=f"Step {step.index} needs the equipment isolated first, and the manuals give "
                                       "no isolation step: lock out and tag out the supply by your site's procedure "
                                       "before you start."))
        step.confidence = lowest(step.confidence, Confidence.MEDIUM)
        return pairs
    return before + [inserted] + pairs[first:]


def _inserted_isolation(target: tuple[Step, StepCheck], evidence: Evidence, warnings: WarningFinder,
                        comp: Composition) -> tuple[Step, StepCheck] | None:
    step, check = target
    doc_ids = list(dict.fromkeys(c.doc_id for c in step.citations))
    warning = warnings.find(doc_ids, ["lockout/tagout"], [])
    sentence = _isolation_sentence(warning) if warning is not None else None
    if warning is None or sentence is None:
        return None
    _, words = match_quote(sentence, warning.text)
    if words is None:
        return None
    src = evidence.source_for_passage(warning.id)
    if src is None:
        src = Source(sid=f"S{len(evidence.sources) + 1}", passage=warning, reason="safety",
                     doc_kind=doc_info(warnings.retriever, warning.doc_id, evidence.docs).kind)
        evidence.sources.append(src)
        comp.inserted.append(src)
    new = Step(index=0, action=sentence, citations=[citation_for(warning, words.strip())], confidence=Confidence.HIGH,
               safety=[f"{' '.join(warning.text.split())} ({warning.title})"],
               flags=[Flag(code=FlagCode.SAFETY_CRITICAL, severity=Severity.CRITICAL, step=0,
                           message="Isolation first: this step was added from the manual's own warning, before the "
                                   "first step that needs the equipment isolated.")])
    return new, StepCheck(index=0, valid=[(src, 100.0)], safety_topics=["lockout/tagout"])


def _words(text: str) -> str:
    return " ".join(w.lower() for w in _IDENT_OR_WORD.findall(text))


def _older_revisions(doc_id: str, evidence: Evidence, retriever: Retriever) -> list[tuple[str, str]]:
    info = doc_info(retriever, doc_id, evidence.docs)
    mine = revision_order(info.revision)
    older = [(d, r) for d, r in info.other_revisions if revision_order(r) < mine]
    for s in evidence.superseded:  # without the library's revision list: the superseded passages retrieved
        if s.passage.doc_id != doc_id and s.passage.title == evidence_title(evidence, doc_id) and \
                (s.passage.doc_id, s.passage.revision) not in older:
            older.append((s.passage.doc_id, s.passage.revision))
    return older


def evidence_title(evidence: Evidence, doc_id: str) -> str:
    return next((s.passage.title for s in evidence.sources if s.passage.doc_id == doc_id), "")


def _candidates(quote: str, old_doc: str, evidence: Evidence, retriever: Retriever) -> list[Passage]:
    out = [s.passage for s in evidence.superseded if s.passage.doc_id == old_doc]
    try:
        hits = retriever.search(quote, doc_id=old_doc, limit=3)
    except FieldlensError:
        hits = []
    for hit in hits:
        if any(p.id == hit.passage_id for p in out):
            continue
        try:
            out.append(retriever.passage(hit.passage_id))
        except FieldlensError:
            continue
    return out


def revision_conflicts(pairs: list[tuple[Step, StepCheck]], evidence: Evidence, retriever: Retriever,
                       comp: Composition) -> None:
    for step, _ in pairs:
        seen: set[tuple[str, str]] = set()
        for c in list(step.citations):
            values = _numbers(c.quote)
            if not values:
                continue
            for old_doc, old_rev in _older_revisions(c.doc_id, evidence, retriever):
                best: tuple[float, str, Passage] | None = None
                for passage in _candidates(c.quote, old_doc, evidence, retriever):
                    for sentence in _SENTENCE.split(" ".join(passage.text.split())):
                        if not _numbers(sentence):
                            continue
                        score = fuzz.token_set_ratio(_words(c.quote), _words(sentence))
                        if best is None or score > best[0]:
                            best = (score, sentence.strip(), passage)
                if best is None or best[0] < SAME_WORDING:
                    continue
                score, sentence, passage = best
                if sorted(_numbers(sentence)) == sorted(values) or normalise(sentence) in normalise(c.quote):
                    continue
                key = (c.passage_id, passage.id)
                if key in seen:
                    continue
                seen.add(key)
                comp.conflicts += 1
                new_rev = c.revision or "(newest)"
                where_new = f"p. {c.page}" if c.page else c.section
                where_old = f"p. {passage.page}" if passage.page else passage.section
                step.flags.append(Flag(
                    code=FlagCode.CONFLICTING_SOURCES, severity=Severity.WARNING, step=step.index,
                    message=(f"Revisions disagree on step {step.index}: revision {new_rev} ({where_new}) says "
                             f"“{c.quote[:160]}”, the older revision {old_rev} ({where_old}) says "
                             f"“{sentence[:160]}”. This answer follows revision {new_rev}: check which revision "
                             "applies to this machine.")))
                step.confidence = lowest(step.confidence, Confidence.MEDIUM)


def renumber(pairs: list[tuple[Step, StepCheck]]) -> None:
    for new, (step, check) in enumerate(pairs, start=1):
        old = step.index
        if old != new and old:
            pattern = re.compile(rf"\b([Ss]tep) {old}\b")
            step.flags = [f.model_copy(update={"step": new, "message": pattern.sub(rf"\g<1> {new}", f.message)})
                          for f in step.flags]
            if step.danger:
                step.danger = re.sub(rf"\bstep {old}\b", f"step {new}", step.danger)
        else:
            step.flags = [f.model_copy(update={"step": new}) for f in step.flags]
        step.index = new
        check.index = new


def compose(steps: list[Step], checks: list[StepCheck], evidence: Evidence, retriever: Retriever,
            warnings: WarningFinder, session: SessionContext | None) -> Composition:
    pairs = list(zip(steps, checks))
    comp = Composition(steps=[], checks=[])
    pairs = procedure_first(pairs, evidence)
    pairs, comp.merged = merge_duplicates(pairs)
    pairs, comp.tried_removed = drop_tried(pairs, session)
    pairs = safety_first(pairs, evidence, warnings, comp)
    renumber(pairs)
    revision_conflicts(pairs, evidence, retriever, comp)
    comp.steps = [s for s, _ in pairs]
    comp.checks = [c for _, c in pairs]
    return comp
