"""Library benchmarks: ingest pages/s over the real corpus PDFs (when ../shared is there);
ingest throughput (pages/s) on a generated library of at least
2,000 PDF pages, search latency p50/p95 over at least 10,000 pages, and page-image cold
render vs cached open. Prints figures; never asserts on time.

    python tests/bench/bench_library.py [--pages 2000] [--search-pages 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fpdf import FPDF  # noqa: E402

from assistant.library import Library  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

NOUNS = ("pump bearing seal impeller motor drive contactor fuse relay sensor valve filter belt coupling shaft "
         "gasket terminal cable encoder fan heatsink capacitor inverter compressor cooler condenser evaporator "
         "thermostat pressure switch transmitter strainer nozzle manifold actuator gearbox brake clutch spring "
         "piston cylinder hose regulator").split()
VERBS = ("check inspect replace tighten clean measure adjust lubricate isolate remove refit calibrate verify "
         "drain vent reset test align torque record").split()
ADJ = ("worn loose hot noisy blocked damaged leaking corroded misaligned overloaded contaminated cracked "
       "tripped open shorted").split()
SECTIONS = ("Safety", "Technical data", "Installation", "Commissioning", "Operation", "Maintenance",
            "Troubleshooting", "Spare parts", "Wiring", "Parameters")


SYLLABLES = ("ka to ri ne mo sa lu pe vi da go fe ni ro ta be ku mi so la ve po di ga ru te no si fa "
             "lo me").split()


def _vocabulary(size: int = 4000) -> list[str]:
    """General words of the generated manuals: technical words first, then pseudo-words;
    drawn with a Zipf law like real text (a few words everywhere, most words rare)."""
    rng = random.Random(1)
    words = list(dict.fromkeys(VERBS + NOUNS + ADJ))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


VOCABULARY = _vocabulary()
ZIPF = [1 / (rank + 1) ** 1.07 for rank in range(len(VOCABULARY))]


def words(rng: random.Random, n: int, topic: list[str]) -> list[str]:
    """n words: a third from the manual's own topic words, the rest Zipf-distributed."""
    general = rng.choices(VOCABULARY, weights=ZIPF, k=n)
    return [rng.choice(topic) if rng.random() < 0.33 else w for w in general]


def sentence(rng: random.Random, topic: list[str] | None = None) -> str:
    topic = topic or NOUNS
    body = " ".join(words(rng, rng.randint(8, 16), topic))
    return f"{rng.choice(VERBS).capitalize()} the {rng.choice(topic)} {body}; use {rng.randint(2, 90)} Nm."


