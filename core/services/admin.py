"""The operator's use cases: the review queue, attaching and detaching referrers, the audit
log. Each records who did it, when and why."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from core.domain import events
from core.domain.cursor import check_page_size, decode_cursor, encode_cursor
from core.domain.entities import AuditRecord, FlaggedReferral, User
from core.domain.errors import InvalidCursor, InvalidInput, ReferralNotFound, UserNotFound
from core.domain.invite_code import parse_invite_code
from core.domain.phone import normalize_phone
from core.domain.rewards import ZERO, ReferralStatus, RewardReason, RewardStatus
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory
from core.services.leaderboard import count_joined, count_qualified
from core.services.ledger import reverse
from core.services.program import MAX_ID, ProgramService
from core.services.referrals import ReferralService

log = logging.getLogger(__name__)


def _reason(raw: str | None, *, required: bool) -> str | None:
    text = " ".join((raw or "").split())
    if required and not text:
        raise InvalidInput("Say why: reason is required.", field="reason")
    if len(text) > 300:
        raise InvalidInput("reason is at most 300 characters.", field="reason")
    return text or None


class AdminService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        program: ProgramService,
        referrals: ReferralService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._program = program
        self._referrals = referrals

    # ----- review ------------------------------------------------------------------------

    async def referrals(
        self, status: str = "flagged", limit: int = 20, cursor: str | None = None
    ) -> tuple[list[FlaggedReferral], str | None]:
        """Referrals with this status (flagged: the review queue), newest first."""
        check_page_size(limit)
        try:
            chosen = ReferralStatus(status)
        except ValueError:
            raise InvalidInput(
                "status is joined, qualified, flagged or rejected.", field="status"
            ) from None
        after = decode_cursor(cursor) if cursor else None
        async with self._uow(read_only=True) as tx:
            found = await tx.users.referrals_with_status(chosen.value, limit + 1, after)
        page = [
            FlaggedReferral(referee=u, referrer=r, signals=u.referral_signals)
            for u, r in found[:limit]
        ]
        last = page[-1].referee if page else None
        more = len(found) > limit and last is not None and last.referred_at is not None
        next_cursor = (
            encode_cursor(last.referred_at, last.id) if more and last and last.referred_at else None
        )
        return page, next_cursor

    async def approve(self, actor: str, referee_id: int, reason: str | None) -> User:
        return await self._program.approve(referee_id, _reason(reason, required=False), actor)

    async def reject(self, actor: str, referee_id: int, reason: str) -> User:
        clean = _reason(reason, required=True)
        assert clean is not None
        return await self._program.reject(referee_id, clean, actor)

    # ----- the referrer of a user, by hand ------------------------------------------------

    async def attach(self, actor: str, user_id: int, invite_code: str, reason: str | None) -> User:
        """Make the user the referral of the code's owner, by the same rules as the user doing
        it (once, never a cycle, counters and rewards as usual)."""
        code = parse_invite_code(invite_code)
        note = _reason(reason, required=False)
        now = self._clock.now()
        async with self._uow() as tx:
            activation = await self._referrals.activate_in(tx, user_id, code, now)
            assert activation is not None
            await tx.growth.add_audit(
                actor,
                "referral.attach",
                f"user:{user_id}",
                note,
                {"referrer_id": activation.referrer.id, "invite_code": code},
                now,
            )
        self._referrals.activated(activation)
        return activation.user

    async def detach(self, actor: str, user_id: int, reason: str) -> User:
        """Undo the user's referral: the referrer loses it from every count, its pending
        rewards are reversed, and what was already available is taken back by new entries."""
        note = _reason(reason, required=True)
        assert note is not None
        now = self._clock.now()
        unit = self._program.policy.unit
        async with self._uow() as tx:
            user = await tx.users.get(user_id, for_update=True) if 1 <= user_id <= MAX_ID else None
            if user is None:
                raise UserNotFound()
            if user.referrer_id is None:
                raise ReferralNotFound()
            referrer = await tx.users.get(user.referrer_id)
            assert referrer is not None
            status = user.referral_status
            if status != ReferralStatus.REJECTED and user.referred_at is not None:
                await count_joined(tx, referrer.id, user.referred_at, -1)
                if status == ReferralStatus.QUALIFIED and user.qualified_at is not None:
                    await count_qualified(tx, referrer.id, user.qualified_at, -1)
            counts = {"qualified": 0, "flagged": 0, "rejected": 0}
            if status is not None and status.value in counts:
                counts[status.value] = -1
            await tx.users.count_statuses(referrer.id, **counts)
            await tx.users.count_referral(referrer.id, -1)
            await reverse(tx, await tx.ledger.pending_of_referral(user.id), now, unit)
            taken = await self._take_back(tx, user.id, note, now)
            await tx.users.detach_referrer(user.id)
            await tx.outbox.add(
                events.new_event_uid(),
                events.REFERRAL_REJECTED,
                events.referral(user, referrer, reason=f"detached by the operator: {note}"),
                now,
            )
            await tx.growth.add_audit(
                actor,
                "referral.detach",
                f"user:{user_id}",
                note,
                {"referrer_id": referrer.id, "taken_back": [str(t) for t in taken]},
                now,
            )
            updated = await tx.users.get(user.id)
        assert updated is not None
        log.info("user %d detached from referrer %d by %s", user_id, referrer.id, actor)
        return updated

    async def _take_back(
        self, tx: UnitOfWork, referee_id: int, note: str, now: datetime
    ) -> list[Decimal]:
        """A negative ``reversal`` entry for each available reward of the referral."""
        taken = []
        available = await tx.ledger.available_of_referral(referee_id)
        await tx.ledger.lock_balances(sorted({e.user_id for e in available}))
        for entry in available:
            if entry.amount <= 0 or entry.reason == RewardReason.REVERSAL:
                continue
            text = f"taken back: the referral was detached ({note})"
            entry_id = await tx.ledger.add(
                user_id=entry.user_id,
                amount=-entry.amount,
                status=RewardStatus.AVAILABLE,
                reason=RewardReason.REVERSAL,
                referral_user_id=referee_id,
                event_id=None,
                rule_set_id=None,
                note=text,
                now=now,
                available_at=now,
            )
            await tx.ledger.move_balance(entry.user_id, available=-entry.amount, pending=ZERO)
            reversal = replace(
                entry,
                id=entry_id,
                amount=-entry.amount,
                reason=RewardReason.REVERSAL,
                event_id=None,
                created_at=now,
                available_at=now,
                note=text,
            )
            await tx.outbox.add(
                events.new_event_uid(),
                events.REWARD_REVERSED,
                events.reward(reversal, self._program.policy.unit),
                now,
            )
            taken.append(entry.amount)
        return taken

    # ----- who is an admin ----------------------------------------------------------------

    async def grant(self, actor: str, raw_phone: str) -> User:
        """Let the user with this phone use the operator's console and commands."""
        return await self._set_admin(actor, raw_phone, True)

    async def revoke(self, actor: str, raw_phone: str) -> User:
        return await self._set_admin(actor, raw_phone, False)

    async def _set_admin(self, actor: str, raw_phone: str, is_admin: bool) -> User:
        phone = normalize_phone(raw_phone, ())
        now = self._clock.now()
        async with self._uow() as tx:
            user = await tx.users.get_by_phone(phone)
            if user is None:
                raise UserNotFound("No user has this phone: they log in once first.")
            await tx.users.set_admin(user.id, is_admin)
            action = "admin.grant" if is_admin else "admin.revoke"
            await tx.growth.add_audit(actor, action, f"user:{user.id}", None, None, now)
            updated = await tx.users.get(user.id)
        assert updated is not None
        log.info("%s: user %d by %s", action, user.id, actor)
        return updated

    # ----- the audit log -----------------------------------------------------------------

    async def audit(
        self, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[AuditRecord], str | None]:
        check_page_size(limit)
        after = None
        if cursor:
            if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 19:
                raise InvalidCursor()
            after = int(cursor)
        async with self._uow(read_only=True) as tx:
            records = list(await tx.growth.audit_page(limit + 1, after))
        page = records[:limit]
        return page, str(page[-1].id) if len(records) > limit and page else None
