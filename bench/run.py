"""``make bench``: the whole benchmark, from an empty database to ``docs/BENCHMARKS.md``.

    python -m bench.run              # everything (about 15 minutes on the 2-core machine)
    python -m bench.run --quick      # 1 run of 3 s per point: checks the machinery only
    python -m bench.run --no-bot     # skip scenario 5

Every process it starts (fake gateways, the API, the ceiling, the fake Bot API, the bot) runs in
its own process group and is stopped on the way out, also on error or Ctrl-C. Raw output goes to
``bench/results/`` (ignored by git); the figures to ``bench/results/results.json`` and, through
``bench.report``, to ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import fill, machine, report
from bench.env import (
    DB_MAX_OVERFLOW,
    DB_NAME,
    DB_POOL_SIZE,
    DOC,
    ROOT,
    SERVICE_SETTINGS,
    VENV_BIN,
    WORK,
    WORKERS,
    BenchEnv,
)
from bench.load import WrkResult, ensure_wrk, run_wrk
from bench.procs import (
    CpuMeter,
    Proc,
    RssSampler,
    free_port,
    http_get,
    http_post,
    pg_backend_pids,
    stopped_on_exit,
    wait_http_200,
    wait_port,
)

CONNECTIONS = (32, 128)
SLOW_CONNECTIONS = (32, 128, 512)
GATEWAY_DELAY = 1.5


@dataclass
class Options:
    seconds: int = 10
    slow_seconds: int = 15
    warmup: int = 3
    reps: int = 3
    starts: int = 3
    bot: bool = True
    quick: bool = False


@dataclass
class Target:
    """One wrk target: a server, a script and its arguments per run."""

    key: str
    title: str
    server: str  # "api", "ceiling" or "api_slow"
    path: str
    script: str
    args: Callable[[int], list[str]]
    ceiling: str | None = None
    timeout_s: float = 5.0
    connections: tuple[int, ...] = CONNECTIONS
    runs: dict[int, list[WrkResult]] = field(default_factory=dict)
    rss_peak: int = 0


class Bench:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.env = BenchEnv()
        self.results: dict[str, Any] = {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "make bench  (= .venv/bin/python -m bench.run"
            + (" --quick" if options.quick else "")
            + ")",
            "options": options.__dict__,
        }
        self.procs: dict[str, Proc] = {}
        self.ports: dict[str, int] = {}
        self.targets: dict[str, Target] = {}
        self.log_dir = WORK / "logs"
        self.t0 = time.perf_counter()

    # ----- helpers --------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.0f}s] {text}", flush=True)

    def start_gateway(self, name: str, delay: float) -> tuple[str, Path]:
        port = free_port()
        ca_dir = WORK / f"ca-{name}"
        proc = Proc(
            name,
            [
                str(VENV_BIN / "python"),
                "-m",
                "tests.fakes.smsaero_server",
                "--port",
                str(port),
                "--delay",
                str(delay),
                "--ca-dir",
                str(ca_dir),
            ],
            env=self.env.base(),
            cwd=ROOT,
            log=self.log_dir / f"{name}.log",
        )
        wait_port(proc, port, 30)
        self.procs[name] = proc
        return f"https://127.0.0.1:{port}/v2/", ca_dir / "ca.pem"

    def start_api(self, name: str, gateway: str, ca: Path) -> tuple[Proc, float, float | None]:
        """Start ``referral api --workers 2``; seconds to the first 200 and to all workers up."""
        port = free_port()
        log = self.log_dir / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0
        proc = Proc(
            name,
            [
                str(VENV_BIN / "referral"),
                "api",
                "--workers",
                str(WORKERS),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=self.env.service(gateway_url=gateway, ca_file=ca),
            cwd=WORK,
            log=log,
        )
        first = wait_http_200(proc, port, "/healthz", timeout=60)
        all_up: float | None = None  # from uvicorn's INFO line, one per worker
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline:
            text = log.read_bytes()[offset:].decode(errors="replace")
            if text.count("Application startup complete") >= WORKERS:
                all_up = time.perf_counter() - proc.started
                break
            time.sleep(0.01)
        self.procs[name] = proc
        self.ports[name] = port
        return proc, first, all_up

    def start_ceiling(self) -> Proc:
        port = free_port()
        proc = Proc(
            "ceiling",
            [
                str(VENV_BIN / "python"),
                "-m",
                "uvicorn",
                "bench.ceiling:create_app",
                "--factory",
                "--workers",
                str(WORKERS),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-server-header",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=self.env.ceiling(),
            cwd=WORK,
            log=self.log_dir / "ceiling.log",
        )
        wait_http_200(proc, port, "/json", timeout=60)
        self.procs["ceiling"] = proc
        self.ports["ceiling"] = port
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def measure(self, target: Target, connections: int, seconds: int, run_index: int) -> WrkResult:
        proc = self.procs[target.server]
        if not proc.alive():
            raise RuntimeError(f"{proc.name} died:\n{proc.tail()}")
        url = f"http://127.0.0.1:{self.ports[target.server]}{target.path}"
        server_cpu = CpuMeter(proc.group_pids)
        db_cpu = CpuMeter(lambda: pg_backend_pids(DB_NAME))
        server_cpu.start()
        db_cpu.start()
        with RssSampler(proc) as rss:
            result = run_wrk(
                url,
                connections=connections,
                seconds=seconds,
                script=target.script,
                args=target.args(run_index),
                timeout_s=target.timeout_s,
                log=self.log_dir / f"wrk-{target.key}.log",
            )
        done = max(result.requests, 1)
        result = replace(
            result,
            server_cpu_ms=server_cpu.stop() * 1000 / done,
            db_cpu_ms=db_cpu.stop() * 1000 / done,
        )
        target.rss_peak = max(target.rss_peak, rss.peak)
        self.say(
            f"{target.key:<14} c={connections:<4} {result.rps:8.1f} req/s  "
            f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:8.2f} ms  "
            f"cpu {result.server_cpu_ms:.2f}+{result.db_cpu_ms:.2f} ms/req  "
            f"non-2xx {result.non_2xx}  socket {result.socket_errors}"
            + (f"  REUSED {result.reused}" if result.reused else "")
        )
        time.sleep(1)
        return result

    def series(
        self, targets: list[Target], connections: tuple[int, ...], seconds: int | None = None
    ) -> None:
        """Warm each target up, then run them interleaved: rep by rep, target by target."""
        for target in targets:
            self.measure(target, connections[0], self.o.warmup, 0)
        index = 0
        for conns in connections:
            for _ in range(self.o.reps):
                index += 1
                for target in targets:
                    if conns in target.connections:
                        target.runs.setdefault(conns, []).append(
                            self.measure(target, conns, seconds or self.o.seconds, index)
                        )

    # ----- phases ---------------------------------------------------------------------

    def prepare(self) -> None:
        ensure_wrk()
        self.results["machine"] = machine.describe(self.env.dsn)
        self.say(f"database {DB_NAME}: reset and migrate")
        asyncio.run(fill.reset_database())
        migrate_env = self.env.service(gateway_url="https://127.0.0.1:9/v2/", ca_file=Path("x"))
        migrate_s = fill.migrate(migrate_env, WORK)
        filled = asyncio.run(fill.fill_base(self.env.dsn))
        self.say(f"{fill.REFERRALS:,} referrals loaded in {filled.fill_seconds:.1f} s")
        self.filled = filled
        per_run = 1_500 if self.o.quick else 15_000
        runs = len(CONNECTIONS) * self.o.reps
        slow_runs = len(SLOW_CONNECTIONS) * self.o.reps
        plan = {
            "code": [3_000] + [per_run] * runs,
            "login": [3_000] + [per_run] * runs,
            "refer": [3_000] + [per_run] * runs,
            "code_slow": [1_000] + [6_000] * slow_runs,
        }
        self.lists = asyncio.run(
            fill.prepare_lists(self.env.dsn, self.env, WORK / "lists", plan=plan)
        )
        self.say(f"lists prepared in {self.lists.seconds:.1f} s")
        self.results["data"] = {
            "migrate_seconds": migrate_s,
            "fill_seconds": filled.fill_seconds,
            "referrals": fill.REFERRALS,
            "users_after_fill": filled.users,
            "prepare_seconds": self.lists.seconds,
            "prepared": self.lists.counts,
        }
        self.tokens = {
            "zero": fill.mint_access_token(
                self.env.secret_key,
                filled.zero_id,
                int(SERVICE_SETTINGS["JWT_ACCESS_TTL_SECONDS"]),
                "referral-service",
                "referral-api",
            ),
            "million": fill.mint_access_token(
                self.env.secret_key,
                filled.million_id,
                int(SERVICE_SETTINGS["JWT_ACCESS_TTL_SECONDS"]),
                "referral-service",
                "referral-api",
            ),
        }
        fill.check_token(self.env.secret_key, self.tokens["million"], filled.million_id)

    def startup(self) -> None:
        """Scenario 6: start the API ``starts`` times; the last one stays up for the load."""
        gateway, ca = self.start_gateway("smsaero-instant", 0.0)
        self.gateway = (gateway, ca)
        # The first start after a fresh clone also compiles the bytecode cache: shown apart.
        _, cold, _ = self.start_api("api", gateway, ca)
        self.say(f"api first (cold) start: first 200 after {cold:.2f} s")
        self.results["startup"] = {"cold_first_200_s": cold}
        firsts: list[float] = []
        alls: list[float | None] = []
        for i in range(self.o.starts):
            self.stop("api")
            _, first, all_up = self.start_api("api", gateway, ca)
            firsts.append(first)
            alls.append(all_up)
            self.say(f"api start {i + 1}: first 200 after {first:.2f} s, all workers {all_up} s")
        time.sleep(3)
        api = self.procs["api"]
        idle = {pid: _rss(pid) for pid in api.group_pids()}
        ceiling = self.start_ceiling()
        time.sleep(3)
        self.results["startup"] |= {
            "first_200_s": firsts,
            "all_workers_s": alls,
            "api_idle_rss": sum(idle.values()),
            "api_idle_processes": len(idle),
            "ceiling_idle_rss": ceiling.rss_bytes(),
        }

    def sanity(self) -> None:
        """Each scenario answers as expected once, before any load; the ceiling's body is ours."""
        z, m = self.filled.zero_id, self.filled.million_id
        for key, uid in (("zero", z), ("million", m)):
            auth = {"Authorization": f"Bearer {self.tokens[key]}"}
            s1, ours = http_get(self.ports["api"], f"/users/{uid}/", auth)
            s2, theirs = http_get(self.ports["ceiling"], f"/users/{uid}/", auth)
            if s1 != 200 or s2 != 200 or orjson.loads(ours) != orjson.loads(theirs):
                raise RuntimeError(f"profile {key}: {s1} {ours[:200]!r} vs {s2} {theirs[:200]!r}")
            if key == "million" and len(orjson.loads(ours)["referral_list"]) != 100:
                raise RuntimeError("the million profile does not list 100 phones")
        self.results["body_identical"] = ours == theirs
        self.results["profile_bytes"] = {"million": len(ours)}
        s, body = http_get(self.ports["api"], "/healthz")
        s2, body2 = http_get(self.ports["ceiling"], "/json")
        assert s == s2 == 200 and orjson.loads(body) == orjson.loads(body2), (body, body2)
        phone, ip = self.lists.spare["code"]
        s, body = http_post(
            self.ports["api"],
            "/user/veryfi/",
            orjson.dumps({"phone": phone}),
            {"X-Forwarded-For": ip},
        )
        assert s == 200, body
        phone, code = self.lists.spare["login"]
        s, body = http_post(
            self.ports["api"], "/user/auth/", orjson.dumps({"phone": phone, "otp_code": code})
        )
        assert s == 200, body
        token, invite = self.lists.spare["refer"]
        s, body = http_post(
            self.ports["api"],
            "/users/refer/",
            orjson.dumps({"referral_code": invite}),
            {"Authorization": f"Bearer {token}"},
        )
        assert s == 200, body
        self.say("sanity checks passed: the ceiling's profile body equals the service's")

    def read_phase(self) -> None:
        z, m = self.filled.zero_id, self.filled.million_id
        tz, tm = self.tokens["zero"], self.tokens["million"]
        targets = [
            Target(
                "ceiling_json",
                "Ceiling: constant JSON",
                "ceiling",
                "/json",
                "get.lua",
                lambda i: [],
            ),
            Target(
                "healthz",
                "GET /healthz (framework floor)",
                "api",
                "/healthz",
                "get.lua",
                lambda i: [],
                ceiling="ceiling_json",
            ),
            Target(
                "ceiling_p0",
                "Ceiling: profile, no referrals",
                "ceiling",
                f"/users/{z}/",
                "get.lua",
                lambda i: [tz],
            ),
            Target(
                "profile_0",
                "GET /users/{id}/, no referrals",
                "api",
                f"/users/{z}/",
                "get.lua",
                lambda i: [tz],
                ceiling="ceiling_p0",
            ),
            Target(
                "ceiling_p1m",
                "Ceiling: profile, 1,000,000 referrals",
                "ceiling",
                f"/users/{m}/",
                "get.lua",
                lambda i: [tm],
            ),
            Target(
                "profile_1m",
                "GET /users/{id}/, 1,000,000 referrals",
                "api",
                f"/users/{m}/",
                "get.lua",
                lambda i: [tm],
                ceiling="ceiling_p1m",
            ),
        ]
        for t in targets:
            self.targets[t.key] = t
        self.series(targets, CONNECTIONS)
        self.stop("ceiling")

    def write_phase(self) -> None:
        def walker(kind: str) -> Callable[[int], list[str]]:
            files = self.lists.files[kind]
            return lambda i: [kind, str(files[i]), "2"]

        targets = [
            Target(
                "code",
                "POST /user/veryfi/, gateway answers at once",
                "api",
                "/user/veryfi/",
                "walk.lua",
                walker("code"),
                ceiling="ceiling_p0",
            ),
            Target(
                "login",
                "POST /user/auth/, prepared codes",
                "api",
                "/user/auth/",
                "walk.lua",
                walker("login"),
                ceiling="ceiling_p0",
            ),
            Target(
                "refer",
                "POST /users/refer/, distinct users",
                "api",
                "/users/refer/",
                "walk.lua",
                walker("refer"),
                ceiling="ceiling_p0",
            ),
        ]
        for t in targets:
            self.targets[t.key] = t
        self.series(targets, CONNECTIONS)
        self.stop("api")

    def slow_phase(self) -> None:
        gateway, ca = self.start_gateway("smsaero-slow", GATEWAY_DELAY)
        self.start_api("api_slow", gateway, ca)
        phone, ip = self.lists.spare["code_slow"]
        started = time.perf_counter()
        s, body = http_post(
            self.ports["api_slow"],
            "/user/veryfi/",
            orjson.dumps({"phone": phone}),
            {"X-Forwarded-For": ip},
        )
        assert s == 200, body
        self.say(f"slow gateway: one code request took {time.perf_counter() - started:.2f} s")
        files = self.lists.files["code_slow"]
        target = Target(
            "code_slow",
            "POST /user/veryfi/, gateway answers after 1.5 s",
            "api_slow",
            "/user/veryfi/",
            "walk.lua",
            lambda i: ["code", str(files[i]), "2"],
            ceiling="ceiling_p0",
            timeout_s=10.0,
            connections=SLOW_CONNECTIONS,
        )
        self.targets[target.key] = target
        # Longer runs: nothing completes in the first 1.5 s of a run.
        self.series([target], SLOW_CONNECTIONS, seconds=self.o.slow_seconds)
        self.stop("api_slow")
        self.stop("smsaero-slow")
        self.stop("smsaero-instant")

    def bot_phase(self, offset: int = 0) -> None:
        from bench import bot

        self.results["bot"] = bot.run(
            self.env, self.log_dir, quick=self.o.quick, say=self.say, offset=offset
        )

    # ----- the whole run --------------------------------------------------------------

    def run(self) -> int:
        WORK.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with stopped_on_exit():
            self.prepare()
            self.startup()
            self.sanity()
            self.read_phase()
            self.write_phase()
            self.slow_phase()
            if self.o.bot:
                try:
                    self.bot_phase()
                except Exception as exc:  # reported in the file, the other figures still count
                    self.say(f"bot scenario failed: {exc}")
                    self.results["bot"] = {"error": f"{type(exc).__name__}: {exc}"}
        self.results["targets"] = {k: _summary(t) for k, t in self.targets.items()}
        self.results["settings"] = {
            **SERVICE_SETTINGS,
            "workers": WORKERS,
            "db_pool_size": DB_POOL_SIZE,
            "db_max_overflow": DB_MAX_OVERFLOW,
            "sms_concurrency": _service_default("sms_concurrency", "SMS_CONCURRENCY"),
        }
        self.results["total_seconds"] = time.perf_counter() - self.t0
        out = WORK / "results.json"
        out.write_text(json.dumps(self.results, indent=2, default=str))
        DOC.write_text(report.render(self.results))
        self.say(f"wrote {out.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
        return 0


def _bot_only(*, quick: bool) -> int:
    """Scenario 5 alone, on the database the last full run left, merged into its results."""
    import secrets

    out = WORK / "results.json"
    results = json.loads(out.read_text())
    bench = Bench(Options(quick=quick))
    bench.log_dir.mkdir(parents=True, exist_ok=True)
    with stopped_on_exit():
        try:
            bench.bot_phase(offset=1 + secrets.randbelow(1000))  # users the last run never had
        except Exception as exc:
            results["bot"] = {"error": f"{type(exc).__name__}: {exc}"}
        else:
            results["bot"] = bench.results["bot"]
    results["bot"]["rerun_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(results, indent=2, default=str))
    DOC.write_text(report.render(results))
    print(f"merged the bot scenario into {out.relative_to(ROOT)}; rewrote {DOC.relative_to(ROOT)}")
    return 0


def _service_default(field: str, alias: str) -> Any:
    """A setting as the bench runs the service: its override, else the service's default."""
    from core.settings import Settings

    if alias in SERVICE_SETTINGS:
        return SERVICE_SETTINGS[alias]
    info = Settings.model_fields.get(field)
    return info.default if info is not None else None


def _rss(pid: int) -> int:
    from bench.procs import rss_of

    return rss_of(pid)


def _summary(t: Target) -> dict[str, Any]:
    per_conn = {}
    for conns, runs in t.runs.items():
        per_conn[str(conns)] = {
            "rps": statistics.median(r.rps for r in runs),
            "p50_ms": statistics.median(r.p50_ms for r in runs),
            "p99_ms": statistics.median(r.p99_ms for r in runs),
            "non_2xx": sum(r.non_2xx for r in runs),
            "socket_errors": sum(r.socket_errors for r in runs),
            "timeouts": sum(r.timeouts for r in runs),
            "reused": sum(r.reused for r in runs),
            "server_cpu_ms": statistics.median(r.server_cpu_ms for r in runs),
            "db_cpu_ms": statistics.median(r.db_cpu_ms for r in runs),
            "requests": sum(r.requests for r in runs),
            "runs": [r.as_dict() for r in runs],
        }
    return {
        "title": t.title,
        "server": t.server,
        "path": t.path,
        "ceiling": t.ceiling,
        "rss_peak": t.rss_peak,
        "per_connections": per_conn,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s per point")
    parser.add_argument("--no-bot", action="store_true", help="skip the bot scenario")
    parser.add_argument(
        "--bot-only",
        action="store_true",
        help="run scenario 5 again on the last run's database and merge it into its results",
    )
    args = parser.parse_args(argv)
    if args.bot_only:
        return _bot_only(quick=args.quick)
    options = Options(bot=not args.no_bot, quick=args.quick)
    if args.quick:
        options.seconds, options.warmup, options.reps, options.starts = 3, 1, 1, 1
        options.slow_seconds = 5
    try:
        return Bench(options).run()
    except KeyboardInterrupt:
        print("interrupted: every process the bench started was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
