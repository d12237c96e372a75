"""Fault-code normalisation: one code printed many ways ("E-21", "e21", "E 021")
compares equal. Pure functions, used by ingest, the code table and search."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-_.:/]+")
_DIGITS = re.compile(r"\d+")
_CODE_SHAPES = (
    re.compile(r"^[A-Za-z]{0,5}[\s\-.]?\d{1,6}[A-Za-z]?$"),  # F0001, E-21, Err 07, 2310, A12, OC1, E.21
    re.compile(r"^[A-Z]{2,5}\d{0,3}$"),  # OC, OV, LU, OH1 (upper case only)
    re.compile(r"^\d{1,3}[\s\-.]\d{1,4}$"),  # 21-3, 4.12
    re.compile(r"^[A-Za-z]{1,4}\d{1,4}[\-.]\d{1,4}$"),  # A12-3, F1.2
    re.compile(r"^0x[0-9A-Fa-f]{1,8}$"),  # 0x2310 (CANopen / Modbus style)
)


def compact(code: str) -> str:
    """Upper case with spaces, dashes, dots and underscores removed: 'Err 07' -> 'ERR07'."""
    return _SEPARATORS.sub("", code.strip()).upper()


def code_key(code: str) -> str:
    """`compact` with leading zeros of every digit run dropped: 'F0001' -> 'F1', 'E-021' -> 'E21'."""
    return _DIGITS.sub(lambda m: str(int(m.group())), compact(code))


def printed(code: str) -> str:
    """The code as printed, trimmed and upper-cased, inner whitespace collapsed: 'err  07' -> 'ERR 07'."""
    return " ".join(code.split()).upper()


def looks_like_code(text: str) -> bool:
    """True for short tokens shaped like a fault/alarm code. Only used together with a
    fault-table header or label, never on its own to decide that prose is a code."""
    value = text.strip().rstrip(":")
    if not value or len(value) > 14 or len(value.split()) > 2:
        return False
    return any(p.match(value) for p in _CODE_SHAPES)
