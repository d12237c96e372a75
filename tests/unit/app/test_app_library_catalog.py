"""The library screen's catalog admin without a browser: the add-equipment form (a refusal
keeps what was typed and says why) and linking documents with checkboxes, through the façade."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import flet as ft

from app.shell import Shell
from app.state import ServiceHost
from app.views.library import equipment_from_form, link_changes, split_values


def find(control: object, identifier: str) -> ft.Semantics | None:
    if isinstance(control, ft.Semantics) and control.identifier == identifier:
        return control
    for name in ("content", "controls", "actions", "title"):
        child = getattr(control, name, None)
        for c in child if isinstance(child, list) else [child]:
            if isinstance(c, ft.Control):
                hit = find(c, identifier)
                if hit is not None:
                    return hit
    return None


def test_form_values_become_an_entry() -> None:
    assert split_values(" CP40, CP 40-7.5 ;\nPC-200,, ") == ["CP40", "CP 40-7.5", "PC-200"]
    assert split_values("^A\\d{2,4}$\n\n ^B$ ", one_per_line=True) == ["^A\\d{2,4}$", "^B$"]
    item = equipment_from_form({"id": " zx-700 ", "name": "ZX-700 chiller", "model": "ZX-700",
                                "aliases": "ZX700, CH-7A", "asset_tags": "AC-CH-0007",
                                "serial_patterns": "^ZX7-\\d{6}$"})
    assert (item.id, item.name, item.model, item.manufacturer) == ("zx-700", "ZX-700 chiller", "ZX-700", "")
    assert item.aliases == ["ZX700", "CH-7A"] and item.serial_patterns == ["^ZX7-\\d{6}$"]
    assert link_changes({"a", "b"}, {"a": True, "b": False, "c": True, "d": False}) == (["c"], ["b"])


def test_add_equipment_from_the_form_and_link_documents(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)
    lib = shell.views["library"]
    fl = seeded_host.fl

    def catalog_ids() -> set[str]:
        return {e.id for e in seeded_host.call(fl.list_equipment)}

    before = catalog_ids()

    async def flow() -> None:
        await shell.go("library")
        assert find(shell.layout(), "library-eq-add") is not None
        assert find(shell.layout(), "equipment-form") is None
        await lib.open_equipment_form()
        for key in ("id", "name", "manufacturer", "model", "aliases", "asset_tags", "serial_patterns"):
            assert find(shell.layout(), f"equipment-form-{key}") is not None, key
        form = lib.form_fields
        form["id"].value = "zx-700"
        form["name"].value = "ZX-700 chiller"
        form["model"].value = "ZX-700"
        form["aliases"].value = "CH-7A"
        form["asset_tags"].value = "AC-CH-0007"
        form["serial_patterns"].value = "^ZX7-(\\d{6}$"
        await lib.save_equipment()
        assert "regular expression" in lib.form_error and lib.form_open
        assert find(shell.layout(), "equipment-form-error") is not None
        assert shell.messages[-1][0] == "error" and form["id"].value == "zx-700"
        assert catalog_ids() == before

        form["id"].value = "pump-cp40"  # the sample pump: a duplicate names the existing entry
        form["serial_patterns"].value = "^ZX7-\\d{6}$"
        await lib.save_equipment()
        assert "pump-cp40" in lib.form_error and catalog_ids() == before

        form["id"].value = "zx-700"
        await lib.save_equipment()
        assert not lib.form_open and form["id"].value == ""
        assert shell.messages[-1][0] == "ok" and "zx-700" in shell.messages[-1][1]
        assert catalog_ids() == before | {"zx-700"}
        assert shell.state.lib_equipment_id == "zx-700" and shell.state.lib_documents == []
        assert find(shell.layout(), "library-eq-zx-700") is not None
        assert seeded_host.call(fl.get_equipment, "zx-700").serial_patterns == ["^ZX7-\\d{6}$"]

        await lib.open_links()
        docs = lib.link_documents
        assert len(docs) >= 3 and not any(lib.link_choice.values())
        row = find(shell.layout(), "link-doc-0").content
        box = row.content.controls[0]
        assert isinstance(box, ft.Checkbox) and box.value is False
        box.value = True
        await box.on_change(SimpleNamespace(control=box))  # what a tap on the box does
        await find(shell.layout(), "link-doc-1").content.on_click(None)  # a tap on the title
        assert find(shell.layout(), "link-doc-1").content.content.controls[0].value is True
        await find(shell.layout(), "link-doc-2").content.on_click(None)
        await find(shell.layout(), "link-doc-2").content.on_click(None)  # ticked, then unticked
        await lib.save_links()
        linked = seeded_host.call(fl.get_equipment, "zx-700").document_ids
        assert set(linked) == {docs[0].id, docs[1].id}
        assert {d.id for d in shell.state.lib_documents} == set(linked) and not lib.links_open

        await lib.open_links()
        assert lib.link_choice[docs[0].id] and lib.link_choice[docs[1].id]
        await lib.set_link(docs[0].id, False)
        await lib.save_links()
        assert seeded_host.call(fl.get_equipment, "zx-700").document_ids == [docs[1].id]
        assert docs[0].id in {d.id for d in seeded_host.call(fl.list_documents)}, "unlinking keeps the document"

    asyncio.run(flow())
