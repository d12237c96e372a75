"""Markdown reader (markdown-it-py): heading paths, paragraphs, numbered lists as
procedures, admonitions / blockquotes / WARNING lines as warnings, tables as
fault codes when their header says so (otherwise table passages). Offsets are
character offsets into the Markdown source."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistant.domain import DocumentFormat, PassageKind
from assistant.library.ingest.base import Block, Heading, ParsedDoc
from assistant.library.ingest.layout import _WARNING

_ADMONITION = re.compile(r"^(?:!!!|\?\?\?\+?|:::)\s*(\w+)|^\[!(\w+)\]", re.I)
_WARN_TYPES = {"warning", "danger", "caution", "important", "attention", "hazard", "notice"}
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def _plain(inline: Token | None, softbreak: str = " ") -> str:
    if inline is None or not inline.children:
        return inline.content if inline is not None else ""
    out = []
    for child in inline.children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak") or (
                child.type == "html_inline" and re.match(r"<br\b", child.content, re.I)):
            out.append(softbreak)
        elif child.type == "image":
            out.append(child.content or child.attrGet("alt") or "")
    return "\n".join(" ".join(x.split()) for x in "".join(out).split("\n")) if softbreak == "\n" else \
        " ".join("".join(out).split())


_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{[<%].*?[>%]\}\}", re.S)  # Liquid / Hugo tags of static-site sources


def parse_markdown(source: str) -> ParsedDoc:
    source = source.replace("\r\n", "\n")
    source = _TEMPLATE_TAG.sub(lambda m: " " * len(m.group()), source)  # same length: offsets stay right
    front = _FRONT_MATTER.match(source)
    body_start = front.end() if front else 0
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(source[body_start:])
    line_offsets = [0]
    for line in source.split("\n"):
        line_offsets.append(line_offsets[-1] + len(line) + 1)
    first_line = source[:body_start].count("\n")

    def span(tok: Token) -> tuple[int, int]:
        if not tok.map:
            return 0, 0
        a, b = tok.map
        return line_offsets[min(a + first_line, len(line_offsets) - 1)], max(
            line_offsets[min(b + first_line, len(line_offsets) - 1)] - 1, 0)

    blocks: list[Block] = []
    headings: list[Heading] = []
    stack: list[tuple[int, str]] = []
    h1_count = sum(1 for t in tokens if t.type == "heading_open" and t.tag == "h1")
    title = ""

    def section() -> tuple[str, ...]:
        return tuple(t for _, t in stack)

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            text = _plain(tokens[i + 1])
            start, _ = span(tok)
            if level == 1 and h1_count == 1 and not headings and not blocks:
                title = text  # a single opening H1 is the document's title, not a section
            else:
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, text))
                headings.append(Heading(section(), len(stack), None, start))
            i += 3
            continue
        if tok.type == "paragraph_open":
            text = _plain(tokens[i + 1])
            start, end = span(tok)
            m = _ADMONITION.match(text)
            if m and (m.group(1) or m.group(2) or "").lower() in _WARN_TYPES or _WARNING.match(text):
                kind = PassageKind.WARNING
            elif re.match(r"^(?:figure|fig\.)\s*\d+", text, re.I):
                kind = PassageKind.FIGURE
            else:
                kind = PassageKind.TEXT
            if text:
                lines = [x for x in (" ".join(p.split()) for p in _plain(tokens[i + 1], "\n").split("\n")) if x]
                blocks.append(Block(kind, text, section(), None, start, end, lines=lines))
            i += 3
            continue
        if tok.type in ("ordered_list_open", "bullet_list_open", "blockquote_open"):
            close = tok.type.replace("_open", "_close")
            depth, j = 0, i
            items: list[str] = []
            top: list[str] = []  # top-level items, nested text on following lines
            for j in range(i, len(tokens)):
                t = tokens[j]
                if t.type == tok.type:
                    depth += 1
                elif t.type == close:
                    depth -= 1
                    if depth == 0:
                        break
                elif t.type == "list_item_open" and tok.type != "blockquote_open":
                    number = t.info or (str(len(items) + 1) if tok.type == "ordered_list_open" else "")
                    items.append(f"{number}. " if tok.type == "ordered_list_open" and t.level == tok.level + 1
                                 else ("- " if t.level == tok.level + 1 else "  - "))
                    if t.level == tok.level + 1:
                        top.append("")
                    elif top:
                        top[-1] += "\n"
                elif t.type == "inline":
                    text = _plain(t)
                    if items:
                        items[-1] += (" " if not items[-1].endswith(" ") else "") + text
                    else:
                        items.append(text)
                    if top:
                        top[-1] += (" " if top[-1] and not top[-1].endswith("\n") else "") + text
                elif t.type in ("fence", "code_block") and tok.type == "blockquote_open":
                    items.extend(x for x in t.content.split("\n") if x.strip())
            start, end = span(tok)
            text = "\n".join(x.strip() for x in items if x.strip(" -.0123456789"))
            if tok.type == "blockquote_open":
                m = _ADMONITION.match(text)
                warn = (m and (m.group(1) or m.group(2) or "").lower() in _WARN_TYPES) or _WARNING.match(text)
                kind = PassageKind.WARNING if warn else PassageKind.TEXT
                text = "\n".join(" ".join(x.split()) for x in text.split("\n"))
            elif tok.type == "ordered_list_open":
                kind = PassageKind.PROCEDURE
                if blocks and blocks[-1].kind == PassageKind.TEXT and blocks[-1].section == section() \
                        and blocks[-1].text.endswith(":") and len(blocks[-1].text.split()) <= 60:
                    lead = blocks.pop()
                    text = lead.text + "\n" + text
                    start = lead.start
            else:
                kind = PassageKind.TEXT
            if text.strip():
                blocks.append(Block(kind, text, section(), None, start, end,
                                    items=[x.strip() for x in top] if tok.type == "bullet_list_open" else None))
            i = j + 1
            continue
        if tok.type == "table_open":
            rows: list[list[str]] = []
            j = i
            for j in range(i, len(tokens)):
                t = tokens[j]
                if t.type == "tr_open":
                    rows.append([])
                elif t.type == "inline" and rows:
                    rows[-1].append(_plain(t))
                elif t.type == "table_close":
                    break
            start, end = span(tok)
            row_lines = source[start:end].split("\n")
            blocks.extend(table_blocks(rows, section(), None, start, end, row_lines))
            i = j + 1
            continue
        if tok.type in ("fence", "code_block", "html_block"):
            start, end = span(tok)
            text = tok.content.strip()
            if tok.type == "html_block" and re.search(r"<(?:table|div|h[1-6]|ul|ol|dl|p)\b", text, re.I):
                from assistant.library.ingest.html import parse_html

                inner = parse_html(text)
                for block in inner.blocks:
                    block.section = section() + block.section
                    block.start, block.end = start, end
                    blocks.append(block)
                for heading in inner.headings:
                    headings.append(Heading(section() + heading.section, len(stack) + heading.level, None, start))
                i += 1
                continue
            if tok.type == "html_block":
                text = re.sub(r"<[^>]+>", " ", text)
                text = " ".join(text.split())
            elif tok.type in ("fence", "code_block"):
                lines = [x.strip() for x in text.split("\n") if x.strip()]
                if text:
                    blocks.append(Block(PassageKind.TEXT, text, section(), None, start, end, lines=lines))
                i += 1
                continue
            if text:
                blocks.append(Block(PassageKind.TEXT, text, section(), None, start, end))
        i += 1
    return ParsedDoc(DocumentFormat.MARKDOWN, title=title, blocks=blocks, headings=headings,
                     page_texts=[source])


def table_blocks(rows: list[list[str]], section: tuple[str, ...], page: int | None, start: int, end: int,
                 source_lines: list[str] | None = None, header_rows: int = 1) -> list[Block]:
    """A table (header rows first) -> one table block that keeps its cells (fault entries
    are recognised later, on the cells)."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    text = "\n".join(" | ".join(c.strip() for c in row) for row in rows)
    return [Block(PassageKind.TABLE, text, section, page, start, end, rows=rows,
                  header_rows=min(header_rows, len(rows) - 1) if len(rows) > 1 else 0)]
