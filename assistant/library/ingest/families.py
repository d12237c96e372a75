"""Fault-code entries, found the same way in every format: on the structure the readers
produce (table rows and cells, list items, headings, lines), code-shaped tokens that START
a cell, an item, a heading or a line and recur as one FAMILY (same container: the same
table column, the same list, the same heading depth, the same run of lines; the same kind
of code; several members) in a fault CONTEXT (a header, heading, lead-in, the code's own
prefix or the document title saying code / fault / error / alarm / Fehler / défaut /
storing / avería ...) are the codes. An entry runs from its code to the next member of its
family. Title, cause and remedy come from column headers or labels (any language) where the
manual has them; otherwise the title is the text on the code's own line or cell and the
rest is its description.

Positioned lines (PDF text, OCR) are read as tables by `positioned`: this module asks it what
the column header over a line's cell says and what a run of positioned code lines holds (other
code shapes in its column, an inner column, an OCR'd count to repair), and hands it the
accepted runs to turn into entries. What both read (fault words, roles, code cells, the
`CodeUnit`, entry blocks) is in `codecells`.

    find_entries(blocks, headings, doc_title) -> blocks, with FAULT_CODE blocks for entries
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from assistant.domain import PassageKind
from assistant.library.codes import looks_like_code, strip_separators
from assistant.library.ingest.base import Block, FaultRow, Heading, union_box
from assistant.library.ingest.codecells import (
    CONTEXT,
    CONTINUES,
    LABEL_IN_TEXT,
    MARKS,
    MAX_TITLE_WORDS,
    NAME,
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
from assistant.library.ingest.positioned import (
    absorb_column,
    codes_in_later_column,
    column_header,
    header_context,
    header_names,
    inner_column,
    is_positioned,
    middle_code,
    positioned_entries,
    repair_ocr_run,
    value_table,
)


def find_entries(blocks: list[Block], headings: Sequence[Heading], doc_title: str = "") -> list[Block]:
    units: list[CodeUnit] = []
    lead_in: dict[int, str] = {}
    for index, block in enumerate(blocks):
        prev = blocks[index - 1] if index else None
        # a caption, header line or short lead-in names what follows; a long paragraph does not
        if prev is None or prev.kind == PassageKind.FAULT_CODE or prev.section != block.section:
            lead_in[index] = ""  # text of another section says nothing about this one
        elif prev.lines:
            last = prev.lines[-1]
            lead_in[index] = last.text if hasattr(last, "text") else str(last)
        else:
            lead_in[index] = prev.text if len(prev.text) <= 160 else ""
    units += _row_units(blocks, lead_in)
    units += _item_units(blocks, lead_in)
    units += _heading_units(blocks, headings)
    units += _line_units(blocks, lead_in)
    accepted = _families(units, doc_title, blocks)
    return _build(blocks, accepted)


# --------------------------------------------------------------------------- units


def _context(block: Block, lead: str) -> str:
    return " ".join([" > ".join(block.section), lead])


def _row_units(blocks: list[Block], lead_in: dict[int, str]) -> list[CodeUnit]:
    out: list[CodeUnit] = []
    for index, block in enumerate(blocks):
        if block.kind == PassageKind.FAULT_CODE or not block.rows:
            continue
        header = [" ".join(cells) for cells in zip(*block.rows[:block.header_rows])] if block.header_rows else []
        width = max(len(r) for r in block.rows)
        for col in range(width):
            for r, row in enumerate(block.rows[block.header_rows:], start=block.header_rows):
                if col >= len(row):
                    continue
                codes, rest = cell_codes(row[col])
                if codes and rest and not strong_code(codes, "line"):
                    continue  # 'Den Wärmetauscher reinigen': a word, not a code
                if codes:
                    out.append(CodeUnit("row", index, codes, rest, ("row", index, col),
                                        " ".join(header) + " " + _context(block, lead_in[index]), r, col,
                                        header=header + [""] * (width - len(header))))
    return out


def _item_units(blocks: list[Block], lead_in: dict[int, str]) -> list[CodeUnit]:
    out = []
    for index, block in enumerate(blocks):
        if block.kind == PassageKind.FAULT_CODE or not block.items:
            continue
        for r, item in enumerate(block.items):
            codes, rest = cell_codes(item.split("\n", 1)[0])
            if codes and strong_code(codes, "item"):
                out.append(CodeUnit("item", index, codes, rest, ("item", index, kind_of(codes[0])),
                                    _context(block, lead_in[index]), r))
    return out


def _heading_units(blocks: list[Block], headings: Sequence[Heading]) -> list[CodeUnit]:
    out = []
    by_section: dict[tuple, list[int]] = defaultdict(list)
    for index, block in enumerate(blocks):
        for depth in range(1, len(block.section) + 1):
            by_section[block.section[:depth]].append(index)
    for heading in headings:
        if not heading.section:
            continue
        text = heading.section[-1]
        codes, rest = cell_codes(text)
        if not codes:
            codes, rest = _labelled_code(text)
        if not codes or not strong_code(codes, "heading"):
            continue
        depth = len(heading.section)
        body = [i for i in by_section.get(tuple(heading.section), []) if blocks[i].kind != PassageKind.FAULT_CODE]
        labelled = any(LABEL_IN_TEXT.search(_block_text(blocks[i])) or
                       role_of(blocks[i].text.rstrip(":： ")) in ("cause", "remedy") and len(blocks[i].text) <= 40
                       for i in body[:4])
        out.append(CodeUnit("heading", body[0] if body else -1, codes, rest, ("heading", depth, kind_of(codes[0])),
                            " > ".join(heading.section[:-1]) + " " + text, heading=heading, body=body,
                            labelled=labelled))
    return out


_LABELLED = re.compile(r"^(?P<label>[^\W\d_][\w\s]{0,30}?)\s*[:：]\s*(?P<code>\S.*)$")


def _labelled_code(text: str) -> tuple[list[str], str]:
    """'Software Error Code：C24' -> (['C24'], ''): a code after a fault label."""
    m = _LABELLED.match(text.strip())
    if not m or not CONTEXT.search(m.group("label")):
        return [], text
    return cell_codes(m.group("code"))


_CALL = re.compile(r"^[^\w]*(?:[A-Za-z_]\w{0,15}\(\s*)?[\"']?")


def _line_units(blocks: list[Block], lead_in: dict[int, str]) -> list[CodeUnit]:
    out = []
    # the short line after a run of lines ('Whenever these fault codes appear, ...') names it too
    lead_out = {i: (_lines(blocks[i + 1])[0].text if hasattr(_lines(blocks[i + 1])[0], "text")
                    else str(_lines(blocks[i + 1])[0]))[:160]
                for i in range(len(blocks) - 1) if _lines(blocks[i + 1])}
    positioned = [(i, r, line) for i, block in enumerate(blocks) if block.kind != PassageKind.FAULT_CODE
                  for r, line in enumerate(block.lines or []) if getattr(line, "segs", None)]
    place = {(i, r): n for n, (i, r, _) in enumerate(positioned)}
    memo: dict = {}
    open_column = None  # the last column of codes under a header: a table continued on the next page
    for index, block in enumerate(blocks):
        if block.kind == PassageKind.FAULT_CODE or block.rows or block.items:
            continue
        if open_column is not None and open_column[2] != block.section:
            open_column = None
        for r, line in enumerate(_lines(block)):
            text = line.text if hasattr(line, "text") else str(line)
            start = _CALL.match(text)
            codes, rest = cell_codes(text[start.end():] if start else text)
            segs = getattr(line, "segs", None) or []
            if codes and _runs_on(segs[0].text if segs else text):
                continue  # '50, 60, 70, 90,' / 'and red Led': numbers in a sentence that runs on
            header = column_header(blocks, positioned, place[(index, r)], segs[0], memo) if segs else None
            context = _context(block, lead_in[index])
            elsewhere = False  # the header names another column as the codes' ('No. | Code | Name')
            if header is not None:
                if value_table(header):
                    continue
                context = header_context(header, block, lead_in[index])
                elsewhere = codes_in_later_column(header)
            middle = middle_code(blocks, positioned, place.get((index, r)), segs, open_column, memo) \
                if (not codes or elsewhere) and segs else None
            if elsewhere and middle is None:
                continue
            if middle is not None:
                k, column, code = middle
                open_column = (column, segs[k], block.section)
                out.append(CodeUnit("line", index, [code], join_text([x.text for x in segs[k + 1:]]),
                                    ("col", column.place, column.col), header_context(column, block, lead_in[index]),
                                    r, col=k, x=segs[k].x0, header=column.cells, labelled=header_names(column),
                                    header_at=positioned[column.place][:2]))
                continue
            # a letters-only word starting the line ('DHW Sensor interrupted    40-90') is weaker than a
            # code with digits ending it
            weak_left = bool(codes) and not re.search(r"\d", codes[0])
            if (not codes or weak_left) and len(segs) >= 2 and re.search(r"\d", segs[-1].text) \
                    and looks_like_code(MARKS.sub("", segs[-1].text.strip())):
                # the description left, the code right: a code ending a positioned line
                code = MARKS.sub("", segs[-1].text.strip())
                rest = MARKS.sub("", join_text([x.text for x in segs[:-1]]))
                right = column_header(blocks, positioned, place[(index, r)], segs[-1], memo)
                if right is None or not value_table(right):
                    out.append(CodeUnit("line", index, [code], rest, ("line-right", kind_of(code)),
                                        _context(block, lead_in[index]) + " " + lead_out.get(index, "")
                                        if right is None else header_context(right, block, lead_in[index]), r,
                                        x=segs[-1].x0))
                if not codes:
                    continue  # a letters-only code starting the line is a unit too: its family decides
            if not codes or not strong_code(codes, "line"):
                continue
            unit = CodeUnit("line", index, codes, rest, ("line", kind_of(codes[0])), context, r,
                            x=segs[0].x0 if segs else None)
            if header is not None:
                unit.header, unit.labelled = header.cells, header_names(header)
                unit.header_at = positioned[header.place][:2]
            out.append(unit)
    return out



def _runs_on(cell: str) -> bool:
    """A cell of codes that ends with a separator ('50, 60, 90,') is a phrase continued on the
    next line, not a code cell."""
    value = cell.strip()
    if not re.search(r"(?:[,;&/]|\s(?:and|or|und|oder|et|ou|y|o|en|of))$", value):
        return False
    codes, rest = cell_codes(re.sub(r"(?:[,;&/]|\s\w+)$", "", value))
    return bool(codes) and not rest



# --------------------------------------------------------------------------- families


def _families(units: list[CodeUnit], doc_title: str, blocks: list[Block]) -> list[list[CodeUnit]]:
    groups: dict[tuple, list[CodeUnit]] = defaultdict(list)
    for unit in units:
        groups[unit.family].append(unit)
    # a table's code column: the column with most codes (a row holds one code family)
    best_col: dict[int, tuple[int, int]] = {}
    for key, members in groups.items():
        if key[0] == "row":
            index, col = key[1], key[2]
            score = len({m.codes[0] for m in members}) + sum(1 for m in members if re.search(r"\d", m.codes[0]))
            if index not in best_col or score > best_col[index][1]:
                best_col[index] = (col, score)
    title_context = bool(CONTEXT.search(doc_title or ""))
    accepted: list[list[CodeUnit]] = []
    for key, members in groups.items():
        if key[0] == "row" and best_col[key[1]][0] != key[2]:
            continue
        if key[0] in ("line", "line-right"):
            for run in (run for column in _by_left_edge(members) for run in _runs(column)):
                if key[0] == "line" and inner_column(blocks, run):
                    continue
                if _accept(run, title_context):
                    accepted.append(repair_ocr_run(absorb_column(run, units, blocks), blocks))
            continue
        if _accept(members, title_context):
            accepted.append(members)
    # a run another run absorbed ('FA', 'PA' among 'F1'...'F9') is part of that family
    places = [{(u.block, u.row) for u in f} if f[0].kind == "line" else set() for f in accepted]
    return [f for n, f in enumerate(accepted)
            if not places[n] or not any(m != n and (places[n] < places[m] or places[n] == places[m] and m < n)
                                        for m in range(len(accepted)))]



def _by_left_edge(members: list[CodeUnit]) -> list[list[CodeUnit]]:
    """Positioned code lines form a family only within one column: codes that start lines at the
    same left edge (a capitalised word further right, 'TRIP', starts no list)."""
    placed = sorted((u for u in members if u.x is not None), key=lambda u: u.x)
    columns: list[list[CodeUnit]] = []
    for unit in placed:
        if columns and unit.x - columns[-1][-1].x <= 6.0:
            columns[-1].append(unit)
        else:
            columns.append([unit])
    loose = [u for u in members if u.x is None]
    return [sorted(c, key=lambda u: (u.block, u.row)) for c in columns] + ([loose] if loose else [])


def _runs(members: list[CodeUnit]) -> list[list[CodeUnit]]:
    """Lines of one kind of code, split where other text comes between them for long: one run
    per list. Several members must follow each other closely."""
    runs: list[list[CodeUnit]] = []
    for unit in sorted(members, key=lambda u: (u.block, u.row)):
        if runs and unit.block - runs[-1][-1].block <= 8:
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return runs





def _accept(members: list[CodeUnit], title_context: bool) -> bool:
    distinct = {m.codes[0] for m in members}
    kind = members[0].kind
    if kind == "row" and members[0].header and CONTEXT.search(members[0].header[members[0].col]) and \
            any(role_of(h) for k, h in enumerate(members[0].header) if k != members[0].col):
        return True  # a fault-table header ('Alarm | Description | Cause | Remedy') over even one row
    if kind == "line" and members[0].header and members[0].labelled:
        return True  # a fault-table header over positioned rows ('Error code | Description | Solution')
    if len(distinct) < (3 if kind == "line" else 2):
        return False
    if kind == "line" and len(distinct) < 0.85 * len(members):
        return False  # values that repeat ('Function 03', 'Address Hi 00') are not a list of codes
    if kind in ("line", "item"):
        # the code's own line names the fault: text follows most codes
        # (a positioned row may have other short cells between its code and its name: '1  0 1  MOTOR')
        if sum(1 for m in members if m.rest and m.rest[:1].isalpha() or m.rest[:1] in "\"'(" or
               m.x is not None and NAME.search(m.rest)) < 0.7 * len(members):
            return False
    prefixed = all(CONTEXT.match(m.codes[0]) for m in members)
    labelled = sum(m.labelled for m in members) * 2 >= len(members)
    # lines: the text before the run (a heading, a header line, a lead-in), not text between members
    # (the last member's lead-in lies between members; only a code-right run's lead-out follows it)
    near = ([members[0], members[-1]] if members[0].family[0] == "line-right" else members[:1]) \
        if kind == "line" else members[:3]
    context = prefixed or labelled or title_context or any(CONTEXT.search(m.context) for m in near)
    return context


# --------------------------------------------------------------------------- entries


def _build(blocks: list[Block], families: list[list[CodeUnit]]) -> list[Block]:
    replace: dict[int, list[Block]] = {}
    before: dict[int, list[Block]] = {}
    consumed: set[int] = set()
    order = {"row": 0, "item": 1, "heading": 2, "line": 3}
    for members in sorted(families, key=lambda f: order[f[0].kind]):
        kind = members[0].kind
        if kind in ("row", "item"):  # a family of one table or one list: its block becomes the entries
            index = members[0].block
            if index in consumed:
                continue
            replace[index] = (_table_entries if kind == "row" else _item_entries)(blocks[index], members)
            consumed.add(index)
        elif kind == "heading":
            boiler = _boilerplate(blocks, members)
            for unit in members:
                body = [i for i in unit.body if i not in consumed]
                entries = _heading_entries(blocks, unit, body, boiler)
                if not body:  # a heading with nothing under it: the entry sits where the heading is
                    at = next((i for i, b in enumerate(blocks) if b.start > unit.heading.start), len(blocks))
                    before.setdefault(at, []).extend(entries)
                    continue
                replace[body[0]] = entries + replace.get(body[0], [])
                consumed.update(body)
                for i in body[1:]:
                    replace.setdefault(i, [])
        elif members[0].family[0] in ("line", "col") and is_positioned(blocks, members) and \
                not any(u.block in consumed for u in members):
            first, entries, used = positioned_entries(blocks, members)
            replace[first] = entries
            for i in used:
                consumed.add(i)
                if i != first:
                    replace[i] = []
        else:
            by_block: dict[int, list[CodeUnit]] = defaultdict(list)
            for unit in members:
                by_block[unit.block].append(unit)
            member_blocks = set(by_block)
            for index, units in by_block.items():
                if index in consumed:
                    continue
                follow = []
                j = index + 1
                while (j < len(blocks) and j not in member_blocks and j not in consumed and len(follow) < 8
                       and blocks[j].section == blocks[index].section and blocks[j].kind in CONTINUES):
                    follow.append(j)
                    j += 1
                replace[index] = _line_entries(blocks[index], units, [blocks[j] for j in follow])
                consumed.add(index)
                for j in follow:
                    consumed.add(j)
                    replace[j] = []
    out: list[Block] = []
    for index, block in enumerate(blocks):
        out.extend(before.get(index, []))
        if index in replace:
            out.extend(replace[index])
        else:
            out.append(block)
    out.extend(before.get(len(blocks), []))
    return out


def _boilerplate(blocks: list[Block], members: list[CodeUnit]) -> set[str]:
    """Text repeated under most entries of a family (a brand line, 'Read more') names none of them."""
    if len(members) < 3:
        return set()
    counts: dict[str, int] = defaultdict(int)
    for unit in members:
        for text in {blocks[i].text for i in unit.body[:4]}:
            counts[text] += 1
    return {t for t, n in counts.items() if n >= max(3, len(members) // 2) and not role_of(t.rstrip(":： "))}



def _table_entries(block: Block, members: list[CodeUnit]) -> list[Block]:
    code_col = members[0].col
    header = [" ".join(c for c in cells if c) for cells in zip(*block.rows[:block.header_rows])] \
        if block.header_rows else []
    roles: dict[int, str] = {}
    for col, label in enumerate(header):
        role = role_of(label) if col != code_col else None
        if role == "title" and "title" in roles.values():
            role = "cause"  # 'Alarm text | Description | Countermeasure': the second text column explains
        if role and role not in roles.values():
            roles[col] = role
    width = max(len(r) for r in block.rows)
    free = [c for c in range(width) if c != code_col and c not in roles]
    by_row = {m.row: m for m in members}
    rows: list[FaultRow] = []
    current: list[FaultRow] = []
    for r, cells in enumerate(block.rows[block.header_rows:], start=block.header_rows):
        cells = [clean_text(c) for c in cells] + [""] * (width - len(cells))
        unit = by_row.get(r)
        if unit is None:
            if current and not cells[code_col]:  # an empty code cell continues the entry above
                for entry in current:
                    _fill(entry, cells, roles, free, continued=True)
            elif cells[code_col]:
                current = []  # a group row ('Motor faults') or another table's text
            continue
        current = [FaultRow(code=c) for c in unit.codes]
        for entry in current:
            if unit.rest:
                entry.title = unit.rest
            _fill(entry, cells, roles, free, continued=False)
        rows.extend(current)
    return entry_blocks(rows, block)


def _fill(entry: FaultRow, cells: list[str], roles: dict[int, str], free: list[int], continued: bool) -> None:
    for col, role in roles.items():
        if cells[col]:
            setattr(entry, role, join_text([getattr(entry, role), cells[col]]))
    for col in free:
        text = cells[col]
        if not text or re.fullmatch(r"[\d\s.,\-–]+", text):
            continue  # page numbers, running numbers
        if not entry.title and not continued:
            entry.title = text
        else:
            entry.description = join_text([entry.description, text])
    if not entry.title and not continued and "title" not in roles.values():
        # no title column: the first description / cause text names the fault
        for role in ("cause", "remedy"):
            col = next((c for c, r in roles.items() if r == role and cells[c]), None)
            if col is not None:
                entry.title = _first_sentence(cells[col])
                break


def _starts_with_code(text: str) -> bool:
    codes, _ = cell_codes(text)
    return bool(codes) and strong_code(codes, "line")


def _first_sentence(text: str) -> str:
    text = re.sub(r"^\s*(?:\d{1,2}[.)]|[-•*])\s+", "", text)
    first = re.split(r"(?<=[.!?])\s+|\s+(?=\d{1,2}[.)]\s)", text, maxsplit=1)[0]
    return first


def _item_entries(block: Block, members: list[CodeUnit]) -> list[Block]:
    by_item = {m.row: m for m in members}
    rows: list[FaultRow] = []
    for r, item in enumerate(block.items):
        unit = by_item.get(r)
        if unit is None:
            if rows:
                rows[-1].description = join_text([rows[-1].description, item])
            continue
        rest = item.split("\n", 1)
        for code in unit.codes:
            row = FaultRow(code=code, title=unit.rest, description=join_text(rest[1:]))
            split_labels(row)
            rows.append(row)
    return entry_blocks(rows, block)


def _lines(block: Block) -> list:
    """A block's lines; a paragraph read without line breaks is one line."""
    return block.lines or ([block.text] if "\n" not in block.text else block.text.split("\n"))




