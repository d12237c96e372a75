"""Barcode texts reported as printed under the bars (no decoding involved)."""

from __future__ import annotations

from assistant.perception.tags import as_printed, upce_digits


def test_upce_is_reported_as_its_eight_digits():
    assert upce_digits("042100005264") == "04252614"  # manufacturer ends 100: M1 M2 P3 P4 P5 M3
    assert upce_digits("012300000064") == "01230634"  # manufacturer ends 00: M1 M2 M3 P4 P5 3
    assert as_printed("0042100005264", "UPCE") == ("04252614", "UPCE")


def test_upca_without_a_upce_form_and_other_formats_are_left_alone():
    assert upce_digits("036000291452") is None
    assert upce_digits("236000291452") is None  # number system 2 has no UPC-E
    assert as_printed("0036000291452", "EAN13") == ("036000291452", "UPCA")
    assert as_printed("4006381333931", "EAN13") == ("4006381333931", "EAN13")
