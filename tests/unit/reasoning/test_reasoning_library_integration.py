"""Reasoning over the real Library (the bundled sample library) and real demo
photos read on the device: the Retriever protocol as the library implements
it, not as the in-memory test double does."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

import fl_reasoning_support as S
from assistant.config import PhotoPolicy, Settings
from assistant.domain import FlagCode
from assistant.reasoning import Retriever, answer_question
from assistant.reasoning.grounding import normalise

library_mod = pytest.importorskip("assistant.library", reason="the library package is not available")
perception = pytest.importorskip("assistant.perception", reason="the perception package is not available")
imaging = pytest.importorskip("assistant.imaging", reason="the imaging package is not available")


@pytest.fixture(scope="module")
def library(tmp_path_factory, sample_library_dir):
    catalog = sample_library_dir / "catalog.yaml"
    assert catalog.exists(), "the bundled sample library (assets/library/catalog.yaml) is missing"
    lib = library_mod.Library(tmp_path_factory.mktemp("lib"))
    lib.seed(catalog)
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def display_photo(demo_photos_dir):
    manifest = json.loads((demo_photos_dir / "manifest.json").read_text())
    entry = next((e for e in manifest if e["kind"] == "display" and e["codes"]), None)
    assert entry is not None, "the demo photo manifest lists no display photo with a code"
    return demo_photos_dir / entry["file"], entry


def test_library_satisfies_the_protocol(library):
    assert isinstance(library, Retriever)


def test_demo_display_photo_first_step_cites_its_fault_entry(library, display_photo, home):
    path, entry = display_photo
    photo = imaging.load_photo(path)
    reading = perception.read_photo(photo, library, entry["equipment_id"])
    read_codes = [o.value for o in reading.observations if o.kind.value == "fault_code"]
    assert entry["codes"][0] in read_codes, f"the on-device read did not find {entry['codes'][0]} on {path.name}"
    equipment = library.get_equipment(entry["equipment_id"])
    answer = answer_question("what should I do?", readings=[reading], images=[], equipment=equipment,
                             retriever=library, settings=Settings(home=home))
    expected = library.lookup_code(entry["codes"][0], entry["equipment_id"])[0]
    assert answer.steps[0].citations[0].passage_id == expected.passage_id
    assert not answer.abstained and answer.provider == "offline"
    for step in answer.steps:
        for c in step.citations:
            assert normalise(c.quote) in normalise(library.passage(c.passage_id).text)


def test_real_prepared_photo_reaches_the_model_downscaled(library, display_photo, home):
    path, entry = display_photo
    photo = imaging.load_photo(path)
    reading = perception.read_photo(photo, library, entry["equipment_id"])
    prepared = imaging.prepare_for_model(photo, PhotoPolicy())
    with S.ScriptedServer([S.Reply(kind="openai_sse", text=S.answer_json([]))]) as server:
        answer_question("what should I do?", readings=[reading], images=[prepared],
                        equipment=library.get_equipment(entry["equipment_id"]), retriever=library,
                        settings=S.settings_for(home, "openai", server.url + "/v1"))
    parts = server.received[0].json["messages"][1]["content"]
    (img,) = [p for p in parts if p["type"] == "image_url"]
    with Image.open(io.BytesIO(base64.b64decode(img["image_url"]["url"].split(",", 1)[1]))) as im:
        assert max(im.size) <= 1568 and not im.getexif()


def test_unrelated_question_abstains_on_the_sample_library(library, home):
    answer = answer_question("how do I replace the flux capacitor on a toaster", readings=[], images=[],
                             equipment=None, retriever=library, settings=Settings(home=home))
    assert answer.abstained and FlagCode.NO_SOURCE in [f.code for f in answer.flags]
