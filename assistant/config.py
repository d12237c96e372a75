"""Settings and paths: the data folder (`FIELDLENS_HOME`), the model provider
and its key, the photo policy, and where each package keeps its files.

Settings come from `<home>/settings.json` (written by the settings screen),
overridden by the environment (`FIELDLENS_PROVIDER`, `FIELDLENS_MODEL`,
`FIELDLENS_BASE_URL`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`,
`FIELDLENS_API_KEY`). The API key is kept in its own file (`secrets.json`,
mode 0600), never in settings.json or the sessions database, and is a
`SecretStr` so it never prints.

Credentials in a base URL (`https://user:password@host/v1`) are taken out of it: `base_url`
is always the URL without them (what is shown and logged), and the URL as given is kept in
`credentialed_base_url` (a `SecretStr`, stored in secrets.json, dropped when the base URL changes
to another address). Providers send them as HTTP Basic authorization; a user with no password
(`https://KEY@host/v1`) is taken as the API key when none is set. Every secret loaded here is
registered with `assistant.redaction`, which scrubs it from anything written or shown.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from assistant import redaction

from assistant.domain import ProviderName
from assistant.errors import ConfigError

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
SAMPLE_LIBRARY_DIR = ASSETS_DIR / "library"
DEMO_PHOTOS_DIR = ASSETS_DIR / "photos"


def default_home() -> Path:
    env = os.environ.get("FIELDLENS_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("fieldlens", appauthor=False))


class PhotoPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    long_side: int = Field(1568, ge=256, le=4096, description="photos sent to a model are downscaled to this")
    jpeg_quality: int = Field(85, ge=40, le=95)
    blur_faces: bool = False
    send_photos: bool = True


class Settings(BaseModel):
    """Everything configurable. Built by `load_settings`; saved by `save_settings`."""

    model_config = ConfigDict(extra="ignore")

    home: Path = Field(default_factory=default_home)
    provider: ProviderName = ProviderName.OFFLINE
    model: str = ""
    base_url: str = ""
    api_key: SecretStr | None = Field(None, exclude=True)
    credentialed_base_url: SecretStr | None = None  # the base URL with its user:password, never shown
    allow_fallback: bool = True
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0, le=6)
    technician: str = ""
    device: str = ""
    large_text: bool = False
    dark_theme: bool = False
    photo_policy: PhotoPolicy = Field(default_factory=PhotoPolicy)
    load_problems: list[str] = Field(default_factory=list, exclude=True,
                                     description="why settings.json or secrets.json could not be used, if so")

    @model_validator(mode="before")
    @classmethod
    def _take_credentials_out_of_base_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("base_url"), str):
            clean, user, password = redaction.split_credentials(data["base_url"].strip())
            if user or password:
                data = {**data, "base_url": clean, "credentialed_base_url": SecretStr(data["base_url"].strip())}
                redaction.remember_basic_credentials(user, password) if password else redaction.remember(user)
        return data

    @model_validator(mode="after")
    def _credentials_only_for_their_own_url(self) -> "Settings":
        if self.credentialed_base_url is not None:
            clean = redaction.split_credentials(self.credentialed_base_url.get_secret_value())[0]
            if clean.rstrip("/") != self.base_url:
                self.credentialed_base_url = None  # the base URL changed: never send them elsewhere
        return self

    def url_credentials(self) -> tuple[str, str] | None:
        """(user, password) from the base URL as given, or None."""
        if self.credentialed_base_url is None:
            return None
        _, user, password = redaction.split_credentials(self.credentialed_base_url.get_secret_value())
        return (user, password) if user or password else None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("the base URL must start with http:// or https://")
        return value.rstrip("/")

    # ---- paths each package owns
    @property
    def library_dir(self) -> Path:
        return self.home / "library"

    @property
    def sessions_dir(self) -> Path:
        return self.home / "sessions"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.json"

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.json"

    def masked_key(self) -> str:
        """The key as it may be shown back: its last four characters only."""
        if not self.api_key:
            return ""
        raw = self.api_key.get_secret_value()
        return "••••" + raw[-4:] if len(raw) > 8 else "••••"


_FIELD_NAMES = {
    "base_url": "base URL",
    "api_key": "API key",
    "timeout_s": "timeout",
    "max_retries": "number of retries",
    "photo_policy.long_side": "photo size",
    "photo_policy.jpeg_quality": "photo quality",
}


def validation_sentence(exc: ValidationError) -> str:
    """The first problem of a settings validation error as one plain sentence."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ").rstrip(".")
    if message.lower().startswith("the "):
        return message[0].upper() + message[1:] + "."
    what = _FIELD_NAMES.get(where, where.replace("_", " ").replace(".", " "))
    return f"The {what} setting is not valid: {message[0].lower() + message[1:]}."


_ENV_KEYS = {
    ProviderName.OPENAI: ("OPENAI_API_KEY", "FIELDLENS_API_KEY"),
    ProviderName.ANTHROPIC: ("ANTHROPIC_API_KEY", "FIELDLENS_API_KEY"),
    ProviderName.OLLAMA: ("FIELDLENS_API_KEY",),
    ProviderName.OFFLINE: (),
}


