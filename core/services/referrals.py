"""Invite codes, referrals and profiles."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from datetime import datetime

from core.domain.entities import Activation, Profile, ReferralPage, Referrer, User
from core.domain.errors import (
    InvalidCursor,
    InvalidInput,
    InviteAlreadyActivated,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
    UserNotFound,
)
from core.domain.invite_code import parse_invite_code
from core.ports import Clock, ReferralNotifier, UnitOfWork, UnitOfWorkFactory
from core.services.languages import parse_language
from core.services.metrics import Metrics
from core.services.names import clean_name

log = logging.getLogger(__name__)

PROFILE_REFERRALS = 100
MAX_PAGE = 100
NOTIFY_TIMEOUT_SECONDS = 5.0


def encode_cursor(joined_at: datetime, user_id: int) -> str:
    raw = f"{joined_at.isoformat()}|{user_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, user_id = raw.split("|")
        joined_at = datetime.fromisoformat(stamp)
        if joined_at.tzinfo is None:
            raise ValueError("naive")
        return joined_at, int(user_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor() from None


class ReferralService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
        notifier: ReferralNotifier | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self.notifier = notifier

    # ----- activation --------------------------------------------------------------------

    async def activate_invite(self, user_id: int, raw_code: str) -> Activation:
        """Make ``user_id`` a referral of the code's owner: once, for good, never in a cycle."""
        code = parse_invite_code(raw_code)
        async with self._uow() as tx:
            activation = await self.activate_in(tx, user_id, code, self._clock.now())
        assert activation is not None
        await self.notify(activation)
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
        self._metrics.activated()
        log.info("user %d activated the invite of user %d", user.id, owner.id)
        return Activation(user=updated, referrer=owner_after.as_referrer())

    async def notify(self, activation: Activation) -> None:
        """Tell the referrer, best effort: a failure here never undoes the activation."""
        if self.notifier is None:
            return
        async with self._uow(read_only=True) as tx:
            referrer = await tx.users.get(activation.referrer.id)
        if referrer is None:
            return
        try:
            await asyncio.wait_for(
                self.notifier.referral_joined(referrer, activation.user), NOTIFY_TIMEOUT_SECONDS
            )
        except Exception:
            log.warning("could not notify user %d of a new referral", referrer.id, exc_info=True)

    # ----- reading -----------------------------------------------------------------------

    async def profile(self, viewer_id: int, user_id: int) -> Profile:
        """The user's profile, for the user alone: anyone else is told it does not exist."""
        if viewer_id != user_id:
            raise UserNotFound()
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
        return Profile(user=user, referrer=referrer, referral_phones=tuple(phones))

    async def referrals(
        self, user_id: int, limit: int = 20, cursor: str | None = None
    ) -> ReferralPage:
        """One keyset page of the user's referrals, newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
        after = decode_cursor(cursor) if cursor else None
        async with self._uow(read_only=True) as tx:
            items = await tx.users.referrals_page(user_id, limit + 1, after)
        page = tuple(items[:limit])
        next_cursor = (
            encode_cursor(page[-1].joined_at, page[-1].id) if len(items) > limit and page else None
        )
        return ReferralPage(items=page, next_cursor=next_cursor)

    async def get_user(self, user_id: int) -> User:
        async with self._uow(read_only=True) as tx:
            user = await tx.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def user_by_telegram(self, telegram_id: int) -> User | None:
        async with self._uow(read_only=True) as tx:
            return await tx.users.get_by_telegram_id(telegram_id)

    async def inviter(self, raw_code: str) -> Referrer | None:
        """The owner of an invite code, if the code is well formed and exists."""
        code = parse_invite_code(raw_code)
        async with self._uow(read_only=True) as tx:
            owner = await tx.users.get_by_invite_code(code)
        return owner.as_referrer() if owner is not None else None

    # ----- editing -----------------------------------------------------------------------

    async def update_names(
        self, user_id: int, first_name: str | None = None, last_name: str | None = None
    ) -> User:
        """Change the first and/or last name; each follows ``clean_name``'s rules."""
        if first_name is None and last_name is None:
            raise InvalidInput("Give first_name, last_name or both.")
        first = (
            clean_name(first_name, "First name", "first_name") if first_name is not None else None
        )
        last = clean_name(last_name, "Last name", "last_name") if last_name is not None else None
        async with self._uow() as tx:
            user = await tx.users.get(user_id, for_update=True)
            if user is None:
                raise UserNotFound()
            new_first = first if first is not None else user.first_name
            new_last = last if last is not None else user.last_name
            if new_first is None:
                raise InvalidInput("Set a first name before a last name.")
            await tx.users.update_names(user_id, new_first, new_last)
            updated = await tx.users.get(user_id)
        assert updated is not None
        return updated

    async def set_language(self, user_id: int, language: str) -> User:
        lang = parse_language(language)
        async with self._uow() as tx:
            await tx.users.set_language(user_id, lang)
            user = await tx.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def unlink_telegram(self, telegram_id: int) -> None:
        async with self._uow() as tx:
            await tx.users.unlink_telegram(telegram_id)
