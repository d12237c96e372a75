"""reStructuredText reader: docutils renders the document to HTML (sections, list-tables,
simple and grid tables, definition lists, admonitions; comments dropped, unknown
directives and roles tolerated), which the HTML reader then reads."""

from __future__ import annotations

import re

from assistant.domain import DocumentFormat
from assistant.errors import MalformedFile
from assistant.library.ingest.base import ParsedDoc
from assistant.library.ingest.html import parse_html

_INCLUDE = re.compile(r"^\s*\.\.\s+include::.*$", re.M)  # files beside the source are not there


def parse_rst(source: str, name: str = "document") -> ParsedDoc:
    from docutils.core import publish_parts
    from docutils.utils import SystemMessage

    try:
        parts = publish_parts(_INCLUDE.sub("", source), writer="html5", settings_overrides={
            "report_level": 5, "halt_level": 5, "file_insertion_enabled": False, "raw_enabled": False,
            "doctitle_xform": True, "sectsubtitle_xform": False, "warning_stream": False,
            "syntax_highlight": "none"})
    except (SystemMessage, ValueError, AttributeError) as err:
        raise MalformedFile(f"{name} is not readable reStructuredText ({str(err).splitlines()[0][:120]}).") from None
    html = f"<html><head><title>{parts.get('title', '')}</title></head><body>{parts['body']}</body></html>"
    parsed = parse_html(html)
    parsed.format = DocumentFormat.RST
    parsed.page_texts = [source]
    return parsed
