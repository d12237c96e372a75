"""A code found in several revisions of one manual comes back newest revision first."""

from __future__ import annotations

from pathlib import Path

from assistant.domain import Equipment
from assistant.library import Library

TABLE = """# Pump controller manual

## Fault codes

| Code | Description | Cause | Remedy |
|------|-------------|-------|--------|
| P17 | Seal leak | Worn mechanical seal | {remedy} |
| P18 | Dry run | No suction | Prime the pump |
"""


def test_newest_revision_first(tmp_path: Path) -> None:
    newer = tmp_path / "pump-manual-current.md"
    newer.write_text(TABLE.format(remedy="Replace the seal and torque the gland nuts to 12 Nm"))
    older = tmp_path / "pump-manual-archive.md"
    older.write_text(TABLE.format(remedy="Replace the seal and torque the gland nuts to 8 Nm"))
    with Library(tmp_path / "lib") as library:
        library.upsert_equipment(Equipment(id="pump", name="Process pump"))
        # Ingested newest first and named so that alphabetical order favours the older one:
        # only the revision label can put the newer first.
        library.add(newer, equipment_ids=["pump"], title="Pump controller manual", revision="10")
        library.add(older, equipment_ids=["pump"], title="Pump controller manual", revision="9")
        entries = library.lookup_code("p17", equipment_id="pump")
        assert [library.document(e.doc_id).revision for e in entries] == ["10", "9"]
        assert "12 Nm" in entries[0].remedy
