"""The ``chatterbox`` command: ``serve``, ``migrate``, ``create-user``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chatterbox.config import get_settings
    from chatterbox.logging import configure_logging, logging_config
    from chatterbox.server import ChatterboxServer, run_workers, uvicorn_options

    settings = get_settings()
    workers = args.workers or 1
    if workers > 1 and not settings.redis_url:
        print(
            "error: --workers > 1 needs CHATTERBOX_REDIS_URL (without Redis, events reach only "
            "the clients of the process that produced them); see docs/deploy.md",
            file=sys.stderr,
        )
        return 2
    if workers > 1 and args.reload:
        print("error: --reload and --workers are exclusive", file=sys.stderr)
        return 2
    options = uvicorn_options(settings)
    if args.log_level:
        options["log_level"] = args.log_level
    configure_logging(options["log_level"])
    options["log_config"] = logging_config(options["log_level"])
    options["access_log"] = False  # chatterbox.access logs each request, with its route
    if args.reload:
        uvicorn.run(
            "chatterbox.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            reload=True,
            **options,
        )
        return 0
    config = uvicorn.Config(
        "chatterbox.app:create_app", factory=True, host=args.host, port=args.port, **options
    )
    if workers > 1:
        run_workers(config, workers)
    else:
        ChatterboxServer(config).run()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from chatterbox.config import get_settings
    from chatterbox.store.migrate import upgrade

    url = args.database_url or get_settings().database_url
    upgrade(url)
    print(f"database at revision head: {url}")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    import asyncio
    import getpass

    from chatterbox.auth.login_limiter import LoginLimiter
    from chatterbox.auth.register_limiter import RegistrationLimiter
    from chatterbox.config import get_settings
    from chatterbox.service.accounts import AccountService
    from chatterbox.service.directory import UserDirectory
    from chatterbox.service.errors import ServiceError
    from chatterbox.service.notifier import NullNotifier
    from chatterbox.store.sql import open_store

    settings = get_settings()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")

    async def run() -> int:
        store = await open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
        try:
            await store.ensure_default_room("r_general", "general")
            accounts = AccountService(
                store=store,
                settings=settings,
                users=UserDirectory(store),
                notifier=NullNotifier(),
                limiter=LoginLimiter(),
                register_limiter=RegistrationLimiter(),  # unused: create_account is not throttled
            )
            try:
                user = await accounts.create_account(args.username, args.display_name, password)
            except ServiceError as exc:
                field = f"{exc.field}: " if exc.field else ""
                print(f"error: {field}{exc.message}", file=sys.stderr)
                return 1
            print(f"created {user.username} ({user.id})")
            return 0
        finally:
            await store.close()

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests)."""
    parser = argparse.ArgumentParser(prog="chatterbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes sharing the port (needs CHATTERBOX_REDIS_URL when > 1)",
    )
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (Alembic) up to head")
    migrate.add_argument("--database-url", default=None)
    migrate.set_defaults(func=_migrate)

    create = sub.add_parser(
        "create-user", help="create an account (joins general); prompts for the password"
    )
    create.add_argument("username")
    create.add_argument("--display-name", default=None, help="defaults to the username")
    create.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    create.set_defaults(func=_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m chatterbox`` and the ``chatterbox`` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
