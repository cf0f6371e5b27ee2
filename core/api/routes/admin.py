"""The operator's API (scope ``admin``): the review queue, referrers by hand, contests,
the operator's campaigns and the audit log. Every action is in the audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from core.api.admin_schemas import (
    AttachIn,
    AuditOut,
    AuditPageOut,
    ContestIn,
    ContestListOut,
    ContestOut,
    OperatorCampaignIn,
    PersonOut,
    ReasonIn,
    ReferralReviewOut,
    ReferralReviewPageOut,
    ReferralStateOut,
    RequiredReasonIn,
    StandingOut,
)
from core.api.deps import AdminActor, ServicesDep
from core.api.errors import responses
from core.api.growth_schemas import CampaignListOut, CampaignOut
from core.domain.entities import ContestStandings, Referrer, User

router = APIRouter(prefix="/admin", tags=["admin"])

UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _person(person: User | Referrer) -> PersonOut:
    return PersonOut(
        id=person.id, phone=person.phone, first_name=person.first_name, last_name=person.last_name
    )


def _state(user: User) -> ReferralStateOut:
    return ReferralStateOut(
        user_id=user.id,
        referrer_id=user.referrer_id,
        status=user.referral_status.value if user.referral_status else None,
        signals=list(user.referral_signals),
    )


@router.get(
    "/referrals/",
    name="admin_list_referrals",
    summary="Referrals by status; ?status=flagged is the review queue, with the signals",
    response_model=ReferralReviewPageOut,
    responses=responses(401, 403, 422),
)
async def admin_list_referrals(
    actor: AdminActor,
    services: ServicesDep,
    status: Literal["joined", "qualified", "flagged", "rejected"] = "flagged",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReferralReviewPageOut:
    page, next_cursor = await services.admin.referrals(status, limit, cursor)
    return ReferralReviewPageOut(
        items=[
            ReferralReviewOut(
                referee=_person(r.referee),
                referrer=_person(r.referrer),
                status=r.referee.referral_status.value if r.referee.referral_status else status,
                signals=list(r.signals),
                joined_at=r.referee.referred_at,
                qualified_at=r.referee.qualified_at,
            )
            for r in page
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/referrals/{referee_id}/approve/",
    name="admin_approve_referral",
    summary="Release a flagged referral: its held rewards follow the hold's schedule",
    response_model=ReferralStateOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def admin_approve_referral(
    referee_id: UserId, actor: AdminActor, services: ServicesDep, body: ReasonIn | None = None
) -> ReferralStateOut:
    reason = body.reason if body else None
    return _state(await services.admin.approve(actor, referee_id, reason))


@router.post(
    "/referrals/{referee_id}/reject/",
    name="admin_reject_referral",
    summary="Refuse a referral: its pending rewards are reversed, it earns nothing more",
    response_model=ReferralStateOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def admin_reject_referral(
    referee_id: UserId, body: RequiredReasonIn, actor: AdminActor, services: ServicesDep
) -> ReferralStateOut:
    return _state(await services.admin.reject(actor, referee_id, body.reason))


@router.post(
    "/users/{id}/referrer/",
    name="admin_attach_referrer",
    summary="Make the user the referral of a code's owner (the usual rules: once, no cycles)",
    response_model=ReferralStateOut,
    responses=responses(401, 403, 404, 409, 422),
)
async def admin_attach_referrer(
    id: UserId, body: AttachIn, actor: AdminActor, services: ServicesDep
) -> ReferralStateOut:
    return _state(await services.admin.attach(actor, id, body.invite_code, body.reason))


@router.delete(
    "/users/{id}/referrer/",
    name="admin_detach_referrer",
    summary="Undo the user's referral: counts, pending and available rewards taken back",
    response_model=ReferralStateOut,
    responses=responses(401, 403, 404, 422),
)
async def admin_detach_referrer(
    id: UserId, body: RequiredReasonIn, actor: AdminActor, services: ServicesDep
) -> ReferralStateOut:
    return _state(await services.admin.detach(actor, id, body.reason))


@router.get(
    "/audit/",
    name="admin_audit",
    summary="Every operator action, newest first: who, what, on what, when and why",
    response_model=AuditPageOut,
    responses=responses(401, 403, 422),
)
async def admin_audit(
    actor: AdminActor,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> AuditPageOut:
    records, next_cursor = await services.admin.audit(limit, cursor)
    return AuditPageOut(
        items=[
            AuditOut(
                id=r.id,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                reason=r.reason,
                details=r.details,
                created_at=r.created_at,
            )
            for r in records
        ],
        next_cursor=next_cursor,
    )


def _contest(standings: ContestStandings) -> ContestOut:
    contest = standings.contest
    if standings.winners:
        rows = [
            StandingOut(rank=e.rank, user_id=e.user_id, name=e.name, count=e.count, prize=prize)
            for e, prize in standings.winners
        ]
    else:
        rows = [
            StandingOut(rank=e.rank, user_id=e.user_id, name=e.name, count=e.count)
            for e in standings.entries
        ]
    return ContestOut(
        id=contest.id,
        title=contest.title,
        starts_at=contest.starts_at,
        ends_at=contest.ends_at,
        by=contest.metric,
        prizes=list(contest.prizes),
        created_by=contest.created_by,
        closed_at=contest.closed_at,
        standings=rows,
    )


@router.post(
    "/contests/",
    name="admin_create_contest",
    summary="A referral contest: the top referrers of its window win the prizes, in order",
    status_code=201,
    response_model=ContestOut,
    responses=responses(401, 403, 422),
)
async def admin_create_contest(
    body: ContestIn, actor: AdminActor, services: ServicesDep
) -> ContestOut:
    contest = await services.leaderboard.create_contest(
        actor=actor,
        title=body.title,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        metric=body.by,
        prizes=body.prizes,
    )
    return _contest(await services.leaderboard.standings(contest.id))


@router.get(
    "/contests/",
    name="admin_list_contests",
    summary="Every contest, newest first, with its standings",
    response_model=ContestListOut,
    responses=responses(401, 403),
)
async def admin_list_contests(actor: AdminActor, services: ServicesDep) -> ContestListOut:
    contests = await services.leaderboard.contests()
    return ContestListOut(
        items=[_contest(await services.leaderboard.standings(c.id)) for c in contests]
    )


@router.get(
    "/contests/{id}/",
    name="admin_get_contest",
    summary="One contest and its standings (its winners once it has ended)",
    response_model=ContestOut,
    responses=responses(401, 403, 404, 422),
)
async def admin_get_contest(id: UserId, actor: AdminActor, services: ServicesDep) -> ContestOut:
    return _contest(await services.leaderboard.standings(id))


@router.post(
    "/campaigns/",
    name="admin_create_campaign",
    summary="An operator's campaign (a source with no referrer): link ?start=c_<slug>",
    status_code=201,
    response_model=CampaignOut,
    responses=responses(401, 403, 422),
)
async def admin_create_campaign(
    body: OperatorCampaignIn, actor: AdminActor, services: ServicesDep
) -> CampaignOut:
    return CampaignOut.of(await services.growth.create_campaign(None, body.name))


@router.get(
    "/campaigns/",
    name="admin_list_campaigns",
    summary="The operator's campaigns",
    response_model=CampaignListOut,
    responses=responses(401, 403),
)
async def admin_list_campaigns(actor: AdminActor, services: ServicesDep) -> CampaignListOut:
    return CampaignListOut(items=[CampaignOut.of(c) for c in await services.growth.campaigns(None)])
