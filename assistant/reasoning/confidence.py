"""Confidence computed from evidence, by fixed rules.

Each piece of evidence gives a level (high > medium > low); the answer's
confidence is the lowest of them (it can never be higher than its weakest
essential evidence), and every level below high adds its reason to
`unsure_because`.

1. Code reading (when the answer rests on a fault code read off a photo):
   confirmed by the technician or typed in the question -> high; read with
   confidence >= 0.85 and no competing reading -> high; >= 0.60 -> medium;
   otherwise low.
2. Image quality: a photo with quality flags (blurry, dark, glare,
   overexposed, low resolution) whose reading the answer uses -> medium.
3. Retrieval: a fault-code entry found for the code -> high. Otherwise, from
   the question search: top relevant hit covering >= 75 % of the question's
   subject terms with a margin over the next hit >= 0.10 (or no competitor)
   -> high; relevant but not both -> medium. Nothing relevant -> the answer
   abstains (`no_source`) and is low.
4. Grounding: all steps with a valid citation and no citation removed -> high;
   a citation removed, or some steps ungrounded but at least half grounded ->
   medium; fewer than half grounded -> low.
5. Verification (Thinking mode's second pass): all cited steps confirmed ->
   high; any step not confirmed, or the check did not finish -> medium; half
   or more not confirmed -> low.
6. The model's own report caps the answer (a model saying "low" is believed;
   one saying "high" cannot raise anything). The offline engine reports nothing.
7. Caps at medium: conflicting sources, equipment unidentified, the model's
   output had to be repaired or was cut off, the photos could not be sent.

A step's confidence is the lowest of its own grounding (exact quotes high,
fuzzy quotes medium, none low), its verification result, and rules 1-2 when it
cites the entry or procedure of a code read off a photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.domain import Confidence, FlagCode, Observation
from assistant.reasoning.retrieval import Evidence

ORDER = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
IMAGE_FLAGS = {FlagCode.IMAGE_BLURRY, FlagCode.IMAGE_DARK, FlagCode.IMAGE_OVEREXPOSED, FlagCode.IMAGE_GLARE,
               FlagCode.IMAGE_LOW_RESOLUTION}


def lowest(*levels: Confidence) -> Confidence:
    return min(levels, key=ORDER.__getitem__) if levels else Confidence.HIGH


@dataclass
class Assessment:
    level: Confidence = Confidence.HIGH
    reasons: list[str] = field(default_factory=list)

    def cap(self, level: Confidence, reason: str) -> None:
        if ORDER[level] < ORDER[Confidence.HIGH] and reason not in self.reasons:
            self.reasons.append(reason)
        self.level = lowest(self.level, level)


def reading_level(obs: Observation) -> Confidence:
    if obs.confirmed:
        return Confidence.HIGH
    if obs.confidence >= 0.85 and not obs.alternatives:
        return Confidence.HIGH
    if obs.confidence >= 0.60:
        return Confidence.MEDIUM
    return Confidence.LOW


def code_evidence(evidence: Evidence, a: Assessment) -> dict[str, Confidence]:
    """Rules 1-2 for each code the answer rests on; returns code -> level."""
    levels: dict[str, Confidence] = {}
    flagged_photos = {r.photo.id: [f.code.value for f in r.quality.flags if f.code in IMAGE_FLAGS]
                      for r in evidence.readings}
    for ce in evidence.codes:
        if not ce.entries:
            continue
        if ce.reading is None:
            levels[ce.code] = Confidence.HIGH
            continue
        level = reading_level(ce.reading)
        if level != Confidence.HIGH:
            a.cap(level, f"The code {ce.code} was read off the photo with confidence {ce.reading.confidence:.2f}"
                         + (f" (it could also be {', '.join(ce.reading.alternatives)})" if ce.reading.alternatives else "")
                         + ".")
        problems = flagged_photos.get(ce.reading.photo) or []
        if problems and not ce.reading.confirmed:
            level = lowest(level, Confidence.MEDIUM)
            a.cap(Confidence.MEDIUM, f"The photo the code {ce.code} was read from is {', '.join(p.replace('image_', '') for p in problems)}.")
        levels[ce.code] = level
    return levels


def retrieval_evidence(evidence: Evidence, a: Assessment) -> None:
    if any(ce.entries for ce in evidence.codes):
        return
    if not evidence.relevant_search:
        a.cap(Confidence.LOW, "Nothing in the cached manuals covers this question.")
        return
    strong = evidence.top_coverage >= 0.75 and (evidence.margin is None or evidence.margin >= 0.10)
    if not strong:
        a.cap(Confidence.MEDIUM, "The manual passages found match the question only partly, or several match about equally well.")


def grounding_evidence(grounded: int, total: int, removed: int, a: Assessment) -> None:
    if total == 0:
        return
    if grounded * 2 < total:
        a.cap(Confidence.LOW, f"Only {grounded} of {total} steps are backed by a checked citation.")
    elif grounded < total:
        a.cap(Confidence.MEDIUM, f"{total - grounded} of {total} steps are not backed by a checked citation.")
    if removed:
        a.cap(Confidence.MEDIUM, f"{removed} citation(s) given by the model did not check out and were removed.")


def verification_evidence(verdicts: dict[int, bool | None], a: Assessment) -> None:
    if not verdicts:
        return
    failed = sum(1 for v in verdicts.values() if v is False)
    unknown = sum(1 for v in verdicts.values() if v is None)
    if failed * 2 >= len(verdicts) and failed:
        a.cap(Confidence.LOW, f"The second check could not confirm {failed} of {len(verdicts)} steps against their sources.")
    elif failed:
        a.cap(Confidence.MEDIUM, f"The second check could not confirm {failed} step(s) against their sources.")
    if unknown:
        a.cap(Confidence.MEDIUM, f"{unknown} step(s) could not be checked a second time before the deadline.")


def model_report(level: str | None, a: Assessment) -> None:
    if level is None:
        return
    try:
        reported = Confidence(level)
    except ValueError:
        return
    if reported != Confidence.HIGH:
        a.cap(reported, f"The model itself reported {reported.value} confidence.")
