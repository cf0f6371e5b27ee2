"""The real server process on PostgreSQL, walked through as an integrator would."""

from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import api_process, file_sms_env, last_code, run_cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_whole_journey_through_a_real_server(postgres_url: str, tmp_path: Path) -> None:
    sms_file = tmp_path / "sms.jsonl"
    env = file_sms_env(postgres_url, sms_file)
    run_cli("migrate", env=env)
    with api_process(env) as base, httpx.Client(base_url=base, timeout=10) as http:

        def sign_up(phone: str) -> dict[str, str]:
            assert http.post("/user/veryfi/", json={"phone": phone}).json() == {
                "message": "Code created successfully"
            }
            r = http.post(
                "/user/auth/", json={"phone": phone, "otp_code": last_code(sms_file, phone)}
            )
            assert r.status_code == 200, r.text
            return dict(r.json())

        alice = sign_up("+79995550001")
        bob = sign_up("+79995550002")
        alice_auth = {"Authorization": f"Bearer {alice['access_token']}"}
        me = http.get("/users/me/", headers=alice_auth).json()
        profile = http.get(f"/users/{me['id']}/", headers=alice_auth)
        assert profile.status_code == 200 and profile.json()["phone"] == "+79995550001"

        bob_me = http.get(
            "/users/me/", headers={"Authorization": f"Bearer {bob['access_token']}"}
        ).json()
        r = http.post(
            "/users/refer/", json={"referral_code": bob_me["referral_code"]}, headers=alice_auth
        )
        assert r.json() == {"referral_code_refer": bob_me["referral_code"], "refer": bob_me["id"]}

        r = http.post("/user/token/refresh/", json={"refresh_token": alice["refresh_token"]})
        assert r.status_code == 200
        fresh = r.json()
        assert (
            http.post("/user/logout/", json={"refresh_token": fresh["refresh_token"]}).status_code
            == 204
        )
        r = http.post("/user/token/refresh/", json={"refresh_token": fresh["refresh_token"]})
        assert r.status_code == 401
        assert http.get("/readyz").json() == {"status": "ok"}
