"""The shape of a model's structured answer (and of the two small structured
replies Thinking mode asks for), plus the JSON schemas sent for structured
output.

The model answers in *source ids* ("S1".."Sn") that the prompt assigned to the
retrieved passages; `grounding` maps them back to real passages and checks
every quote. Nothing here touches the network or the library.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    # Models add stray keys; ignoring them is harmless, rejecting them would waste a retry.
    model_config = ConfigDict(extra="ignore")


class ModelCitation(_Lenient):
    source: str = Field(description="the id of a numbered source passage, e.g. S2")
    quote: str = Field(description="words copied exactly from that passage")


class ModelObservation(_Lenient):
    photo: str = Field(description="photo id as given, e.g. P1")
    visible: str = Field(description="what is visible and legible in the photo")
    unreadable: list[str] = Field(default_factory=list, description="what could not be read")


class ModelStep(_Lenient):
    action: str = Field(description="one imperative instruction")
    detail: str = ""
    citations: list[ModelCitation] = Field(default_factory=list)
    safety: list[str] = Field(default_factory=list)


class ModelAnswer(_Lenient):
    """What the model must return; field order is the order we want it written in."""

    observations: list[ModelObservation] = Field(default_factory=list)
    steps: list[ModelStep] = Field(default_factory=list)
    confidence: Literal["high", "medium", "low"] = "low"
    unsure_because: list[str] = Field(default_factory=list)
    abstain: bool = False
    summary: str = ""


class PhotoDescription(_Lenient):
    """Thinking mode, sub-task "read each photo"."""

    visible: str
    legible_text: list[str] = Field(default_factory=list)
    unreadable: list[str] = Field(default_factory=list)


class StepVerdict(_Lenient):
    """Thinking mode, sub-task "verify each step against its cited source"."""

    supported: bool
    reason: str = ""


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline `$defs` references: several OpenAI-compatible servers (llama.cpp
    grammars among them) handle flat schemas far better than `$ref`s."""
    defs = schema.get("$defs", {})

    def walk(node: Any, is_properties: bool = False) -> Any:
        if isinstance(node, dict):
            if is_properties:  # keys here are field names, never schema keywords
                return {k: walk(v) for k, v in node.items()}
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                return walk(copy.deepcopy(defs[name]))
            return {k: walk(v, k == "properties") for k, v in node.items() if k not in ("$defs", "title", "default")}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


@lru_cache(maxsize=8)
def _schema_for(name: str) -> dict[str, Any]:
    model = {"answer": ModelAnswer, "photo": PhotoDescription, "verdict": StepVerdict}[name]
    return _inline_refs(model.model_json_schema())


def json_schema(name: Literal["answer", "photo", "verdict"]) -> dict[str, Any]:
    """The flat JSON schema of one of the structured replies (a fresh copy)."""
    return copy.deepcopy(_schema_for(name))


SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "answer": ModelAnswer,
    "photo": PhotoDescription,
    "verdict": StepVerdict,
}
