"""The reasoning pipeline: evidence -> prompt -> provider -> parse -> grounding
-> confidence -> `Answer`, in Instant mode (one call) or Thinking mode
(parallel sub-tasks under one deadline with bounded concurrency: read each
photo, search, draft, verify each step with a second pass, synthesise).

Progress events carry the stage (reading_photos, searching, drafting,
verifying, synthesising, done); each step is emitted once, grounded, as soon
as the streamed reply contains it complete (stage drafting). The returned
Answer is authoritative: Thinking mode's verification may lower a streamed
step's confidence afterwards, and when the model fails mid-answer a drafting
event whose message starts with "restart:" precedes the offline engine's
steps (the app should clear the steps it has shown).

Thinking mode runs the library search before the photo pass: retrieval is
local and takes milliseconds, so running it beside the photo pass would gain
nothing and would spend model calls on questions that then abstain.

Offline engine: when `offline` is the configured provider the summary says the
answer comes from the manuals alone and no flag is raised (nothing went
wrong). When a model provider was chosen but is not configured, or fails, or
its output stays unusable after one retry, the offline engine answers and
`offline_fallback` is raised (warning) - unless fallback is not allowed, in
which case `ProviderUnavailable` is raised.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from pydantic import ValidationError

from assistant.config import Settings
from assistant.domain import (
    Answer,
    CodeRead,
    Confidence,
    Equipment,
    Flag,
    FlagCode,
    Mode,
    Observation,
    ObservationKind,
    PhotoReading,
    PreparedImage,
    ProgressEvent,
    ProviderName,
    Severity,
    SentToModel,
    Step,
)
from assistant.errors import FieldlensError, ProviderError, ProviderUnavailable
from assistant.reasoning import confidence as conf
from assistant.reasoning.cache import ResponseCache, cache_key
from assistant.reasoning.compose import compose
from assistant.reasoning.followup import SessionContext
from assistant.reasoning.grounding import StepCheck, WarningFinder, conflicting_sources, ground_step
from assistant.reasoning.parsing import ParseFailure, Parsed, complete_steps, parse_reply, partial_steps
from assistant.reasoning.prompts import (
    BuiltPrompt,
    build_answer_prompt,
    build_photo_prompt,
    build_verify_prompt,
    photo_labels,
    render_readings,
)
from assistant.reasoning.providers import OfflineContext, OfflineProvider, configuration_problem, make_provider
from assistant.reasoning.providers.base import Completion, ModelRequest, Provider
from assistant.reasoning.providers.openai import IMAGES_NOT_SENT
from assistant.reasoning.retrieval import DocInfo, Evidence, Retriever, title_tokens, gather
from assistant.reasoning.schema import ModelAnswer, ModelStep, PhotoDescription, StepVerdict, json_schema

log = logging.getLogger("fieldlens.reasoning")

EventCallback = Callable[[ProgressEvent], None]
THINKING_CONCURRENCY = 3
ANSWER_MAX_TOKENS = 1800  # room for ~10 cited steps; the smoke test lowers it for a tiny local model
READING_UNCERTAIN_BELOW = 0.60


class Emitter:
    def __init__(self, on_event: EventCallback | None) -> None:
        self.on_event = on_event

    def __call__(self, stage: str, message: str = "", fraction: float | None = None, step: Step | None = None) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(ProgressEvent(stage=stage, message=message, fraction=fraction, step=step))
        except Exception:  # a UI callback's bug must not lose the answer
            log.exception("progress callback failed")


@dataclass
class Draft:
    answer: ModelAnswer
    steps: list[Step]
    checks: list[StepCheck]
    prompt_hash: str
    repaired: bool = False
    notes: list[str] = field(default_factory=list)
    verdicts: dict[int, bool | None] = field(default_factory=dict)
    photo_notes: dict[str, str] = field(default_factory=dict)
    completions: list[Completion] = field(default_factory=list)


class StepStreamer:
    """Grounds and emits each step as soon as the streamed JSON contains it whole."""

    def __init__(self, evidence: Evidence, warnings: WarningFinder, emit: Emitter) -> None:
        self.evidence = evidence
        self.warnings = warnings
        self.emit = emit
        self.buffer: list[str] = []
        self.emitted = 0
        self.size = 0

    def feed(self, delta: str) -> None:
        self.buffer.append(delta)
        self.size += len(delta)
        if "}" not in delta and "]" not in delta:
            return
        text = "".join(self.buffer)
        count, _ = complete_steps(text)
        if count <= self.emitted:
            return
        steps = partial_steps(text)
        if not steps:
            return
        complete = min(count, len(steps))
        while self.emitted < complete:
            raw = steps[self.emitted]
            self.emitted += 1
            try:
                ms = ModelStep.model_validate(raw)
            except ValidationError:
                continue
            step, _ = ground_step(ms, self.emitted, self.evidence, self.warnings)
            self.emit("drafting", f"step {self.emitted}", step=step)


# --------------------------------------------------------------------------- calls


class Caller:
    """One provider plus the response cache, the parse-repair-retry rule and the request log."""

    def __init__(self, provider: Provider, settings: Settings) -> None:
        self.provider = provider
        self.settings = settings
        self.cache = ResponseCache(settings.cache_dir) if provider.is_model else None
        self.base_url = getattr(provider, "base_url", "")
        self.requests: list[Completion] = []

    async def structured(self, request: ModelRequest, model: type, on_text: Callable[[str], None] | None = None) -> tuple[Parsed, list[str]]:
        key = None
        if self.cache is not None:
            key = cache_key(self.provider.name.value, self.provider.model, self.base_url, request.purpose,
                            request.prompt_hash, request.images)
            hit = self.cache.get(key)
            if hit is not None:
                try:
                    parsed = parse_reply(hit, model)
                    if on_text:
                        on_text(hit)
                    self.requests.append(Completion(text=hit, cached=True))
                    return parsed, []
                except ParseFailure:
                    pass
        completion = await self.provider.complete(request, on_text)
        self.requests.append(completion)
        notes = list(completion.notes)
        try:
            parsed = parse_reply(completion.text, model)
            if not completion.finished:
                parsed.repaired = True
        except ParseFailure as failure:
            retry = dataclasses.replace(
                request,
                user=request.user + "\n\nYour previous reply could not be used: " + failure.message[:300]
                + ". Reply again with only the JSON object, following the schema exactly.")
            completion = await self.provider.complete(retry, None)
            self.requests.append(completion)
            notes += completion.notes
            try:
                parsed = parse_reply(completion.text, model)
            except ParseFailure as again:
                # an unusable reply cut by a dying server is reported as the server's failure
                raise ProviderError(completion.stopped or "The model's answer could not be understood, even after one retry.") from again
            parsed.repaired = True
            parsed.notes.append("the first reply did not fit the schema and the model was asked again")
        if key is not None and completion.finished and not parsed.repaired:
            self.cache.put(key, completion.text)
        return parsed, notes


def _answer_request(evidence: Evidence, images: list[PreparedImage], photo_notes: dict[str, str] | None) -> tuple[ModelRequest, BuiltPrompt]:
    schema = json_schema("answer")
    prompt = build_answer_prompt(evidence, schema, photo_notes)
    return ModelRequest(purpose="answer", system=prompt.system, user=prompt.user, schema=schema,
                        prompt_hash=prompt.prompt_hash, images=images, max_tokens=ANSWER_MAX_TOKENS,
                        context=OfflineContext(evidence)), prompt


async def draft_answer(caller: Caller, evidence: Evidence, images: list[PreparedImage], retriever: Retriever,
                       emit: Emitter, photo_notes: dict[str, str] | None = None) -> Draft:
    request, prompt = _answer_request(evidence, images, photo_notes)
    warnings = WarningFinder(retriever, evidence)
    streamer = StepStreamer(evidence, warnings, emit)
    emit("drafting", f"asking {caller.provider.name.value}")
    parsed, notes = await caller.structured(request, ModelAnswer, streamer.feed)
    answer: ModelAnswer = parsed.value
    steps: list[Step] = []
    checks: list[StepCheck] = []
    for i, ms in enumerate(answer.steps, start=1):
        step, check = ground_step(ms, i, evidence, warnings)
        steps.append(step)
        checks.append(check)
    if streamer.emitted < len(steps):  # steps the stream did not surface (cache, retry, repair)
        for step in steps[streamer.emitted:]:
            emit("drafting", f"step {step.index}", step=step)
    return Draft(answer=answer, steps=steps, checks=checks, prompt_hash=prompt.prompt_hash,
                 repaired=parsed.repaired, notes=notes + parsed.notes, photo_notes=photo_notes or {},
                 completions=list(caller.requests))


async def read_photos(caller: Caller, evidence: Evidence, images: list[PreparedImage], sem: asyncio.Semaphore,
                      emit: Emitter) -> tuple[dict[str, str], list[str]]:
    """Thinking sub-task: the model describes each photo (failures are noted, not fatal)."""
    labels = photo_labels(evidence)
    schema = json_schema("photo")
    notes: dict[str, str] = {}
    unsure: list[str] = []
    blind: list[bool] = []

    async def one(img: PreparedImage) -> None:
        reading = next((r for r in evidence.readings if r.photo.id == img.photo_id), None)
        sub = dataclasses.replace(evidence, readings=[reading] if reading else [])
        prompt = build_photo_prompt(labels.get(img.photo_id, "P?"), render_readings(sub), schema)
        req = ModelRequest(purpose="photo", system=prompt.system, user=prompt.user, schema=schema,
                           prompt_hash=prompt.prompt_hash, images=[img], max_tokens=500)
        async with sem:
            if blind:
                return
            try:
                parsed, notes_ = await caller.structured(req, PhotoDescription)
            except ProviderError as exc:
                unsure.append(f"Photo {labels.get(img.photo_id, '')} could not be described by the model ({exc}).")
                return
        if IMAGES_NOT_SENT in notes_:
            blind.append(True)  # the server takes no photos: a "description" would only echo the readings
            return
        d: PhotoDescription = parsed.value
        text = d.visible
        if d.legible_text:
            text += " | legible: " + "; ".join(d.legible_text)
        if d.unreadable:
            text += " | unreadable: " + "; ".join(d.unreadable)
            unsure.append(f"The model could not read on photo {labels.get(img.photo_id, '')}: {'; '.join(d.unreadable)}.")
        notes[img.photo_id] = text[:1200]
        emit("reading_photos", f"photo {labels.get(img.photo_id, '')} described")

    await asyncio.gather(*(one(img) for img in images))
    return notes, unsure


async def verify_steps(caller: Caller, draft: Draft, evidence: Evidence, sem: asyncio.Semaphore, emit: Emitter,
                       deadline: float) -> None:
    """Thinking sub-task: a yes/no second pass per cited step; unfinished checks stay None."""
    schema = json_schema("verdict")

    async def one(step: Step, check: StepCheck) -> None:
        src, _ = check.valid[0]
        quote = step.citations[0].quote
        prompt = build_verify_prompt(step.action, step.detail, src, quote, schema)
        req = ModelRequest(purpose="verdict", system=prompt.system, user=prompt.user, schema=schema,
                           prompt_hash=prompt.prompt_hash, max_tokens=200,
                           context=OfflineContext(evidence, verdict_source=src.passage.text, verdict_quote=quote))
        async with sem:
            try:
                parsed, _ = await caller.structured(req, StepVerdict)
            except ProviderError:
                return
        draft.verdicts[step.index] = bool(parsed.value.supported)
        emit("verifying", f"step {step.index} checked", fraction=len([v for v in draft.verdicts.values() if v is not None]) / max(1, len(draft.verdicts)))

    jobs = []
    for step, check in zip(draft.steps, draft.checks):
        if check.grounded:
            draft.verdicts[step.index] = None
            jobs.append(asyncio.ensure_future(one(step, check)))
    if not jobs:
        return
    remaining = max(0.1, deadline - time.monotonic())
    done, pending = await asyncio.wait(jobs, timeout=remaining)
    for job in pending:
        job.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


# --------------------------------------------------------------------------- assembly


def base_flags(evidence: Evidence, equipment: Equipment | None) -> list[Flag]:
    flags: list[Flag] = []
    seen: set[tuple[str, str | None]] = set()

    def add(flag: Flag) -> None:
        key = (flag.code.value, flag.photo)
        if key not in seen:
            seen.add(key)
            flags.append(flag)

    for r in evidence.readings:
        for f in list(r.quality.flags) + list(r.flags):
            if f.code == FlagCode.EQUIPMENT_UNIDENTIFIED:
                continue
            add(f if f.photo else f.model_copy(update={"photo": r.photo.id}))
        for o in r.observations:
            if o.kind == ObservationKind.FAULT_CODE and not o.confirmed and (o.confidence < READING_UNCERTAIN_BELOW or o.alternatives):
                alt = f" (or {', '.join(o.alternatives)})" if o.alternatives else ""
                add(Flag(code=FlagCode.READING_UNCERTAIN, severity=Severity.WARNING, photo=r.photo.id,
                         message=f"The code {o.value}{alt} was read with low confidence ({o.confidence:.2f}): check it on the display."))
    if equipment is None and evidence.equipment_id is None:
        add(Flag(code=FlagCode.EQUIPMENT_UNIDENTIFIED, severity=Severity.WARNING,
                 message="No asset tag, catalog pick or nameplate identified the equipment: the manuals searched may not be the right ones."))
    return flags


def _merge_flags(*groups: Sequence[Flag]) -> list[Flag]:
    out: list[Flag] = []
    seen: set[tuple] = set()
    for group in groups:
        for f in group:
            key = (f.code, f.step, f.photo, f.message)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def _resolve_equipment(equipment: Equipment | None, evidence: Evidence, retriever: Retriever) -> Equipment | None:
    if equipment is not None or evidence.equipment_id is None:
        return equipment
    getter = getattr(retriever, "get_equipment", None)
    if getter is None:
        return None
    try:
        found = getter(evidence.equipment_id)
    except FieldlensError:
        return None
    return found if isinstance(found, Equipment) else None


def _model_observations(draft: Draft, evidence: Evidence) -> list[Observation]:
    """The model's descriptions of the photos, kept as text observations marked source=model."""
    if IMAGES_NOT_SENT in draft.notes:
        return []  # the model never saw the photos: whatever it "describes" is not an observation
    labels = {v: k for k, v in photo_labels(evidence).items()}
    out: list[Observation] = []
    for pid, text in draft.photo_notes.items():
        out.append(Observation(photo=pid, kind=ObservationKind.TEXT, value=text, confidence=0.5, source="model"))
    if not draft.photo_notes:
        for mo in draft.answer.observations:
            pid = labels.get(mo.photo.strip().upper()) or (mo.photo if mo.photo in labels.values() else None)
            if pid and mo.visible.strip():
                out.append(Observation(photo=pid, kind=ObservationKind.TEXT, value=mo.visible.strip()[:1200],
                                       confidence=0.5, source="model"))
    return out


