"""wrk, run with a bounded duration and read through the JSON line of ``wrk/report.lua``."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.env import WRK_DIR

THREADS = 2


@dataclass(frozen=True)
class WrkResult:
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int  # connect + read + write + timeout
    timeouts: int
    reused: int  # prepared items sent a second time (lists too short)
    server_cpu_ms: float = 0.0  # CPU of the server's processes per completed request
    db_cpu_ms: float = 0.0  # CPU of the PostgreSQL backends of the bench database, per request

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed when missing (root on this machine)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=300)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        timeout=300,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


def wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).splitlines()[0].strip()


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    script: str,
    args: list[str],
    timeout_s: float,
    log: Path,
) -> WrkResult:
    argv = [
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{timeout_s:g}s",
        "-s",
        script,
        url,
        "--",
        *args,
    ]
    done = subprocess.run(
        argv, cwd=WRK_DIR, capture_output=True, text=True, timeout=seconds + timeout_s + 30
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(f"$ {' '.join(argv[: -len(args) or None])} -- <{len(args)} args>\n")
        f.write(done.stdout + done.stderr + "\n")
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    data = json.loads(line[len("BENCH_JSON ") :])
    duration = data["duration_us"] / 1e6
    return WrkResult(
        connections=connections,
        seconds=duration,
        requests=data["requests"],
        rps=data["requests"] / duration if duration else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        non_2xx=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        timeouts=data["timeout"],
        reused=data["reused"],
    )