def _line_entries(block: Block, units: list[CodeUnit], follow: Sequence[Block] = ()) -> list[Block]:
    by_line = {u.row: u for u in units}
    rows: list[tuple[FaultRow, list]] = []
    before: list = []
    for r, line in enumerate(_lines(block)):
        unit = by_line.get(r)
        text = line.text if hasattr(line, "text") else str(line)
        if unit is None:
            if rows and len(rows[-1][1]) < 12:
                rows[-1][0].description = join_text([rows[-1][0].description, _line_text(line)], "\n")
                rows[-1][1].append(line)
            elif not rows:
                before.append(line)
            continue
        title = strip_separators(unit.rest)
        rows.append((FaultRow(code=unit.codes[0], title=title), [line]))
    if rows:
        for extra in follow:
            for line in _lines(extra):
                rows[-1][0].description = join_text([rows[-1][0].description, _line_text(line)], "\n")
            rows[-1][1].extend(x for x in _lines(extra) if hasattr(x, "segs"))
    out: list[Block] = []
    if before:
        text = "\n".join(x.text if hasattr(x, "text") else str(x) for x in before)
        out.append(Block(block.kind, text, block.section, block.page, block.start, block.end,
                         box=union_box(line_box(x) for x in before)))
    for row, lines in rows:
        split_labels(row)
        confs = [s.conf for x in lines for s in getattr(x, "segs", []) if s.conf is not None]
        row.conf = sum(confs) / len(confs) if confs else None
        out.extend(entry_blocks([row], block, box=union_box(line_box(x) for x in lines)))
    return out




