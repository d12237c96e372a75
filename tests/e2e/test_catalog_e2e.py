"""The catalog admin in a real browser: add equipment with the library screen's form, then
link a document to it with the checkbox list."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_add_equipment_and_link_a_document(app, artifacts: Path) -> None:
    app.click("nav-library")
    app.click("library-eq-add")
    app.wait("equipment-form")
    app.fill("equipment-form-id", "zx-700")
    app.fill("equipment-form-name", "ZX-700 chiller")
    app.fill("equipment-form-model", "ZX-700")
    app.fill("equipment-form-asset_tags", "AC-CH-0007")
    app.screenshot(artifacts / "catalog-add-equipment.png")
    app.click("equipment-form-save")
    app.wait("library-eq-zx-700")
    app.gone("equipment-form")
    assert not any(i.startswith("doc-") and i.count("-") == 1 for i in app.ids())
    app.click("library-eq-link")
    app.wait("link-doc-0")
    app.screenshot(artifacts / "catalog-link-documents.png")
    app.click("link-doc-0")
    app.click("equipment-links-save")
    app.gone("equipment-links")
    app.wait("doc-0")
    assert "doc-1" not in app.ids()
