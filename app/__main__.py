"""`python -m app [--web] [--host H] [--port N]`: start the Fieldlens app."""

from __future__ import annotations

import argparse

from app.main import run


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description="Start the Fieldlens app.")
    parser.add_argument("--web", action="store_true", help="serve in the browser (default when there is no display)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8550)
    args = parser.parse_args(argv)
    run(web=True if args.web else None, host=args.host, port=args.port)


if __name__ == "__main__":
    cli()
