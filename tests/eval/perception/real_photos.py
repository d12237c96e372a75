"""Evaluation of the on-device read over the real camera photos in ../shared/corpus/photos
(displays, barcodes, labels, photos with no code), side by side with plain rapidocr and plain
zxing-cpp on the same photos. Used by test_real_photos.py; runnable on its own:

    python tests/eval/perception/real_photos.py [--only SUBSTRING] [--verbose]

The library is a real one: a Markdown fault table, ingested into a temporary library, listing the
displayed values the library's code grammar accepts as codes plus a few lettered codes (so that a
photo with no code has codes to be mistaken for). Display values it does not accept are readings
(`display_value`). Nothing here is cached across runs except the plain-rapidocr baseline, which is
not what is measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.domain import ObservationKind  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "photos"
# Codes no photo shows: a reader that invents codes (postal codes, pack numbers) is caught on them.
DECOY_CODES = ("H20", "86.01", "E-21", "F004", "Err 07", "2310", "501", "A12", "OC1", "E3", "103.02", "66.00")
# Nameplate keys that name what identifies the machine (model, type, serial, part or reference
# number, VIN, registration number), as the annotation spells them.
IDENTITY_KEYS = {"model", "type", "serial", "part no", "spare no", "vin", "regulatory model", "model code",
                 "ser. no.", "ref. no.", "code", "engine model", "manufacturer code", "dvgw-reg.-nr.", "v.c.",
                 "c.v."}
# Identity fields printed with no label beside them, checked by eye on each photo: a VIN alone on its
# line, a vehicle type with no "TYPE:", a meter's serial and model printed bare. They are scored apart
# (the target is on labelled fields); everything else in IDENTITY_KEYS has its label on the plate.
UNLABELLED = {
    "quagga2__test_fixtures_code_39_vin_image-001.jpg": {"type"},
    "quagga2__test_fixtures_code_39_vin_image-002.jpg": {"vin", "type", "model code"},
    "quagga2__test_fixtures_code_39_vin_image-003.jpg": {"vin"},
    "quagga2__test_fixtures_code_39_vin_image-004.jpg": {"vin", "type", "code"},
    "quagga2__test_fixtures_code_39_vin_image-005.jpg": {"vin", "type"},
    "quagga2__test_fixtures_code_39_vin_image-006.jpg": {"vin"},
    "quagga2__test_fixtures_code_39_vin_image-008.jpg": {"vin", "type"},
    "trebisov__images_nameplate.jpg": {"type"},
    "nliaudat-watermeter__sample.jpg": {"serial"},
    "jomjol-wms__code_image_tmp_org.jpg": {"serial", "model"},
    "jomjol-aiedge__sd-card_config_reference.jpg": {"serial", "model"},
    "banati-gasmeter__demo_images_gas_meter_whole.png": {"model"},
}
READING_KINDS = (ObservationKind.FAULT_CODE, ObservationKind.DISPLAY_VALUE, ObservationKind.UNKNOWN_CODE)


def corpus_present() -> bool:
    return (CORPUS / "cases.json").is_file()


def load_cases() -> list[dict]:
    return json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))


def as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _norm(text: str) -> str:
    return re.sub(r"[\s]+", "", str(text)).upper()


def _loose(text: str) -> str:
    return re.sub(r"[^0-9A-Z]+", "", str(text).upper())


def build_library(cases: list[dict], root: Path):
    """A real library from a Markdown fault table of every displayed value plus the decoys."""
    from assistant.library import Library

    values = sorted({v for c in cases if c["kind"] == "display" for v in as_list(c["expected"])} | set(DECOY_CODES))
    rows = "\n".join(f"| {v} | Condition {i} | Check the unit (entry {i}). |" for i, v in enumerate(values))
    md = root / "display-faults.md"
    md.write_text("# Test unit fault table\n\n## Fault codes\n\n| Code | Fault | Remedy |\n|---|---|---|\n"
                  + rows + "\n", encoding="utf-8")
    lib = Library(root / "library")
    lib.add(md)
    return lib


# --------------------------------------------------------------------------- baselines


class PlainOcr:
    """rapidocr with its default settings on the whole photo; results cached by file content in a
    temp diskcache (only this baseline is cached: it is what we compare with, not what we measure)."""

    def __init__(self) -> None:
        import diskcache
        import rapidocr
        from rapidocr import RapidOCR

        self.engine = None
        self._make = RapidOCR
        self.cache = diskcache.Cache(str(Path(tempfile.gettempdir()) / "fieldlens-eval-plain-rapidocr"))
        self.version = getattr(rapidocr, "__version__", "?")

    def lines(self, path: Path) -> list[str]:
        key = f"{self.version}:{hashlib.sha1(path.read_bytes()).hexdigest()}"
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if self.engine is None:
            import logging

            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            self.engine = self._make(params={"Global.log_level": "error"})
        import cv2

        result = self.engine(cv2.imread(str(path)))
        txts = [str(t) for t in (getattr(result, "txts", None) or ())]
        self.cache.set(key, txts)
        return txts


NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def plain_ocr_values(texts: list[str]) -> set[str]:
    """Every number plain OCR text holds, as written (spaces inside a line removed)."""
    out: set[str] = set()
    for t in texts:
        for m in NUMBER.finditer(t.replace(" ", "")):
            out.add(m.group(0))
    return out


def plain_zxing(path: Path) -> list[str]:
    import cv2
    import zxingcpp

    img = cv2.imread(str(path))
    return [b.text for b in zxingcpp.read_barcodes(img) if b.valid and b.text]


def upc_equal(expected: str, got: str) -> bool:
    return got == expected or (len(expected) == 12 and got == "0" + expected)


# --------------------------------------------------------------------------- run


@dataclass
class Row:
    case: dict
    readings: list[tuple] = field(default_factory=list)  # kind, value, unit, conf
    tags: list[str] = field(default_factory=list)
    plate: list[tuple[str, str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    quality: dict = field(default_factory=dict)
    ms: float = 0.0
    plain_values: set[str] = field(default_factory=set)
    plain_texts: list[str] = field(default_factory=list)
    plain_tags: list[str] = field(default_factory=list)


def run(only: str | None = None, baselines: bool = True) -> tuple[list[Row], set[str]]:
    from assistant.imaging import load_photo
    from assistant.perception import read_photo, warm_up

    cases = [c for c in load_cases() if only is None or any(o in c["file"] for o in only.split(","))]
    plain = PlainOcr() if baselines else None
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        lib = build_library(load_cases(), Path(tmp))
        known = lib.known_codes()
        warm_up()
        try:
            for case in cases:
                path = CORPUS / case["file"]
                photo = load_photo(path)
                t0 = time.perf_counter()
                reading = read_photo(photo, lib)
                row = Row(case, ms=(time.perf_counter() - t0) * 1000)
                for o in reading.observations:
                    if o.kind in READING_KINDS:
                        row.readings.append((o.kind.value, o.value, o.unit, o.confidence, o.source))
                    elif o.kind == ObservationKind.ASSET_TAG:
                        row.tags.append(o.value)
                    elif o.kind == ObservationKind.NAMEPLATE:
                        row.plate.append((o.field or "", o.value))
                row.flags = [f.code.value for f in reading.flags]
                row.quality = reading.quality.model_dump(exclude={"flags"})
                if plain is not None:
                    if case["kind"] == "barcode":
                        row.plain_tags = plain_zxing(path)
                    else:
                        row.plain_texts = plain.lines(path)
                        row.plain_values = plain_ocr_values(row.plain_texts)
                rows.append(row)
        finally:
            lib.close()
    return rows, known


# --------------------------------------------------------------------------- score


def display_score(row: Row, known: set[str]) -> tuple[int, int, int, int]:
    """(values read, values shown, false readings, plain-ocr values read) for a display photo.
    A known code must come back as that `fault_code`; any other value as a `display_value`."""
    expected = [str(v) for v in as_list(row.case["expected"])]
    extra = {_norm(v) for v in as_list(row.case.get("also_visible"))}
    got_kind = {(k, _norm(v)) for k, v, *_ in row.readings}
    read = 0
    for v in expected:
        want = "fault_code" if v in known else "display_value"
        if (want, _norm(v)) in got_kind:
            read += 1
    expected_norm = {_norm(v) for v in expected}
    false = sum(1 for _k, v, *_ in row.readings if _norm(v) not in expected_norm and _norm(v) not in extra)
    plain_read = sum(1 for v in expected if v in row.plain_values)
    return read, len(expected), false, plain_read


def label_fields(case: dict, labelled: bool = True) -> list[str]:
    """The identity fields of a nameplate case that carry a printed label (or, `labelled=False`,
    those printed bare); unreadable fields (null) are not scored."""
    bare = UNLABELLED.get(Path(case["file"]).name, set())
    return [str(v) for k, v in case["expected"].items()
            if k.lower() in IDENTITY_KEYS and v and (k.lower() not in bare) == labelled]


def label_score(row: Row, labelled: bool = True) -> tuple[int, int]:
    wanted = label_fields(row.case, labelled)
    got = {_loose(v) for _f, v in row.plate}
    return sum(1 for v in wanted if _loose(v) in got), len(wanted)


def barcode_score(row: Row) -> tuple[int, int, int, int]:
    """(codes read, codes shown, false codes, plain zxing codes read)."""
    expected = [str(v) for v in as_list(row.case["expected"])]
    ours = sum(1 for e in expected if any(t == e for t in row.tags))
    plain = sum(1 for e in expected if any(upc_equal(e, t) for t in row.plain_tags))
    false = sum(1 for t in row.tags if t not in expected)
    return ours, len(expected), false, plain


def metrics(rows: list[Row], known: set[str]) -> dict:
    m: dict = defaultdict(float)
    d = [r for r in rows if r.case["kind"] == "display" and not r.case.get("negative")]
    neg = [r for r in rows if r.case.get("negative")]
    if d:
        s = [display_score(r, known) for r in d]
        m["display_values"] = sum(x[1] for x in s)
        m["display_read"] = sum(x[0] for x in s) / m["display_values"]
        m["display_photos_all_read"] = sum(1 for x in s if x[0] == x[1]) / len(s)
        m["display_false"] = sum(x[2] for x in s)
        m["display_plain_read"] = sum(x[3] for x in s) / m["display_values"]
    if neg:
        m["negative_photos"] = len(neg)
        m["negative_with_code"] = sum(1 for r in neg if any(k != "display_value" for k, *_ in r.readings))
        m["negative_with_reading"] = sum(1 for r in neg if r.readings)
        m["negative_plain_with_number"] = sum(1 for r in neg if r.plain_values)
    lab = [r for r in rows if r.case["kind"] == "nameplate"]
    if lab:
        s2 = [label_score(r) for r in lab]
        m["label_fields"] = sum(x[1] for x in s2)
        m["label_read"] = sum(x[0] for x in s2) / max(1, m["label_fields"])
        bare = [label_score(r, labelled=False) for r in lab]
        m["label_bare_fields"] = sum(x[1] for x in bare)
        m["label_bare_read"] = sum(x[0] for x in bare) / max(1, m["label_bare_fields"])
        m["label_photos_with_reading"] = sum(1 for r in lab if r.plate) / len(lab)
        m["label_with_code"] = sum(1 for r in lab if any(k != "display_value" for k, *_ in r.readings))
    bc = [r for r in rows if r.case["kind"] == "barcode"]
    if bc:
        s3 = [barcode_score(r) for r in bc]
        m["barcodes"] = sum(x[1] for x in s3)
        m["barcode_read"] = sum(x[0] for x in s3)
        m["barcode_false"] = sum(x[2] for x in s3)
        m["barcode_plain_read"] = sum(x[3] for x in s3)
        m["barcode_photos_with_code"] = sum(1 for r in bc if any(k != "display_value" for k, *_ in r.readings))
    return dict(m)


def flag_split(rows: list[Row], known: set[str]) -> tuple[list[Row], list[Row]]:
    """Photos read in full, and photos where something shown was missed or a code was invented."""
    ok: list[Row] = []
    bad: list[Row] = []
    for r in rows:
        kind = r.case["kind"]
        if r.case.get("negative"):
            good = not any(k != "display_value" for k, *_ in r.readings)
        elif kind == "display":
            x = display_score(r, known)
            good = x[0] == x[1]
        elif kind == "barcode":
            x = barcode_score(r)
            good = x[0] == x[1]
        else:
            x = label_score(r)
            good = x[0] == x[1]
        (ok if good else bad).append(r)
    return ok, bad


def flag_table(rows: list[Row], known: set[str]) -> dict[str, tuple[int, int, int, int]]:
    """Per flag: (fires on read photos, read photos, fires on failed photos, failed photos)."""
    ok, bad = flag_split(rows, known)
    table = {}
    for code in sorted({f for r in rows for f in r.flags}):
        table[code] = (sum(code in r.flags for r in ok), len(ok), sum(code in r.flags for r in bad), len(bad))
    return table


def report(rows: list[Row], known: set[str], verbose: bool = False) -> dict:
    m = metrics(rows, known)
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        if r.case["kind"] == "display" and not r.case.get("negative"):
            read, n, _f, plain = display_score(r, known)
            src = Path(r.case["file"]).name.split("__")[0]
            per_source[src][0] += read
            per_source[src][1] += n
            per_source[src][2] += plain
    print("\n== real photos: on-device read vs plain rapidocr / zxing-cpp ==")
    if "display_values" in m:
        print(f"displays: {m['display_read']:.1%} of {int(m['display_values'])} shown values read "
              f"(plain rapidocr {m['display_plain_read']:.1%}); photos fully read {m['display_photos_all_read']:.1%}; "
              f"false readings {int(m['display_false'])}")
        for src, (a, n, p) in sorted(per_source.items()):
            print(f"   {src:18s} {a:3d}/{n:3d}   plain {p:3d}/{n:3d}")
    if "negative_photos" in m:
        print(f"no-code photos: {int(m['negative_with_code'])}/{int(m['negative_photos'])} with a code, "
              f"{int(m['negative_with_reading'])} with any reading (plain rapidocr: numbers on "
              f"{int(m['negative_plain_with_number'])})")
    if "label_fields" in m:
        print(f"labels: {m['label_read']:.1%} of {int(m['label_fields'])} labelled fields; identity fields printed "
              f"without a label {m['label_bare_read']:.1%} of {int(m['label_bare_fields'])}; photos with a nameplate "
              f"reading {m['label_photos_with_reading']:.0%}; labels with a code {int(m['label_with_code'])}")
    if "barcodes" in m:
        print(f"barcodes: {int(m['barcode_read'])}/{int(m['barcodes'])} (plain zxing-cpp "
              f"{int(m['barcode_plain_read'])}), false {int(m['barcode_false'])}, barcode photos with a code "
              f"{int(m['barcode_photos_with_code'])}")
    print("quality flags: fires on read photos | on failed photos")
    for code, (a, n_ok, b, n_bad) in flag_table(rows, known).items():
        print(f"   {code:22s} {a:3d}/{n_ok:3d}  |  {b:3d}/{n_bad:3d}")
    times = [r.ms for r in rows]
    if times:
        print(f"read time per photo: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms "
              f"over {len(times)} photos")
    if verbose:
        for r in rows:
            kind = r.case["kind"]
            if kind == "display":
                x = display_score(r, known)
                if r.case.get("negative") or x[0] < x[1] or x[2]:
                    print(f"  {r.case['file']}: want {r.case['expected']} got {r.readings} plain "
                          f"{sorted(r.plain_values)[:8]}")
            elif kind == "nameplate":
                a, n = label_score(r)
                b, nb = label_score(r, labelled=False)
                print(f"  {r.case['file']}: {a}/{n} {label_fields(r.case)} bare {b}/{nb} "
                      f"{label_fields(r.case, labelled=False)} got {r.plate} codes {r.readings}")
            elif kind == "barcode":
                a, n, f, p = barcode_score(r)
                if a < n or f or r.readings:
                    print(f"  {r.case['file']}: want {r.case['expected']} got {r.tags} plain {r.plain_tags} "
                          f"codes {r.readings}")
    return m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated substrings of the file names to keep")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--dump")
    args = ap.parse_args()
    if not corpus_present():
        print(f"no real photo set at {CORPUS}")
        return
    rows, known = run(args.only, baselines=not args.no_baselines)
    report(rows, known, args.verbose)
    if args.dump:
        Path(args.dump).write_text(json.dumps([{"file": r.case["file"], "readings": r.readings, "tags": r.tags,
                                                 "plate": r.plate, "flags": r.flags, "ms": r.ms,
                                                 "quality": r.quality, "ok": r in flag_split(rows, known)[0]}
                                                for r in rows],
                                               indent=1))
    print(Counter(r.case["kind"] for r in rows))


if __name__ == "__main__":
    main()
