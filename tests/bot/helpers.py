"""Shortcuts for bot tests: logging in through the bot, or creating people through the core."""

from __future__ import annotations

from core.domain.entities import User
from core.services import Services
from tests.bot.harness import Harness, Person
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender

PHONE = "+79991234567"


def phone_number(i: int) -> str:
    """Distinct valid numbers, each under its own 7-digit prefix (the core caps each prefix)."""
    return f"+7999{i:03d}4567"


async def log_in(tg: Harness, person: Person, sms: RecordingSmsSender, phone: str = PHONE) -> User:
    """The whole login through the bot; returns the linked core user and forgets the calls."""
    await person.send("/start")
    await person.share_contact(phone)
    await person.send(sms.last_code(phone))
    user = await tg.services.accounts.user_by_telegram(person.user.id)
    assert user is not None, tg.texts()
    tg.take()
    return user


async def make_user(
    services: Services,
    sms: RecordingSmsSender,
    clock: FrozenClock,
    phone: str,
    invite_code: str | None = None,
    first_name: str | None = None,
) -> User:
    """Someone who signed up through the core (as the REST API would)."""
    await services.auth.request_code(phone, f"test:{phone}")
    user = (await services.auth.login(phone, sms.last_code(phone), invite_code=invite_code)).user
    if first_name is not None:
        user = await services.accounts.update_names(user.id, first_name=first_name)
    clock.advance(1)
    return user
