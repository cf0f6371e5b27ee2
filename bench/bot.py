"""Scenario 5: the real bot (``referral bot``, long polling, Redis FSM) against the fake Bot API.

The fake Telegram server (``tests.fakes.telegram_server``, standalone) queues updates that the
driver injects through its ``/_fake/*`` control routes; the bot polls them with the real aiogram
``Bot`` over HTTP, runs the real Dispatcher (throttle, current-user lookup, FSM in Redis) and the
core on PostgreSQL, and answers with real ``sendMessage`` calls. One round is the whole login
dialog for ``users`` new Telegram users, in three waves, each wave injected at once and finished
when the fake has seen the expected replies:

1. ``/start`` (1 reply each);
2. the user's own contact (the bot asks the core for a code: 2 replies each);
3. the code from the SMS (the first login: 1 reply each).

Updates per second = 3 x users / the time from the first injection to the last reply, without
the driver's own pauses between waves. The bot runs with ``APP_ENV=development`` and the file
SMS backend, because the driver reads each code back from that file (production refuses a
development SMS backend; the SMS path of the API scenarios is the real SMS Aero client).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.env import REDIS_URL, ROOT, SERVICE_SETTINGS, VENV_BIN, WORK, BenchEnv
from bench.fill import N_BOT, valid_phones
from bench.procs import Proc, free_port, wait_port

ROUNDS = 3
USERS = 500
QUICK_USERS = 100
WAVE_TIMEOUT = 120.0
FIRST_TELEGRAM_ID = 7_000_000_001
_CODE = re.compile(r"\b(\d{4,8})\b")


def _bot_id(token: str) -> str:
    return token.split(":", 1)[0]


async def _clear_fsm(token: str) -> int:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=f"fsm:{_bot_id(token)}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
        return len(keys)
    finally:
        await redis.aclose()


async def _stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with session.get(f"{base}/_fake/stats") as response:
        data: dict[str, Any] = await response.json()
        return data


async def _sent(session: aiohttp.ClientSession, base: str) -> int:
    stats = await _stats(session, base)
    return int(stats["calls"].get("sendMessage", 0))


async def _inject(
    session: aiohttp.ClientSession, base: str, action: str, bodies: list[dict[str, Any]]
) -> None:
    semaphore = asyncio.Semaphore(32)

    async def one(body: dict[str, Any]) -> None:
        async with semaphore, session.post(f"{base}/_fake/{action}", json=body) as response:
            if response.status != 200:
                raise RuntimeError(f"/_fake/{action}: {response.status} {await response.text()}")

    await asyncio.gather(*(one(b) for b in bodies))


async def _wave(
    session: aiohttp.ClientSession,
    base: str,
    action: str,
    bodies: list[dict[str, Any]],
    replies: int,
) -> float:
    """Inject one update per body; seconds until ``replies`` more sendMessage calls were seen."""
    before = await _sent(session, base)
    started = time.perf_counter()
    await _inject(session, base, action, bodies)
    deadline = started + WAVE_TIMEOUT
    while time.perf_counter() < deadline:
        if await _sent(session, base) >= before + replies:
            return time.perf_counter() - started
        await asyncio.sleep(0.02)
    raise RuntimeError(
        f"the bot answered {await _sent(session, base) - before} of {replies} "
        f"messages for /_fake/{action} within {WAVE_TIMEOUT:.0f} s"
    )


def _codes(sms_file: Path) -> dict[str, str]:
    codes: dict[str, str] = {}
    if not sms_file.exists():
        return codes
    for line in sms_file.read_text().splitlines():
        record = json.loads(line)
        found = _CODE.search(record["text"])
        if found:
            codes[record["phone"]] = found.group(1)
    return codes


async def _round(base: str, users: list[tuple[int, str]], sms_file: Path) -> dict[str, float]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        t_start = await _wave(
            session,
            base,
            "text",
            [{"user_id": uid, "text": "/start"} for uid, _ in users],
            len(users),
        )
        t_contact = await _wave(
            session,
            base,
            "contact",
            [{"user_id": uid, "phone_number": phone.lstrip("+")} for uid, phone in users],
            2 * len(users),
        )
        codes = _codes(sms_file)
        missing = [p for _, p in users if p not in codes]
        if missing:
            raise RuntimeError(f"{len(missing)} codes never reached the SMS file")
        t_code = await _wave(
            session,
            base,
            "text",
            [{"user_id": uid, "text": codes[phone]} for uid, phone in users],
            len(users),
        )
    total = t_start + t_contact + t_code
    return {
        "users": len(users),
        "start_s": t_start,
        "contact_s": t_contact,
        "code_s": t_code,
        "seconds": total,
        "updates_per_s": 3 * len(users) / total,
        "dialogs_per_s": len(users) / total,
    }


async def _logged_in(dsn: str, first: int, last: int) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                'SELECT count(*) FROM "user" WHERE telegram_id BETWEEN $1 AND $2', first, last
            )
        )
    finally:
        await conn.close()


def _failure_reasons(text: str) -> dict[str, int]:
    """``update N failed: <reason>`` lines of the bot's log, counted by reason."""
    reasons: Counter[str] = Counter()
    for line in text.splitlines():
        if " ERROR " in line and " failed: " in line:
            reasons[line.rsplit(" failed: ", 1)[1].strip()] += 1
    return dict(reasons)


