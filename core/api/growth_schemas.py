"""Bodies of campaigns, stats and leaderboards."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from core.api.schemas import IsoDatetime
from core.domain.entities import Campaign, FunnelCounts, LeaderboardEntry


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=64, examples=["My channel"])]


class CampaignOut(BaseModel):
    id: int
    name: str
    slug: str
    link: str | None = Field(
        description="https://t.me/<bot>?start=<invite code>-<slug>; null while no bot is set up."
    )
    created_at: datetime

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(
            id=campaign.id,
            name=campaign.name,
            slug=campaign.slug,
            link=campaign.link,
            created_at=campaign.created_at,
        )


class CampaignListOut(BaseModel):
    items: list[CampaignOut]


class FunnelOut(BaseModel):
    clicks: int = Field(description="Deep-link opens.")
    logins: int = Field(description="People who logged in after a click (each counted once).")
    joined: int
    qualified: int
    click_to_login: float | None
    login_to_joined: float | None
    joined_to_qualified: float | None
    rewards: str = Field(description="What was credited in the period (two decimal places).")

    @classmethod
    def of(cls, counts: FunnelCounts) -> FunnelOut:
        return cls(
            clicks=counts.clicks,
            logins=counts.logins,
            joined=counts.joined,
            qualified=counts.qualified,
            click_to_login=counts.rate(counts.logins, counts.clicks),
            login_to_joined=counts.rate(counts.joined, counts.logins),
            joined_to_qualified=counts.rate(counts.qualified, counts.joined),
            rewards=str(counts.rewards),
        )


class CampaignStatsOut(FunnelOut):
    campaign: CampaignOut


class StatsOut(BaseModel):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    total: FunnelOut
    campaigns: list[CampaignStatsOut]

    model_config = ConfigDict(populate_by_name=True)


class EntryOut(BaseModel):
    rank: int
    name: str = Field(description="First name and initial, or a masked phone; never a phone.")
    count: int
    you: bool = False

    @classmethod
    def of(cls, entry: LeaderboardEntry, viewer_id: int) -> EntryOut:
        return cls(
            rank=entry.rank, name=entry.name, count=entry.count, you=entry.user_id == viewer_id
        )


class ContestBriefOut(BaseModel):
    id: int
    title: str
    ends_at: datetime
    by: str
    prizes: list[str]


class LeaderboardOut(BaseModel):
    period: str
    by: str
    items: list[EntryOut]
    me: EntryOut | None = Field(description="Your own place; null without referrals then.")
    contest: ContestBriefOut | None = Field(description="The contest running now, if any.")


class StatsQuery(BaseModel):
    """Query parameters of /users/me/stats/; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: IsoDatetime | None = Field(
        None, alias="from", description="Start of the period (ISO 8601); default: 30 days ago."
    )
    to: IsoDatetime | None = Field(None, description="End of the period; default: now.")


class LeaderboardQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Literal["week", "month", "all"] = "week"
    by: Literal["joined", "qualified"] = "joined"
    limit: Annotated[int, Field(ge=1, le=100)] = 10
