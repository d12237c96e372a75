"""The app starts on the defaults when settings.json cannot be used, and says so on screen."""

from __future__ import annotations

import asyncio

from app.shell import Shell
from app.state import ServiceHost


def test_app_starts_with_defaults_and_names_the_unusable_settings_file(home, tmp_path):
    (home / "settings.json").write_text('["not", "settings"]', encoding="utf-8")
    host = ServiceHost()
    try:
        shell = Shell(None, host)
        asyncio.run(shell.start())
        errors = [text for kind, text in shell.messages if kind == "error"]
        assert len(errors) == 1 and "settings.json" in errors[0] and "a list" in errors[0], shell.messages
        assert shell.current == "home"
    finally:
        host.close()
