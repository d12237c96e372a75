"""Fault codes: what a code looks like, and one key for every way a code is printed,
shown on a display or typed ("E-21", "e21", "E 021"; "Err 07", "error:7"; "0x0F0001",
"0xF0001"). Pure functions, used by ingest, the code table, lookup and search.

Shapes recognised (a code is stored as the manual prints it):
letters only (OC, LU, EPR), letters and digits (E01, F0001, OL1, EV0081), dotted (E101.0,
Er.07, E.S., b.b.), hex (0x2310), numbers and number groups (01, 2310, 40-60-90), and a
number after a fault word ("error:22", "ALARM:9", "Error 3", "Err 07")."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-_.:/#]+")
_DIGITS = re.compile(r"\d+")

# a fault word printed in front of a number ('Err 07', 'error:22', 'ALARM:9')
WORD_PREFIX = (r"(?:err(?:or)?|alarm|alm|al|fault|flt|fehler|st[öo]rung|erreur|d[ée]faut|fout|storing|"
               r"aver[íi]a|fallo|errore|allarme|code|trip)")
_CODE_BODY = (
    rf"(?:(?i:{WORD_PREFIX})\s?[:#]?\s?\d{{1,6}}\b)"                    # Err 07, error:22, ALARM:9
    r"|(?:0x[0-9A-Fa-f]{1,8}\b)"                                   # 0x2310
    r"|(?:\d[0-9A-Fa-f]{1,7}h\b)"                                 # 3210h
    r"|(?:\d{1,3}(?:-\d{1,3}){1,5}\b)"                             # 21-3, 40-60-90
    r"|(?:\d{1,6}(?:\.\d{1,3})?\b)"                                # 01, 2310, 4.12
    r"|(?:[A-Za-z]{1,4}[.\-]?\d{1,6}(?:[.\-]\d{1,4})?[A-Za-z]?\b)"  # E01, F0001, OL1, Er.07, E101.0, A12-3
    r"|(?:[A-Za-z]{1,4}\d{1,4}[A-Za-z]{1,2}\d{0,2}\b)"             # EA1, P1A, E8A2
    r"|(?:[A-Z]{1,2} \d{1,4}\b)"                                   # E 10 (a space after the letter)
    r"|(?:(?:[A-Za-z]\.){2,4}(?=\s|$|[,;)|:]))"                    # E.S., b.b.
    r"|(?:[A-Z]{2,5}\d?\b|[A-Z][a-z]{1}\b|[A-Z][A-Za-z]{1,3}\b)"   # OC, LU, EPR, Eb, INIt
)
_WHOLE = re.compile(rf"^(?:{_CODE_BODY})$")
_HEAD = re.compile(rf"^(?:{_CODE_BODY})(?=$|[\s,;:|)\]*\"'’”–—=/]|-\s|\.\s|\.$)")
_PREFIXED = re.compile(rf"^{WORD_PREFIX}\s?[:#]?\s?(\d{{1,6}})$", re.I)
_HEX = re.compile(r"^0x([0-9A-Fa-f]{1,8})$|^(\d[0-9A-Fa-f]{1,7})h$", re.I)


def compact(code: str) -> str:
    """Upper case with spaces, dashes, dots, colons and underscores removed: 'Err 07' -> 'ERR07'."""
    return _SEPARATORS.sub("", code.strip()).upper()


def code_key(code: str) -> str:
    """The form every printing of one code shares: `compact`, a fault word in front of a number
    dropped ('Err 07', 'error:7' -> '7'), leading zeros of every digit run dropped ('F0001' ->
    'F1'), hex by value ('0x0F0001' -> '0XF0001')."""
    value = " ".join(code.split()).strip(" :.")
    hexa = _HEX.match(value)
    if hexa:
        return f"0X{int(hexa.group(1) or hexa.group(2), 16):X}"
    prefixed = _PREFIXED.match(value)
    if prefixed:
        return str(int(prefixed.group(1)))
    return _DIGITS.sub(lambda m: str(int(m.group())), compact(value))


def printed(code: str) -> str:
    """The code as printed, trimmed, inner whitespace collapsed: 'Err  07' -> 'Err 07'."""
    return " ".join(code.split())


def looks_like_code(text: str) -> bool:
    """True for a short token shaped like a fault/alarm code. Shape alone never makes a code:
    ingest also needs a family of such tokens in a fault context."""
    value = text.strip().rstrip(":")
    if not value or len(value) > 14:
        return False
    return bool(_WHOLE.match(value))


def head_code(text: str) -> tuple[str, str] | None:
    """A code that starts `text`, and the text after it: 'E21 – Heatsink hot' -> ('E21',
    'Heatsink hot'); 'Err 44 - Motor' -> ('Err 44', 'Motor'); None when it does not start with one."""
    value = text.strip()
    m = _HEAD.match(value)
    if not m:
        return None
    code = m.group().rstrip(".") if not re.fullmatch(r"(?:[A-Za-z]\.){2,4}", m.group()) else m.group()
    rest = value[m.end():]
    if re.fullmatch(r"[\d.]+", code) and re.match(r"\s*[.)]", rest) and not re.match(r"\.\d", rest):
        return None  # '1. Check the fuse', '2) Reset': list numbering, not a code
    return code, strip_separators(rest)


def strip_separators(text: str) -> str:
    """' – Heatsink hot' -> 'Heatsink hot': leading/trailing punctuation between a code and its title."""
    return re.sub(r"^[\s:;,.|)\]*\"'’”–—=\-/\\]+|[\s:;,|(\[\"'“\\]+$", "", text).strip()
