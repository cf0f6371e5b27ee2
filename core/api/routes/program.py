"""The referral program: integrators' events, a user's rewards, integrators' user lookups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from core.api.deps import CurrentUserId, EventsKey, ServicesDep, UsersReadKey
from core.api.errors import responses
from core.api.program_schemas import (
    EventIn,
    EventOut,
    IntegrationUserOut,
    LedgerEntryOut,
    RewardOut,
    RewardPageOut,
)
from core.api.schemas import PageQuery
from core.domain.entities import EventOutcome, UserRef, UserSummary

router = APIRouter(tags=["program"])

MAX_ID = 2**63 - 1


def _event_out(outcome: EventOutcome) -> EventOut:
    return EventOut(
        event_id=outcome.event_id,
        user_id=outcome.user_id,
        referral_status=outcome.referral_status.value if outcome.referral_status else None,
        rewards=[
            RewardOut(
                user_id=r.user_id,
                amount=str(r.amount),
                status=r.status.value,
                reason=r.reason.value,
            )
            for r in outcome.rewards
        ],
    )


@router.post(
    "/events/",
    name="record_event",
    summary="Record an event of a user (a purchase, ...) and credit what it earns",
    description="Scope `events:write`. A new `event_id` answers 201; the same `event_id` "
    "again answers 200 with what the first one did and credits nothing twice (also when "
    "copies arrive at once). An event of a user without a referrer, of a rejected referral "
    "or of a type that does not qualify is recorded and earns nothing.",
    status_code=201,
    response_model=EventOut,
    responses={
        200: {"model": EventOut, "description": "This event_id was recorded before."},
        **responses(401, 403, 404, 409, 422),
    },
)
async def record_event(
    body: EventIn, key: EventsKey, services: ServicesDep, response: Response
) -> EventOut:
    outcome = await services.program.record_event(
        event_id=body.event_id,
        type=body.type,
        user=UserRef(id=body.user.id, phone=body.user.phone, telegram_id=body.user.telegram_id),
        amount=body.amount,
        occurred_at=body.occurred_at,
    )
    if not outcome.created:
        response.status_code = 200
    return _event_out(outcome)


@router.get(
    "/users/me/rewards/",
    name="list_rewards",
    summary="The caller's balance and ledger, newest first, in keyset pages",
    response_model=RewardPageOut,
    responses=responses(401, 422),
)
async def list_rewards(
    user_id: CurrentUserId, services: ServicesDep, paging: Annotated[PageQuery, Query()]
) -> RewardPageOut:
    page = await services.ledger.rewards(user_id, paging.limit, paging.cursor)
    return RewardPageOut(
        balance=str(page.balance.available),
        pending_balance=str(page.balance.pending),
        unit=page.unit,
        items=[LedgerEntryOut.of(e) for e in page.items],
        next_cursor=page.next_cursor,
    )


def _integration_user(found: UserSummary) -> IntegrationUserOut:
    user = found.user
    return IntegrationUserOut(
        id=user.id,
        phone=user.phone,
        first_name=user.first_name,
        last_name=user.last_name,
        referral_code=user.invite_code,
        telegram_id=user.telegram_id,
        referrer_id=user.referrer_id,
        referral_status=user.referral_status.value if user.referral_status else None,
        joined_at=user.referred_at,
        qualified_at=user.qualified_at,
        referral_count=user.referral_count,
        qualified_count=user.qualified_count,
        balance=str(found.balance.available),
        pending_balance=str(found.balance.pending),
        created_at=user.created_at,
    )


@router.get(
    "/integrations/users/{id}/",
    name="integration_get_user",
    summary="Any user by id, with their referral and balance (scope users:read)",
    response_model=IntegrationUserOut,
    responses=responses(401, 403, 404, 422),
)
async def integration_get_user(
    id: Annotated[int, Path(ge=1, le=MAX_ID)], key: UsersReadKey, services: ServicesDep
) -> IntegrationUserOut:
    return _integration_user(await services.accounts.lookup(UserRef(id=id)))


@router.get(
    "/integrations/users/",
    name="integration_find_user",
    summary="A user by phone or Telegram id (exactly one), scope users:read",
    response_model=IntegrationUserOut,
    responses=responses(401, 403, 404, 422),
)
async def integration_find_user(
    key: UsersReadKey,
    services: ServicesDep,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    telegram_id: Annotated[int | None, Query(ge=-MAX_ID, le=MAX_ID)] = None,
) -> IntegrationUserOut:
    ref = UserRef(phone=phone, telegram_id=telegram_id)
    return _integration_user(await services.accounts.lookup(ref))
