"""``docs/BENCHMARKS.md`` from ``bench/results/results.json``.

``python -m bench.report`` renders the last run again (after editing ``bench/findings.md``).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench.env import DOC, WORK

FINDINGS = Path(__file__).with_name("findings.md")

API_SCENARIOS = ("profile_0", "profile_1m", "code", "login", "refer")
ORDER = (
    "ceiling_json",
    "healthz",
    "ceiling_p0",
    "profile_0",
    "ceiling_p1m",
    "profile_1m",
    "code",
    "login",
    "refer",
)
LABELS = {
    "ceiling_json": "Ceiling: constant JSON",
    "healthz": "`GET /healthz` (same bytes, through FastAPI)",
    "ceiling_p0": "Ceiling: profile, no referrals",
    "profile_0": "1 · `GET /users/{id}/`, no referrals",
    "ceiling_p1m": "Ceiling: profile, 1,000,000 referrals",
    "profile_1m": "1 · `GET /users/{id}/`, 1,000,000 referrals",
    "code": "2 · `POST /user/veryfi/`, gateway answers at once",
    "code_slow": "2 · `POST /user/veryfi/`, gateway answers after 1.5 s",
    "login": "3 · `POST /user/auth/` (prepared codes, each once)",
    "refer": "4 · `POST /users/refer/` (distinct users)",
}
CEILING_OF = {
    "healthz": "ceiling_json",
    "profile_0": "ceiling_p0",
    "profile_1m": "ceiling_p1m",
    "code": "ceiling_p0",
    "code_slow": "ceiling_p0",
    "login": "ceiling_p0",
    "refer": "ceiling_p0",
}


def _mib(n: float | int | None) -> str:
    return "-" if not n else f"{n / 2**20:.0f} MiB"


def _point(results: dict[str, Any], key: str, conns: int) -> dict[str, Any] | None:
    target = results["targets"].get(key)
    if target is None:
        return None
    point: dict[str, Any] | None = target["per_connections"].get(str(conns))
    return point


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}×" if b else "-"


def _row(results: dict[str, Any], key: str, conns: int) -> str | None:
    p = _point(results, key, conns)
    if p is None:
        return None
    ceiling_key = CEILING_OF.get(key)
    c = _point(results, ceiling_key, conns) if ceiling_key else None
    if c:
        rps = f"{p['rps']:,.0f} ({_ratio(p['rps'], c['rps'])})"
        p50 = f"{p['p50_ms']:.1f} ({_ratio(p['p50_ms'], c['p50_ms'])})"
        p99 = f"{p['p99_ms']:.1f} ({_ratio(p['p99_ms'], c['p99_ms'])})"
    else:
        rps, p50, p99 = f"**{p['rps']:,.0f}**", f"{p['p50_ms']:.1f}", f"{p['p99_ms']:.1f}"
    errors = f"{p['non_2xx']} / {p['socket_errors']}"
    if p.get("reused"):
        errors += f" ({p['reused']} reused items)"
    rss = _mib(results["targets"][key]["rss_peak"])
    cpu = f"{p.get('server_cpu_ms', 0):.2f} + {p.get('db_cpu_ms', 0):.2f}"
    return (
        f"| {LABELS[key]} | {rps} | {p50} | {p99} | {errors} | {cpu} | {p['requests']:,} | {rss} |"
    )


def _table(results: dict[str, Any], conns: int) -> list[str]:
    lines = [
        f"**{conns} connections** (median of {results['options']['reps']} runs of "
        f"{results['options']['seconds']} s; ratio to the ceiling in brackets)",
        "",
        "| Scenario | Requests/s | p50 ms | p99 ms | Errors: non-2xx / socket | CPU ms per "
        "request: server + PostgreSQL | Requests (all runs) | Server RSS, peak |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in ORDER:
        row = _row(results, key, conns)
        if row:
            lines.append(row)
    return lines


def _targets(results: dict[str, Any]) -> list[str]:
    def rps(key: str, conns: int) -> float | None:
        p = _point(results, key, conns)
        return p["rps"] if p else None

    rows = []

    def check(name: str, need: str, values: list[tuple[str, float | None, float]]) -> None:
        shown, ok = [], True
        for label, value, limit in values:
            if value is None:
                shown.append(f"{label}: not measured")
                ok = False
                continue
            shown.append(f"{label}: {value:.2f}")
            ok = ok and value >= limit
        rows.append(f"| {name} | {need} | {'; '.join(shown)} | {'met' if ok else '**missed**'} |")

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    check(
        "Profile, no referrals vs the ceiling's profile",
        "≥ 0.5",
        [(f"c={c}", ratio(rps("profile_0", c), rps("ceiling_p0", c)), 0.5) for c in (32, 128)],
    )
    check(
        "Profile, 1,000,000 referrals vs no referrals",
        "≥ 0.8",
        [(f"c={c}", ratio(rps("profile_1m", c), rps("profile_0", c)), 0.8) for c in (32, 128)],
    )
    slow = _point(results, "code_slow", 512)
    if slow:
        errors = slow["non_2xx"] + slow["socket_errors"]
        ok = slow["rps"] >= 200 and errors == 0
        rows.append(
            f"| Code requests, 1.5 s gateway, 512 connections | ≥ 200/s, no errors | "
            f"{slow['rps']:.0f}/s, {errors} errors | {'met' if ok else '**missed**'} |"
        )
    check(
        "Logins vs the ceiling's profile",
        "≥ 0.4",
        [(f"c={c}", ratio(rps("login", c), rps("ceiling_p0", c)), 0.4) for c in (32, 128)],
    )
    over = []
    for key in API_SCENARIOS:
        p = _point(results, key, 32)
        if p:
            over.append((key, p["p99_ms"]))
    bad = [f"{k} {v:.0f} ms" for k, v in over if v >= 50]
    rows.append(
        "| p99 at 32 connections, every scenario but the 1.5 s gateway | < 50 ms | "
        + ("; ".join(f"{k} {v:.0f}" for k, v in over) + " ms")
        + f" | {'met' if over and not bad else '**missed**'} |"
    )
    return [
        "| Target (issue 7) | Required | Measured in this run | |",
        "|---|---|---|---|",
        *rows,
    ]


def _slow(results: dict[str, Any]) -> list[str]:
    target = results["targets"].get("code_slow")
    if not target:
        return ["Not measured."]
    threads = results["settings"].get("sms_concurrency")
    workers = results["settings"]["workers"]
    in_flight = int(threads) * workers if threads not in (None, "") else None
    lines = [
        "| Connections | Requests/s | Bound: connections / 1.5 s | Bound: "
        f"{workers} workers × SMS_CONCURRENCY {threads} / 1.5 s | p50 ms | p99 ms | "
        "Errors: non-2xx / socket (timeouts) | Server RSS, peak |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for conns, p in sorted(target["per_connections"].items(), key=lambda kv: int(kv[0])):
        bound = min(int(conns), in_flight or int(conns)) / 1.5
        lines.append(
            f"| {conns} | {p['rps']:.1f} | {int(conns) / 1.5:.0f} | {bound:.0f} | "
            f"{p['p50_ms']:.0f} | "
            f"{p['p99_ms']:.0f} | {p['non_2xx']} / {p['socket_errors']} ({p['timeouts']}) | "
            f"{_mib(target['rss_peak'])} |"
        )
    return lines


BOT_METHOD = (
    "Method (`bench/bot.py`): the fake Bot API server (`tests/fakes/telegram_server/`, "
    "standalone) queues updates that the driver injects through its `/_fake/*` routes; "
    "`referral bot` polls them with the real aiogram `Bot` over HTTP (long polling), runs "
    "the real Dispatcher with Redis FSM storage and event isolation (`REDIS_URL`, database "
    "11) and the core on PostgreSQL, and answers with real `sendMessage` calls. A round is "
    "the whole login dialog of N new users in three waves, each injected at once and done "
    "when the fake has seen the expected replies: `/start` (1 reply each), the user's own "
    "contact (the core sends a code: 2 replies each), the code (the first login: 1 reply "
    "each). Updates/s = 3N / the sum of the three waves' times. The bot runs with "
    "`APP_ENV=development` and the file SMS backend because the driver reads each code back "
    "from that file (production refuses a development SMS backend)."
)


def _bot(results: dict[str, Any]) -> list[str]:
    bot = results.get("bot")
    if not bot:
        return ["Not run (`--no-bot`)."]
    if "error" in bot:
        return [
            f"**The bot scenario failed**: `{bot['error']}` (see `bench/results/logs/bot.log`)."
        ]
    rounds = bot["rounds"]
    lines = [BOT_METHOD, ""]
    if bot.get("rerun_at"):
        lines += [
            f"(Scenario 5 was run again alone at {bot['rerun_at']} with "
            "`python -m bench.run --bot-only`, on the database of the run above.)",
            "",
        ]
    if bot.get("failure"):
        reasons = ", ".join(f"{n} × `{k}`" for k, n in bot.get("failure_reasons", {}).items())
        lines += [
            f"**The bot did not hold this load**: {bot['failure']}. Updates that failed in "
            f"the bot (its error handler answered them with an apology): {reasons or 'none'}. "
            "See *What the profiles show* for the cause; no updates/s figure is given for a "
            "round that did not complete.",
            "",
        ]
    if rounds:
        lines.append(
            f"{bot['users_per_round']} new Telegram users per round, {len(rounds)} complete "
            f"round(s): median **{bot['updates_per_s']:.0f} updates/s** "
            f"({bot['dialogs_per_s']:.1f} complete login dialogs/s)."
        )
    lines += [
        f"Logged in afterwards: {bot['logged_in']} of the {bot['expected_logins']} planned; "
        f"ERROR lines in the bot's log: {bot['bot_error_lines']}; "
        f"fake server internal errors: {bot['fake_internal_errors']}.",
        "",
    ]
    if rounds:
        lines += [
            "| Round | Dialogs | /start wave s | contact wave s | code wave s | Updates/s |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
    for i, r in enumerate(rounds, 1):
        lines.append(
            f"| {i} | {r['users']} | {r['start_s']:.2f} | {r['contact_s']:.2f} | "
            f"{r['code_s']:.2f} | {r['updates_per_s']:.0f} |"
        )
    lines += [
        "",
        "Bot API calls seen by the fake: "
        + ", ".join(f"{k} {v}" for k, v in sorted(bot["api_calls"].items())),
    ]
    return lines


def _startup(results: dict[str, Any]) -> list[str]:
    s = results.get("startup", {})
    bot = results.get("bot") or {}
    firsts = s.get("first_200_s", [])
    alls = [a for a in s.get("all_workers_s", []) if a is not None]
    lines = [
        "| Process | Start-up | Idle RSS |",
        "|---|---:|---:|",
    ]
    if firsts:
        lines.append(
            f"| `referral api --workers 2` (master + {s['api_idle_processes'] - 1} children) | "
            f"first 200 on `/healthz` after **{statistics.median(firsts):.2f} s** (median of "
            f"{len(firsts)}: {', '.join(f'{x:.2f}' for x in firsts)})"
            + (f"; both workers up after {statistics.median(alls):.2f} s" if alls else "")
            + f" | {_mib(s['api_idle_rss'])} |"
        )
    if s.get("cold_first_200_s"):
        lines.append(
            "| the same, first start of the run (compiles whatever the bytecode cache in "
            "`bench/results/pycache` lacks: everything in a fresh clone) | "
            f"{s['cold_first_200_s']:.2f} s | - |"
        )
    if bot.get("idle_rss"):
        lines.append(
            f"| `referral bot` (long polling, Redis FSM) | first `getUpdates` after "
            f"{bot['startup_s']:.2f} s | {_mib(bot['idle_rss'])} (peak under load "
            f"{_mib(bot['peak_rss'])}) |"
        )
    lines.append(f"| Ceiling (uvicorn, 2 workers) | - | {_mib(s.get('ceiling_idle_rss'))} |")
    return lines


def _machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    load = ", ".join(f"{x:.2f}" for x in m["load_average_at_start"])
    return [
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_bytes'] / 2**30:.1f} GiB",
        f"- {m['os']}, kernel {m['kernel']}",
        f"- Python {m['python']}; PostgreSQL {m['postgresql']}; {m['redis']}; {m['wrk']}",
        f"- Packages: {pkgs}",
        f"- Code: commit {m['commit']}",
        f"- Load average when the run started: {load} (the machine is shared: other processes "
        "may have run during the measurement, which is why every comparison is a ratio "
        "measured in the same run, interleaved run by run)",
    ]


def _runs(results: dict[str, Any]) -> list[str]:
    lines = [
        "| Scenario | Connections | Requests/s of each run | p99 ms of each run |",
        "|---|---:|---|---|",
    ]
    for key in (*ORDER, "code_slow"):
        t = results["targets"].get(key)
        if not t:
            continue
        for conns, p in sorted(t["per_connections"].items(), key=lambda kv: int(kv[0])):
            lines.append(
                f"| {key} | {conns} | "
                + ", ".join(f"{r['rps']:.0f}" for r in p["runs"])
                + " | "
                + ", ".join(f"{r['p99_ms']:.1f}" for r in p["runs"])
                + " |"
            )
    return lines


def render(results: dict[str, Any]) -> str:
    o = results["options"]
    data = results["data"]
    settings = results["settings"]
    env_lines = ", ".join(f"`{k}={v}`" for k, v in settings.items() if k.isupper())
    findings = FINDINGS.read_text().strip() if FINDINGS.exists() else "(no findings file)"
    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {results['started_at']} (the whole run took "
        f"{results['total_seconds'] / 60:.1f} minutes). Every figure below comes from that run; "
        "the next run rewrites this file. Raw output: `bench/results/` (not committed).",
        "",
        "## Targets",
        "",
        *_targets(results),
        "",
        "## Machine",
        "",
        *_machine(results),
        "",
        "## How it was measured",
        "",
        f"- Command: `{results['command']}`.",
        f"- Load: wrk, 2 threads, on 127.0.0.1; every point is the median of {o['reps']} runs "
        f"of **{o['seconds']} s** ({o.get('slow_seconds', o['seconds'])} s with the 1.5 s "
        "gateway, where nothing completes in a run's first 1.5 s; short runs keep the whole "
        f"bench near 20 minutes on 2 cores), after one {o['warmup']} s warm-up run per "
        "scenario. Ceiling and service runs are interleaved (ceiling, service, ceiling, ...) "
        "so that both see the same machine. "
        "wrk's timeout is 5 s (10 s with the 1.5 s gateway). Latencies are wrk's (no "
        "coordinated-omission correction). Errors: non-2xx = wrk's status errors (HTTP ≥ 400; "
        "each scenario is checked to answer 200 before the load), socket = connect, read, "
        "write and timeout errors, summed over the runs.",
        "- CPU per request: user + system CPU time of the server's processes, and of the "
        "PostgreSQL backends connected to the bench database, during the run, divided by the "
        "completed requests (read from `/proc`); on a shared machine it is steadier than "
        "requests per second.",
        "- Server memory: the summed RSS of every process of the server's process group (the "
        "uvicorn master, its 2 workers and multiprocessing's resource tracker), sampled every "
        "0.25 s; the peak over the scenario's runs.",
        f"- The service: `referral api --workers {settings['workers']}` started as in "
        "production (`APP_ENV=production`, a random 64-character `SECRET_KEY`, PostgreSQL "
        "through `DATABASE_URL`, the `smsaero` SMS backend = the real `smsaero-api` client "
        "over HTTPS to the fake gateway `tests/fakes/smsaero_server.py`, trusted by "
        f"`REQUESTS_CA_BUNDLE`). Environment chosen by the bench: {env_lines}. The rate "
        "limits are raised because all the load comes from one machine; the code requests "
        "still carry one client address each (`X-Forwarded-For` from 127.0.0.1, which the "
        "service trusts by default), as a campaign's visitors would.",
        "- The ceiling (`bench/ceiling.py`): a bare ASGI callable under uvicorn with the same "
        "2 workers, an asyncpg pool of the same size per worker, the same HS256 token check "
        "(PyJWT, same claims) and ONE query returning the profile (the referrer's code and "
        "the 100 newest referral phones in the same statement); its response body was "
        f"checked equal to the service's before the load (byte-identical: "
        f"{results.get('body_identical')}).",
        f"- Data (`bench/fill.py`): the database `referral_bench` is dropped, created and "
        f"migrated by `referral migrate` ({data['migrate_seconds']:.1f} s), then "
        f"{data['referrals']:,} referrals of one user are loaded with one `INSERT ... SELECT "
        f"generate_series` in **{data['fill_seconds']:.1f} s** "
        f"({data['users_after_fill']:,} users). Prepared in {data['prepare_seconds']:.1f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in data["prepared"].items())
        + " items.",
        "- Logins (scenario 3): one `otp_challenge` row per phone, hashed with "
        "`core.domain.otp.hash_otp` under the key derived from the same `SECRET_KEY` "
        "(COPY), the plain code kept in the wrk list; every other phone already has an "
        "account, so half the requests are first logins (the account and its invite code "
        "are created) and half returning logins. `bench/wrk/walk.lua` sends each "
        "(phone, code) once.",
        "- Invites (scenario 4): fresh users without a referrer, each with an access token "
        "minted with `TokenService`'s claims (HS256 over the same `SECRET_KEY`; one is "
        "checked through `TokenService.authenticate`), each activating one of 100 inviters' "
        "codes once.",
        "- Code requests (scenario 2): distinct valid phones, one request each.",
        "",
        "## Results",
        "",
        *_table(results, 32),
        "",
        *_table(results, 128),
        "",
        "### Code requests with the gateway answering after 1.5 s",
        "",
        *_slow(results),
        "",
        "### 5 · The bot",
        "",
        *_bot(results),
        "",
        "### 6 · Start-up and idle memory",
        "",
        *_startup(results),
        "",
        "## What the profiles show",
        "",
        findings,
        "",
        "## Every run",
        "",
        *_runs(results),
        "",
    ]
    return "\n".join(out)


def main() -> None:
    results = json.loads((WORK / "results.json").read_text())
    DOC.write_text(render(results))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
