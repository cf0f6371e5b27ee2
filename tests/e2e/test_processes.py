"""Real server processes: graceful shutdown, and two API processes racing on one PostgreSQL."""

import asyncio
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.e2e.processes import (
    ROOT,
    api_process,
    file_sms_env,
    free_port,
    last_code,
    run_cli,
    service_env,
    start_api,
    stop,
    wait_healthy,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_sigterm_lets_a_slow_request_finish_and_exits_zero(
    postgres_url: str, tmp_path: Path
) -> None:
    gateway_port = free_port()
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.smsaero_server",
            "--port",
            str(gateway_port),
            "--delay",
            "2",
            "--ca-dir",
            str(tmp_path / "ca"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while not (tmp_path / "ca" / "ca.pem").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = service_env(
            DATABASE_URL=postgres_url,
            SECRET_KEY=TEST_SECRET,
            APP_ENV="production",
            SMS_BACKEND="smsaero",
            EMAIL="robot@referral.example",
            SMS_KEY="k" * 20,
            SMSAERO_GATEWAYS=f"https://127.0.0.1:{gateway_port}/v2/",
            SMSAERO_CHECK_EMAIL_DOMAIN="false",
            REQUESTS_CA_BUNDLE=str(tmp_path / "ca" / "ca.pem"),
            LOG_LEVEL="INFO",
        )
        run_cli("migrate", env=env)
        server, base = start_api(env)
        try:
            wait_healthy(base, server)
            result: dict[str, httpx.Response] = {}

            def slow_request() -> None:
                result["r"] = httpx.post(
                    f"{base}/user/veryfi/", json={"phone": "+79995550101"}, timeout=20
                )

            worker = threading.Thread(target=slow_request)
            worker.start()
            time.sleep(0.7)  # the request is now waiting on the 2 s gateway
            server.send_signal(signal.SIGTERM)
            worker.join(20)
            assert result["r"].status_code == 200
            assert result["r"].json() == {"message": "Code created successfully"}
            assert server.wait(20) == 0
            # After SIGTERM no new work is taken.
            with pytest.raises(httpx.HTTPError):
                httpx.get(f"{base}/healthz", timeout=1)
        finally:
            stop(server)
    finally:
        stop(gateway)


def test_two_api_processes_keep_every_rule(postgres_url: str, tmp_path: Path) -> None:
    sms_file = tmp_path / "sms.jsonl"
    env = file_sms_env(
        postgres_url,
        sms_file,
        CLIENT_CODE_REQUESTS_PER_HOUR="1000",
        PREFIX_NUMBERS_PER_HOUR="1000",
    )
    run_cli("migrate", env=env)
    with api_process(env) as one, api_process(env) as two:
        asyncio.run(race_through(one, two, sms_file))


async def race_through(one: str, two: str, sms_file: Path) -> None:
    async with (
        httpx.AsyncClient(base_url=one, timeout=20) as a,
        httpx.AsyncClient(base_url=two, timeout=20) as b,
    ):
        # One code, used through both processes at once, ten times each: one login.
        phone = "+79995550200"
        assert (await a.post("/user/veryfi/", json={"phone": phone})).status_code == 200
        body = {"phone": phone, "otp_code": last_code(sms_file, phone)}
        answers = await asyncio.gather(*(c.post("/user/auth/", json=body) for c in (a, b) * 10))
        assert sorted(r.status_code for r in answers) == [200] + [401] * 19

        # Crossed activations through both processes: never a cycle.
        async def sign_up(
            client: httpx.AsyncClient, phone: str
        ) -> tuple[dict[str, str], dict[str, object]]:
            assert (await client.post("/user/veryfi/", json={"phone": phone})).status_code == 200
            r = await client.post(
                "/user/auth/", json={"phone": phone, "otp_code": last_code(sms_file, phone)}
            )
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            return auth, (await client.get("/users/me/", headers=auth)).json()

        pairs = []
        for i in range(10):
            pairs.append((await sign_up(a, f"+7999555030{i}"), await sign_up(b, f"+7999555040{i}")))
        calls = []
        for (auth_x, me_x), (auth_y, me_y) in pairs:
            calls.append(
                a.post(
                    "/users/refer/", json={"referral_code": me_y["referral_code"]}, headers=auth_x
                )
            )
            calls.append(
                b.post(
                    "/users/refer/", json={"referral_code": me_x["referral_code"]}, headers=auth_y
                )
            )
        answers = await asyncio.gather(*calls)
        for i in range(0, len(answers), 2):
            pair_statuses = sorted((answers[i].status_code, answers[i + 1].status_code))
            assert pair_statuses == [200, 409], pair_statuses
            assert "invite_cycle" in answers[i].text + answers[i + 1].text
