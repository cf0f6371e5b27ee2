"""Invite codes, referrals and the profile that shows them."""

from __future__ import annotations

import logging
from datetime import datetime

from core.domain.cursor import check_page_size, decode_cursor, encode_cursor
from core.domain.entities import Activation, Profile, ReferralPage, Referrer
from core.domain.errors import (
    InviteAlreadyActivated,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
    UserNotFound,
)
from core.domain.invite_code import parse_invite_code
from core.ports import Clock, Metrics, UnitOfWork, UnitOfWorkFactory
from core.services.program import ProgramService

log = logging.getLogger(__name__)

PROFILE_REFERRALS = 100


class ReferralService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
        program: ProgramService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self._program = program

    # ----- activation --------------------------------------------------------------------

    async def activate_invite(self, user_id: int, raw_code: str) -> Activation:
        """Make ``user_id`` a referral of the code's owner: once, for good, never in a cycle."""
        code = parse_invite_code(raw_code)
        async with self._uow() as tx:
            activation = await self.activate_in(tx, user_id, code, self._clock.now())
        assert activation is not None
        self.activated(activation)
        return activation

    async def activate_in(
        self, tx: UnitOfWork, user_id: int, code: str, now: datetime, *, on_login: bool = False
    ) -> Activation | None:
        """Activation inside the caller's transaction.

        All activations are serialised (an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on
        SQLite), so the cycle check always sees every committed edge: A→B racing B→A, or the
        last edge of any longer loop, cannot both pass. With ``on_login``, repeating the code
        the user already activated is a no-op rather than a conflict.
        """
        await tx.users.lock_referral_graph()
        user = await tx.users.get(user_id, for_update=True)
        if user is None:
            raise UserNotFound()
        owner = await tx.users.get_by_invite_code(code)
        if owner is None:
            raise InviteNotFound()
        if owner.id == user.id:
            raise InviteOwnCode()
        if user.referrer_id is not None:
            if on_login and user.referrer_id == owner.id:
                return None
            raise InviteAlreadyActivated()
        if await tx.users.chain_reaches(owner.id, user.id):
            raise InviteCycle()
        if not await tx.users.set_referrer_once(user.id, owner.id, now):
            raise InviteAlreadyActivated()
        updated = await tx.users.get(user.id)
        owner_after = await tx.users.get(owner.id)
        assert updated is not None and owner_after is not None
        updated = await self._program.joined(tx, updated, owner_after, now)
        return Activation(user=updated, referrer=owner_after.as_referrer())

    def activated(self, activation: Activation) -> None:
        """Count and log an activation once its transaction has committed."""
        self._metrics.activated()
        log.info(
            "user %d activated the invite of user %d", activation.user.id, activation.referrer.id
        )

    # ----- reading -----------------------------------------------------------------------

    async def profile(self, viewer_id: int, user_id: int) -> Profile:
        """The user's profile, for the user alone: anyone else is told it does not exist."""
        if viewer_id != user_id:
            raise UserNotFound()
        now = self._clock.now()
        async with self._uow(read_only=True) as tx:
            found = await tx.users.get_with_referrer(user_id)
            if found is None:
                raise UserNotFound()
            user, referrer = found
            phones = (
                await tx.users.referral_phones(user_id, PROFILE_REFERRALS)
                if user.referral_count
                else ()
            )
            balance = await tx.ledger.balance(user_id, now)
        return Profile(user=user, referrer=referrer, referral_phones=tuple(phones), balance=balance)

    async def referrals(
        self, user_id: int, limit: int = 20, cursor: str | None = None
    ) -> ReferralPage:
        """One keyset page of the user's referrals, newest first."""
        check_page_size(limit)
        after = decode_cursor(cursor) if cursor else None
        async with self._uow(read_only=True) as tx:
            items = await tx.users.referrals_page(user_id, limit + 1, after)
        page = tuple(items[:limit])
        next_cursor = (
            encode_cursor(page[-1].joined_at, page[-1].id) if len(items) > limit and page else None
        )
        return ReferralPage(items=page, next_cursor=next_cursor)

    async def inviter(self, raw_code: str) -> Referrer | None:
        """The owner of an invite code, if the code is well formed and exists."""
        code = parse_invite_code(raw_code)
        async with self._uow(read_only=True) as tx:
            owner = await tx.users.get_by_invite_code(code)
        return owner.as_referrer() if owner is not None else None
