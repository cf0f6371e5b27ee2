"""The bench database: reset, migrated by ``referral migrate``, filled in bulk, lists prepared.

What is in it (``n`` numbers a person; phones and invite codes are bijections of ``n``, so they
never collide and a prefix holds few numbers, as in a real campaign):

- user ``zero`` (no referrals, no referrer) and user ``million`` with 1,000,000 referrals, loaded
  with one ``INSERT ... SELECT generate_series`` (the referrals' ``referral_count`` kept right);
- for the logins: one ``otp_challenge`` row per phone, hashed with ``core.domain.otp.hash_otp``
  under the key the service derives from the same ``SECRET_KEY`` (COPY); every other phone
  already has an account (a returning login), the others log in for the first time;
- for the invites: 100 inviters and one fresh user per activation, each with an access token
  minted with ``TokenService``'s claims (HS256 over the same ``SECRET_KEY``), checked by
  ``TokenService.authenticate`` before use;
- for the code requests: distinct valid phones, each with its own client address.

``python -m bench.fill`` alone resets and fills the database (no lists): a quick check of the
bulk-load time.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import jwt

from bench.env import DB_NAME, FORBIDDEN_DBS, PG_HOST, PG_PORT, PG_USER, VENV_BIN, BenchEnv

PHONE_MULTIPLIER = 387_420_489  # 3**18: coprime with 10**9, so n -> phone is a bijection
CODE_MULTIPLIER = 0x1E3779B1  # odd: n -> invite code is a bijection of 2**30
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERRALS = 1_000_000

# Ranges of n, one per population.
N_ZERO, N_MILLION, N_REFERRALS = 1, 2, 11
N_INVITERS, N_INVITEES, N_LOGINS, N_CODES = 2_000_001, 3_000_001, 4_000_001, 5_000_001
N_BOT = 6_000_001
INVITERS = 100


def phone_of(n: int) -> str:
    return f"+79{(n * PHONE_MULTIPLIER) % 10**9:09d}"


def code_of(n: int) -> str:
    m = (n * CODE_MULTIPLIER) & (2**30 - 1)
    return "".join(ALPHABET[(m >> shift) & 31] for shift in (25, 20, 15, 10, 5, 0))


def _sql_phone(n: str) -> str:
    return f"'+79' || lpad((({n})::bigint * {PHONE_MULTIPLIER} % 1000000000)::text, 9, '0')"


def _sql_code(n: str) -> str:
    m = f"((({n})::bigint * {CODE_MULTIPLIER}) & 1073741823)"
    return " || ".join(
        f"substr('{ALPHABET}', (({m} >> {shift}) & 31)::int + 1, 1)"
        for shift in (25, 20, 15, 10, 5, 0)
    )


def valid_phones(start: int, count: int) -> list[tuple[int, str]]:
    """``count`` numbers from ``start`` on that the service accepts (a few are not valid)."""
    from core.domain.errors import DomainError
    from core.domain.phone import normalize_phone

    out: list[tuple[int, str]] = []
    n = start
    while len(out) < count:
        phone = phone_of(n)
        try:
            if normalize_phone(phone) == phone:
                out.append((n, phone))
        except DomainError:
            pass
        n += 1
    return out


# ----- the database ---------------------------------------------------------------------


async def reset_database() -> None:
    assert DB_NAME not in FORBIDDEN_DBS
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await conn.close()


def migrate(env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(VENV_BIN / "referral"), "migrate"], env=env, cwd=cwd, check=True, timeout=120
    )
    return time.perf_counter() - started


@dataclass
class Filled:
    zero_id: int
    million_id: int
    fill_seconds: float
    users: int = 0


async def fill_base(dsn: str) -> Filled:
    """The two profile users and the million referrals; returns the seconds the bulk load took."""
    conn = await asyncpg.connect(dsn)
    try:
        base = datetime.now(UTC) - timedelta(days=30)
        insert_one = (
            'INSERT INTO "user" (phone, invite_code, referral_count, created_at) '
            "VALUES ($1, $2, 0, $3) RETURNING id"
        )
        zero_id = await conn.fetchval(insert_one, phone_of(N_ZERO), code_of(N_ZERO), base)
        million_id = await conn.fetchval(insert_one, phone_of(N_MILLION), code_of(N_MILLION), base)
        started = time.perf_counter()
        async with conn.transaction():
            await conn.execute(
                f"""
                INSERT INTO "user" (phone, invite_code, referrer_id, referred_at,
                                    referral_count, created_at)
                SELECT {_sql_phone("n")}, {_sql_code("n")}, $1,
                       $2::timestamptz + (n - {N_REFERRALS}) * interval '2 millisecond'
                                       + interval '1 second',
                       0, $2::timestamptz + (n - {N_REFERRALS}) * interval '2 millisecond'
                FROM generate_series({N_REFERRALS}, {N_REFERRALS + REFERRALS - 1}) AS n
                """,
                million_id,
                base,
            )
            await conn.execute(
                'UPDATE "user" SET referral_count = $2 WHERE id = $1', million_id, REFERRALS
            )
        fill_seconds = time.perf_counter() - started
        await conn.execute('ANALYZE "user"')
        users = await conn.fetchval('SELECT count(*) FROM "user"')
        return Filled(zero_id, million_id, fill_seconds, users)
    finally:
        await conn.close()


# ----- prepared lists -------------------------------------------------------------------


@dataclass
class Lists:
    """Files of prepared items, one per wrk run (``warmup`` first)."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    spare: dict[str, tuple[str, str]] = field(default_factory=dict)


