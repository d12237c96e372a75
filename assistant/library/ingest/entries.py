"""Fault lists written as entries rather than tables: a heading or line
"F012 – Motor overtemperature" (or a <dt>) followed by paragraphs labelled
"Cause: ..." and "Remedy: ...". Turns those runs of blocks into fault-code
blocks. Format-independent: works on any reader's blocks before chunking.
An entry needs a code-shaped head AND at least one cause/remedy label, so
prose that merely starts with a number is left alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.domain import PassageKind
from assistant.library.codes import looks_like_code
from assistant.library.ingest.base import Block, FaultRow, union_box

_CAUSE = r"(?:probable |possible |likely )?(?:causes?|reasons?)(?:\s*\(s\))?"
_REMEDY = (r"(?:remed(?:y|ies)|(?:corrective |recommended )?actions?|solutions?|countermeasures?|measures?|"
           r"what to do|corrections?|rectification|fix)")
_LABEL = re.compile(rf"(?:^|(?<=[\s.;]))({_CAUSE}|{_REMEDY})\s*:\s*", re.I)
_KINDS = (PassageKind.TEXT, PassageKind.PROCEDURE, PassageKind.TABLE)
_HEAD_SEP = re.compile(r"^\s*(?:[–—:\-=|]\s*)?")


def _role(label: str) -> str:
    return "cause" if re.fullmatch(_CAUSE, label.strip(), re.I) else "remedy"


def _plausible(code: str, separated: bool) -> bool:
    """Code-shaped, and not a section number ('4', '10', '2.3'): an all-digit code needs three
    digits, or an explicit separator before its title ('12 – Overtemperature')."""
    if not looks_like_code(code):
        return False
    if re.fullmatch(r"[\d.\s]+", code):
        return bool(re.fullmatch(r"\d{3,6}", code) or (separated and re.fullmatch(r"\d{1,6}", code)))
    return True


def split_head(text: str) -> tuple[str, str] | None:
    """'F012 – Motor overtemperature' -> ('F012', 'Motor overtemperature'); None when the line
    does not start with a plausible code followed by a short title."""
    words = " ".join(text.split()).split(" ")
    for n in (2, 1):
        if len(words) < n:
            continue
        code = " ".join(words[:n]).rstrip(":–—-")
        rest = " ".join(words[n:])
        separated = code != " ".join(words[:n]) or bool(re.match(r"[–—:\-=|]", rest))
        if not _plausible(code, separated):
            continue
        title = _HEAD_SEP.sub("", rest, count=1).strip() if rest else ""
        if n == 2 and not re.fullmatch(r"[A-Za-z]{1,5}", words[0]):
            continue  # two-word codes are 'Err 07' / 'AL 3'
        if not title or not title[0].isalpha() or len(title.split()) > 14 or len(title) > 100:
            continue
        return code, title
    return None


_BARE_LABEL = re.compile(rf"({_CAUSE}|{_REMEDY})", re.I)


def _label_rows(text: str) -> list[tuple[str, str]]:
    """A label column laid out as a table ('Cause | The motor ...' / 'Remedy | Let it ...'):
    [(role, value)], or [] when the first cell of the first row is not a label."""
    parts: list[tuple[str, str]] = []
    for line in text.split("\n"):
        cells = [c.strip() for c in line.split(" | ") if c.strip()]
        if not cells:
            continue
        if len(cells) >= 2 and _BARE_LABEL.fullmatch(cells[0].rstrip(":")):
            parts.append((_role(cells[0].rstrip(":")), " ".join(" ".join(cells[1:]).split())))
        elif parts:
            role, value = parts[-1]
            parts[-1] = (role, f"{value} {' '.join(' '.join(cells).split())}")
        else:
            return []
    return parts


def _labelled(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Text -> (prefix before the first label, [(role, value)])."""
    rows = _label_rows(text) if " | " in text else []
    if rows:
        return "", rows
    marks = list(_LABEL.finditer(text))
    if not marks:
        return text, []
    parts = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        parts.append((_role(m.group(1)), " ".join(text[m.end():end].split())))
    return text[:marks[0].start()].strip(), parts


def _fault_text(row: FaultRow) -> str:
    from assistant.library.ingest.layout import fault_text

    return fault_text(row)


def labelled_faults(blocks: Sequence[Block]) -> list[Block]:
    out: list[Block] = []
    i = 0
    n = len(blocks)
    while i < n:
        block = blocks[i]
        if block.kind not in _KINDS:
            out.append(block)
            i += 1
            continue
        prefix, parts = _labelled(block.text)
        head = None
        run = [block]
        from_heading = False
        if prefix and (head := split_head(prefix)) is not None and len(prefix) <= 120:
            pass  # "F012 Motor overtemperature  Cause: ..." in one block, or a <dt> line on its own
        elif not prefix and parts and block.section and (head := split_head(block.section[-1])) is not None:
            from_heading = True  # a heading "F012 – Motor overtemperature" over labelled paragraphs
        else:
            head = None
        if head is None:
            out.append(block)
            i += 1
            continue
        j = i + 1
        if not parts:  # head alone: the labels must follow at once
            if j < n and blocks[j].kind in _KINDS and blocks[j].section == block.section:
                nxt_prefix, nxt_parts = _labelled(blocks[j].text)
                if nxt_parts and not nxt_prefix:
                    parts = nxt_parts
                    run.append(blocks[j])
                    j += 1
        if not parts:
            out.append(block)
            i += 1
            continue
        while j < n and blocks[j].section == block.section and blocks[j].kind in _KINDS:
            nxt_prefix, nxt_parts = _labelled(blocks[j].text)
            if nxt_parts and not nxt_prefix:
                parts.extend(nxt_parts)
            elif from_heading and not nxt_parts and blocks[j].kind != PassageKind.TABLE and not (
                    len(blocks[j].text) <= 120 and split_head(blocks[j].text)):  # not the next entry's head
                role, value = parts[-1]
                parts[-1] = (role, f"{value} {' '.join(blocks[j].text.split())}".strip())
            else:
                break
            run.append(blocks[j])
            j += 1
        section = block.section
        if not from_heading and section and split_head(section[-1]):
            section = section[:-1] + (" ".join(prefix.split()),)  # a sibling of the entry heading above it
        row = FaultRow(code=head[0], title=head[1])
        for role, value in parts:
            setattr(row, role, f"{getattr(row, role)} {value}".strip())
        row.box = union_box(b.box for b in run)
        out.append(Block(PassageKind.FAULT_CODE, _fault_text(row), section, block.page, run[0].start,
                         run[-1].end, fault=row, codes=(row.code,), box=row.box))
        i = j
    return out
