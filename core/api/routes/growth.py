"""Campaigns, a referrer's funnel, the leaderboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.api.deps import CurrentUserId, ServicesDep
from core.api.errors import responses
from core.api.growth_schemas import (
    CampaignIn,
    CampaignListOut,
    CampaignOut,
    CampaignStatsOut,
    ContestBriefOut,
    EntryOut,
    FunnelOut,
    LeaderboardOut,
    LeaderboardQuery,
    StatsOut,
    StatsQuery,
)

router = APIRouter(tags=["growth"])


@router.post(
    "/users/me/campaigns/",
    name="create_campaign",
    summary="A campaign of yours (a channel, a partner) with its own invite link",
    status_code=201,
    response_model=CampaignOut,
    responses=responses(401, 422),
)
async def create_campaign(
    body: CampaignIn, user_id: CurrentUserId, services: ServicesDep
) -> CampaignOut:
    return CampaignOut.of(await services.growth.create_campaign(user_id, body.name))


@router.get(
    "/users/me/campaigns/",
    name="list_campaigns",
    summary="Your campaigns and their links",
    response_model=CampaignListOut,
    responses=responses(401),
)
async def list_campaigns(user_id: CurrentUserId, services: ServicesDep) -> CampaignListOut:
    return CampaignListOut(
        items=[CampaignOut.of(c) for c in await services.growth.campaigns(user_id)]
    )


@router.get(
    "/users/me/stats/",
    name="get_stats",
    summary="Your funnel: clicks, logins, joined, qualified, rewards (default: the last 30 days)",
    response_model=StatsOut,
    response_model_by_alias=True,
    responses=responses(401, 422),
)
async def get_stats(
    user_id: CurrentUserId, services: ServicesDep, query: Annotated[StatsQuery, Query()]
) -> StatsOut:
    stats = await services.growth.stats(user_id, query.from_, query.to)
    return StatsOut(
        from_=stats.since,
        to=stats.until,
        total=FunnelOut.of(stats.total),
        campaigns=[
            CampaignStatsOut(**FunnelOut.of(counts).model_dump(), campaign=CampaignOut.of(c))
            for c, counts in stats.campaigns
        ],
    )


@router.get(
    "/leaderboard/",
    name="get_leaderboard",
    summary="The top referrers of the week, the month or all time, and your own place",
    response_model=LeaderboardOut,
    responses=responses(401, 422),
)
async def get_leaderboard(
    user_id: CurrentUserId, services: ServicesDep, query: Annotated[LeaderboardQuery, Query()]
) -> LeaderboardOut:
    board = await services.leaderboard.leaderboard(user_id, query.period, query.by, query.limit)
    contest = board.contest
    return LeaderboardOut(
        period=board.period,
        by=board.metric,
        items=[EntryOut.of(e, user_id) for e in board.entries],
        me=EntryOut.of(board.me, user_id) if board.me else None,
        contest=ContestBriefOut(
            id=contest.id,
            title=contest.title,
            ends_at=contest.ends_at,
            by=contest.metric,
            prizes=list(contest.prizes),
        )
        if contest
        else None,
    )
