"""Settings: file then environment, the key kept apart and never shown back in full."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.config import load_settings, save_settings
from assistant.domain import ProviderName
from assistant.errors import ConfigError


def test_environment_overrides_the_settings_file(home: Path) -> None:
    (home / "settings.json").write_text(json.dumps({"provider": "ollama", "model": "llava"}))
    settings = load_settings(home, env={"FIELDLENS_MODEL": "qwen2.5vl"})
    assert settings.provider is ProviderName.OLLAMA
    assert settings.model == "qwen2.5vl"


def test_key_is_stored_apart_with_private_mode_and_masked(home: Path) -> None:
    settings = load_settings(home, env={"FIELDLENS_PROVIDER": "openai", "OPENAI_API_KEY": "sk-live-abcdef123456"})
    assert "sk-live" not in repr(settings) and "sk-live" not in settings.model_dump_json()
    save_settings(settings)
    assert "sk-live" not in (home / "settings.json").read_text()
    assert stat.S_IMODE((home / "secrets.json").stat().st_mode) == 0o600
    reloaded = load_settings(home, env={"FIELDLENS_PROVIDER": "openai"})
    assert reloaded.api_key is not None and reloaded.api_key.get_secret_value() == "sk-live-abcdef123456"
    assert reloaded.masked_key().endswith("3456") and "abcdef" not in reloaded.masked_key()


@pytest.mark.parametrize("env", [{"FIELDLENS_PROVIDER": "skynet"}, {"FIELDLENS_BASE_URL": "ftp://x"}])
def test_invalid_settings_are_a_plain_error(home: Path, env: dict) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(home, env=env)
    assert "\n" not in str(err.value)


def test_corrupt_settings_file_gives_defaults_and_says_so(home: Path) -> None:
    (home / "settings.json").write_text("{not json")
    settings = load_settings(home, env={})
    assert settings.provider.value == "offline"
    assert len(settings.load_problems) == 1 and "settings file" in settings.load_problems[0]
    assert "not valid JSON" in settings.load_problems[0]