def make_manual(path: Path, pages: int, seed: int) -> None:
    rng = random.Random(seed)
    topic = rng.sample(VOCABULARY[len(VERBS) + len(NOUNS) + len(ADJ):], 60) + rng.sample(NOUNS, 6)
    pdf = FPDF(format="A4")
    pdf.add_font("Sans", "", FONT)
    pdf.add_font("Sans", "B", FONT_BOLD)
    pdf.set_auto_page_break(False)
    prefix = rng.choice(["F", "E", "A", "AL", "Err "])
    for page in range(1, pages + 1):
        pdf.add_page()
        chapter = (page - 1) // max(pages // len(SECTIONS), 1) + 1
        pdf.set_font("Sans", "B", 14)
        pdf.cell(0, 9, f"{chapter}.{page} {rng.choice(SECTIONS)} of the {rng.choice(topic)} {seed}-{page}",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Sans", "", 10)
        if page % 10 == 0:
            pdf.set_font("Sans", "B", 9)
            for x, head in zip((10, 30, 80, 140), ("Code", "Description", "Cause", "Remedy")):
                pdf.text(x, 30, head)
            pdf.set_font("Sans", "", 9)
            for row in range(12):
                y = 38 + row * 9
                pdf.text(10, y, f"{prefix}{seed * 100 + page + row:04d}")
                pdf.text(30, y, f"{rng.choice(ADJ).capitalize()} {rng.choice(topic)}")
                pdf.text(80, y, f"{rng.choice(topic).capitalize()} {rng.choice(ADJ)}")
                pdf.text(140, y, f"{rng.choice(VERBS).capitalize()} the {rng.choice(topic)}")
            y = 160.0
        else:
            y = 30.0
        # prose and a numbered procedure, pre-wrapped (multi_cell is too slow for thousands of pages)
        for _ in range(5 if page % 10 else 3):
            for line in textwrap.wrap(" ".join(sentence(rng, topic) for _ in range(4)), 105):
                pdf.text(10, y, line)
                y += 5
            y += 4
        for n in range(1, 5):
            for k, line in enumerate(textwrap.wrap(f"{n}. {sentence(rng, topic)}", 105)):
                pdf.text(10 if k == 0 else 14, y, line)
                y += 5
    pdf.output(str(path))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


CORPUS = ROOT.parent / "shared" / "corpus" / "manuals"


def bench_corpus(work: Path) -> None:
    """Ingest pages/s over the real corpus PDFs (../shared, not part of the project), text-layer
    pages and OCR'd scanned pages apart, beside plain pypdfium2 text extraction of the same files."""
    import pypdfium2 as pdfium

    pdfs = sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
    if not pdfs:
        print(f"corpus ingest: skipped ({CORPUS} is not here)")
        return
    lib = Library(work / "corpus-lib")
    text_pages = text_time = ocr_pages = ocr_time = plain_time = 0.0
    for path in pdfs:
        t = time.perf_counter()
        doc = lib.add(path)
        seconds = time.perf_counter() - t
        scanned = sum(1 for p in lib.page_info(doc.id) if p.ocr)
        if scanned * 2 > doc.page_count:  # mostly scanned
            ocr_pages, ocr_time = ocr_pages + doc.page_count, ocr_time + seconds
        else:
            text_pages, text_time = text_pages + doc.page_count, text_time + seconds
            t = time.perf_counter()
            pdf = pdfium.PdfDocument(str(path))
            for page in pdf:
                page.get_textpage().get_text_range()
            pdf.close()
            plain_time += time.perf_counter() - t
    lib.close()
    print(f"corpus ingest, PDFs with a text layer (a few pages OCR'd): {text_pages:.0f} pages in {text_time:.1f} s = {text_pages / text_time:.1f} pages/s"
          f" (plain pypdfium2 text extraction: {text_pages / max(plain_time, 1e-9):.0f} pages/s)")
    if ocr_pages:
        print(f"corpus ingest, scanned PDFs (OCR): {ocr_pages:.0f} pages in {ocr_time:.1f} s = "
              f"{ocr_pages / ocr_time:.2f} pages/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000, help="pages in the ingest benchmark")
    parser.add_argument("--search-pages", type=int, default=10000, help="pages in the search index")
    parser.add_argument("--per-manual", type=int, default=100)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated library here")
    parser.add_argument("--corpus-only", action="store_true", help="only the real-corpus ingest figures")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-library-"))
    work.mkdir(parents=True, exist_ok=True)
    bench_corpus(work)
    if args.corpus_only:
        return
    src = work / "src"
    src.mkdir(exist_ok=True)
    manuals = max(1, args.search_pages // args.per_manual)
    t0 = time.perf_counter()
    files = []
    for n in range(manuals):
        path = src / f"manual-{n:03d}.pdf"
        if not path.exists():
            make_manual(path, args.per_manual, n + 1)
        files.append(path)
    print(f"generated {manuals} manuals x {args.per_manual} pages in {time.perf_counter() - t0:.1f} s")

    shutil.rmtree(work / "lib", ignore_errors=True)
    lib = Library(work / "lib")
    ingest_files = files[: max(1, args.pages // args.per_manual)]
    t0 = time.perf_counter()
    pages = 0
    for path in ingest_files:
        pages += lib.add(path).page_count or 0
    elapsed = time.perf_counter() - t0
    print(f"ingest: {pages} PDF pages in {elapsed:.1f} s = {pages / elapsed:.0f} pages/s "
          f"({sum(d.passage_count for d in lib.documents())} passages, {len(lib.known_codes())} fault codes)")
    t0 = time.perf_counter()
    for path in files[len(ingest_files):]:
        pages += lib.add(path).page_count or 0
    print(f"search index: {pages} pages, {sum(d.passage_count for d in lib.documents())} passages "
          f"(rest ingested in {time.perf_counter() - t0:.1f} s)")

    rng = random.Random(7)
    codes = sorted(lib.known_codes())
    queries = []
    for i in range(args.queries):
        kind = i % 4
        content = [w for w in words(rng, 12, rng.sample(VOCABULARY[:800], 40)) if w not in VERBS][:3]
        if kind == 0:
            queries.append(f"how do I {rng.choice(VERBS)} the {' '.join(content[:2])}")
        elif kind == 1:
            queries.append(" ".join(content + [rng.choice(NOUNS)]))
        elif kind == 2:
            queries.append(f"display shows {rng.choice(codes)} after start")
        else:
            queries.append(f"{rng.choice(SECTIONS).lower()} {rng.choice(NOUNS)} {rng.choice(ADJ)} torque")
    for q in queries[:20]:
        lib.search(q)  # warm the page cache
    for label, kwargs in (("all", {}), ("one doc", {"doc_id": lib.documents()[0].id})):
        times = []
        for q in queries:
            t = time.perf_counter()
            lib.search(q, limit=10, **kwargs)
            times.append((time.perf_counter() - t) * 1000)
        print(f"search ({label}, {len(queries)} queries over {pages} pages): p50 {pct(times, .5):.1f} ms, "
              f"p95 {pct(times, .95):.1f} ms, max {max(times):.1f} ms (target p95 <= 20 ms)")
    times = []
    for q in codes[:200]:
        t = time.perf_counter()
        lib.lookup_code(q.lower())
        times.append((time.perf_counter() - t) * 1000)
    print(f"lookup_code: p50 {pct(times, .5):.2f} ms, p95 {pct(times, .95):.2f} ms")

    doc = lib.documents()[0]
    cold, warm = [], []
    for page in range(1, 21):
        t = time.perf_counter()
        lib.page_image(doc.id, page)
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        path = lib.page_image(doc.id, page)
        path.read_bytes()
        warm.append((time.perf_counter() - t) * 1000)
    print(f"page image 1400 px: cold render p50 {statistics.median(cold):.0f} ms (p95 {pct(cold, .95):.0f} ms), "
          f"cached open p50 {statistics.median(warm):.1f} ms (p95 {pct(warm, .95):.1f} ms; target <= 30 ms)")
    lib.close()
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
