"""Structured work instructions (YAML or JSON): title, equipment, revision,
warnings, tools, parts and steps (text, optional warning and figure). Each
becomes passages: the warnings, the tools and parts, and the steps as one
procedure (split into step ranges only when very long). Offsets are into a
rendered plain-text view of the instruction."""

from __future__ import annotations

import json

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.domain import DocumentFormat, PassageKind
from assistant.errors import MalformedFile
from assistant.library.ingest.base import Block, Heading, ParsedDoc


class WIStep(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str
    warning: str = ""
    figure: str = ""


class WorkInstruction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = ""
    title: str
    equipment: list[str] = Field(default_factory=list)
    revision: str = ""
    warnings: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    parts: list[str] = Field(default_factory=list)
    steps: list[WIStep] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value):
        if isinstance(value, list):
            return [{"text": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("revision", "id", mode="before")
    @classmethod
    def _str(cls, value):
        return "" if value is None else str(value)

    @field_validator("equipment", "warnings", "tools", "parts", mode="before")
    @classmethod
    def _list(cls, value):
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) if not isinstance(v, dict) else " ".join(str(x) for x in v.values()) for v in value]


def parse_work_instruction(source: str, name: str, fmt: DocumentFormat) -> ParsedDoc:
    try:
        data = json.loads(source) if fmt == DocumentFormat.JSON else yaml.safe_load(source)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as err:
        raise MalformedFile(f"{name} is not valid {'JSON' if fmt == DocumentFormat.JSON else 'YAML'} "
                            f"({str(err).splitlines()[0][:120]}).") from None
    if not isinstance(data, dict):
        raise MalformedFile(f"{name} is not a work instruction (expected a title and a list of steps).")
    try:
        wi = WorkInstruction.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise MalformedFile(f"{name} is not a work instruction: {where} {first['msg'].lower()}.") from None

    text = ""
    blocks: list[Block] = []
    headings: list[Heading] = []

    def emit(line: str) -> tuple[int, int]:
        nonlocal text
        if text:
            text += "\n"
        start = len(text)
        text += line
        return start, len(text)

    def add(kind: PassageKind, section: str, body: str) -> None:
        start, end = emit(body)
        blocks.append(Block(kind, body, (section,), None, start, end))

    emit(wi.title)
    if wi.warnings:
        start, _ = emit("Safety")
        headings.append(Heading(("Safety",), 1, None, start))
        for warning in wi.warnings:
            add(PassageKind.WARNING, "Safety", warning.strip())
    if wi.tools or wi.parts:
        start, _ = emit("Tools and parts")
        headings.append(Heading(("Tools and parts",), 1, None, start))
        body = []
        if wi.tools:
            body.append("Tools: " + "; ".join(t.strip() for t in wi.tools))
        if wi.parts:
            body.append("Parts: " + "; ".join(p.strip() for p in wi.parts))
        add(PassageKind.TEXT, "Tools and parts", "\n".join(body))
    start, _ = emit("Steps")
    headings.append(Heading(("Steps",), 1, None, start))
    lines = []
    for n, step in enumerate(wi.steps, start=1):
        line = f"{n}. {step.text.strip()}"
        if step.warning:
            line += f"\n   WARNING: {step.warning.strip()}"
        if step.figure:
            line += f"\n   (figure: {step.figure.strip()})"
        lines.append(line)
    add(PassageKind.PROCEDURE, "Steps", "\n".join(lines))
    for n, step in enumerate(wi.steps, start=1):
        if step.warning:
            add(PassageKind.WARNING, "Steps", f"Step {n}: WARNING: {step.warning.strip()}")
    figures = [(n, s.figure) for n, s in enumerate(wi.steps, start=1) if s.figure]
    for n, figure in figures:
        add(PassageKind.FIGURE, "Steps", f"Figure for step {n}: {figure.strip()}")
    return ParsedDoc(fmt, title=wi.title, blocks=blocks, headings=headings, page_texts=[text],
                     meta={"equipment": wi.equipment, "revision": wi.revision, "id": wi.id,
                           "figures": [f for _, f in figures]})
