"""Library: equipment → documents → sections, search with highlighted
snippets, the page viewer, a procedure view with numbered steps and warnings,
manual sync with a progress bar, and the catalog admin's part: a form that adds
equipment and a list that links documents to it. Everything but sync works offline."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import flet as ft

from app import theme
from app.components.common import (
    PaneFrame,
    banner, body, card, empty_state, heading, muted, panes, primary, secondary, sem, subheading, text_field,
)
from app.components.highlight import highlighted_text
from app.components.page_viewer import PageViewer
from app.theme import fs
from assistant.domain import Document, DocumentKind, Equipment, PassageKind


def _entry(e: Any) -> tuple[str, int, int | None, str | None]:
    """(title, level, page, passage_id) of an outline entry, whatever its exact shape."""
    title = getattr(e, "title", None) or getattr(e, "section", None) or getattr(e, "path", None) or str(e)
    if isinstance(title, (list, tuple)):
        title = " > ".join(title)
    title = str(title).split(" > ")[-1]
    return title, int(getattr(e, "level", 1) or 1), getattr(e, "page", None), getattr(e, "passage_id", None)


_STEP = re.compile(r"^\s*(\d+)[.)]\s+(.*)")


def procedure_lines(text: str) -> list[tuple[str | None, str]]:
    """Split procedure text into (number or None, text) lines."""
    out: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _STEP.match(line)
        if m:
            out.append((m.group(1), m.group(2).strip()))
        elif out and out[-1][0] is not None and line.startswith((" ", "\t")):
            n, t = out[-1]
            out[-1] = (n, t + " " + line.strip())
        else:
            out.append((None, line.strip()))
    return out


def sync_progress_text(p: Any) -> tuple[float | None, str]:
    """(fraction or None, plain text) for a SyncProgress."""
    index, count = getattr(p, "index", 0) or 0, getattr(p, "count", 0) or 0
    done, total = getattr(p, "bytes_done", 0) or 0, getattr(p, "bytes_total", None)
    fraction: float | None = None
    if count:
        part = (done / total) if total else 0.0
        fraction = min(1.0, (max(index - 1, 0) + part) / count) if index else 0.0
    stage = str(getattr(p, "stage", "") or "").replace("_", " ")
    doc = getattr(p, "doc", "") or ""
    msg = getattr(p, "message", "") or ""
    text = " · ".join(x for x in [stage.capitalize(), f"{index} of {count}" if count else "", doc, msg] if x)
    return fraction, text


def sync_report_text(report: Any) -> str:
    """One plain sentence for a SyncReport."""
    if getattr(report, "error", None):
        return f"The library could not be synced: {report.error}"
    if getattr(report, "offline", False):
        return "No network: the library on this tablet was kept as it is."
    if getattr(report, "feed_unchanged", False):
        return "The library is already up to date."
    parts = []
    for name in ("added", "updated", "unchanged", "failed"):
        v = getattr(report, name, None)
        if v:
            parts.append(f"{len(v) if isinstance(v, (list, tuple, set, dict)) else v} {name}")
    return "Library synced: " + (", ".join(parts) if parts else "nothing changed") + "."


_LIST_SPLIT = re.compile(r"[,;\n]")

# (field key, label, hint, multiline) of the add-equipment form, in order
EQUIPMENT_FORM = [
    ("id", "Equipment id", "lower-case letters, digits and - _ . e.g. pump-cp40", False),
    ("name", "Name", "e.g. Centrifugal pump CP-40", False),
    ("manufacturer", "Manufacturer", "", False),
    ("model", "Model", "as printed on the nameplate", False),
    ("category", "Category", "e.g. pump, drive, compressor", False),
    ("aliases", "Aliases", "other names or models, separated by commas", False),
    ("asset_tags", "Asset tags", "QR or barcode tags, separated by commas", False),
    ("serial_patterns", "Serial patterns", "regular expressions, one per line", True),
]


def split_values(text: str, *, one_per_line: bool = False) -> list[str]:
    """Values typed into one field: comma, semicolon or line separated (regular expressions
    may contain commas, so those are one per line)."""
    parts = text.splitlines() if one_per_line else _LIST_SPLIT.split(text)
    return [p.strip() for p in parts if p.strip()]


def equipment_from_form(values: dict[str, str]) -> Equipment:
    """The catalog entry a filled-in form describes (the service checks and refuses it)."""
    return Equipment(
        id=values.get("id", "").strip(), name=values.get("name", "").strip(),
        manufacturer=values.get("manufacturer", "").strip(), model=values.get("model", "").strip(),
        category=values.get("category", "").strip(), aliases=split_values(values.get("aliases", "")),
        asset_tags=split_values(values.get("asset_tags", "")),
        serial_patterns=split_values(values.get("serial_patterns", ""), one_per_line=True))


def link_changes(linked: set[str], chosen: dict[str, bool]) -> tuple[list[str], list[str]]:
    """(documents to link, documents to unlink) to go from `linked` to the ticked choice."""
    add = [d for d, on in chosen.items() if on and d not in linked]
    drop = [d for d, on in chosen.items() if not on and d in linked]
    return add, drop


class LibraryView:
    title = "Library"

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.state = shell.state
        self.frame = PaneFrame(4, 6)
        self.viewer = PageViewer(shell)
        self.equipment: list[Equipment] = []
        self.search_field, self.search_box = text_field(
            "library-search-input", "Search the manuals", hint="Fault code, symptom, part…",
            on_submit=shell.handler(self.search), prefix_icon=ft.Icons.SEARCH, expand=True)
        self.sync_field, self.sync_box = text_field("sync-url", "Manual feed address", hint="https://…",
                                                    expand=True, on_submit=shell.handler(self.sync))
        self.syncing = False
        self.sync_report = ""
        self.form_open = False
        self.form_error = ""
        self.form_fields: dict[str, ft.TextField] = {}
        self.form_boxes: dict[str, ft.Semantics] = {}
        for key, label, hint, multiline in EQUIPMENT_FORM:
            self.form_fields[key], self.form_boxes[key] = text_field(f"equipment-form-{key}", label, hint=hint,
                                                                     multiline=multiline)
        self.links_open = False
        self.link_documents: list[Document] = []
        self.link_choice: dict[str, bool] = {}
        self.link_boxes: dict[str, ft.Checkbox] = {}

    async def on_show(self) -> None:
        ok, eqs = await self.shell.attempt(self.state.all_equipment)
        if ok:
            self.equipment = eqs
        if self.state.lib_equipment_id is None and not self.state.lib_documents:
            eid = self.state.equipment.id if self.state.equipment else None
            await self.shell.attempt(self.state.lib_select_equipment, eid)

    async def show_equipment(self, equipment_id: str | None) -> None:
        self.links_open = False
        await self.shell.attempt(self.state.lib_select_equipment, equipment_id)
        self.state.lib_hits = []
        self.shell.current = "library"
        ok, eqs = await self.shell.attempt(self.state.all_equipment)
        if ok:
            self.equipment = eqs
        self.shell.render()

    async def open_doc(self, doc_id: str) -> None:
        ok, doc = await self.shell.attempt(self.state.lib_open_document, doc_id)
        if ok and doc.kind == DocumentKind.WORK_INSTRUCTION:
            await self.shell.attempt(self.state.open_procedure, doc_id)
        self.state.lib_hits = []
        self.shell.render()

    async def open_procedure(self, doc_id: str) -> None:
        await self.shell.attempt(self.state.open_procedure, doc_id)
        self.shell.render()

    async def back_to_docs(self) -> None:
        self.state.lib_doc = None
        self.state.procedure = []
        self.shell.render()

    async def search(self) -> None:
        ok, _ = await self.shell.attempt(self.state.lib_search, self.search_field.value or "")
        if ok and not self.state.lib_hits and self.state.lib_query:
            self.shell.toast(f"Nothing in the manuals matches \u201c{self.state.lib_query}\u201d.")
        self.shell.render()

    async def clear_search(self) -> None:
        self.search_field.value = ""
        self.state.lib_hits = []
        self.state.lib_query = ""
        self.shell.render()

    async def open_hit(self, i: int) -> None:
        h = self.state.lib_hits[i]
        await self.viewer.open(h.doc_id, h.page, h.passage_id, "")

    async def open_entry(self, doc_id: str, page: int | None, passage_id: str | None) -> None:
        await self.viewer.open(doc_id, page, passage_id, "")

    async def sync(self) -> None:
        if self.syncing:
            return
        self.syncing = True
        self.state.sync_fraction = 0.0
        self.state.sync_message = "Connecting…"
        self.shell.render()
        loop = asyncio.get_running_loop()

        def on_progress(p: Any) -> None:
            loop.call_soon_threadsafe(self._progress, p)

        ok, report = await self.shell.attempt(self.state.sync, self.sync_field.value or "", on_progress)
        self.syncing = False
        if ok:
            self.sync_report = self._report_text(report)
            self.state.sync_fraction = 1.0
            failed = bool(getattr(report, "error", None) or getattr(report, "offline", False))
            self.shell.toast(self.sync_report, "error" if failed else "ok")
            await self.shell.attempt(self.state.lib_select_equipment, self.state.lib_equipment_id)
        else:
            self.state.sync_fraction = None
            self.sync_report = ""
        self.shell.render()

    def _progress(self, p: Any) -> None:
        self.state.sync_fraction, self.state.sync_message = sync_progress_text(p)
        self.shell.render()

    @staticmethod
    def _report_text(report: Any) -> str:
        return sync_report_text(report)

    # ------------------------------------------------------------------ catalog admin

    async def open_equipment_form(self) -> None:
        self.form_open, self.links_open, self.form_error = True, False, ""
        self.shell.render()

    async def close_equipment_form(self) -> None:
        self.form_open, self.form_error = False, ""
        for f in self.form_fields.values():
            f.value = ""
        self.shell.render()

    async def save_equipment(self) -> None:
        """Add the entry the form describes; a refusal keeps the form as typed and says why."""
        values = {key: f.value or "" for key, f in self.form_fields.items()}
        item = equipment_from_form(values)
        fl = self.state.fl
        ok, result = await self.shell.attempt(fl.add_equipment, item)
        if not ok:
            self.form_error = str(result)
            self.shell.render()
            return
        await self.close_equipment_form()
        self.shell.toast(f"Added {result.name} ({result.id}) to the catalog.", "ok")
        await self.show_equipment(result.id)

    async def open_links(self) -> None:
        """List every document, ticked where it is linked to the selected equipment."""
        equipment_id = self.state.lib_equipment_id
        if equipment_id is None:
            return
        fl = self.state.fl
        ok, docs = await self.shell.attempt(fl.list_documents, None)
        if not ok:
            return
        self.link_documents = list(docs)
        self.link_choice = {d.id: equipment_id in d.equipment_ids for d in self.link_documents}
        self.links_open, self.form_open = True, False
        self.shell.render()

    async def set_link(self, doc_id: str, on: bool) -> None:
        self.link_choice[doc_id] = bool(on)

    async def toggle_link(self, doc_id: str) -> None:
        """A tap on a document's row: flip its box in place (a full re-render would rebuild the
        list under the technician's finger)."""
        self.link_choice[doc_id] = not self.link_choice.get(doc_id, False)
        box = self.link_boxes.get(doc_id)
        if box is not None:
            box.value = self.link_choice[doc_id]
            if self.shell.page is not None:
                box.update()

    async def close_links(self) -> None:
        self.links_open = False
        self.shell.render()

    async def save_links(self) -> None:
        equipment_id = self.state.lib_equipment_id
        if equipment_id is None:
            return
        linked = {d.id for d in self.link_documents if equipment_id in d.equipment_ids}
        add, drop = link_changes(linked, self.link_choice)
        fl = self.state.fl
        if add and not (await self.shell.attempt(fl.link_documents, equipment_id, add))[0]:
            return
        if drop and not (await self.shell.attempt(fl.unlink_documents, equipment_id, drop))[0]:
            return
        self.links_open = False
        self.shell.toast(f"{len(add)} document(s) linked, {len(drop)} unlinked.", "ok")
        await self.show_equipment(equipment_id)

    def _checkbox_handler(self, doc_id: str):
        async def _handle(e: Any) -> None:
            await self.set_link(doc_id, bool(e.control.value))

        return _handle

    def equipment_form(self) -> ft.Control:
        shell = self.shell
        parts: list[ft.Control] = [subheading("Add equipment")]
        parts.extend(self.form_boxes[key] for key, *_ in EQUIPMENT_FORM)
        if self.form_error:
            parts.append(banner(self.form_error, kind="critical", identifier="equipment-form-error"))
        parts.append(ft.Row([primary("Add to catalog", "equipment-form-save", shell.handler(self.save_equipment),
                                     icon=ft.Icons.ADD),
                             secondary("Cancel", "equipment-form-cancel", shell.handler(self.close_equipment_form))],
                            wrap=True, spacing=8))
        return sem("equipment-form", card(ft.Column(parts, spacing=10, tight=True,
                                                    horizontal_alignment=ft.CrossAxisAlignment.STRETCH)))

    def links_card(self) -> ft.Control:
        shell = self.shell
        # the buttons above the list: a library of many documents must not push them off screen
        parts: list[ft.Control] = [
            subheading("Documents for this equipment"),
            ft.Row([primary("Save links", "equipment-links-save", shell.handler(self.save_links), icon=ft.Icons.LINK),
                    secondary("Cancel", "equipment-links-cancel", shell.handler(self.close_links))],
                   wrap=True, spacing=8)]
        if not self.link_documents:
            parts.append(muted("The library has no documents yet."))
        for i, d in enumerate(self.link_documents):
            # the title beside the box (not its label) so a long title wraps instead of being cut off
            box = ft.Checkbox(value=self.link_choice.get(d.id, False), on_change=self._checkbox_handler(d.id))
            self.link_boxes[d.id] = box
            row = ft.Container(ft.Row([box, ft.Text(d.title, size=fs(14), expand=True)], spacing=8),
                               on_click=shell.handler(self.toggle_link, d.id), ink=True, border_radius=8,
                               padding=ft.Padding.symmetric(vertical=6))
            parts.append(sem(f"link-doc-{i}", row, label=d.title, button=True))
        return sem("equipment-links", card(ft.Column(parts, spacing=8, tight=True)))

    # ------------------------------------------------------------------ build

    def build(self) -> ft.Control:
        return panes(self.browse_pane(), self.reading_pane(), self.shell.wide, frame=self.frame)

    def browse_pane(self) -> list[ft.Control]:
        st, shell = self.state, self.shell
        out: list[ft.Control] = [ft.Row([self.search_box, primary("Search", "library-search-submit",
                                                                   shell.handler(self.search))],
                                        vertical_alignment=ft.CrossAxisAlignment.CENTER)]
        out.append(subheading("Equipment"))
        chips: list[ft.Control] = [self.equipment_chip("library-eq-all", "All", None)]
        chips.extend(self.equipment_chip(f"library-eq-{e.id}", e.model or e.name, e.id) for e in self.equipment)
        out.append(ft.Row(chips, wrap=True, spacing=8, run_spacing=8))
        admin = [secondary("Add equipment", "library-eq-add", shell.handler(self.open_equipment_form),
                           icon=ft.Icons.ADD)]
        if st.lib_equipment_id is not None:
            admin.append(secondary("Link documents", "library-eq-link", shell.handler(self.open_links),
                                   icon=ft.Icons.LINK))
        out.append(ft.Row(admin, wrap=True, spacing=8))
        if self.form_open:
            out.append(self.equipment_form())
        if self.links_open and st.lib_equipment_id is not None:
            out.append(self.links_card())
        out.append(subheading(f"Documents ({len(st.lib_documents)})"))
        if not st.lib_documents:
            out.append(empty_state(ft.Icons.LIBRARY_BOOKS_OUTLINED, "No documents",
                                   "Sync the library or add manuals with the fieldlens command."))
        for i, d in enumerate(st.lib_documents):
            out.append(self.doc_tile(d, f"doc-{i}"))
        out.append(self.sync_card())
        return out

    def equipment_chip(self, identifier: str, label: str, equipment_id: str | None) -> ft.Control:
        """A filter chip with a full 48 px target (Flet's Chip draws about 38 px)."""
        selected = self.state.lib_equipment_id == equipment_id
        content = ft.Row([ft.Icon(ft.Icons.CHECK if selected else ft.Icons.PRECISION_MANUFACTURING, size=fs(18)),
                          ft.Text(label, size=fs(15), weight=ft.FontWeight.W_600)], spacing=8, tight=True)
        chip = ft.Container(content, on_click=self.shell.handler(self.show_equipment, equipment_id), ink=True,
                            border_radius=10, padding=ft.Padding.symmetric(horizontal=14, vertical=14),
                            bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else ft.Colors.SURFACE_CONTAINER_LOW,
                            border=ft.Border.all(2 if selected else 1,
                                                 ft.Colors.PRIMARY if selected else ft.Colors.OUTLINE_VARIANT))
        return sem(identifier, chip, label=label, button=True, selected=selected)

    def doc_tile(self, d: Document, identifier: str) -> ft.Control:
        selected = self.state.lib_doc is not None and self.state.lib_doc.id == d.id
        wi = d.kind == DocumentKind.WORK_INSTRUCTION
        sub = " · ".join(x for x in ["Work instruction" if wi else "Manual",
                                     f"{d.page_count} pages" if d.page_count else "",
                                     f"rev. {d.revision}" if d.revision else ""] if x)
        tile = ft.Container(
            ft.Row([ft.Icon(ft.Icons.CHECKLIST if wi else ft.Icons.PICTURE_AS_PDF_OUTLINED, color=ft.Colors.PRIMARY),
                    ft.Column([ft.Text(d.title, size=fs(15), weight=ft.FontWeight.W_600), muted(sub)],
                              spacing=2, expand=True, tight=True),
                    ft.Icon(ft.Icons.CHEVRON_RIGHT, color=ft.Colors.OUTLINE)], spacing=12),
            padding=ft.Padding.symmetric(horizontal=14, vertical=10), border_radius=12,
            bgcolor=ft.Colors.SECONDARY_CONTAINER if selected else ft.Colors.SURFACE_CONTAINER_LOW,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), ink=True,
            on_click=self.shell.handler(self.open_doc, d.id),
        )
        return sem(identifier, tile, label=d.title, button=True)

    def sync_card(self) -> ft.Control:
        st, shell = self.state, self.shell
        parts: list[ft.Control] = [subheading("Keep manuals in sync"),
                                   ft.Row([self.sync_box, primary("Sync", "sync-start", shell.handler(self.sync),
                                                                  icon=ft.Icons.SYNC, disabled=self.syncing)],
                                          vertical_alignment=ft.CrossAxisAlignment.CENTER)]
        if self.syncing or st.sync_fraction is not None:
            parts.append(sem("sync-progress", ft.ProgressBar(value=st.sync_fraction, bar_height=8, border_radius=4)))
            parts.append(muted(st.sync_message if self.syncing else self.sync_report))
        else:
            parts.append(muted("Needs the network. Everything else in the library works offline."))
        return card(ft.Column(parts, spacing=8, tight=True))

    def reading_pane(self) -> list[ft.Control]:
        st = self.state
        if st.lib_hits:
            return self.hits_pane()
        if st.procedure and st.lib_doc is not None:
            return self.procedure_pane()
        if st.lib_doc is not None:
            return self.outline_pane()
        return [empty_state(ft.Icons.AUTO_STORIES_OUTLINED, "Open a document or search",
                            "Every manual and work instruction on this tablet, with the network off.")]

    def hits_pane(self) -> list[ft.Control]:
        st, shell = self.state, self.shell
        out: list[ft.Control] = [ft.Row([heading(f"{len(st.lib_hits)} results for \u201c{st.lib_query}\u201d", 18),
                                         secondary("Clear", "library-search-clear", shell.handler(self.clear_search))],
                                        alignment=ft.MainAxisAlignment.SPACE_BETWEEN, wrap=True)]
        for i, h in enumerate(st.lib_hits):
            where = " · ".join(x for x in [f"p. {h.page}" if h.page else "", h.section] if x)
            tile = ft.Container(ft.Column([
                ft.Row([ft.Icon(ft.Icons.DESCRIPTION_OUTLINED, size=18, color=ft.Colors.PRIMARY),
                        ft.Text(h.title, size=fs(15), weight=ft.FontWeight.W_600, expand=True)]),
                muted(where),
                highlighted_text(h.snippet or "", size=14),
            ], spacing=4, tight=True), padding=14, border_radius=12, ink=True,
                border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
                on_click=shell.handler(self.open_hit, i))
            out.append(sem(f"search-hit-{i}", tile, button=True))
        return out

    def outline_pane(self) -> list[ft.Control]:
        st, shell = self.state, self.shell
        d = st.lib_doc
        out: list[ft.Control] = [heading(d.title, 19)]
        actions = []
        if d.page_count:
            actions.append(primary("Open page 1", "doc-open-page", shell.handler(self.open_entry, d.id, 1, None),
                                   icon=ft.Icons.CHROME_READER_MODE_OUTLINED))
        actions.append(secondary("Procedure view", "doc-procedure", shell.handler(self.open_procedure, d.id),
                                 icon=ft.Icons.FORMAT_LIST_NUMBERED))
        out.append(ft.Row(actions, wrap=True, spacing=8))
        out.append(subheading("Sections"))
        if not st.lib_outline:
            out.append(muted("This document has no sections."))
        for i, e in enumerate(st.lib_outline):
            title, level, page, pid = _entry(e)
            tile = ft.Container(
                ft.Row([ft.Text(title, size=fs(15 if level <= 1 else 14),
                                weight=ft.FontWeight.W_600 if level <= 1 else ft.FontWeight.W_400, expand=True),
                        muted(f"p. {page}" if page else "")]),
                padding=ft.Padding.only(left=12 + 18 * (level - 1), right=12, top=14, bottom=14),
                border_radius=10, ink=True, on_click=shell.handler(self.open_entry, d.id, page, pid),
                border=ft.Border.only(bottom=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
            )
            out.append(sem(f"section-{i}", tile, button=True))
        return out

    def procedure_pane(self) -> list[ft.Control]:
        st, shell = self.state, self.shell
        d = st.lib_doc
        out: list[ft.Control] = [ft.Row([heading(d.title, 19),
                                         secondary("Sections", "procedure-back", shell.handler(self.back_to_docs),
                                                   icon=ft.Icons.ARROW_BACK)],
                                        alignment=ft.MainAxisAlignment.SPACE_BETWEEN, wrap=True)]
        section = None
        for p in st.procedure:
            if p.section and p.section != section:
                section = p.section
                out.append(subheading(section.split(" > ")[-1]))
            if p.kind == PassageKind.WARNING:
                out.append(banner(p.text, kind="warning", title="Warning"))
                continue
            if p.kind == PassageKind.PROCEDURE:
                rows = []
                for n, text in procedure_lines(p.text):
                    if n is None:
                        rows.append(body(text))
                        continue
                    rows.append(ft.Row([
                        ft.Container(ft.Text(n, size=fs(15), weight=ft.FontWeight.W_800, color=ft.Colors.ON_PRIMARY),
                                     width=34, height=34, border_radius=17, bgcolor=ft.Colors.PRIMARY,
                                     alignment=ft.Alignment.CENTER),
                        ft.Text(text, size=fs(15), expand=True, selectable=True)],
                        vertical_alignment=ft.CrossAxisAlignment.START, spacing=12))
                out.append(card(ft.Column(rows, spacing=10, tight=True)))
                continue
            out.append(ft.Text(p.text, size=fs(14), selectable=True))
        out = [sem("procedure-view", ft.Column(out, spacing=10))]
        return out


__all__ = ["LibraryView", "equipment_from_form", "link_changes", "procedure_lines", "split_values", "theme"]
