"""The source viewer: the rendered manual page with the cited passage shown
and its quote highlighted, page by page. Opened from citation chips, search
hits and outline entries."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.components.common import banner, muted, secondary, sem
from app.components.highlight import passage_with_quote
from app.theme import fs


class PageViewer:
    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.dialog: ft.AlertDialog | None = None

    async def open(self, doc_id: str, page: int | None, passage_id: str | None = None, quote: str = "",
                   *, paging: bool = False) -> None:
        dialog = self.dialog
        ok, viewer = await self.shell.attempt(self.shell.state.open_page, doc_id, page, passage_id, quote)
        if not ok or (paging and self.dialog is not dialog):  # closed while the page loaded
            return
        content = self.content(viewer)
        if self.dialog is None:
            self.prev_btn = secondary("Previous page", "page-prev", self.shell.handler(self.step_page, -1),
                                      icon=ft.Icons.CHEVRON_LEFT)
            self.next_btn = secondary("Next page", "page-next", self.shell.handler(self.step_page, 1),
                                      icon=ft.Icons.CHEVRON_RIGHT)
            self.close_btn = secondary("Close", "page-viewer-close", self.shell.handler(self.close),
                                       icon=ft.Icons.CLOSE)
            self._set_paging(viewer)
            self.dialog = ft.AlertDialog(
                modal=False,
                title=self.title(viewer),
                content=content,
                actions=[ft.Row([self.prev_btn, self.next_btn], spacing=8), self.close_btn],
                actions_alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                on_dismiss=self._dismissed,
                inset_padding=ft.Padding.symmetric(horizontal=24, vertical=24),
            )
            self.shell.show_dialog(self.dialog)
        else:
            self.dialog.title = self.title(viewer)
            self.dialog.content = content
            self._set_paging(viewer)
            if self.shell.page is not None:
                self.shell.page.update()

    def _dismissed(self, e: Any = None) -> None:
        self.dialog = None

    async def close(self) -> None:
        self.shell.close_dialog(self.dialog)
        self.dialog = None

    async def step_page(self, delta: int) -> None:
        v = self.shell.state.viewer
        if v is None or v.page is None:
            return
        await self.open(v.doc.id, v.page + delta, None, v.quote, paging=True)

    def title(self, v: Any) -> ft.Control:
        where = f"Page {v.page} of {v.doc.page_count}" if v.page and v.doc.page_count else ""
        section = v.passage.section if v.passage is not None else ""
        return sem("page-viewer-title", ft.Column([
            ft.Text(v.doc.title, size=fs(19), weight=ft.FontWeight.W_700),
            muted(" · ".join(x for x in [where, section, f"rev. {v.doc.revision}" if v.doc.revision else ""] if x)),
        ], spacing=2, tight=True))

    def content(self, v: Any, *, embedded: bool = False) -> ft.Control:
        """The page with its passage; `embedded` for a pane (it scrolls with the pane), else
        sized for the dialog."""
        parts: list[ft.Control] = []
        if v.passage is not None:
            parts.append(banner("", kind="info", title="Cited passage", icon=ft.Icons.FORMAT_QUOTE,
                                controls=[passage_with_quote(v.passage.text, v.quote)],
                                identifier="page-viewer-passage"))
        if v.image:
            parts.append(sem("page-viewer-marked", muted(
                "The cited text is marked in yellow on the page." if v.highlighted
                else "The cited text could not be located on this page image; it is quoted above.")))
            parts.append(sem("page-viewer-image", ft.InteractiveViewer(
                ft.Image(src=v.image, fit=ft.BoxFit.FIT_WIDTH), max_scale=4, min_scale=1),
                label=f"Page {v.page} of {v.doc.title}"))
        elif v.passage is None:
            parts.append(muted("This document has no pages to show."))
        if v.image is None and v.page_passages:
            parts.extend(ft.Text(p.text, size=fs(14), selectable=True) for p in v.page_passages)
        if embedded:
            return sem("page-viewer", ft.Column(parts, spacing=12, tight=True,
                                                horizontal_alignment=ft.CrossAxisAlignment.STRETCH))
        return sem("page-viewer", ft.Container(
            ft.Column(parts, spacing=12, scroll=ft.ScrollMode.AUTO), width=820, height=640))

    def _set_paging(self, v: Any) -> None:
        paged = v.page is not None and bool(v.doc.page_count)
        self.prev_btn.content.disabled = not paged or v.page <= 1
        self.next_btn.content.disabled = not paged or v.page >= (v.doc.page_count or 0)
