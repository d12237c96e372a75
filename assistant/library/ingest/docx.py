"""Word .docx reader (python-docx): paragraphs in body order with heading levels from their
styles (Heading 1..6, Title), list paragraphs as list items, tables with their cells (merged
cells once), written out as HTML and read by the HTML reader, so a Word manual is read like
an HTML one."""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

from assistant.domain import DocumentFormat
from assistant.errors import MalformedFile
from assistant.library.ingest.base import ParsedDoc
from assistant.library.ingest.html import parse_html

_HEADING = re.compile(r"^(?:heading|überschrift|titre|título|kop)\s*(\d)", re.I)


def parse_docx(path: Path) -> ParsedDoc:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise MalformedFile(f"{path.name} is not a readable Word document ({err.__class__.__name__}).") from None
    out: list[str] = []
    in_list = False
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = html.escape(paragraph.text.strip())
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            numbered = child.find(".//{*}numPr") is not None or style.lower().startswith("list")
            if numbered and text:
                if not in_list:
                    out.append("<ul>")
                    in_list = True
                out.append(f"<li>{text}</li>")
                continue
            if in_list:
                out.append("</ul>")
                in_list = False
            if not text:
                continue
            m = _HEADING.match(style)
            if style.lower() == "title":
                out.append(f"<h1>{text}</h1>")
            elif m:
                out.append(f"<h{min(int(m.group(1)) + 1, 6)}>{text}</h{min(int(m.group(1)) + 1, 6)}>")
            else:
                out.append(f"<p>{text}</p>")
        elif tag == "tbl":
            if in_list:
                out.append("</ul>")
                in_list = False
            table = Table(child, document)
            out.append("<table>")
            for r, row in enumerate(table.rows):
                cells, seen = [], set()
                for cell in row.cells:
                    key = id(cell._tc)
                    text = "" if key in seen else html.escape(" ".join(p.text for p in cell.paragraphs).strip())
                    seen.add(key)
                    cells.append(f"<{'th' if r == 0 else 'td'}>{text}</{'th' if r == 0 else 'td'}>")
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</table>")
    if in_list:
        out.append("</ul>")
    title = html.escape((document.core_properties.title or "").strip())
    parsed = parse_html(f"<html><head><title>{title}</title></head><body>{''.join(out)}</body></html>")
    parsed.format = DocumentFormat.DOCX
    return parsed