_LABEL_LINE = re.compile(r"^\s*(?P<label>[^\W\d_][^\W\d_ ]*(?: [^\W\d_]+){0,3})\s*[:：]\s*(?P<value>.*)$", re.S)




def _line_text(line) -> str:
    """A positioned line whose first cell is a bare label ('Cause    The motor ...') reads as
    'Cause: The motor ...'."""
    if not hasattr(line, "segs"):
        return str(line)
    if len(line.segs) >= 2 and role_of(line.segs[0].text) in ("cause", "remedy") and \
            len(line.segs[0].text.split()) <= 3 and not line.segs[0].text.rstrip().endswith(":"):
        return f"{line.segs[0].text.strip()}: {' '.join(s.text.strip() for s in line.segs[1:])}"
    return line.text


def _block_text(block: Block) -> str:
    if block.lines and any(hasattr(x, "segs") for x in block.lines):
        return "\n".join(_line_text(x) for x in block.lines)
    return block.text


def _heading_entries(blocks: list[Block], unit: CodeUnit, body: list[int], boiler: set[str]) -> list[Block]:
    """One entry per code heading; a block in its body that starts with another code of the
    family's kind (a heading the layout did not see as one) starts the next entry."""
    heading = unit.heading
    depth = len(heading.section)
    kind = kind_of(unit.codes[0])
    parts: list[tuple[str, str, list[int]]] = [(unit.codes[0], strip_separators(unit.rest), [])]
    for i in body:
        first_line = _lines(blocks[i])[0] if _lines(blocks[i]) else ""
        first_line = first_line.text if hasattr(first_line, "text") else str(first_line)
        codes, rest = cell_codes(first_line)
        if (codes and strong_code(codes, "line") and kind_of(codes[0]) == kind and rest and rest[:1].isalpha()
                and len(rest.split()) <= MAX_TITLE_WORDS and len(blocks[i].section) == depth):
            parts.append((codes[0], rest, []))
            rest_lines = _lines(blocks[i])[1:]
            if rest_lines:
                parts[-1][2].append(-i - 1)  # the block's other lines belong to the new entry
            continue
        parts[-1][2].append(i)
    out: list[Block] = []
    for n, (code, title, members) in enumerate(parts):
        section = tuple(heading.section) if n == 0 else tuple(heading.section[:-1]) + (f"{code} {title}",)
        out.extend(_one_heading_entry(blocks, heading, depth, code, title, members, boiler, section))
    return out