def _code_read(evidence: Evidence) -> CodeRead | None:
    """The code the answer is about (known codes first, then codes no manual lists), for the top of the answer."""
    for ce in sorted(evidence.codes, key=lambda c: not c.entries) + evidence.out_of_scope:
        o = ce.reading
        if o is None:
            continue
        message = (f"{o.value} was read ({o.confidence:.0%} sure)" if ce.entries else
                   f"{o.value} was read, but no manual in the library lists it")
        return CodeRead(value=o.value, kind=ObservationKind.FAULT_CODE if ce.entries else ObservationKind.UNKNOWN_CODE,
                        confidence=o.confidence, photo=o.photo, box=o.box, listed=bool(ce.entries), message=message + ".")
    return None


def _unknown_code_flags(evidence: Evidence) -> list[Flag]:
    flags = []
    for ce in evidence.unknown_codes + [c for c in evidence.out_of_scope if not c.entries and c.reading is not None]:
        o = ce.reading
        how = "read" if o is not None else "asked about"
        flags.append(Flag(code=FlagCode.NO_SOURCE, severity=Severity.WARNING, photo=o.photo if o else None,
                          message=f"{o.value if o else ce.code} was {how}, but no manual in the library lists it: "
                                  "nothing is said about this code."))
    return flags


def assemble(*, question: str, evidence: Evidence, equipment: Equipment | None, draft: Draft | None,
             provider_used: Provider, mode: Mode, flags: list[Flag], fallback: Flag | None,
             extra_unsure: list[str], timings: dict[str, float], retriever: Retriever | None = None,
             session: SessionContext | None = None) -> Answer:
    a = conf.Assessment()
    code_levels = conf.code_evidence(evidence, a)
    conf.retrieval_evidence(evidence, a)
    extra_flags: list[Flag] = []
    steps: list[Step] = []
    abstained = False
    summary = ""
    unsure: list[str] = []
    unknown_flags = _unknown_code_flags(evidence)
    if unknown_flags:
        extra_flags += unknown_flags
        for f in unknown_flags:
            a.cap(Confidence.LOW, f.message)
    only_unknown = bool(evidence.unknown_codes) and not any(ce.entries for ce in evidence.codes)
    if only_unknown:
        abstained = True
        names = ", ".join(ce.code for ce in evidence.unknown_codes)
        summary = (f"{names} was {'read' if any(c.reading for c in evidence.unknown_codes) else 'asked about'}, "
                   "but no manual in the library lists it, so nothing is said about it. "
                   "Check the code on the display, and ask the manufacturer or your supervisor.")
    elif draft is None or draft.answer.abstain or not draft.steps:
        abstained = True
        reason = "Nothing in the cached manuals covers this question."
        if draft is not None and evidence.has_evidence:
            reason = ("The model found that the passages retrieved do not answer this question."
                      if draft.answer.abstain else "The model gave no steps from the passages retrieved.")
        extra_flags.append(Flag(code=FlagCode.NO_SOURCE, severity=Severity.WARNING, message=reason + " No steps are given."))
        a.cap(Confidence.LOW, reason)
        summary = (draft.answer.summary if draft is not None and draft.answer.summary else reason)
    else:
        steps = draft.steps
        grounded = sum(1 for c in draft.checks if c.grounded)
        removed = sum(len(c.invalid_quote) + len(c.invalid_unknown) for c in draft.checks)
        conf.grounding_evidence(grounded, len(steps), removed, a)
        conf.verification_evidence(draft.verdicts, a)
        summary = draft.answer.summary.strip()
        # per-step levels: own grounding, verification, the reading of the code it rests on
        cited_codes = {s.passage.id: s.topic for s in evidence.sources if s.topic}
        for step, check in zip(steps, draft.checks):
            levels = [step.confidence]
            verdict = draft.verdicts.get(step.index)
            if verdict is False:
                levels.append(Confidence.LOW)
                step.flags.append(Flag(code=FlagCode.UNGROUNDED_STEP, severity=Severity.WARNING, step=step.index,
                                       message=f"A second check could not confirm that the cited passage supports step {step.index}."))
            for c in step.citations:
                code = cited_codes.get(c.passage_id)
                if code and code in code_levels:
                    levels.append(code_levels[code])
            step.confidence = conf.lowest(*levels)
        offered = len(steps)
        comp = compose(steps, list(draft.checks), evidence, retriever, WarningFinder(retriever, evidence), session) \
            if retriever is not None else None
        if comp is not None:
            steps = comp.steps
            if comp.conflicts:
                a.cap(Confidence.MEDIUM, "Two revisions of the same manual give different values for a step.")
            if comp.tried_removed:
                unsure.append(f"{comp.tried_removed} step(s) already tried in this session are not offered again.")
        dangerous = [s for s in steps if s.danger]
        if dangerous:
            a.cap(Confidence.LOW, "Step(s) " + ", ".join(str(s.index) for s in dangerous)
                  + " would defeat a safety function or skip isolation: do not follow them as written.")
        third_party = [s for s in steps if s.citations and all(
            (src := evidence.source_for_passage(c.passage_id)) is not None and src.authority == "third_party"
            for c in s.citations)]
        for s in third_party:
            s.confidence = conf.lowest(s.confidence, Confidence.MEDIUM)
        if third_party:
            a.cap(Confidence.MEDIUM, "Some steps rest on third-party notes only, not on the manufacturer's manual.")
        if not steps and offered:
            abstained = True
            summary = ("The manuals have nothing more for this beyond the steps already tried in this session. "
                       "Escalate: call the manufacturer's service or your supervisor.")
            extra_flags.append(Flag(code=FlagCode.NO_SOURCE, severity=Severity.WARNING,
                                    message="Every step the manuals give for this was already tried in this session."))
            a.cap(Confidence.LOW, "Every step the manuals give for this was already tried in this session.")
    if draft is not None and provider_used.is_model:
        conf.model_report(draft.answer.confidence, a)
        if draft.repaired:
            a.cap(Confidence.MEDIUM, "The model's output had to be repaired or asked for again to fit the expected form.")
            extra_flags.append(Flag(code=FlagCode.MODEL_OUTPUT_REPAIRED, severity=Severity.INFO,
                                    message="The model's output had to be repaired or asked for again to fit the expected form."))
        if IMAGES_NOT_SENT in draft.notes:
            a.cap(Confidence.MEDIUM, IMAGES_NOT_SENT)
        unsure += [f"The model: {u}" for u in draft.answer.unsure_because if u.strip()]
        if draft.answer.observations:
            for mo in draft.answer.observations:
                if mo.unreadable:
                    unsure.append(f"The model could not read on photo {mo.photo}: {'; '.join(mo.unreadable)}.")
    elif draft is not None:
        unsure += [u for u in draft.answer.unsure_because if u.strip() and u not in a.reasons]
    conflicts = conflicting_sources(evidence.sources)
    if conflicts:
        a.cap(Confidence.MEDIUM, "Two revisions of the same manual disagree.")
    if evidence.superseded and not abstained:
        older = sorted({f"{s.passage.title or s.passage.doc_id} rev {s.passage.revision}" for s in evidence.superseded})
        unsure.append("Older revisions were set aside, the newest revision answers: " + "; ".join(older[:3]) + ".")
    if any(f.code == FlagCode.EQUIPMENT_UNIDENTIFIED for f in flags):
        a.cap(Confidence.MEDIUM, "The equipment was not identified.")
        for ce in evidence.codes:
            products = {min([e.doc_id, *(d for d, _ in evidence.docs.get(e.doc_id, DocInfo()).other_revisions)])
                        for e in ce.entries}
            if len(products) > 1:
                a.cap(Confidence.LOW, f"The code {ce.code} is listed in {len(products)} different manuals and the "
                                      "equipment was not identified: the entry used may be another machine's.")
            elif ce.entries and ce.reading is None:
                named = title_tokens(evidence.question) - title_tokens(ce.code)
                titles = [s.passage.title for s in evidence.sources if s.passage.id == ce.entries[0].passage_id]
                if named and titles and not (named & title_tokens(titles[0])):
                    a.cap(Confidence.LOW, f"The code {ce.code} was found in “{titles[0]}”, which the question does "
                                          "not name: check that this is the machine's manual.")
    notes = [n for n in (draft.notes if draft else []) if n[0].isupper()]
    if fallback is not None:
        summary = "The model could not be used, so this was answered from the manuals alone. " + summary
    elif not provider_used.is_model and not abstained and not summary.lower().startswith("answered from the manuals"):
        summary = "Answered from the manuals alone. " + summary
    step_flags = [f for s in steps for f in s.flags]
    all_flags = _merge_flags(flags, [fallback] if fallback else [], extra_flags, conflicts, step_flags)
    if abstained:
        overall = Confidence.LOW
        steps = []
    else:
        overall = a.level
    unsure_all = list(dict.fromkeys(a.reasons + notes + unsure + extra_unsure))
    code_read = _code_read(evidence)
    unsure_summary = "" if overall == Confidence.HIGH else (
        (a.reasons or unsure_all or [summary])[0] if not only_unknown else (code_read.message if code_read else summary))
    return Answer(
        question=question,
        provider=provider_used.name.value,
        model=provider_used.model,
        mode=mode,
        equipment=equipment,
        observations=[o for r in evidence.readings for o in r.observations] + (_model_observations(draft, evidence) if draft else []),
        steps=steps,
        flags=all_flags,
        confidence=overall,
        abstained=abstained,
        summary=summary.strip(),
        unsure_because=unsure_all,
        unsure_summary=unsure_summary,
        code_read=code_read,
        sources=[s.passage for s in evidence.sources],
        prompt_hash=draft.prompt_hash if draft else "",
        timings_ms={k: round(v, 2) for k, v in timings.items()},
    )


