"""One command for every process: ``referral api|bot|dev|migrate|apikey|check-config|...``.

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


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime

    return runtime.worker(settings, once=args.once)


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime

    return runtime.dev(settings, host=args.host, port=args.port)


def cmd_apikey(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime
    from core.domain.errors import DomainError

    try:
        if args.action == "create":
            new = runtime.once(
                settings, lambda s: s.api_keys.create(args.name, args.scopes.split(","))
            )
            print(f"API key {new.key.id} ({new.key.name}; {', '.join(sorted(new.key.scopes))}):")
            print(new.secret)
            print("Send it as X-API-Key. It is shown this once: only its hash is stored.")
        elif args.action == "list":
            keys = runtime.once(settings, lambda s: s.api_keys.list())
            for key in keys:
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
                scopes = ",".join(sorted(key.scopes))
                print(f"{key.id}\t{key.prefix}…\t{key.name}\t{scopes}\t{state}")
            if not keys:
                print("no API keys: create one with `referral apikey create`")
        else:
            runtime.once(settings, lambda s: s.api_keys.revoke(args.id))
            print(f"API key {args.id} revoked")
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    from core import runtime
    from core.domain.entities import WebhookEndpoint
    from core.domain.errors import DomainError

    def show(e: WebhookEndpoint) -> str:
        state = "enabled" if e.enabled else f"disabled ({e.disabled_reason or 'by hand'})"
        failing = f", failing since {e.failing_since:%Y-%m-%d %H:%M}" if e.failing_since else ""
        return f"{e.id}\t{e.url}\t{','.join(e.events)}\t{state}{failing}"

    try:
        if args.action == "add":
            new = runtime.once(
                settings,
                lambda s: s.webhooks.create(
                    args.url,
                    args.events.split(","),
                    args.description,
                    include_phones=args.include_phones,
                ),
            )
            print(show(new.endpoint))
            print(f"secret (shown this once): {new.secret}")
        elif args.action == "list":
            endpoints = runtime.once(settings, lambda s: s.webhooks.list())
            for endpoint in endpoints:
                print(show(endpoint))
            if not endpoints:
                print("no webhook endpoints: add one with `referral webhook add URL --events ...`")
        elif args.action in ("disable", "enable"):
            enabled = args.action == "enable"
            print(
                show(runtime.once(settings, lambda s: s.webhooks.update(args.id, enabled=enabled)))
            )
        else:
            new = runtime.once(settings, lambda s: s.webhooks.rotate_secret(args.id))
            print(f"new secret of endpoint {args.id} (shown this once): {new.secret}")
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


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
        (
            "dev",
            "migrate, then the API, the worker and (with BOT_TOKEN) the bot in one process",
            cmd_dev,
        ),
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
        "worker", help="deliver webhooks and Telegram messages, run the periodic jobs"
    )
    p.add_argument("--once", action="store_true", help="one round of everything, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("apikey", help="create, list or revoke integrators' API keys")
    keys = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    k = keys.add_parser("create", help="create a key and print it once")
    k.add_argument("--name", required=True, help="who the key is for, e.g. shop")
    k.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: events:write, users:read, admin (e.g. events:write,users:read)",
    )
    keys.add_parser("list", help="every key: id, prefix, name, scopes, state")
    k = keys.add_parser("revoke", help="revoke a key by its id")
    k.add_argument("id", type=int)
    p.set_defaults(func=cmd_apikey)

    p = sub.add_parser("webhook", help="add, list, disable, enable or rotate webhook endpoints")
    hooks = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    h = hooks.add_parser("add", help="subscribe an endpoint; prints its secret once")
    h.add_argument("url")
    h.add_argument(
        "--events", required=True, help='comma-separated event types, or "*" for every event'
    )
    h.add_argument("--description", default=None)
    h.add_argument(
        "--include-phones", action="store_true", help="keep people's phones in the payloads"
    )
    hooks.add_parser("list", help="every endpoint: id, URL, events, state")
    for action, helptext in (
        ("disable", "stop delivering to an endpoint"),
        ("enable", "deliver to an endpoint again"),
        ("rotate", "give an endpoint a new secret; prints it once"),
    ):
        h = hooks.add_parser(action, help=helptext)
        h.add_argument("id", type=int)
    p.set_defaults(func=cmd_webhook)

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
