"""Chunking: structural blocks -> citable passages. Consecutive prose under the
same heading on the same page is merged up to a paragraph-to-a-few-hundred-words
size; long prose is split at sentence ends; procedures stay whole unless very
long (then split between steps); fault codes and warnings stay one each."""

from __future__ import annotations

import re

from assistant.domain import PassageKind
from assistant.library.ingest.base import Block, union_box

TARGET_WORDS = 180
MAX_WORDS = 320
MAX_PROCEDURE_WORDS = 650
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_CAPTION = re.compile(r"^(?:table|tab\.)\s*\d+", re.I)
_STEP_START = re.compile(r"^(?:step\s*)?\(?\d{1,2}[.):]?\s", re.I)


def _words(text: str) -> int:
    return len(text.split())


def chunk(blocks: list[Block]) -> list[Block]:
    merged: list[Block] = []
    for block in blocks:
        prev = merged[-1] if merged else None
        if (prev is not None and block.kind == PassageKind.TABLE and prev.kind == PassageKind.TEXT
                and _CAPTION.match(prev.text) and "\n" not in prev.text and prev.section == block.section
                and prev.page == block.page):
            merged[-1] = Block(PassageKind.TABLE, prev.text + "\n" + block.text, block.section, block.page, prev.start,
                               block.end, box=union_box([prev.box, block.box]))
            continue
        if (prev is not None and block.kind == PassageKind.TEXT and prev.kind == PassageKind.TEXT
                and prev.section == block.section and prev.page == block.page
                and _words(prev.text) + _words(block.text) <= TARGET_WORDS):
            merged[-1] = Block(PassageKind.TEXT, prev.text + "\n" + block.text, prev.section, prev.page, prev.start,
                               max(block.end, prev.end), box=union_box([prev.box, block.box]))
            continue
        merged.append(block)
    out: list[Block] = []
    for block in merged:
        if block.kind in (PassageKind.TEXT, PassageKind.WARNING, PassageKind.FIGURE) and _words(block.text) > MAX_WORDS:
            out.extend(_split(block, _SENTENCE_END.split(block.text), " ", TARGET_WORDS + 70))
        elif block.kind == PassageKind.PROCEDURE and _words(block.text) > MAX_PROCEDURE_WORDS:
            out.extend(_split(block, _step_groups(block.text), "\n", MAX_PROCEDURE_WORDS // 2))
        elif block.kind == PassageKind.TABLE and block.text.count("\n") > 40:
            out.extend(_split(block, block.text.split("\n"), "\n", TARGET_WORDS))
        else:
            out.append(block)
    return out


def _step_groups(text: str) -> list[str]:
    groups: list[str] = []
    for line in text.split("\n"):
        if groups and not _STEP_START.match(line.strip()):
            groups[-1] += "\n" + line
        else:
            groups.append(line)
    return groups


def _split(block: Block, parts: list[str], sep: str, target: int) -> list[Block]:
    pieces: list[str] = []
    for part in parts:
        if pieces and _words(pieces[-1]) + _words(part) <= target:
            pieces[-1] += sep + part
        else:
            pieces.append(part)
    # hard split for a single over-long sentence / line
    final: list[str] = []
    for piece in pieces:
        words = piece.split(" ")
        if len(words) <= MAX_WORDS * 2:
            final.append(piece)
            continue
        # step through the word list by index (re-slicing the remainder each time is quadratic)
        start = 0
        while len(words) - start > MAX_WORDS * 2:
            final.append(" ".join(words[start:start + MAX_WORDS]))
            start += MAX_WORDS
        final.append(" ".join(words[start:]))
    span = max(block.end - block.start, 0)
    total = max(sum(len(p) for p in final), 1)
    out, pos = [], 0
    for piece in final:
        start = block.start + span * pos // total
        pos += len(piece)
        out.append(Block(block.kind, piece.strip(), block.section, block.page, start, block.start + span * pos // total,
                         block.fault, block.codes, block.box))
    return out