# --------------------------------------------------------------------------- entry points


async def answer_question_async(question: str, *, readings: list[PhotoReading], images: list[PreparedImage],
                                equipment: Equipment | None, retriever: Retriever, settings: Settings,
                                mode: Mode = Mode.INSTANT, provider: ProviderName | None = None,
                                allow_fallback: bool | None = None,
                                on_event: EventCallback | None = None,
                                session: SessionContext | None = None) -> Answer:
    """Answer one question from photos' readings, prepared images and the library; `session`
    (from `followup.session_context`) makes it a follow-up that does not repeat tried steps.
    Raises ProviderUnavailable only when the model fails and fallback is not allowed."""
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    emit = Emitter(on_event)
    mode = Mode(mode)
    name = ProviderName(provider or settings.provider)
    allow = settings.allow_fallback if allow_fallback is None else bool(allow_fallback)
    send_images = list(images) if settings.photo_policy.send_photos else []

    emit("reading_photos", f"{len(readings)} photo(s) read on the device", fraction=0.05)
    emit("searching", "searching the manuals", fraction=0.15)
    t = time.perf_counter()
    evidence = gather(question, readings=readings, equipment=equipment, retriever=retriever, session=session)
    timings["retrieval"] = (time.perf_counter() - t) * 1000
    equipment = _resolve_equipment(equipment, evidence, retriever)
    flags = base_flags(evidence, equipment)
    extra_unsure = [f"A passage ({pid}) could not be read from the library." for pid in evidence.unreadable_passages]
    if (images or readings) and not settings.photo_policy.send_photos and name != ProviderName.OFFLINE:
        extra_unsure.append("Photos are not sent to the model (a privacy setting): it saw only the on-device readings.")

    fallback: Flag | None = None
    problem = configuration_problem(settings, name)
    if problem:
        if not allow:
            raise ProviderUnavailable(f"{problem} Answering from the manuals alone was not allowed.")
        fallback = Flag(code=FlagCode.OFFLINE_FALLBACK, severity=Severity.INFO,
                        message=f"{problem} Answered from the manuals alone.")
        name = ProviderName.OFFLINE

    draft: Draft | None = None
    used: Provider = OfflineProvider()
    if evidence.has_evidence:
        used = make_provider(settings, name)
        try:
            t = time.perf_counter()
            draft = await _run_mode(used, settings, mode, evidence, send_images, retriever, emit)
            timings["model"] = (time.perf_counter() - t) * 1000
        except ProviderError as exc:
            if not allow:
                raise ProviderUnavailable(str(exc)) from None
            log.info("provider %s failed, answering offline: %s", used.name.value, exc)
            fallback = Flag(code=FlagCode.OFFLINE_FALLBACK, severity=Severity.WARNING,
                            message=f"{exc} Answered from the manuals alone.")
            await used.aclose()
            used = OfflineProvider()
            # steps streamed so far came from the failed model: the app should start the list again
            emit("drafting", "restart: the model failed, answering from the manuals alone", fraction=0.5)
            draft = await _run_mode(used, settings, Mode.INSTANT, evidence, [], retriever, emit)
        finally:
            await used.aclose()
    emit("synthesising", "checking citations and confidence", fraction=0.9)
    t = time.perf_counter()
    answer = assemble(question=question, evidence=evidence, equipment=equipment, draft=draft, provider_used=used,
                      mode=mode, flags=flags, fallback=fallback, extra_unsure=extra_unsure, timings=timings,
                      retriever=retriever, session=session)
    answer.timings_ms["assemble"] = round((time.perf_counter() - t) * 1000, 2)
    answer.timings_ms["total"] = round((time.perf_counter() - t_start) * 1000, 2)
    if draft is not None:
        answer.sent_to_model = _traffic(draft.completions)
    emit("done", answer.summary, fraction=1.0)
    return answer


