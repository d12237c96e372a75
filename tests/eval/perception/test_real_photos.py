"""The on-device read over the real camera photos in ../shared/corpus/photos (see real_photos.py),
side by side with plain rapidocr and plain zxing-cpp. Prints the figures; asserts the targets:

- displays: at least 90 % of the shown values read (a known code as that fault code, any other
  value as a display value);
- labels: at least 80 % of the labelled fields (identity fields whose label is printed on the plate);
- barcodes: at least as many as plain zxing-cpp;
- no code reported on any photo that shows none (no-code photos, barcodes, labels, displays
  showing only values the library does not list as codes).

One pass over 286 photos takes a few minutes on the 2-core machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_photos  # noqa: E402

pytestmark = [
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not real_photos.corpus_present(),
                       reason=f"the real photo set is not there ({real_photos.CORPUS}): it lives beside the clone"),
]


@pytest.fixture(scope="module")
def measured():
    rows, known = real_photos.run()
    return rows, known, real_photos.report(rows, known)


def _invented(rows, which):
    return [(r.case["file"], r.readings) for r in rows if which(r.case)
            and any(kind != "display_value" for kind, *_ in r.readings)]


def test_no_code_is_reported_on_a_photo_that_shows_none(measured):
    rows, _known, _m = measured
    invented = _invented(rows, lambda c: c.get("negative"))
    assert not invented, invented


def test_no_code_is_reported_on_barcode_and_label_photos(measured):
    rows, _known, _m = measured
    invented = _invented(rows, lambda c: c["kind"] in ("barcode", "nameplate"))
    assert not invented, invented


def test_no_code_is_reported_on_displays_that_show_only_values(measured):
    rows, known, _m = measured

    def shows_no_code(case):
        return case["kind"] == "display" and not case.get("negative") and \
            not any(str(v) in known for v in real_photos.as_list(case["expected"]))

    invented = _invented(rows, shows_no_code)
    assert not invented, invented


def test_displays_read(measured):
    _rows, _known, m = measured
    assert m["display_read"] >= 0.90, m


def test_labels_read(measured):
    _rows, _known, m = measured
    assert m["label_read"] >= 0.80, m


def test_identity_fields_printed_without_a_label_do_not_fall_back(measured):
    """Not a target of the issue: a floor under what is read today (55 % of 20: VINs and vehicle
    types on vehicle labels; bare meter serials and models are not read)."""
    _rows, _known, m = measured
    assert m["label_bare_read"] >= 0.50, m


def test_barcodes_at_least_plain_zxing(measured):
    _rows, _known, m = measured
    assert m["barcode_read"] >= m["barcode_plain_read"], m
