"""The account itself: names, language and the Telegram account linked to it."""

from __future__ import annotations

from core.domain.entities import User
from core.domain.errors import InvalidInput, UserNotFound
from core.domain.languages import parse_language
from core.domain.names import clean_name
from core.ports import UnitOfWorkFactory


class AccountService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

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
