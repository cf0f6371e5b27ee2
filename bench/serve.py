"""Serve the API and the ceiling as the bench does, on the filled database, until Ctrl-C.

For profiling by hand (``python -m bench.fill`` first)::

    python -m bench.serve [--delay 1.5]
    py-spy record -p <worker pid> -d 10 -o profile.svg &  wrk ... (URLs and tokens printed)

Extra ``NAME=value`` arguments override the service's settings (``DB_POOL_SIZE=20``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

import asyncpg

from bench.env import SERVICE_SETTINGS, WORK, BenchEnv
from bench.fill import (
    N_MILLION,
    N_ZERO,
    fill_base,
    migrate,
    mint_access_token,
    phone_of,
    prepare_lists,
    reset_database,
)
from bench.procs import stopped_on_exit
from bench.run import Bench, Options


async def _ids(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        zero = await conn.fetchval('SELECT id FROM "user" WHERE phone = $1', phone_of(N_ZERO))
        million = await conn.fetchval('SELECT id FROM "user" WHERE phone = $1', phone_of(N_MILLION))
    finally:
        await conn.close()
    return int(zero), int(million)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="the fake gateway's delay")
    parser.add_argument(
        "--fill", action="store_true", help="reset and fill the database, prepare small lists"
    )
    parser.add_argument("overrides", nargs="*", metavar="NAME=value")
    args = parser.parse_args()
    for item in args.overrides:
        name, _, value = item.partition("=")
        SERVICE_SETTINGS[name] = value
    WORK.mkdir(parents=True, exist_ok=True)
    bench = Bench(Options())
    env: BenchEnv = bench.env
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    if args.fill:
        asyncio.run(reset_database())
        migrate(env.service(gateway_url="https://127.0.0.1:9/v2/", ca_file=WORK), WORK)
        asyncio.run(fill_base(env.dsn))
        lists = asyncio.run(
            prepare_lists(
                env.dsn,
                env,
                WORK / "serve-lists",
                plan={k: [20_000] for k in ("code", "login", "refer")},
            )
        )
        for kind, files in lists.files.items():
            print(f"list {kind} {files[0]}")
    with stopped_on_exit():
        gateway, ca = bench.start_gateway("smsaero", args.delay)
        api, _, _ = bench.start_api("api", gateway, ca)
        ceiling = bench.start_ceiling()
        zero, million = asyncio.run(_ids(env.dsn))
        ttl = int(SERVICE_SETTINGS["JWT_ACCESS_TTL_SECONDS"])
        for name, uid in (("zero", zero), ("million", million)):
            token = mint_access_token(env.secret_key, uid, ttl, "referral-service", "referral-api")
            print(f"{name}: /users/{uid}/  token {token}")
        print(f"api     http://127.0.0.1:{bench.ports['api']}  pids {api.group_pids()}")
        print(f"ceiling http://127.0.0.1:{bench.ports['ceiling']}  pids {ceiling.group_pids()}")
        print(f"SECRET_KEY={env.secret_key}", flush=True)
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        while not stop:
            time.sleep(0.5)


if __name__ == "__main__":
    main()
