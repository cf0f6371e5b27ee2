"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the local server's ``test`` database).
If it cannot be reached, those tests fail; they are never skipped. ``-m "not postgres"`` is
the explicit way to leave them out of a quick local run.

Each test gets the real migrated schema and a clean slate: the tables are emptied after the
test. Tests therefore see real commits, which the race tests and the end-to-end tests need.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.container import build_services
from core.services import Services
from core.settings import Settings
from db.engine import make_engine
from tests.fakes.clock import FrozenClock
from tests.fakes.notifier import ForwardingSender
from tests.fakes.sms import RecordingSmsSender

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: Children before parents (SQLite empties them one by one, in this order).
TABLES = (
    "audit_log",
    "contest_winner",
    "contest",
    "referrer_score",
    "invite_click",
    "webhook_attempt",
    "webhook_delivery",
    "webhook_endpoint",
    "telegram_message",
    "worker_lease",
    "ledger_entry",
    "reward_balance",
    "program_event",
    "rule_set",
    "referral_status_change",
    "api_key",
    "outbox_event",
    "refresh_token",
    "otp_challenge",
    "phone_guard",
    "user",
    "campaign",
)
TEST_SECRET = "test-secret-key-0123456789abcdef-0123456789abcdef"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def migrate(url: str) -> None:
    from db.migrate import upgrade

    upgrade(url)


async def _reset_postgres_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    done: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in done:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("db") / "test.sqlite3"
                url = f"sqlite+aiosqlite:///{path}"
            else:
                url = POSTGRES_URL
                asyncio.run(_reset_postgres_async(url))
            migrate(url)
            done[backend] = url
        return done[backend]

    return get


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, migrated: Any) -> str:
    return str(migrated(request.param))


async def truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in TABLES)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            await conn.execute(text('UPDATE "user" SET referrer_id = NULL'))
            for table in TABLES:
                await conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        await truncate(engine)
        await engine.dispose()


#: The fraud signals stay quiet unless a test turns them on: the suites sign many people up
#: from one address, with neighbouring numbers, within seconds (tests/services/test_fraud.py
#: checks each signal at its thresholds).
QUIET_FRAUD = {
    "FRAUD_REFERRALS_PER_HOUR": 1_000_000,
    "FRAUD_SAME_PREFIX_MIN": 1_000_000,
    "FRAUD_FAST_QUALIFY_SECONDS": 0,
    "FRAUD_SHARED_CLIENT": False,
}


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": db_url,
        "SECRET_KEY": TEST_SECRET,
        "SMS_BACKEND": "console",
        "BOT_USERNAME": "referral_test_bot",
        **QUIET_FRAUD,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its services."""
    return {}


@pytest.fixture
def settings(db_url: str, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(db_url, **settings_overrides)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def sms() -> RecordingSmsSender:
    return RecordingSmsSender()


@pytest.fixture
def telegram() -> ForwardingSender:
    """The worker's Telegram sender: sends nothing until a test (or the bot harness) sets its
    ``target``."""
    return ForwardingSender()


@pytest.fixture
async def services(
    settings: Settings,
    engine: AsyncEngine,
    clock: FrozenClock,
    sms: RecordingSmsSender,
    telegram: ForwardingSender,
) -> AsyncIterator[Services]:
    # ``engine`` is requested so the tables are emptied after the test.
    async with build_services(settings, sms=sms, clock=clock, telegram=telegram) as built:
        yield built
