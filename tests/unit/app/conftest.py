"""Fixtures for the app's page-logic tests: one seeded data folder and one
service host per module (seeding and the first OCR call are the slow parts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.state import AppState, ServiceHost

ENV_NAMES = ("FIELDLENS_SERVER", "FIELDLENS_SERVER_TOKEN", "FIELDLENS_PROVIDER", "FIELDLENS_MODEL", "FIELDLENS_BASE_URL", "FIELDLENS_API_KEY",
             "OPENAI_API_KEY", "ANTHROPIC_API_KEY")


@pytest.fixture(scope="module")
def seeded_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceHost]:
    home = tmp_path_factory.mktemp("app-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIELDLENS_HOME", str(home))
        mp.setenv("FIELDLENS_SAMPLES", "1")
        for name in ENV_NAMES:
            mp.delenv(name, raising=False)
        host = ServiceHost()
        host.call(lambda: host.fl)  # create it (and seed the samples) on the worker thread
        yield host
        host.close()


@pytest.fixture
def state(seeded_host: ServiceHost) -> AppState:
    return AppState(seeded_host)


@pytest.fixture(scope="session")
def photos() -> Path:
    return Path(__file__).resolve().parents[3] / "assets" / "photos"
