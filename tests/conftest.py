"""Shared fixtures: an isolated data folder and the bundled sample assets."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh FIELDLENS_HOME with no samples seeded and no provider configured."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("FIELDLENS_HOME", str(path))
    monkeypatch.setenv("FIELDLENS_SAMPLES", "0")
    for name in ("FIELDLENS_PROVIDER", "FIELDLENS_MODEL", "FIELDLENS_BASE_URL", "FIELDLENS_API_KEY",
                 "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture(scope="session")
def sample_library_dir() -> Path:
    return ROOT / "assets" / "library"


@pytest.fixture(scope="session")
def demo_photos_dir() -> Path:
    return ROOT / "assets" / "photos"
