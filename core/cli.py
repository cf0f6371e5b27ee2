"""One command for every process: ``referral api|bot|dev|migrate|revision|check-config``.

Each command imports what it needs when it runs, so ``referral --help`` stays fast. The
process commands hand over to ``core.runtime``, the composition root.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings

DISTRIBUTION = "referral-service"


def _load_settings() -> Settings:
    from pydantic import ValidationError

    from core.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        # One line (what `docker compose logs` shows first): each problem as "NAME: rule".
        problems = []
        for err in exc.errors(include_input=False):
            message = err["msg"].removeprefix("Value error, ")
            where = ".".join(str(part) for part in err["loc"])
            problems.append(f"{where}: {message}" if where else message)
        raise SystemExit("invalid configuration: " + "; ".join(problems)) from None


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from core.runtime import ensure_files_writable
    from db.migrate import upgrade

    ensure_files_writable(settings)
    upgrade(settings.db_url, args.revision)
    return 0


def cmd_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    from db.migrate import downgrade

    downgrade(settings.db_url, args.revision)
    return 0


def cmd_revision(args: argparse.Namespace, settings: Settings) -> int:
    from db.migrate import revision

    revision(settings.db_url, args.message)
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime

    return runtime.api(settings, host=args.host, port=args.port, workers=args.workers)


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime

    return runtime.bot(settings)


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime

    return runtime.dev(settings, host=args.host, port=args.port)


def cmd_check_config(args: argparse.Namespace, settings: Settings) -> int:
    from core.config_report import report

    text, ok = report(settings)
    print(text)
    return 0 if ok else 1


def package_version() -> str:
    """The installed distribution's version (``pyproject.toml`` at install time)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="referral", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply database migrations (default: up to head)")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("downgrade", help="revert database migrations to REVISION")
    p.add_argument("revision")
    p.set_defaults(func=cmd_downgrade)

    p = sub.add_parser("revision", help="autogenerate a migration from the models (development)")
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(func=cmd_revision)

    for name, helptext, func in (
        ("api", "serve the REST API (uvicorn)", cmd_api),
        ("dev", "migrate, then serve the API and (with BOT_TOKEN) the bot in one process", cmd_dev),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default=None, help="bind address (default: API_HOST)")
        p.add_argument("--port", type=int, default=None, help="port (default: API_PORT)")
        if name == "api":
            p.add_argument(
                "--workers", type=int, default=None, help="processes (default: API_WORKERS)"
            )
        p.set_defaults(func=func)

    p = sub.add_parser("bot", help="run the Telegram bot (long polling, or webhook registration)")
    p.set_defaults(func=cmd_bot)

    p = sub.add_parser(
        "check-config", help="print every setting (secrets masked) and what is missing"
    )
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _load_settings()
    from core.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    from core.settings import ConfigError

    try:
        return int(args.func(args, settings))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