def mint_access_token(secret: str, user_id: int, ttl: int, issuer: str, audience: str) -> str:
    """An access token with exactly ``TokenService._encode``'s claims."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": str(uuid.uuid4()),
        "typ": "access",
        "iss": issuer,
        "aud": audience,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def check_token(secret: str, token: str, user_id: int) -> None:
    """``TokenService.authenticate`` must accept the minted token for ``user_id``."""
    from core.adapters.clock import SystemClock
    from core.services.tokens import TokenService
    from core.settings import Settings

    jwt_settings = Settings(SECRET_KEY=secret).jwt
    service = TokenService(uow=None, clock=SystemClock(), settings=jwt_settings)  # type: ignore[arg-type]
    assert service.authenticate(token) == user_id


def _write(path: Path, rows: Sequence[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows))
    return path


def _chunks(rows: list[tuple[str, str]], sizes: Sequence[int]) -> list[list[tuple[str, str]]]:
    out, start = [], 0
    for size in sizes:
        out.append(rows[start : start + size])
        start += size
    return out


def client_ip(i: int) -> str:
    """A distinct loopback-range address per request (only ever sent as X-Forwarded-For)."""
    i += 1 << 16  # skip 127.0.x.x
    return f"127.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


async def prepare_lists(
    dsn: str,
    env: BenchEnv,
    out: Path,
    *,
    plan: dict[str, list[int]],
) -> Lists:
    """One file per run for each walked scenario; ``plan[kind]`` = item counts per run."""
    from core.domain.otp import derive_otp_key, hash_otp
    from core.domain.phone import phone_prefix

    started = time.perf_counter()
    lists = Lists()
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    secret = env.secret_key
    ttl = int(_setting("JWT_ACCESS_TTL_SECONDS"))
    otp_ttl = int(_setting("OTP_TTL_SECONDS"))
    try:
        # Code requests: valid phones nobody has asked for yet, each from its own client.
        for kind, start in (("code", N_CODES), ("code_slow", N_CODES + 500_000)):
            if kind not in plan:
                continue
            total = sum(plan[kind])
            phones = valid_phones(start, total + 1)
            rows = [(p, client_ip(i + start - N_CODES)) for i, (_, p) in enumerate(phones)]
            lists.spare[kind] = rows.pop()
            lists.files[kind] = [
                _write(out / f"{kind}-{k}.tsv", chunk)
                for k, chunk in enumerate(_chunks(rows, plan[kind]))
            ]
            lists.counts[kind] = total

        # Logins: a live code per phone; every other phone already has an account.
        if "login" in plan:
            total = sum(plan["login"])
            phones = valid_phones(N_LOGINS, total + 1)
            key = derive_otp_key(secret)
            user_rows, otp_rows, items = [], [], []
            for i, (n, phone) in enumerate(phones):
                code = f"{secrets.randbelow(10_000):04d}"
                if i % 2 == 0:
                    user_rows.append((phone, code_of(n), 0, now - timedelta(days=1)))
                otp_rows.append(
                    (
                        phone,
                        phone_prefix(phone),
                        "bench-prepare",
                        hash_otp(key, phone, code),
                        now,
                        now + timedelta(seconds=otp_ttl),
                        0,
                    )
                )
                items.append((phone, code))
            await conn.copy_records_to_table(
                "user",
                records=user_rows,
                columns=["phone", "invite_code", "referral_count", "created_at"],
            )
            await conn.copy_records_to_table(
                "otp_challenge",
                records=otp_rows,
                columns=[
                    "phone",
                    "prefix",
                    "client",
                    "code_hash",
                    "created_at",
                    "expires_at",
                    "attempts",
                ],
            )
            lists.spare["login"] = items.pop()
            lists.files["login"] = [
                _write(out / f"login-{k}.tsv", chunk)
                for k, chunk in enumerate(_chunks(items, plan["login"]))
            ]
            lists.counts["login"] = total

        # Invites: fresh users (no referrer yet), each activating one of 100 inviters' codes.
        if "refer" in plan:
            total = sum(plan["refer"]) + 1
            inviter_codes = [code_of(N_INVITERS + i) for i in range(INVITERS)]
            await conn.execute(
                f"""
                INSERT INTO "user" (phone, invite_code, referral_count, created_at)
                SELECT {_sql_phone("n")}, {_sql_code("n")}, 0, $1::timestamptz
                FROM generate_series({N_INVITERS}, {N_INVITERS + INVITERS - 1}) AS n
                """,
                now - timedelta(days=2),
            )
            ids = await conn.fetch(
                f"""
                INSERT INTO "user" (phone, invite_code, referral_count, created_at)
                SELECT {_sql_phone("n")}, {_sql_code("n")}, 0, $1::timestamptz
                FROM generate_series({N_INVITEES}, {N_INVITEES + total - 1}) AS n
                RETURNING id
                """,
                now - timedelta(days=1),
            )
            user_ids = sorted(r["id"] for r in ids)
            random.Random(7).shuffle(user_ids)
            items = [
                (
                    mint_access_token(secret, uid, ttl, "referral-service", "referral-api"),
                    inviter_codes[i % INVITERS],
                )
                for i, uid in enumerate(user_ids)
            ]
            check_token(secret, items[0][0], user_ids[0])
            lists.spare["refer"] = items.pop()
            lists.files["refer"] = [
                _write(out / f"refer-{k}.tsv", chunk)
                for k, chunk in enumerate(_chunks(items, plan["refer"]))
            ]
            lists.counts["refer"] = total - 1
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    lists.seconds = time.perf_counter() - started
    return lists


def _setting(name: str) -> str:
    from bench.env import SERVICE_SETTINGS

    return SERVICE_SETTINGS[name]


async def _main() -> None:
    env = BenchEnv()
    await reset_database()
    from bench.env import WORK

    WORK.mkdir(parents=True, exist_ok=True)
    migrate(env.service(gateway_url="https://127.0.0.1:9/v2/", ca_file=Path("/dev/null")), WORK)
    filled = await fill_base(env.dsn)
    print(
        f"{REFERRALS:,} referrals loaded in {filled.fill_seconds:.1f} s "
        f"({filled.users:,} users in {DB_NAME})"
    )


if __name__ == "__main__":
    asyncio.run(_main())
