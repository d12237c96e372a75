"""Does confidence mean something? Labelled asks, answered by the offline engine
over a real Library, scored for right / wrong, bucketed by the confidence the
answer carried; printed per level with the abstention rates.

Asks (generated from the libraries' own contents, no answer is hard-coded):
- sample library (assets/library): every fault code of every equipment, typed
  in the question and read off a display at a high, a middling and a low read
  confidence; the demo display photos read on the device; every work
  instruction asked for by its task; questions about something else on the
  same machine with a code photo in the session; uncovered questions with
  and without a code photo; codes no manual lists (unknown_code readings);
- real manuals (../shared/corpus/manuals, questions.json and key.json): each
  keyed code asked for with the product named, plus uncovered questions.

Right means: a covered ask is answered (not abstained) and a step cites the
expected entry or document, never a superseded revision (and where the
revisions disagree, the step carries `conflicting_sources`); an uncovered ask
abstains. An answer can only be right when the library found the entry, so
the corpus part measures the library and reasoning together; its figures are
printed beside the share of keyed entries the library recognises.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "reasoning"))

from assistant.config import Settings  # noqa: E402
from assistant.domain import (  # noqa: E402
    Answer,
    FlagCode,
    Observation,
    ObservationKind,
    Photo,
    PhotoReading,
    QualityReport,
)
from assistant.errors import FieldlensError  # noqa: E402
from assistant.reasoning import answer_question  # noqa: E402

library_mod = pytest.importorskip("assistant.library", reason="the library package is not available")

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus" / "manuals"

UNCOVERED = [
    "How do I descale an espresso machine?",
    "What tyre pressure should my car have?",
    "How do I replace the flux capacitor on a toaster?",
    "My dishwasher leaves white spots on glasses, what now?",
    "How do I reset the router's wifi password?",
    "How often should I feed a sourdough starter?",
    "What is the warranty period for the garage door opener?",
    "How do I tune a guitar to drop D?",
    "How do I change the ink cartridge in the office printer?",
    "Why does my smartphone battery drain overnight?",
    "How do I calibrate a bathroom scale?",
    "What paint do I need for a wooden fence?",
    "How do I bleed the brakes on a mountain bike?",
    "What is the best fertiliser for tomatoes?",
    "How do I unblock a kitchen sink?",
    "How long should I boil an egg?",
    "My laptop screen flickers, what can I do?",
    "How do I replace a car's windscreen wiper blades?",
    "How do I sharpen a chainsaw chain?",
    "What oil does a lawn mower engine take?",
]
CODE_QUESTIONS = ["What should I do?", "The machine stopped and shows this.", "What does this mean?",
                  "It tripped again, what now?", "Help, it won't start."]
READ_CONFIDENCES = (0.97, 0.72, 0.45)
# A shaky read is sometimes a misread: one in MISREAD_EVERY[c] reads at confidence c shows a
# neighbouring code instead of the true one (the ask still expects the true code's entry), so the
# eval checks that answers resting on shaky reads are marked down, not that reads are right.
MISREAD_EVERY = {0.97: 0, 0.72: 6, 0.45: 2}


@dataclass
class Ask:
    part: str  # sample | corpus
    label: str  # covered | uncovered
    kind: str  # what sort of ask, for the printout
    question: str
    readings: list[PhotoReading]
    equipment_id: str | None
    expect_passages: set[str]  # a step must cite one of these (covered asks) ...
    expect_docs: set[str]  # ... or a passage of one of these documents
    superseded_docs: set[str]
    conflict_expected: bool = False
    expect_pages: set[tuple[str, int]] = field(default_factory=set)  # ... or a passage on one of these pages


def reading_with(code: str, confidence: float, kind: ObservationKind = ObservationKind.FAULT_CODE,
                 photo_id: str = "e" * 64, equipment_id: str | None = None) -> PhotoReading:
    quality = QualityReport(width=1600, height=1200, sharpness=300.0, brightness=120.0, overexposed_fraction=0.0,
                            glare_fraction=0.0)
    obs = Observation(photo=photo_id, kind=kind, value=code, confidence=confidence, raw=code, source="display_pass",
                      equipment_id=equipment_id)
    return PhotoReading(photo=Photo(id=photo_id, filename="display.jpg", width=1600, height=1200, quality=quality),
                        quality=quality, observations=[obs])


def score(ask: Ask, answer: Answer) -> bool:
    if ask.label == "uncovered":
        return answer.abstained and not answer.steps
    if answer.abstained or not answer.steps:
        return False
    cited = [c for s in answer.steps for c in s.citations]
    if any(c.doc_id in ask.superseded_docs for c in cited):
        return False
    hit = any(c.passage_id in ask.expect_passages or c.doc_id in ask.expect_docs or (c.doc_id, c.page) in ask.expect_pages
              for c in cited)
    if not hit:
        return False
    if ask.conflict_expected:
        return any(f.code == FlagCode.CONFLICTING_SOURCES for s in answer.steps for f in s.flags)
    return True


def superseded(lib) -> set[str]:
    out = set()
    for doc in lib.documents():
        family = [d for d in lib.revisions(doc.id) if d.revision]
        newest = max(family, key=lambda d: library_mod.revision_key(d.revision)) if family else doc
        out |= {d.id for d in family if d.id != newest.id}
    return out


# --------------------------------------------------------------------------- the sample library


def sample_asks(lib, demo_readings: list[tuple[PhotoReading, str, str]]) -> list[Ask]:
    old = superseded(lib)
    asks: list[Ask] = []
    for eq in lib.equipment():
        codes = [fc for fc in lib.fault_codes(eq.id) if fc.doc_id not in old]
        for i, fc in enumerate(codes):
            entries = lib.lookup_code(fc.code, eq.id)
            expect = {e.passage_id for e in entries if e.doc_id not in old}
            older = [e for e in entries if e.doc_id in old]
            conflict = any(_values(e.remedy) != _values(fc.remedy) for e in older)
            asks.append(Ask("sample", "covered", "code typed", f"What does {fc.code} mean on the {eq.model}?", [],
                            eq.id, expect, set(), old, conflict))
            conf = READ_CONFIDENCES[i % len(READ_CONFIDENCES)]
            every = MISREAD_EVERY[conf]
            misread = bool(every) and (i // len(READ_CONFIDENCES)) % every == 0
            shown = codes[(i + 1) % len(codes)].code if misread else fc.code
            asks.append(Ask("sample", "covered", f"code read {conf:.2f}" + (" (misread)" if misread else ""),
                            CODE_QUESTIONS[i % len(CODE_QUESTIONS)], [reading_with(shown, conf, equipment_id=eq.id)],
                            eq.id, expect,
                            set(), old, conflict))
        for doc in lib.documents(eq.id):
            if doc.kind.value == "work_instruction":
                asks.append(Ask("sample", "covered", "work instruction", f"How do I do this: {doc.title.split(':', 1)[-1]}?",
                                [], eq.id, set(), {doc.id}, old))
        if codes:
            fan = next((d for d in lib.documents(eq.id) if d.kind.value == "work_instruction"), None)
            photo = [reading_with(codes[0].code, 0.95, equipment_id=eq.id)]
            for q in UNCOVERED[:6]:
                asks.append(Ask("sample", "uncovered", "uncovered, code photo", q, photo, eq.id, set(), set(), old))
            asks.append(Ask("sample", "uncovered", "unknown code", "What does this code mean?",
                            [reading_with("E902.1", 0.95, ObservationKind.UNKNOWN_CODE, equipment_id=eq.id)],
                            eq.id, set(), set(), old))
            if fan is not None and codes[0].code.lower() not in fan.title.lower():
                asks.append(Ask("sample", "covered", "other topic, code photo",
                                f"How do I do this: {fan.title.split(':', 1)[-1]}?", photo, eq.id, set(), {fan.id}, old))
    for q in UNCOVERED:
        asks.append(Ask("sample", "uncovered", "uncovered", q, [], None, set(), set(), old))
    for reading, eq_id, code in demo_readings:
        entries = lib.lookup_code(code, eq_id)
        asks.append(Ask("sample", "covered", "demo photo", "What should I do?", [reading], eq_id,
                        {e.passage_id for e in entries if e.doc_id not in old}, set(), old))
        asks.append(Ask("sample", "uncovered", "uncovered, demo photo", UNCOVERED[0], [reading], eq_id, set(), set(), old))
    return asks


def _values(text: str) -> list[str]:
    import re

    return sorted(re.findall(r"\d+(?:\.\d+)?", text))


# --------------------------------------------------------------------------- the real manuals


def corpus_asks(lib, files: dict[str, str]) -> tuple[list[Ask], int, int]:
    key = json.loads((CORPUS / "key.json").read_text())
    questions = json.loads((CORPUS / "questions.json").read_text())
    asks: list[Ask] = []
    recognised = 0
    for item in key:
        doc = files.get(item["file"])  # None: the library could not read the file (the ask can't be right)
        entries = [e for e in lib.lookup_code(item["code"]) if e.doc_id == doc] if doc else []
        recognised += bool(entries)
        product = lib.document(doc).title if doc else Path(item["file"]).stem.replace("-", " ")
        asks.append(Ask("corpus", "covered", "keyed code", f"{product}: what does {item['code']} mean?", [], None,
                        {e.passage_id for e in entries}, set(), set(),
                        expect_pages={(doc, item["page"])} if doc and item.get("page") else set()))
    for item in questions:
        doc = files.get(item["file"])
        entries = [e for e in lib.lookup_code(item["code"]) if e.doc_id == doc] if doc and item.get("code") else []
        asks.append(Ask("corpus", "covered", "question", item["question"], [], None,
                        {e.passage_id for e in entries}, set(), set(),
                        expect_pages={(doc, item["page"])} if doc and item.get("page") else set()))
    for q in UNCOVERED:
        asks.append(Ask("corpus", "uncovered", "uncovered", q, [], None, set(), set(), set()))
    return asks, recognised, len(key)


# --------------------------------------------------------------------------- running and reporting


def run(asks: list[Ask], lib, home: Path) -> list[tuple[Ask, Answer, bool]]:
    settings = Settings(home=home)
    out = []
    for ask in asks:
        eq = lib.get_equipment(ask.equipment_id) if ask.equipment_id else None
        answer = answer_question(ask.question, readings=ask.readings, images=[], equipment=eq, retriever=lib,
                                 settings=settings)
        out.append((ask, answer, score(ask, answer)))
    return out


@dataclass
class Figures:
    n: int
    by_level: dict[str, tuple[int, int]]  # level -> (right, total) over answers that give steps
    uncovered_abstain: float
    covered_abstain: float

    def accuracy(self, level: str) -> float | None:
        right, total = self.by_level.get(level, (0, 0))
        return right / total if total else None


def report(title: str, results: list[tuple[Ask, Answer, bool]]) -> Figures:
    by_level: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    kinds: dict[str, Counter] = defaultdict(Counter)
    abstained = [0, 0]
    for ask, answer, right in results:
        kinds[ask.kind]["right" if right else "wrong"] += 1
        if answer.abstained:
            abstained[0] += right
            abstained[1] += 1
            continue
        by_level[answer.confidence.value][0] += right
        by_level[answer.confidence.value][1] += 1
    uncovered = [a for a, _, _ in results if a.label == "uncovered"]
    covered = [a for a, _, _ in results if a.label == "covered"]
    u_abs = sum(ans.abstained for a, ans, _ in results if a.label == "uncovered") / max(1, len(uncovered))
    c_abs = sum(ans.abstained for a, ans, _ in results if a.label == "covered") / max(1, len(covered))
    print(f"\n{title}: {len(results)} asks ({len(covered)} covered, {len(uncovered)} uncovered)")
    for level in ("high", "medium", "low"):
        right, total = by_level.get(level, [0, 0])
        acc = f"{right / total:6.1%}" if total else "     -"
        print(f"  {level:<6} {acc} right  ({right}/{total} answers with steps)")
    print(f"  abstained: {abstained[1]} ({abstained[0]} of them rightly)")
    print(f"  uncovered questions that abstain: {u_abs:.1%};  covered questions that abstain: {c_abs:.1%}")
    for kind, c in sorted(kinds.items()):
        print(f"    {kind:<26} right {c['right']:>4}  wrong {c['wrong']:>4}")
    return Figures(len(results), {k: (v[0], v[1]) for k, v in by_level.items()}, u_abs, c_abs)


def assert_targets(f: Figures, *, covered_abstain: bool = True) -> None:
    high, medium, low = f.accuracy("high"), f.accuracy("medium"), f.accuracy("low")
    assert high is None or high >= 0.95, f"answers marked high are right {high:.1%} of the time (target 95 %)"
    assert medium is None or medium >= 0.75, f"answers marked medium are right {medium:.1%} of the time (target 75 %)"
    if high is not None and medium is not None:
        assert high >= medium, "high must be more often right than medium"
    if medium is not None and low is not None:
        assert medium >= low, "medium must be more often right than low"
    assert f.uncovered_abstain >= 0.95, f"only {f.uncovered_abstain:.1%} of uncovered questions abstain (target 95 %)"
    if covered_abstain:
        assert f.covered_abstain <= 0.05, f"{f.covered_abstain:.1%} of covered questions abstain (target at most 5 %)"


@pytest.fixture(scope="module")
def sample_library(tmp_path_factory, sample_library_dir):
    lib = library_mod.Library(tmp_path_factory.mktemp("eval-sample-lib"))
    lib.seed(sample_library_dir / "catalog.yaml")
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def demo_readings(sample_library, demo_photos_dir):
    perception = pytest.importorskip("assistant.perception", reason="the perception package is not available")
    imaging = pytest.importorskip("assistant.imaging", reason="the imaging package is not available")
    manifest = json.loads((demo_photos_dir / "manifest.json").read_text())
    out = []
    for entry in manifest:
        if entry["kind"] != "display" or not entry["codes"]:
            continue
        reading = perception.read_photo(imaging.load_photo(demo_photos_dir / entry["file"]), sample_library,
                                        entry["equipment_id"])
        out.append((reading, entry["equipment_id"], entry["codes"][0]))
    return out


def test_sample_library_confidence_means_something(sample_library, demo_readings, tmp_path):
    asks = sample_asks(sample_library, demo_readings)
    assert len(asks) >= 150, f"only {len(asks)} labelled asks"
    results = run(asks, sample_library, tmp_path)
    figures = report("Sample library", results)
    wrong = [f"{a.kind}: {a.question} -> {ans.confidence.value}, abstained={ans.abstained}"
             for a, ans, right in results if not right][:15]
    print("  wrong (first 15):", *wrong, sep="\n    ")
    assert_targets(figures)


@pytest.fixture(scope="module")
def corpus_library(tmp_path_factory):
    if not (CORPUS / "key.json").exists():
        pytest.skip(f"the real-manual corpus is not at {CORPUS}")
    lib = library_mod.Library(tmp_path_factory.mktemp("eval-corpus-lib"))
    files = {}
    unreadable = []
    for path in sorted(CORPUS.iterdir()):
        if path.name in {"key.json", "questions.json", "SOURCES.md"}:
            continue
        try:
            files[path.name] = lib.add(path).id
        except FieldlensError as exc:
            unreadable.append(f"{path.name} ({exc})")
    print(f"\nthe library could not read {len(unreadable)} corpus file(s): {unreadable}")
    yield lib, files
    lib.close()


@pytest.fixture(scope="module")
def corpus_results(corpus_library, tmp_path_factory):
    lib, files = corpus_library
    asks, recognised, keyed = corpus_asks(lib, files)
    results = run(asks, lib, tmp_path_factory.mktemp("eval-corpus-home"))
    figures = report("Real manuals", results)
    print(f"  the library recognises {recognised} of {keyed} keyed fault-code entries ({recognised / keyed:.1%})")
    found = [(a, ans, r) for a, ans, r in results if a.label == "uncovered" or a.expect_passages]
    found_figures = report("Real manuals, asks whose entry the library found", found)
    return figures, found_figures


def test_real_manuals_confidence_means_something(corpus_results):
    """High and medium must be right as often as promised and uncovered questions must abstain,
    whatever the library recognises; covered questions must be answered whenever the library
    found their entry (an answer cannot be right without it)."""
    figures, found_figures = corpus_results
    assert_targets(figures, covered_abstain=False)
    assert_targets(found_figures)


def test_real_manuals_covered_questions_are_answered(corpus_results):
    figures, _ = corpus_results
    assert figures.covered_abstain <= 0.05, f"{figures.covered_abstain:.1%} of covered questions abstain"


def _flagged_sentences(lib) -> tuple[int, list[str]]:
    import re

    from assistant.reasoning.hazards import danger_in

    total, flagged = 0, []
    for doc in lib.documents():
        for passage in lib.passages(doc.id):
            for sentence in re.split(r"(?<=[.!?;])\s+|\n+", passage.text):
                if len(sentence) < 8:
                    continue
                total += 1
                if danger_in(sentence):
                    flagged.append(f"{doc.id}: {sentence[:100]}")
    return total, flagged


def test_real_manuals_own_text_is_rarely_taken_for_a_dangerous_instruction(corpus_library):
    """The danger rules read the manufacturer's own sentences (in five languages) as safe: at most
    one sentence in a thousand is flagged, so a flag on a step means something."""
    lib, _ = corpus_library
    total, flagged = _flagged_sentences(lib)
    print(f"\ndanger rules over the real manuals: {len(flagged)} of {total} sentences flagged", *flagged[:10],
          sep="\n  ")
    assert total > 1000
    assert len(flagged) / total <= 0.001


def test_sample_library_text_has_no_dangerous_instruction(sample_library):
    total, flagged = _flagged_sentences(sample_library)
    assert total > 100 and flagged == []
