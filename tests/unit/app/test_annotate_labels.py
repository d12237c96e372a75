"""Box labels on annotated photos: plain names, legible size, and no two labels overlapping,
even when the boxes crowd together."""

from __future__ import annotations

import cv2
import numpy as np

from assistant.domain import Box, Observation, ObservationKind
from assistant.imaging.annotate import _label, _overlaps, annotate, place_label


def test_labels_use_plain_field_names_and_say_how_sure() -> None:
    obs = Observation(photo="p", kind=ObservationKind.NAMEPLATE, field="ip_rating", value="IP55", confidence=0.8)
    assert _label(obs) == "IP rating: IP55 (80%)"
    obs.confirmed = True
    assert "confirmed" in _label(obs) and "ip_rating" not in _label(obs)
    vin = Observation(photo="p", kind=ObservationKind.NAMEPLATE, field="vin", value="1HGCM82633A004352",
                      confidence=0.9)
    assert _label(vin).startswith("VIN: 1HGCM")


def test_crowded_labels_never_overlap_and_stay_on_the_canvas() -> None:
    taken: list[tuple[int, int, int, int]] = []
    for i in range(9):  # nine readings stacked close together, as on a nameplate
        box = (100, 200 + i * 12, 400, 210 + i * 12)
        rect = place_label(box, (300, 40), (1000, 800), taken)
        assert 0 <= rect[0] and rect[2] <= 1000 and 0 <= rect[1] and rect[3] <= 800
        assert not any(_overlaps(rect, t) for t in taken), (rect, taken)
        taken.append(rect)


def test_annotate_draws_large_labels_on_a_real_canvas() -> None:
    image = np.full((1200, 1600, 3), 255, np.uint8)
    obs = [Observation(photo="p", kind=ObservationKind.FAULT_CODE, value="F005", confidence=1.0, confirmed=True,
                       box=Box(x=600, y=500, width=200, height=80))]
    out = cv2.imdecode(np.frombuffer(annotate(image, obs), np.uint8), cv2.IMREAD_COLOR)
    label_rows = np.where((out[:500, :, 2] > 150) & (out[:500, :, 1] < 100))[0]  # the red label strip above
    assert label_rows.size and label_rows.max() - label_rows.min() >= 0.024 * 1600, "label too small to read"
