"""``python -m tests.fakes.telegram_server``: the fake as a load target, until SIGINT or SIGTERM.

It prints its URL and token once it listens and its ``stats()`` as JSON when it stops; any
numeric chat id is a private chat (``strict_chats=False``), and updates come in through the
``/_fake/*`` control routes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from tests.fakes.local_server import run_until_signalled
from tests.fakes.telegram_server.protocol import dumps
from tests.fakes.telegram_server.server import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN, FakeTelegram


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram_server",
        description="A local Telegram Bot API server for tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per API call")
    parser.add_argument(
        "--record", action="store_true", help="keep every call in memory (off: counters only)"
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        token=args.token,
        bot_username=args.bot_username,
        host=args.host,
        port=args.port,
        latency=args.latency,
        record=args.record,
        strict_chats=False,
    )
    await run_until_signalled(
        fake, lambda: f"fake Telegram Bot API on {fake.base_url} (token {fake.token})"
    )
    sys.stdout.write(f"{dumps(fake.stats())}\n")


if __name__ == "__main__":
    main()