def _one_heading_entry(blocks, heading: Heading, depth: int, code: str, title: str, body: list[int],
                       boiler: set[str], section: tuple) -> list[Block]:
    row = FaultRow(code=code, title=title)
    texts: list[tuple[str | None, str]] = []  # (role from a sub-heading or label, text)
    pending_label: str | None = None
    indexes = [i if i >= 0 else -i - 1 for i in body]
    for raw in body:
        block = blocks[raw if raw >= 0 else -raw - 1]
        if block.text in boiler:
            continue
        sub = block.section[depth:] if len(block.section) > depth else ()
        role = role_of(sub[0]) if sub else None
        if raw >= 0:
            text = _block_text(block)
        else:
            text = "\n".join(_line_text(x) for x in _lines(block)[1:])
        if pending_label is not None:
            texts.append((pending_label, text))
            pending_label = None
            continue
        bare = role_of(text.rstrip(":： ")) if len(text) <= 40 else None
        if bare and (not _LABEL_LINE.match(text) or not text.split(":", 1)[-1].strip()):
            pending_label = bare
            continue
        label = _LABEL_LINE.match(text) if len(text) < 400 else None
        if label and role_of(label.group("label")) == "title" and role is None:
            value = label.group("value")
            nxt = LABEL_IN_TEXT.search(value)  # 'Define: Door open. Reasons: ...': the title ends at the next label
            texts.append(("title", value[:nxt.start()] if nxt else value))
            if nxt:
                texts.append((None, value[nxt.start():]))
            continue
        texts.append((role, text))
    for role, text in texts:
        if role == "title" and not row.title:
            row.title = _first_sentence(clean_text(text)) if len(text.split()) > MAX_TITLE_WORDS else clean_text(text)
        elif role in ("cause", "remedy"):
            setattr(row, role, join_text([getattr(row, role), text], "\n"))
        else:
            row.description = join_text([row.description, text], "\n")
    split_labels(row)
    if not row.title:
        first = [t for r, t in texts if r is None and t.strip() and not _starts_with_code(t)
                 and not _labelled_code(t)[0] and not LABEL_IN_TEXT.match(t)]
        if first:
            line = clean_text(first[0].strip().split("\n", 1)[0])
            row.title = line if len(line.split()) <= 40 else _first_sentence(line)
            if row.description.startswith(row.title):
                row.description = row.description[len(row.title):].strip()
    first_block = blocks[indexes[0]] if indexes else None
    page = heading.page if heading.page is not None or first_block is None else first_block.page
    if first_block is not None and first_block.page is not None and len(section) and section != tuple(heading.section):
        page = first_block.page
    block = Block(PassageKind.FAULT_CODE, "", section, page,
                  first_block.start if first_block else heading.start,
                  blocks[indexes[-1]].end if indexes else heading.start,
                  box=union_box(blocks[i].box for i in indexes) if indexes else None)
    return entry_blocks([row], block, section=section, page=page)


