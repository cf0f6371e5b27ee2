"""The four requests of the original README, sent exactly as it shows them."""

import httpx

from tests.api.conftest import Api
from tests.fakes.sms import RecordingSmsSender


async def test_the_documented_flow_gives_the_documented_answers(
    client: httpx.AsyncClient, sms: RecordingSmsSender, api: Api
) -> None:
    # 1. POST user/veryfi/ {"phone": "+79999999999"} -> 200 {"message": "Code created successfully"}
    r = await client.post("/user/veryfi/", json={"phone": "+79999999999"})
    assert r.status_code == 200
    assert r.json() == {"message": "Code created successfully"}

    # 2. POST user/auth/ {"phone", "otp_code"} -> 200 {"access_token", "refresh_token", ...}
    code = sms.last_code("+79999999999")
    r = await client.post("/user/auth/", json={"phone": "+79999999999", "otp_code": code})
    assert r.status_code == 200
    tokens = r.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    # 3. GET users/{id}/ -> 200 the profile with the documented fields
    me = (await client.get("/users/me/", headers=auth)).json()
    r = await client.get(f"/users/{me['id']}/", headers=auth)
    assert r.status_code == 200
    profile = r.json()
    assert {
        "phone",
        "first_name",
        "last_name",
        "referral_code",
        "referral_code_refer",
        "refer",
        "referral_list",
    } <= set(profile)
    assert profile["phone"] == "+79999999999"
    assert profile["referral_code_refer"] is None and profile["refer"] is None
    assert profile["referral_list"] == []

    # 4. POST users/refer/ {"referral_code": "..."} -> 200 {"referral_code_refer", "refer"}
    friend = await api.sign_up("+79990000001")
    r = await client.post(
        "/users/refer/", json={"referral_code": friend.invite_code.lower()}, headers=auth
    )
    assert r.status_code == 200
    assert r.json() == {"referral_code_refer": friend.invite_code, "refer": friend.id}

    friend_profile = (await client.get(f"/users/{friend.id}/", headers=friend.auth)).json()
    assert friend_profile["referral_list"] == ["+79999999999"]


async def test_verify_spelling_is_the_same_operation(
    client: httpx.AsyncClient, sms: RecordingSmsSender
) -> None:
    r = await client.post("/user/verify/", json={"phone": "+79999999999"})
    assert r.status_code == 200 and r.json() == {"message": "Code created successfully"}
    assert sms.sent[-1][0] == "+79999999999"
