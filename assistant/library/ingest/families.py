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

Positioned lines (PDF text, OCR) form tables by their cells' positions: a column header over
the codes decides what the column is (one saying fault / error accepts even a single row; one
naming models, terminals or settings makes a value table, no fault list; a 'Code' header over
a later column puts the codes there), cells centred or top-aligned on their rows are told
apart, and a table continues over page breaks.

    find_entries(blocks, headings, doc_title) -> blocks, with FAULT_CODE blocks for entries
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.domain import PassageKind
from assistant.library.codes import head_code, looks_like_code, strip_separators
from assistant.library.ingest.base import Block, FaultRow, Heading, Seg, union_box

_STEM = r"(?<![^\W\d_])"
CONTEXT = re.compile(
    _STEM + r"(?:codes?|fault|faults|error|errors|err|alarm|alarms|alarme|alm|trip|trouble|failure|fehler|st[öo]rung|"
    r"warn|meldung|d[ée]faut|erreur|panne|anomal|storing|storingen|fout|aver[íi]a|fallo|fallos|c[óo]digo|alarma|"
    r"errore|guasto|allarme|malfunction|diagnos|emcy)", re.I)

_ROLE_WORDS = {
    "title": ("title", "name", "description", "descripción", "descripcion", "beschreibung", "bezeichnung",
              "bedeutung", "meldung", "meaning", "define", "definition", "message", "designation", "désignation",
              "signification", "libellé", "texte", "text", "significado", "nombre", "omschrijving", "beschrijving",
              "foutbeschrijving", "betekenis", "descrizione", "significato", "explanation", "display", "indication",
              "condition", "event", "fehlertext", "meldetext"),
    "cause": ("cause", "causes", "reason", "reasons", "origin", "ursache", "ursachen", "causa", "causas", "raison",
              "oorzaak", "oorzaken", "motivo", "motivi", "root"),
    "remedy": ("remedy", "remedies", "action", "actions", "solution", "solutions", "fix", "steps", "troubleshooting",
               "countermeasure", "countermeasures", "measure", "measures", "corrective", "correction", "handling",
               "check", "todo", "resetting", "reset", "abhilfe", "lösung", "lösungen", "maßnahme", "maßnahmen",
               "massnahme", "behebung", "beseitigung", "remède", "remèdes", "solución", "soluciones", "acción",
               "acciones", "oplossing", "oplossingen", "maatregel", "maatregelen", "rimedio", "soluzione", "azione",
               "procedure", "procedimiento"),
}
_WORD = re.compile(r"[^\W\d_]+")
_MULTI = re.compile(r"\s*(?:/|,|;|&|\bor\b|\band\b|\bund\b|\bet\b|\by\b|\bo\b|\ben\b)\s*", re.I)
_MARKS = re.compile(r"(?:\s*[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+|\s*\(\*+\))+$")
MAX_TITLE_WORDS = 16


def role_of(label: str) -> str | None:
    """'Mögliche Ursachen' -> 'cause', 'Fault Description' -> 'title', 'Solution' -> 'remedy'."""
    words = [w.lower() for w in _WORD.findall(label.lower().replace("what to do", "todo"))]
    if not words or len(words) > 5:
        return None
    for role in ("cause", "remedy", "title"):
        if any(w in _ROLE_WORDS[role] for w in words):
            return role
    return None


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def _join(parts: Sequence[str], sep: str = " ") -> str:
    out = ""
    for part in parts:
        part = _clean(part)
        if not part:
            continue
        if out.endswith("-") and not out.endswith(" -") and (part[:1].islower() or _capital_break(out, part)):
            out = out[:-1] + part
        else:
            out = f"{out}{sep}{part}" if out else part
    return out


def _capital_break(before: str, after: str) -> bool:
    """'CON-' / 'TROL ERROR': a word in capitals broken over two lines."""
    last = before[:-1].rsplit(" ", 1)[-1]
    nxt = after.split(" ", 1)[0]
    return len(last) >= 2 and last.isalpha() and last.isupper() and nxt.isalpha() and nxt.isupper()


def cell_codes(text: str) -> tuple[list[str], str]:
    """Codes that start a cell and the text after them: 'E16 / E17' -> (['E16', 'E17'], ''),
    'E04 Fehler niedriger Druck' -> (['E04'], 'Fehler niedriger Druck'), 'F0003*' -> (['F0003'], '')."""
    value = _clean(text)
    whole = _MARKS.sub("", value).rstrip(":").strip()
    if looks_like_code(whole):
        return [whole], ""
    # a list of codes ('E16 / E17') is a short cell: no need to split a long line to know it is not one
    parts = [p for p in _MULTI.split(whole) if p] if len(whole) <= 200 else []
    if 2 <= len(parts) <= 8 and all(looks_like_code(_MARKS.sub("", p)) for p in parts):
        return [_MARKS.sub("", p) for p in parts], ""
    head = head_code(value)
    if head is None:
        return [], value
    code, rest = head
    codes = [code]
    raw = value[value.index(code) + len(code):]
    while (sep := re.match(r"^\s*(?:/|,|&|\bor\b|\band\b|\bund\b|\bet\b)\s*", raw, re.I)) and sep.group().strip():
        nxt = head_code(raw[sep.end():])
        if nxt is None or kind_of(nxt[0]) != kind_of(code):
            break
        codes.append(nxt[0])
        rest = nxt[1]
        raw = raw[sep.end():]
        raw = raw[raw.index(nxt[0]) + len(nxt[0]):]
    return codes, _MARKS.sub("", rest) if rest.startswith(("*", "(*")) else rest


