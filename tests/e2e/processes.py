"""Start real service processes on free ports for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(overrides)
    return env


def file_sms_env(database_url: str, sms_file: Path, **overrides: str) -> dict[str, str]:
    """The service on ``database_url``, quiet, writing its SMS to ``sms_file`` (``last_code``)."""
    return service_env(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET,
        SMS_BACKEND="file",
        SMS_FILE=str(sms_file),
        LOG_LEVEL="WARNING",
        **overrides,
    )


def last_code(sms_file: Path, phone: str) -> str:
    """The code in the last SMS to ``phone`` that the ``file`` SMS backend wrote."""
    lines = [json.loads(line) for line in sms_file.read_text().splitlines()]
    text = next(m["text"] for m in reversed(lines) if m["phone"] == phone)
    return str(text.split()[-1])


def run_cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "core", *args], env=env, cwd=ROOT, check=True, timeout=120
    )


def start_api(
    env: dict[str, str], *args: str, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``referral api`` started on ``port`` (by default a free one): the process and its base URL.
    It is not ready yet (see ``wait_healthy``)."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "api", "--host", "127.0.0.1", "--port", str(port), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


@contextmanager
def api_process(env: dict[str, str], *args: str, port: int | None = None) -> Iterator[str]:
    """``referral api`` on a free port; yields its base URL once /healthz answers."""
    proc, base = start_api(env, *args, port=port)
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        stop(proc)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server exited with {proc.returncode}:\n{out}")
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{base} did not become healthy in {timeout} s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
    return int(proc.returncode)
