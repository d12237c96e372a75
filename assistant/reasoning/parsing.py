"""Turning a model's text into a validated structured reply.

Order: strict JSON (with `strict=False`, because llama.cpp emits raw newlines
inside strings) and pydantic validation; otherwise lenient repair with
json-repair after stripping code fences and trailing prose (this also closes
JSON cut off at max_tokens). A repaired reply is marked `repaired=True` so the
caller raises `model_output_repaired`. If neither works, `ParseFailure`
carries a short validation message the caller quotes in its one retry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.S)


class ParseFailure(ValueError):
    """The text could not be turned into the expected structure, even after repair."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Parsed(Generic[T]):
    value: T
    repaired: bool
    notes: list[str]


def _candidate(text: str) -> str:
    """The JSON-looking part of a reply: inside a code fence if any, from the first brace."""
    m = _FENCE.search(text)
    if m and "{" in m.group(1):
        text = m.group(1)
    start = text.find("{")
    return text[start:] if start >= 0 else text


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _unwrap(data: object, model: type[BaseModel]) -> object:
    """Some models wrap the object ({"answer": {...}}) or return a one-item list."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and len(data) == 1:
        (only,) = data.values()
        if isinstance(only, dict) and set(only) & set(model.model_fields):
            return only
    return data


def parse_reply(text: str, model: type[T]) -> Parsed[T]:
    """Validate `text` as `model`; repair leniently if needed; raise ParseFailure otherwise."""
    if not text or not text.strip():
        raise ParseFailure("the reply was empty")
    notes: list[str] = []
    try:
        data = json.loads(text.strip(), strict=False)
        return Parsed(model.model_validate(_unwrap(data, model)), False, notes)
    except json.JSONDecodeError:
        pass
    except ValidationError as exc:
        # well-formed JSON of the wrong shape: repairing the syntax will not help
        raise ParseFailure(_validation_message(exc)) from None
    candidate = _candidate(text)
    try:
        data = json_repair.loads(candidate)
    except (ValueError, RecursionError) as exc:  # json_repair raises ValueError on hopeless input
        raise ParseFailure(f"the reply is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, (dict, list)) or data in ({}, [], ""):
        raise ParseFailure("the reply is not a JSON object")
    try:
        value = model.model_validate(_unwrap(data, model))
    except ValidationError as exc:
        raise ParseFailure(_validation_message(exc)) from None
    notes.append("the reply was not valid JSON and was repaired")
    return Parsed(value, True, notes)


def partial_steps(buffer: str) -> list[dict] | None:
    """While streaming: the steps array of a partial answer, repaired (the last one may be incomplete)."""
    idx = buffer.find('"steps"')
    if idx < 0:
        return None
    try:
        data = json_repair.loads(_candidate(buffer))
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("steps"), list):
        return [s for s in data["steps"] if isinstance(s, dict)]
    return None


def complete_steps(buffer: str) -> tuple[int, bool]:
    """While streaming: how many step objects of the steps array are closed, and
    whether the array itself is closed (a string-aware bracket scan)."""
    idx = buffer.find('"steps"')
    if idx < 0:
        return 0, False
    start = buffer.find("[", idx)
    if start < 0:
        return 0, False
    depth = 0
    count = 0
    in_str = False
    esc = False
    for ch in buffer[start + 1:]:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            if depth == 0:
                return count, True
            depth -= 1
            if depth == 0 and ch == "}":
                count += 1
    return count, False
