"""Entry point: `main(page)` builds the app for one browser tab or window;
`run()` starts Flet (a web server when there is no display or web=True)."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

import flet as ft

from app.state import ServiceHost

log = logging.getLogger("fieldlens.app")

_host: ServiceHost | None = None


def host() -> ServiceHost:
    """The process's one service host (one Fieldlens, one worker thread)."""
    global _host
    if _host is None:
        _host = ServiceHost()
    return _host


async def main(page: ft.Page) -> None:
    from app.shell import Shell

    shell = Shell(page, host())
    page.data = shell
    await shell.start()


def warm_up(service: ServiceHost) -> None:
    """Open the library and sessions (seeding a new home) on the service worker, and load the
    on-device reader on its own daemon thread, so neither the first page nor the first photo
    pays the start-up cost."""
    service.submit(lambda: service.fl)
    service.submit(service.start_sync)  # an enrolled tablet syncs in the background, never in the way
    from assistant.service import Fieldlens

    Fieldlens.warm_up_in_background()


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _configure_logging() -> None:
    level = os.environ.get("FIELDLENS_LOG", "").upper()
    if level:
        logging.basicConfig(level=getattr(logging, level, logging.INFO),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run(web: bool | None = None, host: str = "127.0.0.1", port: int = 8550) -> None:
    """Start the app. With web=None the browser mode is chosen when there is no display."""
    _configure_logging()
    use_web = web if web is not None else not _has_display()
    os.environ.setdefault("FLET_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("FLET_WEB_NO_CDN", "1")
    upload_dir = _upload_dir()
    warm_up(globals()["host"]())
    if use_web:
        os.environ["FLET_FORCE_WEB_SERVER"] = "1"
        print(f"Fieldlens is running at http://{host}:{port}/", flush=True)
    try:
        _run_flet(use_web, host, port, upload_dir)
    finally:
        globals()["host"]().stop_sync()


def _run_flet(use_web: bool, host: str, port: int, upload_dir: Path) -> None:
    ft.run(
        main,
        name="",
        host=host,
        port=port,
        view=ft.AppView.WEB_BROWSER if use_web else ft.AppView.FLET_APP,
        assets_dir=str(Path(__file__).resolve().parent.parent / "assets"),
        upload_dir=str(upload_dir),
        no_cdn=True,
    )


def _upload_dir() -> Path:
    from assistant.config import default_home

    path = default_home() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path