def kind_of(code: str) -> str:
    """The kind of code, for telling families apart: 'E01', 'F0001', 'E-4' -> 'A9'; '0x2310' ->
    'hex'; '12' -> '9'; '40-60-90' -> '9-'; 'OC' -> 'A'."""
    if code.lower().startswith("0x"):
        return "hex"
    if re.fullmatch(r"[\d\-.]+", code):
        return "9-" if "-" in code else "9"
    if not re.search(r"\d", code):
        return "A"
    return "A9"


@dataclass
class _Unit:
    kind: str  # row, item, heading, line
    block: int  # index of its block (heading: first block of its body, -1 if none)
    codes: list[str]
    rest: str  # text after the code on its cell / item / heading / line
    family: tuple
    context: str = ""
    row: int = 0  # row index in the table / item index / line index
    col: int = 0
    heading: Heading | None = None
    body: list[int] = field(default_factory=list)  # heading units: blocks under the heading
    labelled: bool = False  # its text has cause / remedy labels: an entry of a fault list
    x: float | None = None  # left edge of a positioned code
    header: list[str] = field(default_factory=list)  # the table's column headers (rows; positioned lines)
    header_at: tuple[int, int] | None = None  # positioned lines: (block, line) of the header line


def _strong(codes: Sequence[str], unit_kind: str) -> bool:
    """Outside a table cell, letters-only codes are easily words ('The', 'NOTE'): only short,
    all-capital ones count there; a bare number on a heading, or a dotted number ('3.1') on a
    heading or line, is section numbering."""
    code = codes[0]
    if unit_kind == "row":
        return True
    if re.fullmatch(r"\d+(?:\.\d+)+", code) or (unit_kind == "heading" and re.fullmatch(r"\d+", code)):
        return False
    if re.search(r"\d", code):
        return True
    return bool(re.fullmatch(r"[A-Z]{2,4}|(?:[A-Za-z]\.){2,4}", code))


def find_entries(blocks: list[Block], headings: Sequence[Heading], doc_title: str = "") -> list[Block]:
    units: list[_Unit] = []
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


def _row_units(blocks: list[Block], lead_in: dict[int, str]) -> list[_Unit]:
    out: list[_Unit] = []
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
                if codes and rest and not _strong(codes, "line"):
                    continue  # 'Den Wärmetauscher reinigen': a word, not a code
                if codes:
                    out.append(_Unit("row", index, codes, rest, ("row", index, col),
                                     " ".join(header) + " " + _context(block, lead_in[index]), r, col,
                                     header=header + [""] * (width - len(header))))
    return out


def _item_units(blocks: list[Block], lead_in: dict[int, str]) -> list[_Unit]:
    out = []
    for index, block in enumerate(blocks):
        if block.kind == PassageKind.FAULT_CODE or not block.items:
            continue
        for r, item in enumerate(block.items):
            codes, rest = cell_codes(item.split("\n", 1)[0])
            if codes and _strong(codes, "item"):
                out.append(_Unit("item", index, codes, rest, ("item", index, kind_of(codes[0])),
                                 _context(block, lead_in[index]), r))
    return out