async def _run_mode(provider: Provider, settings: Settings, mode: Mode, evidence: Evidence,
                    images: list[PreparedImage], retriever: Retriever, emit: Emitter) -> Draft:
    caller = Caller(provider, settings)
    if mode == Mode.INSTANT or not provider.is_model:
        try:
            return await asyncio.wait_for(draft_answer(caller, evidence, images, retriever, emit),
                                          timeout=settings.timeout_s * (settings.max_retries + 2))
        except asyncio.TimeoutError:
            raise ProviderError("The model provider did not finish answering in time.") from None
    deadline = time.monotonic() + settings.timeout_s * 3
    sem = asyncio.Semaphore(THINKING_CONCURRENCY)
    photo_notes: dict[str, str] = {}
    unsure: list[str] = []
    if images:
        emit("reading_photos", "the model is describing each photo", fraction=0.2)
        try:
            photo_notes, unsure = await asyncio.wait_for(read_photos(caller, evidence, images, sem, emit),
                                                         timeout=max(0.1, (deadline - time.monotonic()) / 3))
        except asyncio.TimeoutError:
            unsure.append("The photos could not all be described before the deadline.")
    try:
        draft = await asyncio.wait_for(draft_answer(caller, evidence, images, retriever, emit, photo_notes),
                                       timeout=max(0.1, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        raise ProviderError("The model provider did not finish drafting the answer in time.") from None
    draft.notes += unsure
    emit("verifying", "checking each step against its source", fraction=0.7)
    await verify_steps(caller, draft, evidence, sem, emit, deadline)
    draft.completions = list(caller.requests)
    return draft


def _traffic(completions: list[Completion]) -> SentToModel:
    """The record of what was sent to a model for one answer (cached replies and the offline
    engine, which runs on the device, sent nothing)."""
    completions = [c for c in completions if c.structured != "engine"]
    sent = [c for c in completions if not c.cached]
    return SentToModel(requests=len(sent), images=sum(c.images_sent for c in sent),
                       request_bytes=sum(c.request_bytes for c in sent),
                       cached_replies=len(completions) - len(sent))


def answer_question(question: str, *, readings: list[PhotoReading], images: list[PreparedImage],
                    equipment: Equipment | None, retriever: Retriever, settings: Settings,
                    mode: Mode = Mode.INSTANT, provider: ProviderName | None = None,
                    allow_fallback: bool | None = None,
                    on_event: EventCallback | None = None,
                    session: SessionContext | None = None) -> Answer:
    """Synchronous wrapper of `answer_question_async` (safe to call from inside a running event loop:
    it then runs on a helper thread)."""
    coro_args = dict(readings=readings, images=images, equipment=equipment, retriever=retriever, settings=settings,
                     mode=mode, provider=provider, allow_fallback=allow_fallback, on_event=on_event,
                     session=session)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(answer_question_async(question, **coro_args))
    result: dict[str, object] = {}

    def runner() -> None:
        try:
            result["answer"] = asyncio.run(answer_question_async(question, **coro_args))
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=runner, name="fieldlens-answer")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["answer"]  # type: ignore[return-value]
