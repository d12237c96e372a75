"""Rebuild the rows of a positioned table (PDF text, OCR) under a header line whose words
name its columns (code, title, cause, remedy): multi-line and vertically centred cells,
rows continued over a page break, repeated headers. Cell-list tables (Markdown, HTML,
RST, Word) and tables without such a header are read by `families.py`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.library.codes import looks_like_code as _shaped
from assistant.library.ingest.base import FaultRow, Seg

CODE, TITLE, CAUSE, REMEDY = "code", "title", "cause", "remedy"

_CAUSE_WORDS = {"cause", "causes", "reason", "reasons", "origin", "source", "probable", "possible",
                # German, French, Spanish, Italian
                "ursache", "ursachen", "mögliche", "causa", "causas", "raison", "probables", "possibles"}
_REMEDY_WORDS = {"remedy", "remedies", "action", "actions", "corrective", "correction", "solution", "solutions",
                 "countermeasure", "countermeasures", "measure", "measures", "fix", "response", "troubleshooting",
                 "rectification", "resolution", "handling", "check", "checks", "todo",
                 "abhilfe", "maßnahme", "maßnahmen", "massnahme", "massnahmen", "behebung", "beseitigung",
                 "remède", "remèdes", "corrective", "correctives", "solución", "soluciones", "rimedio", "rimedi",
                 "soluzione", "acción", "azione"}
_TITLE_WORDS = {"description", "name", "meaning", "message", "designation", "title", "text", "indication",
                "definition", "explanation", "condition", "event",
                "bedeutung", "beschreibung", "meldung", "bezeichnung", "meldetext", "fehlertext", "signification",
                "libellé", "désignation", "texte", "descripción", "significado", "descrizione", "significato"}
_CODE_WORDS = {"code", "codes", "fault", "faults", "alarm", "alarms", "error", "errors", "err", "no", "nr",
               "number", "display", "id", "trip", "warning", "event", "status",
               "fehler", "fehlercode", "fehlernummer", "störung", "störungen", "störcode", "warnung", "alarme",
               "défaut", "défauts", "erreur", "erreurs", "código", "codice", "errore", "anzeige", "n°", "nº"}
_CODE_ID_WORDS = {"code", "codes", "fehlercode", "störcode", "id", "display", "anzeige", "código", "codice"}
_INDEX_WORDS = {"no", "nr", "number", "pos", "item", "index", "n°", "nº", "lfd"}
_WORD = re.compile(r"[^\W\d_]+")


def looks_like_code(text: str) -> bool:
    """A code cell: code-shaped; letters only when in capitals or two letters ('OC', 'Eb'), so
    a word in the code column ('Motor') is not taken for a code."""
    value = text.strip().rstrip(":")
    if not _shaped(value):
        return False
    return bool(re.search(r"\d", value)) or value.isupper() or len(value) <= 2 or "." in value


def header_roles(cells: Sequence[str]) -> dict[int, str] | None:
    """Column index -> role for a fault-table header, or None when the row is not one.

    A header needs a code column and at least one of title / cause / remedy, and
    short cells (a data row is not a header)."""
    roles: dict[int, str] = {}
    taken: set[str] = set()
    filled = [c for c in cells if c.strip()]
    if len(filled) < 2 or any(any(ch.isdigit() for ch in c) for c in filled):
        return None  # data, not a header
    first = set(_WORD.findall(cells[0].lower())) if cells else set()
    second = set(_WORD.findall(cells[1].lower())) if len(cells) > 2 else set()
    # "No. | Code | ...": a running number column before the code column
    skip_first = bool(first) and first <= _INDEX_WORDS and bool(second & _CODE_ID_WORDS)
    for index, cell in enumerate(cells):
        if index == 0 and skip_first:
            continue
        words = _WORD.findall(cell.lower().replace("what to do", "todo"))
        if not words or len(words) > 5:
            if words:
                return None
            continue
        ws = set(words)
        role: str | None = None
        if ws & _CAUSE_WORDS and not (ws & _REMEDY_WORDS and CAUSE in taken):
            role = CAUSE
        elif ws & _REMEDY_WORDS:
            role = REMEDY
        elif ws & _TITLE_WORDS:
            role = TITLE if (CODE in taken or not ws & {"code", "codes", "no", "nr", "number", "id"}) else CODE
            if role == TITLE and TITLE in taken and CODE not in taken:
                role = CODE
            elif role == TITLE and TITLE in taken and CAUSE not in taken:
                role = CAUSE  # "Alarm text | Description | Countermeasure": the second text column explains
        elif ws & _CODE_WORDS:
            role = TITLE if CODE in taken else CODE
        if role is None or role in taken:
            continue
        roles[index] = role
        taken.add(role)
    if CODE not in taken or len(taken) < 2 or len(taken) * 2 < len(filled):
        return None
    # the code column comes first in every real table we have seen; a header where it
    # does not is probably prose that happens to contain the words
    if min(i for i, r in roles.items() if r == CODE) > 1:
        return None
    return roles


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def _join(parts: list[str]) -> str:
    out = ""
    for part in parts:
        part = _clean(part)
        if not part:
            continue
        if out.endswith("-") and not out.endswith(" -") and part[:1].islower():
            out = out[:-1] + part  # hyphenated word wrap
        else:
            out = f"{out} {part}" if out else part
    return out


_MARKERS = re.compile(r"(?:\s*[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+|\s+\(?\d\))+$")
_MARKER_ONLY = re.compile(r"^(?:[\s*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+|\s*\(?\d\)\s*)$")
_CODE_LIST = re.compile(r"\s*(?:/|,|;|&|\bor\b|\band\b)\s*", re.I)


def cell_codes(text: str) -> list[str]:
    """The codes in a code cell: 'F0003*' -> ['F0003'] (footnote marks dropped),
    'E21 / E22' -> ['E21', 'E22']; [] when the cell is not codes."""
    value = _MARKERS.sub("", _clean(text)).rstrip(":").strip()
    if not value:
        return []
    if looks_like_code(value):
        return [value]
    parts = [p for p in _CODE_LIST.split(value) if p]
    if 2 <= len(parts) <= 6 and all(looks_like_code(p) for p in parts):
        return parts
    return []


def _copies(entry: FaultRow, codes: list[str]) -> list[FaultRow]:
    return [FaultRow(code=c, title=entry.title, cause=entry.cause, remedy=entry.remedy, box=entry.box)
            for c in codes]


# --------------------------------------------------------------------------- positioned tables


def column_bounds(header: Sequence[Seg]) -> list[float]:
    """Left edges of the columns, from the header segments (sorted)."""
    return sorted(s.x0 for s in header)


def _column_of(seg: Seg, lefts: Sequence[float], tol: float) -> int:
    col = 0
    for i, left in enumerate(lefts):
        if seg.x0 >= left - tol:
            col = i
    return col


def split_header_segments(segs: Sequence[Seg]) -> list[Seg]:
    """Segments as cells: a segment whose text has runs of 2+ spaces or tabs (plain-text
    columns, OCR lines spanning cells) is split there, positions interpolated."""
    out: list[Seg] = []
    for seg in segs:
        parts = [p for p in re.split(r"\s{2,}|\t", seg.text.strip()) if p]
        if len(parts) <= 1:
            out.append(seg)
            continue
        width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
        pos = 0
        for part in parts:
            at = seg.text.find(part, pos)
            pos = at + len(part)
            out.append(Seg(part, seg.x0 + at * width, seg.x0 + pos * width, seg.top, seg.bottom, seg.size, seg.bold,
                           seg.conf))
    return out


def parse_positioned(header: Sequence[Seg], lines: Sequence[Sequence[Seg]], roles: dict[int, str],
                     lead: dict[str, str] | None = None) -> tuple[list[tuple[int, int, FaultRow]], int]:
    """Rebuild rows of a positioned fault table.

    `lines` are the lines after the header (each a list of segments). Returns
    ([(first line index, last line index, FaultRow)], number of lines consumed).
    Rows are anchored on code-shaped text in the code column; other cells are
    assigned to the nearest anchor, taking vertical alignment (top or middle) into
    account. The table ends at a line that cannot belong to it (prose running across
    columns, a non-code in the code column, a large vertical gap)."""
    lefts = column_bounds(header)
    role_by_col = {i: roles.get(i) for i in range(len(lefts))}
    extra_col = len(lefts)  # text under the code in the code cell ('F0001' / 'Overcurrent')
    role_by_col[extra_col] = TITLE if TITLE not in roles.values() else None
    code_col = next(i for i, r in roles.items() if r == CODE)
    width = [((lefts[i + 1] if i + 1 < len(lefts) else 10**6) - lefts[i]) for i in range(len(lefts))]
    line_h = max(sum(s.height for s in header) / max(len(header), 1), 1.0)
    tol = line_h * 0.8
    consumed = 0
    cells: list[tuple[int, int, Seg]] = []  # (line index, column, seg)
    last_bottom = max(s.bottom for s in header)
    group_mark: tuple[int, int] | None = None  # (cells, consumed) before a group row not yet followed by a code
    for li, segs in enumerate(lines):
        if not segs:
            break
        top = min(s.top for s in segs)
        if top - last_bottom > line_h * 3.5:
            break
        # a repeated header (table continued on a new page) is skipped
        if header_roles([s.text for s in segs]):
            consumed = li + 1
            continue
        ok = True
        placed = []
        category = False
        run = _split_code_runs(segs, lefts, code_col, tol)
        if any(_column_of(x, lefts, tol) == code_col and cell_codes(x.text) for x in run):
            run = [part for x in run for part in _split_at_columns(x, lefts, tol)]  # OCR joins cells of a row
        for seg in run:
            col = _column_of(seg, lefts, tol)
            if seg.x1 - seg.x0 > width[col] * 1.6 + tol * 4 and len(lefts) > 1 and col < len(lefts) - 1:
                ok = False  # prose running across columns
                break
            if col == code_col and _MARKER_ONLY.match(seg.text):
                continue  # a footnote mark printed apart from its code
            if (col == code_col and not cell_codes(seg.text) and any(c == code_col for _, c, _ in cells)
                    and len(seg.text.split()) <= 8 and top - last_bottom < line_h * 0.9):
                placed.append((li, extra_col, seg))  # the code cell goes on under its code
                continue
            if col == code_col and not cell_codes(seg.text):
                # a group row ('Motor faults') alone on its line is skipped; anything else ends the table
                words = seg.text.split()
                category = len(segs) == 1 and 1 <= len(words) <= 6 and any(ch.isalpha() for ch in seg.text)
                ok = False
                break
            placed.append((li, col, seg))
        if category:
            last_bottom = max(last_bottom, max(s.bottom for s in segs))
            if group_mark is None:
                group_mark = (len(cells), consumed)
            continue
        if not ok:
            break
        if any(c == code_col for _, c, _ in placed):
            group_mark = None
        cells.extend(placed)
        last_bottom = max(last_bottom, max(s.bottom for s in segs))
        consumed = li + 1
    if group_mark is not None:  # the last 'group row' had no code after it: it was not part of the table
        cells, consumed = cells[:group_mark[0]], group_mark[1]
    if lead is not None:
        # a table continued from the previous page: the lines before the first code that end at a
        # cell border (a gap) are the rest of the previous page's last row
        first_code = min((li for li, col, _ in cells if col == code_col), default=None)
        by_line: dict[int, list[Seg]] = {}
        for li, _, seg in cells:
            by_line.setdefault(li, []).append(seg)
        order = sorted(by_line)
        cut = None
        for a, b in zip(order, order[1:]):
            if first_code is not None and b > first_code:
                break
            if min(x.top for x in by_line[b]) - max(x.bottom for x in by_line[a]) > line_h * 0.9:
                cut = a
                break
        if first_code is None and order:
            cut = order[-1]
        if cut is not None:
            head_cells = [(li, col, seg) for li, col, seg in cells if li <= cut]
            cells = [c for c in cells if c[0] > cut]
            for col in sorted({c for _, c, _ in head_cells}):
                role = role_by_col.get(col)
                if role and role != CODE:
                    segs = sorted((seg for _, c, seg in head_cells if c == col), key=lambda x: (x.top, x.x0))
                    lead[role] = _join([lead.get(role, "")] + [x.text for x in segs])
    anchors = [(li, seg) for li, col, seg in cells if col == code_col]
    if not anchors:
        return [], (consumed if lead else 0)
    # text under a code in its own cell belongs to that code's row, and the row's centre is the
    # centre of the whole code cell, not of the code's line
    under: list[list[tuple[int, Seg]]] = [[] for _ in anchors]
    for li, col, seg in cells:
        if col == extra_col:
            owner = max((k for k, (_, a) in enumerate(anchors) if a.top <= seg.top), default=0)
            under[owner].append((li, seg))
    cells = [c for c in cells if c[1] != extra_col]
    anchors = [(li, Seg(a.text, a.x0, a.x1, a.top, max([a.bottom] + [s.bottom for _, s in extra]), a.size, a.bold))
               if extra else (li, a) for (li, a), extra in zip(anchors, under)]
    anchor_tops = [a.top for _, a in anchors]

    def build_groups(split_at_anchors: bool) -> list[list[tuple[int, Seg]]]:
        """Each column's segments grouped into cells: lines closer than a line height belong
        together; in top-aligned tables a line level with a code always starts a new cell."""
        groups: list[list[tuple[int, Seg]]] = []
        for col in sorted({c for _, c, _ in cells if c != code_col}):
            column = sorted(((li, seg) for li, c, seg in cells if c == col), key=lambda x: x[1].top)
            current: list[tuple[int, Seg]] = []
            for li, seg in column:
                new_row = split_at_anchors and any(seg.top - line_h * 0.4 <= t <= seg.bottom for t in anchor_tops)
                if current and not new_row and seg.top - current[-1][1].bottom < line_h * 0.9:
                    current.append((li, seg))
                else:
                    if current:
                        groups.append(current)
                    current = [(li, seg)]
            if current:
                groups.append(current)
        return groups

    def nearest(group, middle: bool) -> tuple[int, float]:
        top = min(s.top for _, s in group)
        mid = (top + max(s.bottom for _, s in group)) / 2
        best = min(range(len(anchors)), key=lambda k: abs((anchors[k][1].mid if middle else anchors[k][1].top)
                                                          - (mid if middle else top)))
        a = anchors[best][1]
        return best, abs((a.mid if middle else a.top) - (mid if middle else top))

    def centred_groups() -> tuple[list[tuple[int, list[tuple[int, Seg]]]], float]:
        """Vertically centred cells: split each column's lines into consecutive runs, one run per
        row at most, so that every run is centred on its row's code (dynamic programming). Works
        when rows are packed as tightly as the lines inside a cell (OCR boxes, no borders)."""
        out: list[tuple[int, list[tuple[int, Seg]]]] = []
        total = 0.0
        mids = [a.mid for _, a in anchors]
        for col in sorted({c for _, c, _ in cells if c != code_col}):
            column = sorted(((li, seg) for li, c, seg in cells if c == col), key=lambda x: x[1].top)
            n, k = len(column), len(mids)
            inf = float("inf")
            # best[j][r]: cost of lines[:j] with the last run on row r; back[j][r] = (i, previous row)
            best = [[inf] * k for _ in range(n + 1)]
            back: list[list[tuple[int, int] | None]] = [[None] * k for _ in range(n + 1)]
            # prefix[i][r] = (cheapest best[i][q] over q < r, that q): the previous run's row
            prefix: list[list[tuple[float, int]]] = [[(0.0, -1)] * k]
            for j in range(1, n + 1):
                top, bottom = inf, -inf
                for i in range(j - 1, -1, -1):  # runs column[i:j], growing upwards
                    top = min(top, column[i][1].top)
                    bottom = max(bottom, column[i][1].bottom)
                    mid = (top + bottom) / 2
                    for r in range(k):
                        # a centred cell never reaches the centre of a neighbouring row
                        if (r > 0 and top < mids[r - 1]) or (r + 1 < k and bottom > mids[r + 1]):
                            continue
                        prev, prev_r = prefix[i][r]
                        if prev == inf:
                            continue
                        cost = prev + abs(mid - mids[r])
                        if cost < best[j][r]:
                            best[j][r] = cost
                            back[j][r] = (i, prev_r)
                running, row_prefix = (inf, -1), []
                for r in range(k):
                    row_prefix.append(running)
                    if best[j][r] < running[0]:
                        running = (best[j][r], r)
                prefix.append(row_prefix)
            r = min(range(k), key=lambda q: best[n][q])
            if best[n][r] == inf:  # no centred layout fits this column
                return [], inf
            total += best[n][r]
            j = n
            while j > 0 and r >= 0 and back[j][r] is not None:
                i, prev_r = back[j][r]
                out.append((r, column[i:j]))
                j, r = i, prev_r
        return out, total

    # cells are either top-aligned with their row's code or vertically centred on it: keep the better fit
    top_groups = build_groups(True)
    per_column = max((sum(1 for _, c, _ in cells if c == col) for col in set(c for _, c, _ in cells)), default=0)
    small = len(anchors) <= 60 and per_column <= 120  # the centred fit is quadratic in lines per column
    centred, centred_cost = centred_groups() if small else ([], float("inf"))
    if not small:
        mid_groups = build_groups(False)
        centred = [(nearest(g, True)[0], g) for g in mid_groups]
        centred_cost = sum(nearest(g, True)[1] for g in mid_groups)
    middle = centred_cost < sum(nearest(g, False)[1] for g in top_groups)
    assigned = centred if middle else [(nearest(g, False)[0], g) for g in top_groups]
    col_of = {id(seg): c for _, c, seg in cells}
    rows: list[dict] = [{"first": li, "last": max([li] + [x for x, _ in extra]),
                         "parts": {extra_col: [seg for _, seg in extra]} if extra else {}}
                        for (li, _), extra in zip(anchors, under)]
    for best, group in assigned:
        row = rows[best]
        col = col_of[id(group[0][1])]
        for li, seg in group:
            row["parts"].setdefault(col, []).append(seg)
            row["first"] = min(row["first"], li)
            row["last"] = max(row["last"], li)
    out: list[tuple[int, int, FaultRow]] = []
    for (li, anchor), row in zip(anchors, rows):
        codes = cell_codes(anchor.text)
        entry = FaultRow(code=codes[0])
        for col, segs in row["parts"].items():
            role = role_by_col.get(col)
            if role is None or role == CODE:
                continue
            setattr(entry, role, _join([getattr(entry, role)] + [s.text for s in _reading_order(segs)]))
        segs = [anchor] + [s for parts in row["parts"].values() for s in parts]
        entry.box = (min(s.x0 for s in segs), min(s.top for s in segs), max(s.x1 for s in segs),
                     max(s.bottom for s in segs))
        out.extend((row["first"], row["last"], e) for e in _copies(entry, codes))
    return out, consumed


def _split_at_columns(seg: Seg, lefts: Sequence[float], tol: float) -> list[Seg]:
    """A run crossing column edges, split between the words that fall on either side (positions
    interpolated from the run's width)."""
    words = seg.text.split()
    if len(words) < 2 or _column_of(seg, lefts, tol) == len(lefts) - 1:
        return [seg]
    per_char = (seg.x1 - seg.x0) / max(len(seg.text), 1)
    parts: list[tuple[int, list[str], float, float]] = []
    pos = 0
    for word in words:
        at = seg.text.find(word, pos)
        pos = at + len(word)
        x0, x1 = seg.x0 + at * per_char, seg.x0 + pos * per_char
        col = _column_of(Seg(word, x0, x1, seg.top, seg.bottom), lefts, tol)
        if parts and parts[-1][0] == col:
            parts[-1][1].append(word)
            parts[-1] = (col, parts[-1][1], parts[-1][2], x1)
        else:
            parts.append((col, [word], x0, x1))
    if len(parts) == 1:
        return [seg]
    return [Seg(" ".join(ws), x0, x1, seg.top, seg.bottom, seg.size, seg.bold, seg.conf) for _, ws, x0, x1 in parts]


def _split_code_runs(segs: Sequence[Seg], lefts: Sequence[float], code_col: int, tol: float) -> list[Seg]:
    """A code run together with the next cell's text (tight cell padding: 'F0001 Overcurrent'
    as one run crossing the code column's right edge) is split at that edge."""
    if code_col + 1 >= len(lefts) or len(segs) < 2:  # a row has other cells; a heading stands alone
        return list(segs)
    edge = lefts[code_col + 1]
    out: list[Seg] = []
    for seg in segs:
        words = seg.text.split()
        if (len(words) < 2 or not seg.x0 < edge - tol < edge + tol < seg.x1 or cell_codes(seg.text)
                or (code_col + 2 < len(lefts) and seg.x1 > lefts[code_col + 2] + tol)):
            out.append(seg)
            continue
        per_char = (seg.x1 - seg.x0) / max(len(seg.text.strip()), 1)
        for n in (2, 1):
            head = " ".join(words[:n])
            end = seg.x0 + per_char * len(head)
            if len(words) > n and end < edge + tol and cell_codes(head):
                start = seg.x0 + per_char * (len(head) + 1)
                out += [Seg(head, seg.x0, end, seg.top, seg.bottom, seg.size, seg.bold, seg.conf),
                        Seg(" ".join(words[n:]), max(start, edge), seg.x1, seg.top, seg.bottom, seg.size, seg.bold,
                            seg.conf)]
                break
        else:
            out.append(seg)
    return out


def _reading_order(segs: Sequence[Seg]) -> list[Seg]:
    """Segments of one cell in reading order: lines by vertical overlap (glyph boxes of words on
    one line differ in height), left to right within a line."""
    lines: list[list[Seg]] = []
    for seg in sorted(segs, key=lambda s: s.top):
        line = lines[-1] if lines else None
        if line is not None:
            top, bottom = min(s.top for s in line), max(s.bottom for s in line)
            if min(bottom, seg.bottom) - max(top, seg.top) > 0.5 * min(bottom - top, seg.height):
                line.append(seg)
                continue
        lines.append([seg])
    return [s for line in lines for s in sorted(line, key=lambda s: s.x0)]
