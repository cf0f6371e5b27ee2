"""Profiles and invites (paths as the contract has them, plus /users/me/...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from core.api.deps import CurrentUserId, ServicesDep
from core.api.errors import responses
from core.api.schemas import (
    PageQuery,
    ProfileUpdateIn,
    ReferIn,
    ReferOut,
    ReferralOut,
    ReferralPageOut,
    UserOut,
)
from core.domain.entities import Profile

router = APIRouter(tags=["users"])

MAX_ID = 2**63 - 1


def _user_out(profile: Profile) -> UserOut:
    user = profile.user
    return UserOut(
        id=user.id,
        phone=user.phone,
        first_name=user.first_name,
        last_name=user.last_name,
        referral_code=user.invite_code,
        referral_code_refer=profile.referrer.invite_code if profile.referrer else None,
        refer=user.referrer_id,
        referral_count=user.referral_count,
        referral_list=list(profile.referral_phones),
        balance=str(profile.balance.available),
        pending_balance=str(profile.balance.pending),
    )


@router.get(
    "/users/me/",
    name="get_me",
    summary="The caller's profile",
    response_model=UserOut,
    responses=responses(401, 404),
)
async def get_me(user_id: CurrentUserId, services: ServicesDep) -> UserOut:
    return _user_out(await services.referrals.profile(user_id, user_id))


@router.patch(
    "/users/me/",
    name="update_me",
    summary="Change the caller's first and/or last name",
    description="1 to 64 characters: letters of any script, spaces, hyphens and apostrophes.",
    response_model=UserOut,
    responses=responses(401, 404, 422),
)
async def update_me(
    body: ProfileUpdateIn, user_id: CurrentUserId, services: ServicesDep
) -> UserOut:
    await services.accounts.update_names(user_id, body.first_name, body.last_name)
    return _user_out(await services.referrals.profile(user_id, user_id))


@router.get(
    "/users/me/referrals/",
    name="list_referrals",
    summary="Every referral of the caller, newest first, in keyset pages",
    response_model=ReferralPageOut,
    responses=responses(401, 422),
)
async def list_referrals(
    user_id: CurrentUserId,
    services: ServicesDep,
    paging: Annotated[PageQuery, Query()],
) -> ReferralPageOut:
    page = await services.referrals.referrals(user_id, paging.limit, paging.cursor)
    return ReferralPageOut(
        items=[
            ReferralOut(
                id=r.id,
                phone=r.phone,
                first_name=r.first_name,
                last_name=r.last_name,
                joined_at=r.joined_at,
                status=r.status.value,
                qualified_at=r.qualified_at,
            )
            for r in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/users/refer/",
    name="activate_invite",
    summary="Activate another user's invite code (once, for good)",
    response_model=ReferOut,
    responses=responses(401, 404, 409, 422),
)
async def activate_invite(body: ReferIn, user_id: CurrentUserId, services: ServicesDep) -> ReferOut:
    activation = await services.referrals.activate_invite(user_id, body.referral_code)
    return ReferOut(
        referral_code_refer=activation.referrer.invite_code, refer=activation.referrer.id
    )


@router.get(
    "/users/{id:int}/",
    name="get_user",
    summary="A user's profile (only the user's own)",
    description="Another user's id answers 404, as if it did not exist.",
    response_model=UserOut,
    responses=responses(401, 404, 422),
)
async def get_user(
    id: Annotated[int, Path(ge=1, le=MAX_ID)],
    user_id: CurrentUserId,
    services: ServicesDep,
) -> UserOut:
    return _user_out(await services.referrals.profile(user_id, id))
