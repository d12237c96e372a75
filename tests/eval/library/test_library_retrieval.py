"""Retrieval quality over the bundled sample library: recall@1 and recall@5 of the section
a technician needs, for a question set written against the sample manuals (questions.yaml).
Prints the figures and every miss; asserts recall@5 >= 0.9."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.library import Library

QUESTIONS = Path(__file__).with_name("questions.yaml")


def _as_list(value) -> list:
    """A value or a (possibly nested, via YAML anchors) list of values, flattened."""
    if not isinstance(value, list):
        return [value]
    return [x for v in value for x in _as_list(v)]


@pytest.fixture(scope="module")
def sample_library(tmp_path_factory, sample_library_dir):
    catalog = sample_library_dir / "catalog.yaml"
    assert catalog.exists(), "the bundled sample library (assets/library/catalog.yaml) is missing"
    lib = Library(tmp_path_factory.mktemp("eval-library"))
    lib.seed(catalog)
    yield lib, sample_library_dir
    lib.close()


def _rank(lib: Library, root: Path, item: dict, k: int = 5) -> int | None:
    docs = {str((root / d).resolve()) for d in _as_list(item["doc"])}
    doc_ids = {d.id for d in lib.documents() if d.source and str(Path(d.source).resolve()) in docs}
    sections = set(_as_list(item["section"]))
    code = item.get("code")
    hits = lib.search(item["q"], equipment_id=item.get("equipment"), limit=k)
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id not in doc_ids or hit.section not in sections:
            continue
        if code and not lib.passage(hit.passage_id).text.upper().startswith(code.upper()):
            continue
        return rank
    return None


def test_recall_at_5(sample_library):
    lib, root = sample_library
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    questions = data["questions"]
    assert len(questions) >= 60
    ranks = [_rank(lib, root, item) for item in questions]
    n = len(ranks)
    r1 = sum(1 for r in ranks if r == 1) / n
    r5 = sum(1 for r in ranks if r is not None) / n
    mrr = sum(1 / r for r in ranks if r) / n
    print(f"\nlibrary retrieval: {n} questions, recall@1 {r1:.3f}, recall@5 {r5:.3f}, MRR {mrr:.3f}")
    for item, rank in zip(questions, ranks):
        if rank != 1:
            top = lib.search(item["q"], equipment_id=item.get("equipment"), limit=1)
            got = f"{top[0].doc_id} / {top[0].section}" if top else "nothing"
            print(f"  rank {rank or '>5'}: {item['q']!r} -> top was {got}")
    assert r5 >= 0.9
