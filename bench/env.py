"""Where the bench works and the environment it gives the service (documented in BENCHMARKS.md)."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "results"  # ignored by git: logs, prepared lists, raw wrk output
WRK_DIR = BENCH / "wrk"
DOC = ROOT / "docs" / "BENCHMARKS.md"
VENV_BIN = Path(sys.executable).parent

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
DB_NAME = "referral_bench"
#: Databases the test suites use: the bench never touches them.
FORBIDDEN_DBS = frozenset({"test", "devtest", "bottest", "apitest", "prodtest", "postgres"})
#: The bot's FSM; tests flush databases 14 and 15, so the bench keeps to its own (and only ever
#: deletes its own bot's keys).
REDIS_URL = "redis://127.0.0.1:6379/11"

WORKERS = 2
#: Per worker process, for the service and the ceiling alike. No overflow: SQLAlchemy closes an
#: overflow connection when it is returned, so under steady load the default (10 + 10) opens
#: and closes a PostgreSQL connection for many requests (see bench/findings.md).
DB_POOL_SIZE = 10
DB_MAX_OVERFLOW = 0

BIG = str(10**9)

#: What the bench sets on top of a clean environment, besides the URLs, ports and secrets.
SERVICE_SETTINGS: dict[str, str] = {
    "APP_ENV": "production",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "text",
    "DB_POOL_SIZE": str(DB_POOL_SIZE),
    "DB_MAX_OVERFLOW": str(DB_MAX_OVERFLOW),
    "SMS_BACKEND": "smsaero",
    "EMAIL": "bench@example.org",
    "SMS_KEY": "bench-sms-key-0123456789abcdef",
    "SMSAERO_CHECK_EMAIL_DOMAIN": "false",
    # Load comes from one machine: the anti-pumping caps would refuse it by design.
    "CLIENT_CODE_REQUESTS_PER_HOUR": BIG,
    "PREFIX_NUMBERS_PER_HOUR": BIG,
    "SMS_GLOBAL_DAILY_CAP": BIG,
    "OTP_SENDS_PER_HOUR": "1000",
    "OTP_SENDS_PER_DAY": "1000",
    "OTP_LOCK_AFTER_FAILURES": "1000",
    # Prepared codes and minted tokens must outlive the whole run (~20 minutes).
    "OTP_TTL_SECONDS": "3600",
    "JWT_ACCESS_TTL_SECONDS": "7200",
}


def setting_names() -> set[str]:
    """Every environment name ``Settings`` reads: none of them leaks in from the caller's shell."""
    from core.settings import Settings

    names = set()
    for name, info in Settings.model_fields.items():
        names.add((info.alias or name).upper())
    return names


@dataclass
class BenchEnv:
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    bot_token: str = "424242:bench-token-for-the-referral-bot"  # noqa: S105  (the fake's)

    @property
    def dsn(self) -> str:
        return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"

    def base(self) -> dict[str, str]:
        drop = setting_names()
        env = {k: v for k, v in os.environ.items() if k.upper() not in drop}
        env.pop("REQUESTS_CA_BUNDLE", None)
        # Bytecode is cached (outside the tree), as an installed service would have it: without
        # it every start compiles every module again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = str(ROOT)
        return env

    def service(self, *, gateway_url: str, ca_file: Path, **extra: str) -> dict[str, str]:
        env = self.base()
        env.update(SERVICE_SETTINGS)
        env.update(
            SECRET_KEY=self.secret_key,
            DATABASE_URL=self.database_url,
            SMSAERO_GATEWAYS=gateway_url,
            REQUESTS_CA_BUNDLE=str(ca_file),
        )
        env.update(extra)
        return env

    def ceiling(self) -> dict[str, str]:
        env = self.base()
        env.update(
            SECRET_KEY=self.secret_key,
            BENCH_CEILING_DSN=self.dsn,
            BENCH_CEILING_POOL_MIN=str(DB_POOL_SIZE),
            BENCH_CEILING_POOL_MAX=str(DB_POOL_SIZE + DB_MAX_OVERFLOW),
        )
        return env
