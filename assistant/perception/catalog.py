"""The catalog interface perception needs (`assistant.library.Library` satisfies it)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from assistant.domain import Equipment


@runtime_checkable
class CatalogLookup(Protocol):
    def known_codes(self, equipment_id: str | None = None) -> set[str]: ...

    def equipment_for_tag(self, tag: str) -> Equipment | None: ...

    def match_model(self, text: str) -> list[tuple[Equipment, float]]: ...
