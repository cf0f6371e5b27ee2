"""Login: request a code, log in with it, refresh and log out (paths as the contract has them)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from core.api.deps import Client, Language, ServicesDep
from core.api.errors import responses
from core.api.schemas import LoginIn, MessageOut, PhoneIn, RefreshIn, TokenPairOut
from core.domain.entities import TokenPair

router = APIRouter(tags=["login"])

CODE_CREATED = "Code created successfully"


def _pair(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/user/veryfi/",
    name="request_code",
    summary="Send a one-time code by SMS",
    description="Sends a code to the phone. The answer is the same whether or not the phone "
    "has an account. Also served at `/user/verify/`.",
    response_model=MessageOut,
    responses=responses(422, 429, 503),
)
@router.post(
    "/user/verify/",
    name="request_code_verify",
    summary="Send a one-time code by SMS (alias of /user/veryfi/)",
    response_model=MessageOut,
    responses=responses(422, 429, 503),
)
async def request_code(
    body: PhoneIn, services: ServicesDep, client: Client, language: Language
) -> MessageOut:
    await services.auth.request_code(body.phone, client, language)
    return MessageOut(message=CODE_CREATED)


@router.post(
    "/user/auth/",
    name="login",
    summary="Log in with the code (the first login creates the account)",
    description="With `referral_code`, the user is registered as that code's referral in the "
    "same step; an unknown code refuses the login and the one-time code stays usable.",
    response_model=TokenPairOut,
    responses=responses(401, 404, 409, 422, 429),
)
async def login(body: LoginIn, services: ServicesDep) -> TokenPairOut:
    result = await services.auth.login(body.phone, body.otp_code, body.referral_code)
    return _pair(await services.tokens.issue(result.user.id))


@router.post(
    "/user/token/refresh/",
    name="refresh_token",
    summary="Trade a refresh token for a new pair (each refresh token works once)",
    response_model=TokenPairOut,
    responses=responses(401, 422),
)
async def refresh_token(body: RefreshIn, services: ServicesDep) -> TokenPairOut:
    return _pair(await services.tokens.refresh(body.refresh_token))


@router.post(
    "/user/logout/",
    name="logout",
    summary="Log out: revoke the refresh-token chain of this login",
    status_code=204,
    response_class=Response,
    responses=responses(401, 422),
)
async def logout(body: RefreshIn, services: ServicesDep) -> Response:
    await services.tokens.logout(body.refresh_token)
    return Response(status_code=204)
