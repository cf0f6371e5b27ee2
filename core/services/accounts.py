"""The account itself: names, language and the Telegram account linked to it."""

from __future__ import annotations

from core.domain.entities import User, UserRef, UserSummary
from core.domain.errors import InvalidInput, UserNotFound
from core.domain.languages import parse_language
from core.domain.names import clean_name
from core.domain.phone import normalize_phone
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory

MAX_ID = 2**63 - 1


async def find_user(tx: UnitOfWork, ref: UserRef) -> User:
    """The user an integrator names by id, phone or Telegram id (exactly one of them)."""
    given = [v for v in (ref.id, ref.phone, ref.telegram_id) if v is not None]
    if len(given) != 1:
        raise InvalidInput(
            "Name the user by exactly one of id, phone or telegram_id.", field="user"
        )
    found: User | None
    if ref.id is not None:
        found = await tx.users.get(ref.id) if 1 <= ref.id <= MAX_ID else None
    elif ref.telegram_id is not None:
        in_range = abs(ref.telegram_id) <= MAX_ID
        found = await tx.users.get_by_telegram_id(ref.telegram_id) if in_range else None
    else:
        assert ref.phone is not None
        found = await tx.users.get_by_phone(normalize_phone(ref.phone, ()))
    if found is None:
        raise UserNotFound()
    return found


class AccountService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def lookup(self, ref: UserRef) -> UserSummary:
        """A user and their balance, for an integrator with ``users:read``."""
        async with self._uow(read_only=True) as tx:
            user = await find_user(tx, ref)
            balance = await tx.ledger.balance(user.id, self._clock.now())
        return UserSummary(user=user, balance=balance)

    async def user_by_telegram(self, telegram_id: int) -> User | None:
        """The user this Telegram account is linked to, if any."""
        async with self._uow(read_only=True) as tx:
            return await tx.users.get_by_telegram_id(telegram_id)

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
        """Log this Telegram account out: it no longer speaks for any user."""
        async with self._uow() as tx:
            await tx.users.unlink_telegram(telegram_id)
