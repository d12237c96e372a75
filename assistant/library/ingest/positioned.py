"""Tables of positioned lines (PDF text, OCR boxes), read by their cells' positions. It owns:
the column header over a cell (`column_header`) and what it says (a fault list even of one
row, a value table of models / terminals / settings, a 'Code' header over a later column,
`middle_code`); the runs of codes in one column (other kinds of code at the same left edge,
an inner column of a register table, a numbered OCR column repaired by its count); and
turning a run of code lines into entries (`positioned_entries`): columns from where cells
start, header roles, cells top-aligned or centred on their rows, OCR boxes cut at a column
edge, rows continued over page breaks.

`families` finds the code units and their families; it asks this module what a positioned
line's header says and hands it the accepted runs of positioned code lines.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from assistant.domain import PassageKind
from assistant.library.codes import looks_like_code
from assistant.library.ingest.base import Block, FaultRow, Seg, union_box
from assistant.library.ingest.codecells import (
    CONTEXT,
    CONTINUES,
    LABEL_IN_TEXT,
    MARKS,
    NAME,
    WORD,
    CodeUnit,
    cell_codes,
    clean_text,
    entry_blocks,
    join_text,
    kind_of,
    line_box,
    role_of,
    split_labels,
    strong_code,
)


class ColumnHeader(NamedTuple):
    """The header line over a positioned cell."""

    cells: list[str]  # the header line's cell texts
    col: int  # the index of the cell over the column
    place: int  # the header line's index among the document's positioned lines


# --------------------------------------------------------------------------- column headers


_NAMES_CODES = re.compile(r"code|c[óo]digo|codice", re.I)  # a header cell naming the column of codes


def codes_in_later_column(header: ColumnHeader) -> bool:
    """The header names a later column as the codes' ('No. | Code | Name'): the cell over this
    column does not say code / fault, a cell after it does."""
    return not CONTEXT.search(header.cells[header.col]) and \
        any(_NAMES_CODES.search(t) for k, t in enumerate(header.cells) if k > header.col)


def _is_label(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 4 and not re.search(r"\d", text) and bool(WORD.search(text))


def column_header(blocks: list[Block], positioned: list, n: int, seg, memo: dict | None = None
                   ) -> ColumnHeader | None:
    """The header cell over a positioned cell: scanning up from its line (same page, a few lines),
    the first line of short label cells with a cell over the column; a row of codes in that
    column on the way up has the same header (one header per table). Returns (the header's
    cells, the index of the cell over `seg`, the header line's place) or None. A header over
    several lines ('Setting' / 'Range') reads as the line that has a cell over the column."""
    memo = {} if memo is None else memo
    page = blocks[positioned[n][0]].page
    tol = max(seg.height, 4.0)
    for m in range(n - 1, max(n - 10, -1), -1):
        i, _, line = positioned[m]
        if blocks[i].page != page:
            return None
        over = [k for k, x in enumerate(line.segs) if x.x0 - tol <= seg.x1 and seg.x0 <= x.x1 + tol]
        if not over:
            continue
        k = min(over, key=lambda k: abs((line.segs[k].x0 + line.segs[k].x1) / 2 - (seg.x0 + seg.x1) / 2))
        codes, _ = cell_codes(line.segs[k].text)
        if codes and strong_code(codes, "line"):
            if (m, k) not in memo:  # another row of the table: its header is this one's
                memo[(m, k)] = column_header(blocks, positioned, m, line.segs[k], memo)
            return memo[(m, k)]
        if header_line(line):
            return ColumnHeader([x.text.strip() for x in line.segs], k, m)
    return None


def header_line(line) -> bool:
    """A line of short label cells one of which a header is made of ('Code | Fault | Cause'); cells
    with digits ('AL8 | AL4 | Alarm | Cause') when several cells say what their columns are."""
    texts = [x.text.strip() for x in line.segs]
    if len(texts) < 2 or not all(0 < len(t.split()) <= 4 for t in texts):
        return False
    named = sum(1 for t in texts if WORD.search(t) and not re.search(r"\d", t) and _header_word(t))
    return named >= 1 and all(_is_label(t) for t in texts) or named >= 2 and \
        all(WORD.search(t) or not re.fullmatch(r"[\d\s.,:;()/-]+", t) for t in texts)


def _header_word(cell: str) -> bool:
    """A cell a table header is made of: a role ('Cause'), 'Code' / 'Fault', a number or value column."""
    words = [w.lower() for w in WORD.findall(cell)]
    return bool(role_of(cell) or CONTEXT.search(cell) or any(w in _VALUE_WORDS or _CODE_WORD.match(w) for w in words))


_CODE_WORD = re.compile(
    r"^(?:codes?|c[óo]digos?|codice|no|nr|n[°º]|number|nummer|num[ée]ro|n[úu]mero|item|index|pos)$", re.I)
_VALUE_WORDS = {"model", "models", "modelo", "modèle", "modell", "type", "typ", "tipo", "terminal", "terminals",
                "klemme", "borne", "pin", "parameter", "parameters", "parámetro", "paramètre", "parametro", "range",
                "bereich", "rango", "plage", "setting", "settings", "einstellung", "default", "unit", "units",
                "einheit", "unidad", "unité", "register", "address", "value", "values", "wert", "valor", "valeur",
                "connector", "port", "part", "parts", "component", "components"}


def _fault_word(cell: str) -> bool:
    """The cell says fault / error / alarm ..., not just 'code'."""
    return any(CONTEXT.match(w) and not _CODE_WORD.match(w) for w in WORD.findall(cell))


def value_table(header: ColumnHeader) -> bool:
    """'Model | DTC code', 'No. | Description | Setting range', 'Query code | Description | Range':
    a table of values, models or terminals, whose column of numbers is no fault list."""
    texts, k, _ = header
    if _fault_word(texts[k]) or any(role_of(t) in ("cause", "remedy") for t in texts):
        return False
    return any(w.lower() in _VALUE_WORDS for t in texts for w in WORD.findall(t))


def header_context(header: ColumnHeader, block: Block, lead: str) -> str:
    """A column header decides what its column is: a cell saying fault / error is context; one
    saying just 'Code' leaves it to the table's caption and section; any other ('No.', 'Item')
    to the section and header alone, not to the text before the table."""
    texts, k, _ = header
    parts = [" > ".join(block.section)] + texts
    if CONTEXT.search(texts[k]) and not _fault_word(texts[k]):
        parts.append(lead)
    return " ".join(parts)


def header_names(header: ColumnHeader) -> bool:
    """A header whose cell over the code says fault / error, with another cell naming a title,
    cause or remedy (or says 'Code' with a cause or remedy column): a fault table, even of one row."""
    texts, k, _ = header
    others = [role_of(t) for j, t in enumerate(texts) if j != k]
    if _fault_word(texts[k]):
        return any(others)
    return bool(CONTEXT.search(texts[k])) and any(r in ("cause", "remedy") for r in others)


def middle_code(blocks: list[Block], positioned: list, n: int | None, segs: list, open_column,
                 memo: dict) -> tuple | None:
    """A code in a later cell of a positioned line, under a header cell that says code / fault
    ('Description | Code | Meaning'), or in the column such a header opened on an earlier page:
    (cell index, header, code)."""
    if n is None:
        return None
    for k, seg in enumerate(segs[1:], start=1):
        value = MARKS.sub("", seg.text.strip())
        if not looks_like_code(value):
            continue
        header = column_header(blocks, positioned, n, seg, memo)
        if header is None and open_column is not None:
            tol = max(seg.height, 4.0)
            if abs(open_column[1].x0 - seg.x0) <= tol:
                header = open_column[0]
        if header is not None and CONTEXT.search(header.cells[header.col]) and not value_table(header):
            return k, header, value
        return None
    return None


# --------------------------------------------------------------------------- runs of codes in one column


def absorb_column(run: list[CodeUnit], units: list[CodeUnit], blocks: list[Block]) -> list[CodeUnit]:
    """Codes of another kind inside a run of positioned code lines, at the same left edge, are
    members too (a table column mixing 'F0001', 'Err 07' and '2310', or 'F9', 'FA', 'Fb'), down
    to the end of the block the table continues into: in a column of codes, a cell that is just
    a code-shaped token is a code even where it alone would be a word ('Eb', 'Ed')."""
    xs = sorted(u.x for u in run if u.x is not None)
    if not xs or not is_positioned(blocks, run):
        return run
    x = xs[len(xs) // 2]
    last = run[-1].block
    end = last + 1 if continues_table(blocks, last) else last
    span = ((run[0].block, run[0].row), (end, len(blocks[end].lines or [])))
    have = {(u.block, u.row) for u in run}
    extra = [u for u in units if u.kind == "line" and u.x is not None and abs(u.x - x) < 3
             and span[0] < (u.block, u.row) < span[1] and (u.block, u.row) not in have]
    have |= {(u.block, u.row) for u in extra}
    kinds = {kind_of(u.codes[0]) for u in run}
    for i in range(run[0].block, end + 1):
        for r, line in enumerate(blocks[i].lines or []):
            segs = getattr(line, "segs", None)
            if not segs or (i, r) in have or not span[0] < (i, r) < span[1] or abs(segs[0].x0 - x) >= 3:
                continue
            token = MARKS.sub("", segs[0].text.strip())
            if header_line(line):
                continue  # the header repeated on a continued page ('Code | Fault | Cause')
            if looks_like_code(token) and token[:1].isupper() and (kind_of(token) in kinds or kind_of(token) == "A"):
                extra.append(CodeUnit("line", i, [token], join_text([s.text for s in segs[1:]]), run[0].family,
                                      run[0].context, r, x=segs[0].x0))
    return sorted(run + extra, key=lambda u: (u.block, u.row)) if extra else run


def repair_ocr_run(run: list[CodeUnit], blocks: list[Block]) -> list[CodeUnit]:
    """A scanned column of numbered codes that counts up by one (1, 2, 3 ...): a member that breaks
    the count between its neighbours ('1, 20, 3', '8, 6, 10') is an OCR misreading of the number
    the count gives, and a short token at the column's left edge where a number is missing
    ('4, so, 6') is that number. Only on OCR'd lines, only in a run that mostly counts by one."""
    if len(run) < 4 or not is_positioned(blocks, run) or not all(
            re.fullmatch(r"\d{1,4}", u.codes[0]) and any(s.conf is not None for s in blocks[u.block].lines[u.row].segs)
            for u in run):
        return run
    values = [int(u.codes[0]) for u in run]
    for n in range(1, len(run) - 1):
        if values[n + 1] == values[n - 1] + 2 and values[n] != values[n - 1] + 1:
            values[n] = values[n - 1] + 1
    # the repaired run must count up by one, a number missing here and there
    if sum(1 for a, b in zip(values, values[1:]) if b - a in (1, 2)) < 0.8 * (len(values) - 1):
        return run
    for unit, value in zip(run, values):
        if int(unit.codes[0]) != value:
            unit.codes = [str(value)]
    x = sorted(u.x for u in run)[len(run) // 2]
    have = {(u.block, u.row) for u in run}
    extra = []
    for n in range(len(run) - 1):
        if values[n + 1] != values[n] + 2:
            continue
        start, end = (run[n].block, run[n].row), (run[n + 1].block, run[n + 1].row)
        gap = [(i, r, line) for i in range(start[0], end[0] + 1) for r, line in enumerate(blocks[i].lines or [])
               if start < (i, r) < end and (i, r) not in have and getattr(line, "segs", None)
               and abs(line.segs[0].x0 - x) < 3 and len(line.segs) >= 2
               and re.fullmatch(r"\S{1,3}", line.segs[0].text.strip())]
        if len(gap) == 1:
            i, r, line = gap[0]
            extra.append(CodeUnit("line", i, [str(values[n] + 1)], join_text([s.text for s in line.segs[1:]]),
                                  run[0].family, run[0].context, r, x=line.segs[0].x0))
    return sorted(run + extra, key=lambda u: (u.block, u.row)) if extra else run


def inner_column(blocks: list[Block], run: list[CodeUnit]) -> bool:
    """Positioned codes that start their lines, but lines between them start further left: the
    codes are in an inner column of a table ('0: Default mode', '2: software control' in a
    register table's notes), not a list of codes (a column of codes under a code header is
    found through that header)."""
    if not is_positioned(blocks, run) or len(run) < 2:
        return False
    x = sorted(u.x for u in run)[len(run) // 2]
    have = {(u.block, u.row) for u in run}
    first, last = (run[0].block, run[0].row), (run[-1].block, run[-1].row)
    heights = sorted(blocks[u.block].lines[u.row].height for u in run)
    line_h = heights[len(heights) // 2]
    left = 0
    for i in range(run[0].block, run[-1].block + 1):
        for r, line in enumerate(blocks[i].lines or []):
            if first < (i, r) < last and (i, r) not in have and getattr(line, "segs", None) \
                    and line.segs[0].x1 < x - line_h:
                left += 1
    return left >= max(2, len(run) // 4)


def continues_table(blocks: list[Block], index: int) -> bool:
    """The block after `index` continues its table: same page and section, positioned lines."""
    return index + 1 < len(blocks) and bool(blocks[index + 1].lines) and blocks[index + 1].kind in CONTINUES \
        and blocks[index + 1].page == blocks[index].page and blocks[index + 1].section == blocks[index].section


# --------------------------------------------------------------------------- entries


def is_positioned(blocks: list[Block], members: list[CodeUnit]) -> bool:
    """Every member's line has positioned segments (PDF text, OCR), not plain text."""
    return all(blocks[u.block].lines and hasattr(blocks[u.block].lines[u.row], "segs") for u in members)


def _columns(lefts: list[float], tol: float, least: int = 2) -> list[float]:
    """Column left edges: cell starts within `tol` of each other are one column, kept where at
    least `least` cells start there (else 2, else every one)."""
    out: list[list[float]] = []
    for x in sorted(lefts):
        if out and x - out[-1][-1] <= tol:
            out[-1].append(x)
        else:
            out.append([x])
    return [min(c) for c in out if len(c) >= least] or [min(c) for c in out if len(c) >= 2] or [min(c) for c in out]


@dataclass
class _Grid:
    """The columns of a positioned table: their left edges with their index (-1: the code
    column), the tolerance a cell's start may miss its edge by, and the table's line height."""

    edges: list[tuple[float, int]]
    tol: float
    line_h: float

    def column(self, x: float) -> int:
        """The column a cell starting at `x` is in (-1: the code column)."""
        k = self.edges[0][1]
        for left, n in self.edges:
            if x >= left - self.tol:
                k = n
        return k

    def split(self, seg) -> list:
        """A run crossing a column's left edge (OCR joins neighbouring cells into one box), cut
        between the words that fall on either side (positions interpolated from the run's width)."""
        words = seg.text.split()
        if len(words) < 2 or self.column(seg.x0) == -1 or \
                not any(seg.x0 + self.tol < left < seg.x1 - self.tol for left, _ in self.edges):
            return [seg]  # (text under the codes is a note or a label line, not cells run together)
        per_char = (seg.x1 - seg.x0) / max(len(seg.text), 1)
        parts: list[list] = []  # [column, words, x0, x1]
        pos = 0
        for word in words:
            at = seg.text.find(word, pos)
            pos = at + len(word)
            x0, x1 = seg.x0 + at * per_char, seg.x0 + pos * per_char
            k = next((n for left, n in reversed(self.edges) if left <= x0 + 0.3 * self.line_h), self.edges[0][1])
            if parts and parts[-1][0] == k:
                parts[-1][1].append(word)
                parts[-1][3] = x1
            else:
                parts.append([k, [word], x0, x1])
        return [Seg(" ".join(ws), x0, x1, seg.top, seg.bottom, seg.size, seg.bold, seg.conf)
                for _, ws, x0, x1 in parts]


def _header_roles(blocks: list[Block], lines: list, member_at: dict, grid: _Grid
                  ) -> tuple[dict[int, str], set[tuple[int, int]]]:
    """The table's header lines (lines above a page's first code row that name roles, a header
    repeated on a continued page too) and the role each names for its column."""
    roles: dict[int, str] = {}
    header_lines: set[tuple[int, int]] = set()
    pages_started: set = set()  # a header repeated at the top of a continued page is a header too
    for i, r, line in lines:
        if (i, r) in member_at:
            pages_started.add(blocks[i].page)
        if blocks[i].page in pages_started:
            continue
        found: dict[int, str | None] = {}
        for seg in line.segs:
            k = grid.column((seg.x0 + seg.x1) / 2 if seg.x1 - seg.x0 < 3 * grid.line_h else seg.x0)
            found[k] = found.get(k) or role_of(seg.text)
        if sum(1 for v in found.values() if v) >= 1 and header_line(line):
            header_lines.add((i, r))
            for k, role in sorted(found.items()):
                if role == "title" and "title" in roles.values() and roles.get(k) != "title":
                    role = "cause"  # 'Alarm text | Description | Countermeasure': the second text column explains
                if role and k >= 0 and k not in roles and role not in roles.values():
                    roles[k] = role
    return roles, header_lines


def positioned_entries(blocks: list[Block], members: list[CodeUnit]) -> tuple[int, list[Block], list[int]]:
    """A run of code lines laid out as a table (PDF text, OCR): columns start where the cells
    after the codes start; every other line's cells go to the nearest code row of its page
    (cells are top-aligned or centred on their row), lines on a new page before its first code
    finish the row above (a table continued over a page break). Column headers (any language)
    give the roles; without them the first column that holds names is the title, the rest
    description. Returns the table's first block, its blocks (the lines before the table, the
    header, the entries) and the blocks it replaces."""
    member_at = {(u.block, u.row): u for u in members}
    first_block, last_block = min(u.block for u in members), max(u.block for u in members)
    header_at = members[0].header_at if members[0].header_at and members[0].header_at[0] >= first_block - 3 else None
    preface_until = header_at if header_at else (first_block, min(u.row for u in members if u.block == first_block))
    first_block = min(first_block, header_at[0]) if header_at else first_block
    used = list(range(first_block, last_block + 1))
    if continues_table(blocks, last_block):
        used.append(last_block + 1)
    lines = [(i, r, line) for i in used for r, line in enumerate(blocks[i].lines or []) if hasattr(line, "segs")]
    member_pages = {blocks[u.block].page for u in members}
    heights = sorted(line.height for _, _, line in lines) or [10.0]
    line_h = heights[len(heights) // 2]
    tol = 1.5 * line_h
    code_x = sorted(blocks[u.block].lines[u.row].segs[u.col].x0 for u in members)[len(members) // 2]
    # columns start where cells start: on the code rows and on the lines between them (a cell
    # centred on its row, or taller than the code's, starts on another line than the code)
    lefts = [seg.x0 for (i, r), u in member_at.items() for k, seg in enumerate(blocks[i].lines[r].segs)
             if k != u.col and (seg.x0 > code_x + line_h or k < u.col)]
    lefts += [seg.x0 for i, r, line in lines if (i, r) not in member_at and blocks[i].page in member_pages
              for n, seg in enumerate(line.segs) if abs(seg.x0 - code_x) > line_h
              and (n == 0 or seg.x0 - line.segs[n - 1].x1 >= line_h)]  # not a wide word space
    cols = _columns(lefts, tol, max(2, len(members) // 3)) or [code_x + 4 * line_h]
    edges = sorted([(left, n) for n, left in enumerate(cols)] + [(code_x, -1)])
    grid = _Grid(edges, tol, line_h)
    column, split = grid.column, grid.split
    # the lines before the table's header (or first code) stay a block of their own
    preface = [line for i, r, line in lines if (i, r) < preface_until]
    lines = [(i, r, line) for i, r, line in lines if (i, r) >= preface_until]
    roles, header_lines = _header_roles(blocks, lines, member_at, grid)
    rows: list[dict] = []
    header_rows = [(i, line) for i, r, line in lines if (i, r) in header_lines]
    order = [(i, r, line) for i, r, line in lines if (i, r) not in header_lines]
    for i, r, line in order:
        unit = member_at.get((i, r))
        if unit is not None:
            rows.append({"unit": unit, "page": blocks[i].page, "line": line, "cells": defaultdict(list),
                         "lines": [line], "block": i})
            for k, seg in enumerate(line.segs):
                if k != unit.col:
                    for part in split(seg):
                        rows[-1]["cells"][max(column(part.x0), 0)].append(part)
            own_rest = cell_codes(line.segs[unit.col].text)[1] if len(line.segs) > 1 else unit.rest
            if own_rest and own_rest[:1].isalpha():  # code and title in one run ('F0001 Overcurrent')
                rows[-1]["title_text"] = own_rest
    # every other line: nearest row on its page; before the page's first row: the row above
    page_of: dict[int, int] = {}  # a cell's lines read page by page (a row continued on the next page)

    def own(owner: dict, line, page) -> None:
        owner["lines"].append(line)
        for seg in (part for whole in line.segs for part in split(whole)):
            owner["cells"][column(seg.x0)].append(seg)  # -1: text under the codes ('Cause: ...')
            page_of[id(seg)] = page if page is not None else 0

    def middle(line) -> float:
        return (line.top + line.bottom) / 2

    page_top: dict = defaultdict(list)  # page -> lines above its first code row
    tentative: list = []
    rows_on: dict = defaultdict(list)
    for row in rows:
        rows_on[row["page"]].append(row)
    above: dict = {}  # page -> bottom of the line above
    ended: set = set()  # pages on which the table has ended (a gap after its last row)
    for i, r, line in order:
        page = blocks[i].page
        prev_bottom, above[page] = above.get(page), line.bottom
        if (i, r) in member_at:
            continue
        same = rows_on.get(page)
        if not same or page in ended:
            continue
        mid = middle(line)
        if mid > same[-1]["line"].bottom and prev_bottom is not None and line.top - prev_bottom > 2.5 * line_h:
            ended.add(page)  # the rows' lines run on without a gap: what follows a gap is after the table
            continue
        if mid < same[0]["line"].top - 0.3 * line_h:
            page_top[page].append(line)
            continue
        dist = [abs(middle(row["line"]) - mid) for row in same]
        best = min(range(len(same)), key=lambda k: (dist[k], k))
        if best + 1 < len(same) and dist[best] == dist[best + 1]:
            pass  # a tie: the row above (lines run on below their code)
        elif best > 0 and dist[best - 1] - dist[best] < 0.25 * line_h and middle(same[best]["line"]) > mid:
            best -= 1
        if mid - same[-1]["line"].bottom > 6 * line_h and not (
                tentative and tentative[-1][1] is same and 0 <= line.top - tentative[-1][0].bottom < line_h):
            continue  # text after the table (a tall cell's lines run on without a gap)
        tentative.append((line, same, best, page))
    # cells top-aligned on their rows: a cell of several lines starts on its code's line (else the
    # cells are centred on their rows, and a line belongs to the nearest code)
    multi = on_code = 0
    by_row: dict[int, list] = defaultdict(list)
    for line, same, best, _ in tentative:
        by_row[id(same[best])].append(line)
    under_code = 0
    for row in rows:
        for k in set(column(x.x0) for line in by_row.get(id(row), []) for x in line.segs):
            if k == -1:  # the code's own cell runs on below it ('F0001' / 'Overcurrent')
                under_code += 1
                continue
            multi += 1
            on_code += any(column(x.x0) == k for x in row["line"].segs)
    top_aligned = on_code >= 0.8 * multi if multi else under_code * 2 >= len(rows)
    for line, same, best, page in tentative:
        cells = {column(x.x0) for x in line.segs}
        if cells == {-1}:  # the code's own cell runs on below it
            best = max((k for k, row in enumerate(same) if row["line"].top <= middle(line)), default=0)
        elif top_aligned and not (middle(line) < same[best]["line"].top and
                                  not cells & {column(x.x0) for x in same[best]["line"].segs}):
            # (a cell the nearest row's code line lacks, just above it, is that row's cell centred on it)
            best = max((k for k, row in enumerate(same) if row["line"].top <= middle(line)), default=0)
        own(same[best], line, page)
    # cells centred on their rows: most rows that follow another row on their page hold lines above their code
    inner = [row for n, row in enumerate(rows) if n and rows[n - 1]["page"] == row["page"]]
    centred = bool(inner) and 2 * sum(any(middle(x) < row["line"].top for x in row["lines"][1:]) for row in inner) \
        >= len(inner)
    for page, tops in page_top.items():
        same = [row for row in rows if row["page"] == page]
        first = same[0]
        before = [row for row in rows if row["page"] is not None and page is not None and row["page"] < page]
        below = sum(1 for x in first["lines"][1:] if middle(x) > first["line"].bottom)
        heads = [x for h, x in header_rows if blocks[h].page == page]
        header_above = bool(heads)
        if heads:
            # above the header: the page's running head; right under it, short cells continuing it
            # ('(LED' / '12)' under 'AL8  AL4'): the header's second line
            tops = [x for x in tops if x.top >= heads[-1].bottom]
            last = heads[-1]
            while tops and len(tops[0].segs) >= 2 and all(len(x.text.split()) <= 2 for x in tops[0].segs) \
                    and tops[0].top - last.bottom < line_h:
                last = tops.pop(0)
        for n, line in enumerate(tops):
            mid = middle(line)
            if before and (top_aligned or (len(tops) - n > below if centred
                                           else mid < first["line"].top - 1.2 * line_h)):
                own(before[-1], line, page)  # lines above the first code row of a continued page finish the last row
            elif mid >= first["line"].top - 3 * line_h or header_above or centred:
                own(first, line, page)  # between the header and the first row: a cell centred on that row
    entries = _row_entries(blocks, rows, roles, len(cols), page_of, line_h)
    kept = [line for _, line in header_rows]
    head = []
    block = blocks[first_block]
    if preface:
        head.append(Block(block.kind, "\n".join(x.text for x in preface), block.section, block.page, block.start,
                          block.end, box=union_box(line_box(x) for x in preface) if block.box else None,
                          lines=preface))
    if kept:
        head.append(Block(PassageKind.TABLE, "\n".join(x.text for x in kept), block.section, block.page, block.start,
                          block.end))
    return first_block, head + entries, used


def _row_entries(blocks: list[Block], rows: list[dict], roles: dict[int, str], n_cols: int, page_of: dict,
                 line_h: float) -> list[Block]:
    """The entries of a positioned table's rows: each column's cells read in order (page by page,
    line by line, left to right) into the role its header gave it; without a title header the
    title is the first column that holds names (not flags or values), else the name on the
    code's own line or under it; 'E21 / E22' makes one entry each."""
    named = {k for k in range(n_cols)
             if sum(1 for row in rows if NAME.search(" ".join(x.text for x in row["cells"].get(k, [])))) * 2
             >= len(rows)}
    title_col = next((k for k, v in roles.items() if v == "title"), None)
    if title_col is None:
        free = [k for k in range(n_cols) if k not in roles and k in named]
        title_col = free[0] if free else None

    def reading_order(row: dict):
        page = row["page"] or 0
        return lambda seg: (page_of.get(id(seg), page), round(seg.top / (0.5 * line_h)), seg.x0)

    entries: list[Block] = []
    for row in rows:
        unit = row["unit"]
        entry = FaultRow(code=unit.codes[0])
        for k in sorted(row["cells"]):
            segs = sorted(row["cells"][k], key=reading_order(row))
            role = "title" if k == title_col else roles.get(k, "description")
            if role == "title" and k not in roles:
                # short value cells the column grouping took in with the name ('0  1  MOTOR')
                if any(NAME.search(x.text) for x in segs):
                    values = [x.text for x in segs if not WORD.search(x.text)]
                    entry.description = join_text([entry.description] + values)
                    segs = [x for x in segs if WORD.search(x.text)]
            text = join_text([s.text for s in segs])
            setattr(entry, role, join_text([getattr(entry, role), text], "\n" if k < 0 else " "))
        under = join_text([s.text for s in sorted(row["cells"].get(-1, []), key=reading_order(row))])
        split_labels(entry)
        if row.get("title_text") and not entry.title:
            entry.title = row["title_text"]
        if not entry.title and under and not LABEL_IN_TEXT.match(under):
            # no title column: the name under the code in its own cell ('F0001' / 'Overcurrent')
            entry.title = LABEL_IN_TEXT.split(under, 1)[0].strip()
            entry.description = clean_text(entry.description.replace("\n", " ")).replace(entry.title, "", 1).strip()
        confs = [s.conf for line in row["lines"] for s in line.segs if s.conf is not None]
        entry.conf = sum(confs) / len(confs) if confs else None
        block = blocks[row["block"]]
        box = union_box((x.x0, x.top, x.x1, x.bottom) for x in row["lines"]) if block.box is not None else None
        copies = [entry] + [FaultRow(code=c, title=entry.title, cause=entry.cause, remedy=entry.remedy,
                                     description=entry.description, conf=entry.conf) for c in unit.codes[1:]]
        entries.extend(entry_blocks(copies, block, page=row["page"], box=box))  # 'E21 / E22': one entry each
    return entries
