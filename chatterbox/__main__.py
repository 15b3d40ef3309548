"""The ``chatterbox`` command: ``serve``, ``migrate``, ``create-user``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chatterbox.config import get_settings
    from chatterbox.server import uvicorn_options

    settings = get_settings()
    options = uvicorn_options(settings)
    if args.log_level:
        options["log_level"] = args.log_level
    uvicorn.run(
        "chatterbox.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        **options,
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from chatterbox.config import get_settings
    from chatterbox.store.migrate import upgrade

    url = args.database_url or get_settings().database_url
    upgrade(url)
    print(f"database at revision head: {url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests)."""
    parser = argparse.ArgumentParser(prog="chatterbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    serve.add_argument("--workers", type=int, default=None, help="worker processes")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (Alembic) up to head")
    migrate.add_argument("--database-url", default=None)
    migrate.set_defaults(func=_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m chatterbox`` and the ``chatterbox`` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
