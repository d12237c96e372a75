"""What a cell, list item, heading or line says about fault codes, shared by the code
families (`families`) and positioned tables (`positioned`): the fault CONTEXT words, the
title / cause / remedy roles of labels and headers (any language), the codes that start a
cell (`cell_codes`) and their kind, the `CodeUnit` a code-starting piece of text becomes, and
turning finished `FaultRow`s into FAULT_CODE blocks (`entry_blocks`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.domain import PassageKind
from assistant.library.codes import head_code, looks_like_code
from assistant.library.ingest.base import Block, FaultRow, Heading

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
WORD = re.compile(r"[^\W\d_]+")
_MULTI = re.compile(r"\s*(?:/|,|;|&|\bor\b|\band\b|\bund\b|\bet\b|\by\b|\bo\b|\ben\b)\s*", re.I)
MARKS = re.compile(r"(?:\s*[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+|\s*\(\*+\))+$")
MAX_TITLE_WORDS = 16


def role_of(label: str) -> str | None:
    """'Mögliche Ursachen' -> 'cause', 'Fault Description' -> 'title', 'Solution' -> 'remedy'."""
    words = [w.lower() for w in WORD.findall(label.lower().replace("what to do", "todo"))]
    if not words or len(words) > 5:
        return None
    for role in ("cause", "remedy", "title"):
        if any(w in _ROLE_WORDS[role] for w in words):
            return role
    return None


def clean_text(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def join_text(parts: Sequence[str], sep: str = " ") -> str:
    out = ""
    for part in parts:
        part = clean_text(part)
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
    value = clean_text(text)
    whole = MARKS.sub("", value).rstrip(":").strip()
    if looks_like_code(whole):
        return [whole], ""
    # a list of codes ('E16 / E17') is a short cell: no need to split a long line to know it is not one
    parts = [p for p in _MULTI.split(whole) if p] if len(whole) <= 200 else []
    if 2 <= len(parts) <= 8 and all(looks_like_code(MARKS.sub("", p)) for p in parts):
        return [MARKS.sub("", p) for p in parts], ""
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
    return codes, MARKS.sub("", rest) if rest.startswith(("*", "(*")) else rest


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
class CodeUnit:
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


def strong_code(codes: Sequence[str], unit_kind: str) -> bool:
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

NAME = re.compile(r"[^\W\d_]{3,}")

def fault_text(row: FaultRow) -> str:
    parts = [f"{row.code} {row.title}".strip()]
    if row.description:
        parts.append(row.description)
    if row.cause:
        parts.append(f"Cause: {row.cause}")
    if row.remedy:
        parts.append(f"Remedy: {row.remedy}")
    return "\n".join(parts)


def entry_blocks(rows: list[FaultRow], block: Block, section=None, page=None, box=None) -> list[Block]:
    out = []
    for row in rows:
        if not WORD.search(" ".join((row.title, row.cause, row.remedy, row.description))):
            continue  # a code with no words ('Fehler 04 | ○ | ●') explains nothing: a display pattern
        if len(row.title.split()) > MAX_TITLE_WORDS:  # a long text is a description, its first sentence a title
            first, _, rest = row.title.partition(". ")
            if rest and len(first.split()) <= MAX_TITLE_WORDS:
                row.title, row.description = first, join_text([rest, row.description])
        out.append(Block(PassageKind.FAULT_CODE, fault_text(row), section if section is not None else block.section,
                         page if page is not None else block.page, block.start, block.end, fault=row,
                         codes=(row.code,), box=box or block.box))
    return out


CONTINUES = (PassageKind.TEXT, PassageKind.PROCEDURE, PassageKind.WARNING, PassageKind.TABLE)

def line_box(line):
    if not hasattr(line, "segs") or not line.segs:
        return None
    return (line.x0, line.top, line.x1, line.bottom)


_QUALIFIER = (r"(?:(?:probable|possible|likely|m[öo]gliche|possibles?|root|corrective|recommended|failure|fault|"
              r"error|falen)\s+)?")
_LABEL_WORDS = sorted({w for role in ("cause", "remedy") for w in _ROLE_WORDS[role]}, key=len, reverse=True)
LABEL_IN_TEXT = re.compile(r"(?<![\w])(" + _QUALIFIER + "(?:" + "|".join(map(re.escape, _LABEL_WORDS)) +
                            r")(?:\s*\(s\))?)\s*[:：]\s*", re.I)


def split_labels(row: FaultRow) -> None:
    """'Cause: ... Remedy: ...' inside a description become the cause and remedy."""
    if not row.description:
        return
    marks = list(LABEL_IN_TEXT.finditer(row.description))
    if not marks:
        return
    rest = row.description[:marks[0].start()]
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(row.description)
        role = role_of(m.group(1)) or "remedy"
        setattr(row, role, join_text([getattr(row, role), row.description[m.end():end]]))
    row.description = clean_text(rest)