def run(
    env: BenchEnv,
    log_dir: Path,
    *,
    quick: bool,
    say: Callable[[str], None],
    offset: int = 0,
) -> dict[str, Any]:
    """The bot scenario; ``offset`` (in blocks of 10,000) picks unused users and phones."""
    users_per_round = QUICK_USERS if quick else USERS
    rounds = 1 if quick else ROUNDS
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sms_file = WORK / "bot-sms.jsonl"
    sms_file.unlink(missing_ok=True)
    asyncio.run(_clear_fsm(env.bot_token))
    fake = Proc(
        "telegram-fake",
        [
            str(VENV_BIN / "python"),
            "-m",
            "tests.fakes.telegram_server",
            "--port",
            str(port),
            "--token",
            env.bot_token,
        ],
        env=env.base(),
        cwd=ROOT,
        log=log_dir / "telegram-fake.log",
    )
    bot: Proc | None = None
    try:
        wait_port(fake, port, 30)
        bot_env = env.base()
        bot_env.update(SERVICE_SETTINGS)
        bot_env.update(
            APP_ENV="development",
            SMS_BACKEND="file",
            SMS_FILE=str(sms_file),
            SECRET_KEY=env.secret_key,
            DATABASE_URL=env.database_url,
            BOT_TOKEN=env.bot_token,
            TELEGRAM_API_URL=base,
            REDIS_URL=REDIS_URL,
        )

        def start() -> Proc:
            return Proc(
                "bot",
                [str(VENV_BIN / "referral"), "bot"],
                env=bot_env,
                cwd=WORK,
                log=log_dir / "bot.log",
            )

        # A first start fills the bytecode cache (aiogram is not imported by the API).
        before = asyncio.run(_polls(base))
        bot = start()
        cold = asyncio.run(_until_polling(base, bot, before))
        bot.stop()
        asyncio.run(_until_idle(base))  # the stopped bot's long poll ends on its timeout
        before = asyncio.run(_polls(base))
        log_offset = (log_dir / "bot.log").stat().st_size
        bot = start()
        started = time.perf_counter()
        polling_after = asyncio.run(_until_polling(base, bot, before))
        time.sleep(3)
        idle_rss = bot.rss_bytes()
        say(f"bot polling after {polling_after:.2f} s, idle RSS {idle_rss / 2**20:.0f} MiB")
        first_id = FIRST_TELEGRAM_ID + offset * 10_000
        phones = valid_phones(N_BOT + offset * 10_000, users_per_round * rounds)
        results = []
        peak = idle_rss
        failure = None
        for r in range(rounds):
            chunk = phones[r * users_per_round : (r + 1) * users_per_round]
            users = [
                (first_id + r * users_per_round + i, phone) for i, (_, phone) in enumerate(chunk)
            ]
            try:
                result = asyncio.run(_round(base, users, sms_file))
            except RuntimeError as exc:  # reported with the bot's own errors, not worked around
                failure = f"round {r + 1}: {exc}"
                say(f"bot round {r + 1} failed: {exc}")
                break
            finally:
                peak = max(peak, bot.rss_bytes())
            say(
                f"bot round {r + 1}: {result['updates_per_s']:.1f} updates/s "
                f"({result['users']} dialogs in {result['seconds']:.1f} s)"
            )
            results.append(result)
            time.sleep(1)
        last_id = first_id + rounds * users_per_round - 1
        logged_in = asyncio.run(_logged_in(env.dsn, first_id, last_id))
        stats = asyncio.run(_fetch_stats(base))
        text = bot.log.read_bytes()[log_offset:].decode(errors="replace")
        errors = sum(1 for line in text.splitlines() if " ERROR " in line)
        return {
            "failure": failure,
            "failure_reasons": _failure_reasons(text),
            "rounds": results,
            "users_per_round": users_per_round,
            "updates_per_s": (
                statistics.median(r["updates_per_s"] for r in results) if results else None
            ),
            "dialogs_per_s": (
                statistics.median(r["dialogs_per_s"] for r in results) if results else None
            ),
            "logged_in": logged_in,
            "expected_logins": rounds * users_per_round,
            "bot_error_lines": errors,
            "fake_internal_errors": stats.get("internal_errors", 0),
            "api_calls": stats.get("calls", {}),
            "startup_s": polling_after,
            "cold_startup_s": cold,
            "idle_rss": idle_rss,
            "peak_rss": peak,
            "wall_s": time.perf_counter() - started,
        }
    finally:
        if bot is not None:
            bot.stop()
        fake.stop()
        asyncio.run(_clear_fsm(env.bot_token))


async def _polls(base: str) -> int:
    async with aiohttp.ClientSession() as session:
        return int((await _stats(session, base))["total_calls"])


async def _until_idle(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            if (await _stats(session, base))["in_flight"] == 0:
                return
            await asyncio.sleep(0.05)


async def _until_polling(base: str, bot: Proc, before: int) -> float:
    """Seconds from the bot's start to its first waiting ``getUpdates``.

    The fake counts a call when it answers, and a long poll answers after its timeout: the
    bot is taken as polling when, after some calls of its own (``total_calls`` past
    ``before``), a call stays in flight for two samples in a row (only a long poll does).
    """
    async with aiohttp.ClientSession() as session:
        deadline = time.perf_counter() + 60
        waiting_since: float | None = None
        while time.perf_counter() < deadline:
            if not bot.alive():
                raise RuntimeError(f"the bot exited ({bot.popen.returncode}):\n{bot.tail()}")
            stats = await _stats(session, base)
            now = time.perf_counter()
            if stats["total_calls"] > before and stats["in_flight"] >= 1:
                if waiting_since is not None and now - waiting_since >= 0.05:
                    return waiting_since - bot.started
                waiting_since = waiting_since or now
            else:
                waiting_since = None
            await asyncio.sleep(0.02)
    raise RuntimeError(f"the bot did not poll within 60 s:\n{bot.tail()}")


async def _fetch_stats(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        return await _stats(session, base)