def load_settings(home: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from the settings file, then the environment on top.

    A settings or secrets file that cannot be used (not UTF-8 JSON, not an object, invalid values) does not
    stop anything: the defaults are used and `load_problems` says why, in one sentence per file. An invalid
    value in the environment is the caller's own input and raises ConfigError."""
    env = dict(os.environ if env is None else env)
    home = Path(home) if home else (Path(env["FIELDLENS_HOME"]).expanduser() if env.get("FIELDLENS_HOME") else default_home())
    problems: list[str] = []
    settings_file = home / "settings.json"
    data, problem = read_json_object(settings_file, "settings file")
    if problem:
        problems.append(f"{problem}; the default settings are used until it is fixed or saved again.")
    if data:
        try:
            Settings(**{**data, "home": home})
        except ValidationError as exc:
            problems.append(f"The settings file {settings_file} is not valid ({validation_sentence(exc).rstrip('.')});"
                            " the default settings are used until it is fixed or saved again.")
            data = {}
    if env.get("FIELDLENS_PROVIDER"):
        data["provider"] = env["FIELDLENS_PROVIDER"].strip().lower()
    if env.get("FIELDLENS_MODEL"):
        data["model"] = env["FIELDLENS_MODEL"]
    if env.get("FIELDLENS_BASE_URL"):
        data["base_url"] = env["FIELDLENS_BASE_URL"]
    data["home"] = home
    stored_url = _stored_credentialed_url(home)
    if stored_url and "@" not in str(data.get("base_url", "")):
        data["credentialed_base_url"] = stored_url  # dropped by the validator unless it is for this base URL
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(redaction.scrub(validation_sentence(exc))) from None
    settings.api_key = _load_key(home, settings.provider, env, problems)
    settings.load_problems = problems
    _remember_secrets(settings, env)
    return settings


MAX_SETTINGS_BYTES = 1024 * 1024


def read_json_object(path: Path, what: str) -> tuple[dict, str | None]:
    """The JSON object in `path` ({} when there is no file), and a sentence saying why it cannot be used, if so.
    The sentence names the file and its shape, never its content (it may hold a key)."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return {}, f"The {what} {path} is a folder"
        if not stat.S_ISREG(mode):  # a FIFO would block the start for ever
            return {}, f"The {what} {path} is not a regular file"
        with path.open("rb") as fh:
            raw = fh.read(MAX_SETTINGS_BYTES + 1)
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"The {what} {path} cannot be read ({exc.strerror or exc.__class__.__name__})"
    if len(raw) > MAX_SETTINGS_BYTES:
        return {}, f"The {what} {path} is too large to be settings"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) > 1 and (raw[0] == 0 or raw[1] == 0)):
        return {}, f"The {what} {path} is UTF-16 text, not UTF-8"
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return {}, f"The {what} {path} is binary, not UTF-8 JSON text"
    except (json.JSONDecodeError, RecursionError):
        return {}, f"The {what} {path} is not valid JSON"
    if not isinstance(data, dict):
        shape = {list: "a list", str: "a string", type(None): "null", bool: "true or false"}.get(type(data), "a number")
        return {}, f"The {what} {path} holds {shape}, not an object"
    return data, None


def _stored_credentialed_url(home: Path) -> SecretStr | None:
    stored, _problem = read_json_object(home / "secrets.json", "secrets file")
    value = stored.get("base_url")
    return SecretStr(value) if isinstance(value, str) and value else None


def _remember_secrets(settings: Settings, env: dict[str, str]) -> None:
    """Register every secret this process now holds with the scrubber."""
    redaction.remember_environment(env)
    redaction.remember_secrets_file(settings.secrets_file)
    if settings.api_key is not None:
        redaction.remember(settings.api_key.get_secret_value())
    creds = settings.url_credentials()
    if creds:
        redaction.remember_basic_credentials(*creds) if creds[1] else redaction.remember(creds[0])


def _load_key(home: Path, provider: ProviderName, env: dict[str, str], problems: list[str] | None = None
              ) -> SecretStr | None:
    for name in _ENV_KEYS.get(provider, ()):
        if env.get(name):
            return SecretStr(env[name])
    secrets_file = home / "secrets.json"
    stored, problem = read_json_object(secrets_file, "secrets file")
    key = stored.get("api_key")
    if problem is None and key is not None and not isinstance(key, str):
        problem = f"The secrets file {secrets_file} holds an API key that is not text"
    if problem:
        if problems is not None:
            problems.append(f"{problem}; no API key is read from it until it is saved again in the settings.")
        return None
    return SecretStr(key) if key else None


def save_settings(settings: Settings) -> None:
    """Write settings.json (no key) and secrets.json (the key, mode 0600)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    payload = settings.model_dump(mode="json", exclude={"home", "api_key", "credentialed_base_url"})
    _atomic_write(settings.settings_file, json.dumps(payload, indent=2))
    stored, problem = read_json_object(settings.secrets_file, "secrets file")
    if problem and settings.secrets_file.exists():  # never overwrite what cannot be read: keep it aside
        aside = settings.secrets_file.with_name(f"{settings.secrets_file.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(settings.secrets_file, aside)
    secrets = dict(stored)  # keep the other secrets (the fleet server's token)
    if settings.api_key is not None:
        secrets["api_key"] = settings.api_key.get_secret_value()
    else:
        secrets.pop("api_key", None)  # a key belongs to its provider
    if settings.credentialed_base_url is not None:
        secrets["base_url"] = settings.credentialed_base_url.get_secret_value()
    else:
        secrets.pop("base_url", None)  # credentials belong to the base URL they came with
    if secrets or settings.secrets_file.exists():
        _atomic_write(settings.secrets_file, json.dumps(secrets), mode=0o600)


def _atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:  # a full disk: the previous file stays as it was, and no half-written copy is left
        tmp.unlink(missing_ok=True)
        raise
