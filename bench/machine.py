"""What the figures were measured on: CPU, memory, system and versions."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.env import ROOT
from bench.load import wrk_version

PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "orjson",
    "pyjwt",
    "aiogram",
    "redis",
    "smsaero-api",
)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _run(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


async def _pg_version(dsn: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        version: str = await conn.fetchval("SHOW server_version")
        settings = await conn.fetch(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('max_connections', 'shared_buffers', 'synchronous_commit', 'fsync')"
        )
    finally:
        await conn.close()
    extra = ", ".join(f"{r['name']}={r['setting']}{r['unit'] or ''}" for r in settings)
    return f"{version} ({extra})"


def describe(dsn: str) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = bool(_run(["git", "status", "--porcelain"]))
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _mem_total(),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": asyncio.run(_pg_version(dsn)),
        "redis": _run(["redis-server", "--version"]),
        "wrk": wrk_version(),
        "packages": versions,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "load_average_at_start": os.getloadavg(),
    }
