"""Where people come from: deep-link clicks (the attribution of a later login), campaigns,
and each referrer's funnel (clicks → logins → joined → qualified, and what it earned)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from core.domain.entities import Campaign, Click, Stats
from core.domain.errors import InvalidInput, UserNotFound
from core.domain.growth import (
    StartPayload,
    parse_campaign_name,
    parse_start_payload,
    slug_for,
    start_payload,
)
from core.domain.policy import GrowthPolicy
from core.ports import Clock, InviteLinks, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_STATS_DAYS = 366
_SLUG_TRIES = 20


async def attributed_click(
    tx: UnitOfWork, telegram_id: int, now: datetime, window: timedelta
) -> Click | None:
    """The click a login from this Telegram account counts for: the last one in the window."""
    return await tx.growth.last_click(telegram_id, now - window)


class GrowthService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, policy: GrowthPolicy, links: InviteLinks
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._links = links

    @property
    def attribution_window(self) -> timedelta:
        return timedelta(days=self._policy.attribution_window_days)

    async def record_click(self, telegram_id: int, payload: str | None) -> StartPayload | None:
        """Someone opened ``/start <payload>``: remember it (before any login) and say what it
        carried. Payloads that name no invite and no campaign are ignored."""
        parsed = parse_start_payload(payload)
        if parsed is None:
            return None
        async with self._uow() as tx:
            owner_id = None
            if parsed.invite_code is not None:
                owner = await tx.users.get_by_invite_code(parsed.invite_code)
                if owner is None:
                    # Still remembered: the login will explain that the code is unknown.
                    await tx.growth.add_click(telegram_id, parsed.invite_code, None, self._now())
                    return parsed
                owner_id = owner.id
            campaign = (
                await tx.growth.campaign_by_slug(owner_id, parsed.campaign_slug)
                if parsed.campaign_slug
                else None
            )
            await tx.growth.add_click(
                telegram_id, parsed.invite_code, campaign.id if campaign else None, self._now()
            )
        return parsed

    async def create_campaign(self, owner_id: int | None, name: str) -> Campaign:
        """A campaign of a referrer (``owner_id``) or of the operator (None), with its link."""
        clean = parse_campaign_name(name)
        base = slug_for(clean)
        now = self._now()
        async with self._uow() as tx:
            code = None
            if owner_id is not None:
                owner = await tx.users.get(owner_id)
                if owner is None:
                    raise UserNotFound()
                code = owner.invite_code
            created = None
            for attempt in range(_SLUG_TRIES):
                slug = base if attempt == 0 else f"{base[:20]}_{attempt + 1}"
                created = await tx.growth.add_campaign(owner_id, clean, slug, now)
                if created is not None:
                    break
            if created is None:
                raise InvalidInput(
                    "Too many campaigns with this name; choose another.", field="name"
                )
        return replace(created, link=await self._links.url(start_payload(code, created.slug)))

    async def campaigns(self, owner_id: int | None) -> list[Campaign]:
        async with self._uow(read_only=True) as tx:
            found = await tx.growth.campaigns(owner_id)
            code = None
            if owner_id is not None:
                owner = await tx.users.get(owner_id)
                code = owner.invite_code if owner is not None else None
        return [replace(c, link=await self._links.url(start_payload(code, c.slug))) for c in found]

    async def stats(
        self, user_id: int, since: datetime | None = None, until: datetime | None = None
    ) -> Stats:
        """The referrer's funnel in [since, until) (default: the last 30 days), in all and for
        each of their campaigns."""
        # By default up to now, this very moment included.
        until = until or self._now() + timedelta(seconds=1)
        since = since or until - timedelta(days=30)
        if since.tzinfo is None or until.tzinfo is None:
            raise InvalidInput("from and to need a time zone, e.g. 2026-01-01T00:00:00Z.")
        if since >= until:
            raise InvalidInput("from must be before to.", field="from")
        if until - since > timedelta(days=MAX_STATS_DAYS):
            raise InvalidInput(f"A period is at most {MAX_STATS_DAYS} days.", field="from")
        async with self._uow(read_only=True) as tx:
            user = await tx.users.get(user_id)
            if user is None:
                raise UserNotFound()
            total = await tx.growth.funnel(
                since, until, invite_code=user.invite_code, referrer_id=user.id
            )
            rows = []
            for campaign in await tx.growth.campaigns(user.id):
                counts = await tx.growth.funnel(
                    since, until, referrer_id=user.id, campaign_id=campaign.id
                )
                link = await self._links.url(start_payload(user.invite_code, campaign.slug))
                rows.append((replace(campaign, link=link), counts))
        return Stats(since=since, until=until, total=total, campaigns=tuple(rows))

    def _now(self) -> datetime:
        return self._clock.now()
