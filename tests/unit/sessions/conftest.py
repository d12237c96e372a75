"""Fixtures for the sessions tests: a store on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.sessions import SessionStore


@pytest.fixture
def store(tmp_path: Path):
    s = SessionStore(tmp_path / "sessions")
    yield s
    s.close()
