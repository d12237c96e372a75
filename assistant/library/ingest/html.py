"""HTML reader (BeautifulSoup): scripts, styles, iframes, forms and navigation
are dropped; headings give section paths; paragraphs, lists (ordered lists are
procedures), warning boxes, figure captions and tables (fault tables become
fault codes) become blocks. Offsets are into the extracted document text."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from assistant.domain import DocumentFormat, PassageKind
from assistant.library.ingest.base import Block, Heading, ParsedDoc
from assistant.library.ingest.layout import _FIGURE, _WARNING
from assistant.library.ingest.markdown import table_blocks

_DROP = ("script", "style", "iframe", "noscript", "object", "embed", "template", "form", "button", "input",
         "select", "textarea", "svg", "canvas", "nav", "link", "meta", "head")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_TEXT_BLOCKS = {"p", "pre", "figcaption", "dt", "dd", "address", "caption", "summary", "li"}
_CONTAINERS = {"div", "section", "article", "main", "body", "html", "aside", "blockquote", "header", "footer",
               "figure", "details", "center", "td", "th", "span", "dl", "font"}
_WARN_CLASS = re.compile(r"warn|danger|caution|hazard|alert|admonition-(?:warning|danger|caution)", re.I)


def _text(el: Tag | NavigableString) -> str:
    if isinstance(el, NavigableString):
        return " ".join(str(el).split())
    return " ".join(el.get_text(" ").split())


class _Walker:
    def __init__(self) -> None:
        self.doc = ""
        self.blocks: list[Block] = []
        self.headings: list[Heading] = []
        self.stack: list[tuple[int, str]] = []
        self.title = ""
        self.h1_count = 0

    def emit(self, text: str) -> tuple[int, int]:
        if self.doc:
            self.doc += "\n"
        start = len(self.doc)
        self.doc += text
        return start, len(self.doc)

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)

    def block(self, kind: PassageKind, text: str) -> None:
        if not text:
            return
        start, end = self.emit(text)
        self.blocks.append(Block(kind, text, self.section, None, start, end))

    def walk(self, el: Tag, warn: bool = False) -> None:
        loose: list[str] = []

        def flush_loose() -> None:
            text = " ".join(" ".join(loose).split())
            loose.clear()
            if text:
                self.block(PassageKind.WARNING if warn or _WARNING.match(text) else PassageKind.TEXT, text)

        for child in el.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                loose.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in ("a", "b", "strong", "em", "i", "u", "code", "small", "sup", "sub", "abbr", "mark", "kbd",
                        "br", "img", "time", "var", "q", "cite", "s", "label") or (
                    name in ("span", "font") and not child.find(list(_HEADINGS | {"p", "table", "ol", "ul", "div"}))):
                if name == "img":
                    loose.append(child.get("alt", ""))
                else:
                    loose.append(" " + child.get_text(" ") + " ")
                continue
            flush_loose()
            if name in _HEADINGS:
                self.heading(int(name[1]), _text(child))
            elif name == "table":
                self.table(child)
            elif name in ("ol", "ul"):
                self.list(child, warn)
            elif name in _TEXT_BLOCKS:
                for br in child.find_all("br"):
                    br.replace_with("\n")
                lines = [x for x in (" ".join(t.split()) for t in child.get_text(" ").split("\n")) if x]
                text = _text(child)
                kind = PassageKind.TEXT
                if warn or _WARNING.match(text):
                    kind = PassageKind.WARNING
                elif name == "figcaption" or _FIGURE.match(text):
                    kind = PassageKind.FIGURE
                self.block(kind, text)
                if len(lines) > 1:
                    if self.blocks and self.blocks[-1].text == text:
                        self.blocks[-1].lines = lines
            else:
                cls = " ".join(child.get("class", [])) + " " + (child.get("role") or "")
                self.walk(child, warn or bool(_WARN_CLASS.search(cls)) or name == "aside" and
                          bool(_WARNING.match(_text(child))))
        flush_loose()

    def heading(self, level: int, text: str) -> None:
        if not text:
            return
        if level == 1 and self.h1_count == 1 and not self.headings and not self.blocks and not self.title:
            self.title = text
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        start, _ = self.emit(text)
        self.headings.append(Heading(self.section, len(self.stack), None, start))

    def list(self, el: Tag, warn: bool) -> None:
        ordered = el.name.lower() == "ol"
        lines = []
        items = []
        for n, li in enumerate(el.find_all("li", recursive=False), start=1):
            text = _text(li)
            if text:
                lines.append(f"{n}. {text}" if ordered else f"- {text}")
                items.append(text)
        text = "\n".join(lines)
        if not text:
            return
        kind = PassageKind.WARNING if warn else PassageKind.PROCEDURE if ordered else PassageKind.TEXT
        if ordered and self.blocks and self.blocks[-1].kind == PassageKind.TEXT and \
                self.blocks[-1].section == self.section and self.blocks[-1].text.endswith(":") and \
                len(self.blocks[-1].text.split()) <= 60:
            lead = self.blocks.pop()
            start, _ = lead.start, lead.end
            _, end = self.emit(text)
            self.blocks.append(Block(kind, lead.text + "\n" + text, self.section, None, start, end))
            return
        self.block(kind, text)
        if not ordered and self.blocks and self.blocks[-1].text == text:
            self.blocks[-1].items = items

    def table(self, el: Tag) -> None:
        rows: list[list[str]] = []
        spans: dict[int, int] = {}  # column -> rows still covered by a rowspan above
        header_rows = 0
        for tr in el.find_all("tr"):
            if tr.find_parent("table") is not el:
                continue
            row: list[str] = []
            cells = list(tr.find_all(["td", "th"], recursive=False))
            if len(rows) == header_rows and cells and (tr.find_parent("thead") is not None or
                                                       all(c.name == "th" for c in cells)):
                header_rows += 1
            while cells or spans.get(len(row), 0) > 0:
                col = len(row)
                if spans.get(col, 0) > 0:  # covered by a cell above: empty, so the row continues that entry
                    spans[col] -= 1
                    row.append("")
                    continue
                cell = cells.pop(0)
                width = _span(cell.get("colspan"))
                down = _span(cell.get("rowspan"))
                for k in range(width):
                    row.append(_text(cell) if k == 0 else "")
                    if down > 1:
                        spans[col + k] = down - 1
            rows.append(row)
        caption = el.find("caption")
        if caption is not None and _text(caption):
            self.block(PassageKind.TEXT, _text(caption))
        text = "\n".join(" | ".join(r) for r in rows)
        start, end = self.emit(text)
        self.blocks.extend(table_blocks(rows, self.section, None, start, end, header_rows=header_rows or 1))


def _span(value) -> int:
    try:
        return max(1, min(int(str(value).strip()), 50)) if value is not None else 1
    except ValueError:
        return 1


def parse_html(source: str) -> ParsedDoc:
    soup = BeautifulSoup(source, "html.parser")
    for name in _DROP:
        for tag in soup.find_all(name):
            if name == "head":
                continue
            tag.decompose()
    title_tag = soup.find("title")
    head_title = _text(title_tag) if title_tag else ""
    for tag in soup.find_all("head"):
        tag.decompose()
    walker = _Walker()
    walker.h1_count = len(soup.find_all("h1"))
    root = soup.body or soup
    walker.walk(root)
    return ParsedDoc(DocumentFormat.HTML, title=head_title or walker.title, blocks=walker.blocks,
                     headings=walker.headings, page_texts=[walker.doc])