def _heading_units(blocks: list[Block], headings: Sequence[Heading]) -> list[_Unit]:
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
        if not codes or not _strong(codes, "heading"):
            continue
        depth = len(heading.section)
        body = [i for i in by_section.get(tuple(heading.section), []) if blocks[i].kind != PassageKind.FAULT_CODE]
        labelled = any(_LABEL_IN_TEXT.search(_block_text(blocks[i])) or
                       role_of(blocks[i].text.rstrip(":： ")) in ("cause", "remedy") and len(blocks[i].text) <= 40
                       for i in body[:4])
        out.append(_Unit("heading", body[0] if body else -1, codes, rest, ("heading", depth, kind_of(codes[0])),
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


def _line_units(blocks: list[Block], lead_in: dict[int, str]) -> list[_Unit]:
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
            header = _column_header(blocks, positioned, place[(index, r)], segs[0], memo) if segs else None
            context = _context(block, lead_in[index])
            elsewhere = False  # the header names another column as the codes' ('No. | Code | Name')
            if header is not None:
                if _value_table(header):
                    continue
                context = _header_context(header, block, lead_in[index])
                elsewhere = not CONTEXT.search(header[0][header[1]]) and \
                    any(_NAMES_CODES.search(t) for k, t in enumerate(header[0]) if k > header[1])
            middle = _middle_code(blocks, positioned, place.get((index, r)), segs, open_column, memo) \
                if (not codes or elsewhere) and segs else None
            if elsewhere and middle is None:
                continue
            if middle is not None:
                k, cells, code = middle
                open_column = (cells, segs[k], block.section)
                out.append(_Unit("line", index, [code], _join([x.text for x in segs[k + 1:]]),
                                 ("col", cells[2], cells[1]), _header_context(cells, block, lead_in[index]), r,
                                 col=k, x=segs[k].x0, header=cells[0], labelled=_header_names(cells),
                                 header_at=positioned[cells[2]][:2]))
                continue
            # a letters-only word starting the line ('DHW Sensor interrupted    40-90') is weaker than a
            # code with digits ending it
            weak_left = bool(codes) and not re.search(r"\d", codes[0])
            if (not codes or weak_left) and len(segs) >= 2 and re.search(r"\d", segs[-1].text) \
                    and looks_like_code(_MARKS.sub("", segs[-1].text.strip())):
                # the description left, the code right: a code ending a positioned line
                code = _MARKS.sub("", segs[-1].text.strip())
                rest = _MARKS.sub("", _join([x.text for x in segs[:-1]]))
                right = _column_header(blocks, positioned, place[(index, r)], segs[-1], memo)
                if right is None or not _value_table(right):
                    out.append(_Unit("line", index, [code], rest, ("line-right", kind_of(code)),
                                     _context(block, lead_in[index]) + " " + lead_out.get(index, "")
                                     if right is None else _header_context(right, block, lead_in[index]), r,
                                     x=segs[-1].x0))
                if not codes:
                    continue  # a letters-only code starting the line is a unit too: its family decides
            if not codes or not _strong(codes, "line"):
                continue
            unit = _Unit("line", index, codes, rest, ("line", kind_of(codes[0])), context, r,
                         x=segs[0].x0 if segs else None)
            if header is not None:
                unit.header, unit.labelled = header[0], _header_names(header)
                unit.header_at = positioned[header[2]][:2]
            out.append(unit)
    return out


_NAMES_CODES = re.compile(r"code|c[óo]digo|codice", re.I)  # a header cell naming the column of codes


def _runs_on(cell: str) -> bool:
    """A cell of codes that ends with a separator ('50, 60, 90,') is a phrase continued on the
    next line, not a code cell."""
    value = cell.strip()
    if not re.search(r"(?:[,;&/]|\s(?:and|or|und|oder|et|ou|y|o|en|of))$", value):
        return False
    codes, rest = cell_codes(re.sub(r"(?:[,;&/]|\s\w+)$", "", value))
    return bool(codes) and not rest


def _is_label(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 4 and not re.search(r"\d", text) and bool(_WORD.search(text))


def _column_header(blocks: list[Block], positioned: list, n: int, seg, memo: dict | None = None
                   ) -> tuple[list[str], int, int] | None:
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
        if codes and _strong(codes, "line"):
            if (m, k) not in memo:  # another row of the table: its header is this one's
                memo[(m, k)] = _column_header(blocks, positioned, m, line.segs[k], memo)
            return memo[(m, k)]
        if _header_line(line):
            return [x.text.strip() for x in line.segs], k, m
    return None


def _header_line(line) -> bool:
    """A line of short label cells one of which a header is made of ('Code | Fault | Cause'); cells
    with digits ('AL8 | AL4 | Alarm | Cause') when several cells say what their columns are."""
    texts = [x.text.strip() for x in line.segs]
    if len(texts) < 2 or not all(0 < len(t.split()) <= 4 for t in texts):
        return False
    named = sum(1 for t in texts if _WORD.search(t) and not re.search(r"\d", t) and _header_word(t))
    return named >= 1 and all(_is_label(t) for t in texts) or named >= 2 and \
        all(_WORD.search(t) or not re.fullmatch(r"[\d\s.,:;()/-]+", t) for t in texts)


def _header_word(cell: str) -> bool:
    """A cell a table header is made of: a role ('Cause'), 'Code' / 'Fault', a number or value column."""
    words = [w.lower() for w in _WORD.findall(cell)]
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
    return any(CONTEXT.match(w) and not _CODE_WORD.match(w) for w in _WORD.findall(cell))


def _value_table(header: tuple[list[str], int, int]) -> bool:
    """'Model | DTC code', 'No. | Description | Setting range', 'Query code | Description | Range':
    a table of values, models or terminals, whose column of numbers is no fault list."""
    texts, k, _ = header
    if _fault_word(texts[k]) or any(role_of(t) in ("cause", "remedy") for t in texts):
        return False
    return any(w.lower() in _VALUE_WORDS for t in texts for w in _WORD.findall(t))


def _header_context(header: tuple[list[str], int, int], block: Block, lead: str) -> str:
    """A column header decides what its column is: a cell saying fault / error is context; one
    saying just 'Code' leaves it to the table's caption and section; any other ('No.', 'Item')
    to the section and header alone, not to the text before the table."""
    texts, k, _ = header
    parts = [" > ".join(block.section)] + texts
    if CONTEXT.search(texts[k]) and not _fault_word(texts[k]):
        parts.append(lead)
    return " ".join(parts)


def _header_names(header: tuple[list[str], int, int]) -> bool:
    """A header whose cell over the code says fault / error, with another cell naming a title,
    cause or remedy (or says 'Code' with a cause or remedy column): a fault table, even of one row."""
    texts, k, _ = header
    others = [role_of(t) for j, t in enumerate(texts) if j != k]
    if _fault_word(texts[k]):
        return any(others)
    return bool(CONTEXT.search(texts[k])) and any(r in ("cause", "remedy") for r in others)


def _middle_code(blocks: list[Block], positioned: list, n: int | None, segs: list, open_column,
                 memo: dict) -> tuple | None:
    """A code in a later cell of a positioned line, under a header cell that says code / fault
    ('Description | Code | Meaning'), or in the column such a header opened on an earlier page:
    (cell index, header, code)."""
    if n is None:
        return None
    for k, seg in enumerate(segs[1:], start=1):
        value = _MARKS.sub("", seg.text.strip())
        if not looks_like_code(value):
            continue
        header = _column_header(blocks, positioned, n, seg, memo)
        if header is None and open_column is not None:
            tol = max(seg.height, 4.0)
            if abs(open_column[1].x0 - seg.x0) <= tol:
                header = open_column[0]
        if header is not None and CONTEXT.search(header[0][header[1]]) and not _value_table(header):
            return k, header, value
        return None
    return None


# --------------------------------------------------------------------------- families


def _families(units: list[_Unit], doc_title: str, blocks: list[Block]) -> list[list[_Unit]]:
    groups: dict[tuple, list[_Unit]] = defaultdict(list)
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
    accepted: list[list[_Unit]] = []
    for key, members in groups.items():
        if key[0] == "row" and best_col[key[1]][0] != key[2]:
            continue
        if key[0] in ("line", "line-right"):
            for run in (run for column in _by_left_edge(members) for run in _runs(column)):
                if key[0] == "line" and _inner_column(blocks, run):
                    continue
                if _accept(run, title_context):
                    accepted.append(_repair_ocr_run(_absorb(run, units, blocks), blocks))
            continue
        if _accept(members, title_context):
            accepted.append(members)
    # a run another run absorbed ('FA', 'PA' among 'F1'...'F9') is part of that family
    places = [{(u.block, u.row) for u in f} if f[0].kind == "line" else set() for f in accepted]
    return [f for n, f in enumerate(accepted)
            if not places[n] or not any(m != n and (places[n] < places[m] or places[n] == places[m] and m < n)
                                        for m in range(len(accepted)))]


def _absorb(run: list[_Unit], units: list[_Unit], blocks: list[Block]) -> list[_Unit]:
    """Codes of another kind inside a run of positioned code lines, at the same left edge, are
    members too (a table column mixing 'F0001', 'Err 07' and '2310', or 'F9', 'FA', 'Fb'), down
    to the end of the block the table continues into: in a column of codes, a cell that is just
    a code-shaped token is a code even where it alone would be a word ('Eb', 'Ed')."""
    xs = sorted(u.x for u in run if u.x is not None)
    if not xs or not _positioned(blocks, run):
        return run
    x = xs[len(xs) // 2]
    last = run[-1].block
    end = last + 1 if _continues(blocks, last) else last
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
            token = _MARKS.sub("", segs[0].text.strip())
            if _header_line(line):
                continue  # the header repeated on a continued page ('Code | Fault | Cause')
            if looks_like_code(token) and token[:1].isupper() and (kind_of(token) in kinds or kind_of(token) == "A"):
                extra.append(_Unit("line", i, [token], _join([s.text for s in segs[1:]]), run[0].family,
                                   run[0].context, r, x=segs[0].x0))
    return sorted(run + extra, key=lambda u: (u.block, u.row)) if extra else run


def _repair_ocr_run(run: list[_Unit], blocks: list[Block]) -> list[_Unit]:
    """A scanned column of numbered codes that counts up by one (1, 2, 3 ...): a member that breaks
    the count between its neighbours ('1, 20, 3', '8, 6, 10') is an OCR misreading of the number
    the count gives, and a short token at the column's left edge where a number is missing
    ('4, so, 6') is that number. Only on OCR'd lines, only in a run that mostly counts by one."""
    if len(run) < 4 or not _positioned(blocks, run) or not all(
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
            extra.append(_Unit("line", i, [str(values[n] + 1)], _join([s.text for s in line.segs[1:]]),
                               run[0].family, run[0].context, r, x=line.segs[0].x0))
    return sorted(run + extra, key=lambda u: (u.block, u.row)) if extra else run


def _inner_column(blocks: list[Block], run: list[_Unit]) -> bool:
    """Positioned codes that start their lines, but lines between them start further left: the
    codes are in an inner column of a table ('0: Default mode', '2: software control' in a
    register table's notes), not a list of codes (a column of codes under a code header is
    found through that header)."""
    if not _positioned(blocks, run) or len(run) < 2:
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


def _continues(blocks: list[Block], index: int) -> bool:
    """The block after `index` continues its table: same page and section, positioned lines."""
    return index + 1 < len(blocks) and bool(blocks[index + 1].lines) and blocks[index + 1].kind in _CONTINUES \
        and blocks[index + 1].page == blocks[index].page and blocks[index + 1].section == blocks[index].section


def _by_left_edge(members: list[_Unit]) -> list[list[_Unit]]:
    """Positioned code lines form a family only within one column: codes that start lines at the
    same left edge (a capitalised word further right, 'TRIP', starts no list)."""
    placed = sorted((u for u in members if u.x is not None), key=lambda u: u.x)
    columns: list[list[_Unit]] = []
    for unit in placed:
        if columns and unit.x - columns[-1][-1].x <= 6.0:
            columns[-1].append(unit)
        else:
            columns.append([unit])
    loose = [u for u in members if u.x is None]
    return [sorted(c, key=lambda u: (u.block, u.row)) for c in columns] + ([loose] if loose else [])


def _runs(members: list[_Unit]) -> list[list[_Unit]]:
    """Lines of one kind of code, split where other text comes between them for long: one run
    per list. Several members must follow each other closely."""
    runs: list[list[_Unit]] = []
    for unit in sorted(members, key=lambda u: (u.block, u.row)):
        if runs and unit.block - runs[-1][-1].block <= 8:
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return runs


_NAME = re.compile(r"[^\W\d_]{3,}")


def _accept(members: list[_Unit], title_context: bool) -> bool:
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
               m.x is not None and _NAME.search(m.rest)) < 0.7 * len(members):
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


def _build(blocks: list[Block], families: list[list[_Unit]]) -> list[Block]:
    replace: dict[int, list[Block]] = {}
    before: dict[int, list[Block]] = {}
    consumed: set[int] = set()
    order = {"row": 0, "item": 1, "heading": 2, "line": 3}
    for members in sorted(families, key=lambda f: order[f[0].kind]):
        kind = members[0].kind
        if kind == "row":
            index = members[0].block
            if index in consumed:
                continue
            replace[index] = _table_entries(blocks[index], members)
            consumed.add(index)
        elif kind == "item":
            index = members[0].block
            if index in consumed:
                continue
            replace[index] = _item_entries(blocks[index], members)
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
        elif members[0].family[0] in ("line", "col") and _positioned(blocks, members) and \
                not any(u.block in consumed for u in members):
            first, entries, used = _positioned_entries(blocks, members)
            replace[first] = entries
            for i in used:
                consumed.add(i)
                if i != first:
                    replace[i] = []
        else:
            by_block: dict[int, list[_Unit]] = defaultdict(list)
            for unit in members:
                by_block[unit.block].append(unit)
            member_blocks = set(by_block)
            for index, units in by_block.items():
                if index in consumed:
                    continue
                follow = []
                j = index + 1
                while (j < len(blocks) and j not in member_blocks and j not in consumed and len(follow) < 8
                       and blocks[j].section == blocks[index].section and blocks[j].kind in _CONTINUES):
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


def _boilerplate(blocks: list[Block], members: list[_Unit]) -> set[str]:
    """Text repeated under most entries of a family (a brand line, 'Read more') names none of them."""
    if len(members) < 3:
        return set()
    counts: dict[str, int] = defaultdict(int)
    for unit in members:
        for text in {blocks[i].text for i in unit.body[:4]}:
            counts[text] += 1
    return {t for t, n in counts.items() if n >= max(3, len(members) // 2) and not role_of(t.rstrip(":： "))}


def fault_text(row: FaultRow) -> str:
    parts = [f"{row.code} {row.title}".strip()]
    if row.description:
        parts.append(row.description)
    if row.cause:
        parts.append(f"Cause: {row.cause}")
    if row.remedy:
        parts.append(f"Remedy: {row.remedy}")
    return "\n".join(parts)


def _entry(rows: list[FaultRow], block: Block, section=None, page=None, box=None) -> list[Block]:
    out = []
    for row in rows:
        if not _WORD.search(" ".join((row.title, row.cause, row.remedy, row.description))):
            continue  # a code with no words ('Fehler 04 | ○ | ●') explains nothing: a display pattern
        if len(row.title.split()) > MAX_TITLE_WORDS:  # a long text is a description, its first sentence a title
            first, _, rest = row.title.partition(". ")
            if rest and len(first.split()) <= MAX_TITLE_WORDS:
                row.title, row.description = first, _join([rest, row.description])
        out.append(Block(PassageKind.FAULT_CODE, fault_text(row), section if section is not None else block.section,
                         page if page is not None else block.page, block.start, block.end, fault=row,
                         codes=(row.code,), box=box or block.box))
    return out


def _table_entries(block: Block, members: list[_Unit]) -> list[Block]:
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
        cells = [_clean(c) for c in cells] + [""] * (width - len(cells))
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
    return _entry(rows, block)


def _fill(entry: FaultRow, cells: list[str], roles: dict[int, str], free: list[int], continued: bool) -> None:
    for col, role in roles.items():
        if cells[col]:
            setattr(entry, role, _join([getattr(entry, role), cells[col]]))
    for col in free:
        text = cells[col]
        if not text or re.fullmatch(r"[\d\s.,\-–]+", text):
            continue  # page numbers, running numbers
        if not entry.title and not continued:
            entry.title = text
        else:
            entry.description = _join([entry.description, text])
    if not entry.title and not continued and "title" not in roles.values():
        # no title column: the first description / cause text names the fault
        for role in ("cause", "remedy"):
            col = next((c for c, r in roles.items() if r == role and cells[c]), None)
            if col is not None:
                entry.title = _first_sentence(cells[col])
                break


def _starts_with_code(text: str) -> bool:
    codes, _ = cell_codes(text)
    return bool(codes) and _strong(codes, "line")


def _first_sentence(text: str) -> str:
    text = re.sub(r"^\s*(?:\d{1,2}[.)]|[-•*])\s+", "", text)
    first = re.split(r"(?<=[.!?])\s+|\s+(?=\d{1,2}[.)]\s)", text, maxsplit=1)[0]
    return first


def _item_entries(block: Block, members: list[_Unit]) -> list[Block]:
    by_item = {m.row: m for m in members}
    rows: list[FaultRow] = []
    for r, item in enumerate(block.items):
        unit = by_item.get(r)
        if unit is None:
            if rows:
                rows[-1].description = _join([rows[-1].description, item])
            continue
        rest = item.split("\n", 1)
        for code in unit.codes:
            row = FaultRow(code=code, title=unit.rest, description=_join(rest[1:]))
            _split_labels(row)
            rows.append(row)
    return _entry(rows, block)


def _lines(block: Block) -> list:
    """A block's lines; a paragraph read without line breaks is one line."""
    return block.lines or ([block.text] if "\n" not in block.text else block.text.split("\n"))


_CONTINUES = (PassageKind.TEXT, PassageKind.PROCEDURE, PassageKind.WARNING, PassageKind.TABLE)


def _line_entries(block: Block, units: list[_Unit], follow: Sequence[Block] = ()) -> list[Block]:
    by_line = {u.row: u for u in units}
    rows: list[tuple[FaultRow, list]] = []
    before: list = []
    for r, line in enumerate(_lines(block)):
        unit = by_line.get(r)
        text = line.text if hasattr(line, "text") else str(line)
        if unit is None:
            if rows and len(rows[-1][1]) < 12:
                rows[-1][0].description = _join([rows[-1][0].description, _line_text(line)], "\n")
                rows[-1][1].append(line)
            elif not rows:
                before.append(line)
            continue
        title = strip_separators(unit.rest)
        rows.append((FaultRow(code=unit.codes[0], title=title), [line]))
    if rows:
        for extra in follow:
            for line in _lines(extra):
                rows[-1][0].description = _join([rows[-1][0].description, _line_text(line)], "\n")
            rows[-1][1].extend(x for x in _lines(extra) if hasattr(x, "segs"))
    out: list[Block] = []
    if before:
        text = "\n".join(x.text if hasattr(x, "text") else str(x) for x in before)
        out.append(Block(block.kind, text, block.section, block.page, block.start, block.end,
                         box=union_box(_line_box(x) for x in before)))
    for row, lines in rows:
        _split_labels(row)
        confs = [s.conf for x in lines for s in getattr(x, "segs", []) if s.conf is not None]
        row.conf = sum(confs) / len(confs) if confs else None
        out.extend(_entry([row], block, box=union_box(_line_box(x) for x in lines)))
    return out


def _line_box(line):
    if not hasattr(line, "segs") or not line.segs:
        return None
    return (line.x0, line.top, line.x1, line.bottom)


_LABEL_LINE = re.compile(r"^\s*(?P<label>[^\W\d_][^\W\d_ ]*(?: [^\W\d_]+){0,3})\s*[:：]\s*(?P<value>.*)$", re.S)


_QUALIFIER = (r"(?:(?:probable|possible|likely|m[öo]gliche|possibles?|root|corrective|recommended|failure|fault|"
              r"error|falen)\s+)?")
_LABEL_WORDS = sorted({w for role in ("cause", "remedy") for w in _ROLE_WORDS[role]}, key=len, reverse=True)
_LABEL_IN_TEXT = re.compile(r"(?<![\w])(" + _QUALIFIER + "(?:" + "|".join(map(re.escape, _LABEL_WORDS)) +
                            r")(?:\s*\(s\))?)\s*[:：]\s*", re.I)


def _split_labels(row: FaultRow) -> None:
    """'Cause: ... Remedy: ...' inside a description become the cause and remedy."""
    if not row.description:
        return
    marks = list(_LABEL_IN_TEXT.finditer(row.description))
    if not marks:
        return
    rest = row.description[:marks[0].start()]
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(row.description)
        role = role_of(m.group(1)) or "remedy"
        setattr(row, role, _join([getattr(row, role), row.description[m.end():end]]))
    row.description = _clean(rest)


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


def _heading_entries(blocks: list[Block], unit: _Unit, body: list[int], boiler: set[str]) -> list[Block]:
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
        if (codes and _strong(codes, "line") and kind_of(codes[0]) == kind and rest and rest[:1].isalpha()
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
            nxt = _LABEL_IN_TEXT.search(value)  # 'Define: Door open. Reasons: ...': the title ends at the next label
            texts.append(("title", value[:nxt.start()] if nxt else value))
            if nxt:
                texts.append((None, value[nxt.start():]))
            continue
        texts.append((role, text))
    for role, text in texts:
        if role == "title" and not row.title:
            row.title = _first_sentence(_clean(text)) if len(text.split()) > MAX_TITLE_WORDS else _clean(text)
        elif role in ("cause", "remedy"):
            setattr(row, role, _join([getattr(row, role), text], "\n"))
        else:
            row.description = _join([row.description, text], "\n")
    _split_labels(row)
    if not row.title:
        first = [t for r, t in texts if r is None and t.strip() and not _starts_with_code(t)
                 and not _labelled_code(t)[0] and not _LABEL_IN_TEXT.match(t)]
        if first:
            line = _clean(first[0].strip().split("\n", 1)[0])
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
    return _entry([row], block, section=section, page=page)


# --------------------------------------------------------------------------- positioned lines (PDF, OCR)


def _positioned(blocks: list[Block], members: list[_Unit]) -> bool:
    return all(blocks[u.block].lines and hasattr(blocks[u.block].lines[u.row], "segs") for u in members)


def _columns(lefts: list[float], tol: float, least: int = 2) -> list[float]:
    out: list[list[float]] = []
    for x in sorted(lefts):
        if out and x - out[-1][-1] <= tol:
            out[-1].append(x)
        else:
            out.append([x])
    return [min(c) for c in out if len(c) >= least] or [min(c) for c in out if len(c) >= 2] or [min(c) for c in out]


def _positioned_entries(blocks: list[Block], members: list[_Unit]) -> tuple[int, list[Block], list[int]]:
    """A run of code lines laid out as a table (PDF text, OCR): columns start where the cells
    after the codes start; every other line's cells go to the nearest code row of its page
    (cells are top-aligned or centred on their row), lines on a new page before its first code
    finish the row above (a table continued over a page break). Column headers (any language)
    give the roles; without them the first column is the title, the rest description."""
    member_at = {(u.block, u.row): u for u in members}
    first_block, last_block = min(u.block for u in members), max(u.block for u in members)
    header_at = members[0].header_at if members[0].header_at and members[0].header_at[0] >= first_block - 3 else None
    preface_until = header_at if header_at else (first_block, min(u.row for u in members if u.block == first_block))
    first_block = min(first_block, header_at[0]) if header_at else first_block
    used = list(range(first_block, last_block + 1))
    if _continues(blocks, last_block):
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

    def column(x: float) -> int:
        k = edges[0][1]
        for left, n in edges:
            if x >= left - tol:
                k = n
        return k  # -1: the code column

    def split(seg) -> list:
        """A run crossing a column's left edge (OCR joins neighbouring cells into one box), cut
        between the words that fall on either side (positions interpolated from the run's width)."""
        words = seg.text.split()
        if len(words) < 2 or column(seg.x0) == -1 or not any(seg.x0 + tol < left < seg.x1 - tol for left, _ in edges):
            return [seg]  # (text under the codes is a note or a label line, not cells run together)
        per_char = (seg.x1 - seg.x0) / max(len(seg.text), 1)
        parts: list[list] = []  # [column, words, x0, x1]
        pos = 0
        for word in words:
            at = seg.text.find(word, pos)
            pos = at + len(word)
            x0, x1 = seg.x0 + at * per_char, seg.x0 + pos * per_char
            k = next((n for left, n in reversed(edges) if left <= x0 + 0.3 * line_h), edges[0][1])
            if parts and parts[-1][0] == k:
                parts[-1][1].append(word)
                parts[-1][3] = x1
            else:
                parts.append([k, [word], x0, x1])
        return [Seg(" ".join(ws), x0, x1, seg.top, seg.bottom, seg.size, seg.bold, seg.conf)
                for _, ws, x0, x1 in parts]

    # header: lines above the first code that name roles
    roles: dict[int, str] = {}
    header_lines: set[tuple[int, int]] = set()
    pages_started: set = set()  # a header repeated at the top of a continued page is a header too
    preface = [line for i, r, line in lines if (i, r) < preface_until]
    lines = [(i, r, line) for i, r, line in lines if (i, r) >= preface_until]
    for i, r, line in lines:
        if (i, r) in member_at:
            pages_started.add(blocks[i].page)
        if blocks[i].page in pages_started:
            continue
        found: dict[int, str | None] = {}
        for seg in line.segs:
            k = column((seg.x0 + seg.x1) / 2 if seg.x1 - seg.x0 < 3 * line_h else seg.x0)
            found[k] = found.get(k) or role_of(seg.text)
        if sum(1 for v in found.values() if v) >= 1 and _header_line(line):
            header_lines.add((i, r))
            for k, role in sorted(found.items()):
                if role == "title" and "title" in roles.values() and roles.get(k) != "title":
                    role = "cause"  # 'Alarm text | Description | Countermeasure': the second text column explains
                if role and k >= 0 and k not in roles and role not in roles.values():
                    roles[k] = role
    rows: list[dict] = []
    header_rows = [(i, line) for i, r, line in lines if (i, r) in header_lines]
    order = [(i, r, line) for i, r, line in lines if (i, r) not in header_lines]
    for pos, (i, r, line) in enumerate(order):
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
    # without a title header, the title is the first column that holds names (not flags or values)
    named = {k for k in range(len(cols))
             if sum(1 for row in rows if _NAME.search(" ".join(x.text for x in row["cells"].get(k, [])))) * 2
             >= len(rows)}
    entries: list[Block] = []
    kept = [line for i, r, line in lines if (i, r) in header_lines]
    for row in rows:
        unit = row["unit"]
        entry = FaultRow(code=unit.codes[0])
        title_col = next((k for k, v in roles.items() if v == "title"), None)
        if title_col is None:
            free = [k for k in range(len(cols)) if k not in roles and k in named]
            title_col = free[0] if free else None
        for k in sorted(row["cells"]):
            segs = sorted(row["cells"][k], key=lambda s: (page_of.get(id(s), row["page"] or 0),
                                                          round(s.top / (0.5 * line_h)), s.x0))
            role = "title" if k == title_col else roles.get(k, "description")
            if role == "title" and k not in roles:
                # short value cells the column grouping took in with the name ('0  1  MOTOR')
                if any(_NAME.search(x.text) for x in segs):
                    entry.description = _join([entry.description] + [x.text for x in segs if not _WORD.search(x.text)])
                    segs = [x for x in segs if _WORD.search(x.text)]
            text = _join([s.text for s in segs])
            setattr(entry, role, _join([getattr(entry, role), text], "\n" if k < 0 else " "))
        under = _join([s.text for s in sorted(row["cells"].get(-1, []), key=lambda s: (
            page_of.get(id(s), row["page"] or 0), round(s.top / (0.5 * line_h)), s.x0))])
        _split_labels(entry)
        if row.get("title_text") and not entry.title:
            entry.title = row["title_text"]
        if not entry.title and under and not _LABEL_IN_TEXT.match(under):
            # no title column: the name under the code in its own cell ('F0001' / 'Overcurrent')
            entry.title = _LABEL_IN_TEXT.split(under, 1)[0].strip()
            entry.description = _clean(entry.description.replace("\n", " ")).replace(entry.title, "", 1).strip()
        confs = [s.conf for line in row["lines"] for s in line.segs if s.conf is not None]
        entry.conf = sum(confs) / len(confs) if confs else None
        block = blocks[row["block"]]
        box = union_box((x.x0, x.top, x.x1, x.bottom) for x in row["lines"]) if block.box is not None else None
        copies = [entry] + [FaultRow(code=c, title=entry.title, cause=entry.cause, remedy=entry.remedy,
                                     description=entry.description, conf=entry.conf) for c in unit.codes[1:]]
        entries.extend(_entry(copies, block, page=row["page"], box=box))  # 'E21 / E22': one entry each
    head = []
    block = blocks[first_block]
    if preface:
        head.append(Block(block.kind, "\n".join(x.text for x in preface), block.section, block.page, block.start,
                          block.end, box=union_box(_line_box(x) for x in preface) if block.box else None,
                          lines=preface))
    if kept:
        head.append(Block(PassageKind.TABLE, "\n".join(x.text for x in kept), block.section, block.page, block.start,
                          block.end))
    return first_block, head + entries, used
