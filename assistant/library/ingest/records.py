"""Structured data saved as text (a YAML or JSON list of records, e.g. an error-code list
exported from firmware sources): the records become one table whose header is their keys,
so fault entries are recognised on it like on any table. Anything else -> None (plain text)."""

from __future__ import annotations

import json

import yaml

from assistant.domain import DocumentFormat, PassageKind
from assistant.library.ingest.base import Block, ParsedDoc

MIN_RECORDS = 3


def _records(data) -> list[dict] | None:
    if isinstance(data, list) and len(data) >= MIN_RECORDS and all(isinstance(x, dict) for x in data):
        return data
    if isinstance(data, dict):
        for value in data.values():
            found = _records(value)
            if found:
                return found
    return None


def _cell(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return "" if value is None else " ".join(str(value).split())


def parse_records(text: str) -> ParsedDoc | None:
    stripped = text.lstrip()
    if not stripped[:1] in "{[-" and not stripped.startswith(("---", "#")):
        return None
    try:
        data = json.loads(text) if stripped[:1] in "{[" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        return None
    records = _records(data)
    if not records:
        return None
    keys = list(dict.fromkeys(k for r in records for k in r))
    rows = [[str(k) for k in keys]] + [[_cell(r.get(k)) for k in keys] for r in records]
    table = "\n".join(" | ".join(row) for row in rows)
    block = Block(PassageKind.TABLE, table, (), None, 0, len(text), rows=rows, header_rows=1)
    return ParsedDoc(DocumentFormat.TEXT, blocks=[block], page_texts=[text])
