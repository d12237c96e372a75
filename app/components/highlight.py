"""Search snippets mark highlights as [[term]]; turn them into bold spans."""

from __future__ import annotations

import re

import flet as ft

from app.theme import fs

_MARK = re.compile(r"\[\[(.+?)\]\]", re.S)


def split_highlights(snippet: str) -> list[tuple[str, bool]]:
    """[("plain", False), ("term", True), ...] in order; empty parts dropped."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in _MARK.finditer(snippet or ""):
        if m.start() > pos:
            parts.append((snippet[pos:m.start()], False))
        parts.append((m.group(1), True))
        pos = m.end()
    if pos < len(snippet or ""):
        parts.append((snippet[pos:], False))
    return [(text, bold) for text, bold in parts if text]


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` sits in `text`, ignoring case and runs of whitespace; None if absent."""
    if not quote or not text:
        return None
    words = [re.escape(w) for w in quote.split()]
    if not words:
        return None
    m = re.search(r"\s+".join(words), text, re.I)
    return (m.start(), m.end()) if m else None


def highlighted_text(snippet: str, *, size: float = 14, mark_bg: str = "#FFE58F",
                     selectable: bool = False) -> ft.Text:
    spans = [
        ft.TextSpan(text, ft.TextStyle(weight=ft.FontWeight.W_800, bgcolor=mark_bg, color="#1A1A1A") if bold else None)
        for text, bold in split_highlights(snippet)
    ]
    return ft.Text(spans=spans, size=fs(size), selectable=selectable)


def passage_with_quote(text: str, quote: str, *, size: float = 15) -> ft.Text:
    """The passage text with the cited quote highlighted (whole passage if the quote is not found)."""
    where = find_quote(text, quote)
    if where is None:
        return ft.Text(text, size=fs(size), selectable=True)
    a, b = where
    return ft.Text(
        spans=[
            ft.TextSpan(text[:a]),
            ft.TextSpan(text[a:b], ft.TextStyle(bgcolor="#FFE58F", weight=ft.FontWeight.W_700, color="#1A1A1A")),
            ft.TextSpan(text[b:]),
        ],
        size=fs(size), selectable=True,
    )
