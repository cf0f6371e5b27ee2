"""The one translation table: every domain error has a friendly text, in both languages."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from bot.errors import REPLIES, error_text, reply_for
from bot.i18n import make_i18n, use_locale
from bot.states import LoginFlow
from core.domain import errors
from core.domain.errors import DomainError
from core.services import Services
from tests.bot.harness import Harness, SendMessage, buttons, sent
from tests.bot.helpers import PHONE

EXPECTED = {
    errors.InvalidPhone: "This does not look like a phone number. Send it in international "
    "format, e.g. +79991234567.",
    errors.PhoneNotAllowed: "Sorry, phone numbers of this country are not served.",
    errors.InvalidCode: "The code is digits only, as in the SMS.",
    errors.InvalidInviteCode: "An invite code is 6 letters and digits, e.g. 7KQ2XD.",
    errors.InvalidName: "A name is 1 to 64 letters, spaces, hyphens or apostrophes.",
    errors.InvalidLanguage: "Only English and Russian are available.",
    errors.InvalidCursor: "This input is not valid. Please check it and try again.",
    errors.InvalidInput: "This input is not valid. Please check it and try again.",
    errors.UserNotFound: "Your account was not found. Press /start to log in again.",
    errors.NotFound: "Nothing was found.",
    errors.InviteNotFound: "Nobody has this invite code. Check it and try again.",
    errors.InviteOwnCode: "This is your own invite code: send it to friends instead.",
    errors.InviteAlreadyActivated: "You have already activated an invite code; it can be done "
    "only once.",
    errors.InviteCycle: "This code belongs to someone you invited, directly or through others, "
    "so it cannot be activated.",
    errors.Conflict: "This cannot be done now.",
    errors.CodeInvalid: "Wrong code. 2 attempts left.",
    errors.CodeExpired: "The code has expired. Ask for a new one.",
    errors.TokenInvalid: "Please log in again: press /start.",
    errors.TokenReused: "Please log in again: press /start.",
    errors.Unauthorized: "Please log in again: press /start.",
    errors.RateLimited: "Too many code requests. You can ask again in 2 seconds.",
    errors.ResendTooSoon: "You can ask for a new code in 2 s.",
    errors.PhoneLocked: "Too many wrong codes. This number is locked; try again in 2 seconds.",
    errors.SmsDeliveryFailed: "The SMS could not be sent. Please try again later.",
    errors.SmsDailyCapReached: "The service cannot send more codes today. Please try again "
    "tomorrow.",
    errors.Unavailable: "The service is busy right now. Please try again later.",
    errors.DomainError: "Something went wrong. Please try again.",
    # What integrators and the operator meet: the bot falls back on the category's text.
    errors.InvalidAmount: "This input is not valid. Please check it and try again.",
    errors.InvalidEvent: "This input is not valid. Please check it and try again.",
    errors.EventConflict: "This cannot be done now.",
    errors.ReferralNotFlagged: "This cannot be done now.",
    errors.ReferralAlreadyRejected: "This cannot be done now.",
    errors.ReferralNotFound: "Nothing was found.",
    errors.ApiKeyNotFound: "Nothing was found.",
    errors.WebhookNotFound: "Nothing was found.",
    errors.ContestNotFound: "Nothing was found.",
    errors.CampaignNotFound: "Nothing was found.",
    errors.EventNotFound: "Nothing was found.",
    errors.ApiKeyInvalid: "Please log in again: press /start.",
    errors.ApiKeyScopeMissing: "Something went wrong. Please try again.",
    errors.Forbidden: "Something went wrong. Please try again.",
}
ALL_ERRORS = [
    cls
    for _name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, DomainError) and cls.__module__ == errors.__name__
]


def instance(cls: type[DomainError]) -> DomainError:
    if cls is errors.ApiKeyScopeMissing:
        return cls("admin")
    if issubclass(cls, errors.RateLimited):
        return cls(2)
    if cls is errors.CodeInvalid:
        return cls(2)
    return cls()


def test_every_error_of_the_core_is_expected_here() -> None:
    assert set(ALL_ERRORS) == set(EXPECTED), "a new DomainError needs a text in bot/errors.py"


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_has_a_text_in_both_languages(cls: type[DomainError]) -> None:
    i18n = make_i18n()
    exc = instance(cls)
    with use_locale(i18n, "en"):
        english = error_text(exc)
    with use_locale(i18n, "ru"):
        russian = error_text(exc)
    assert english == EXPECTED[cls]
    assert russian and russian != english


def test_the_table_is_resolved_by_inheritance_not_by_order() -> None:
    class NewConflict(errors.Conflict):
        pass

    assert reply_for(NewConflict()) is REPLIES[errors.Conflict]
    assert reply_for(errors.PhoneLocked(5)) is REPLIES[errors.PhoneLocked]


async def test_every_error_text_reaches_the_user_through_the_dispatcher(
    tg: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    raised: list[DomainError] = []

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise raised[-1]

    monkeypatch.setattr(services.auth, "request_code", refuse)
    for n, cls in enumerate(ALL_ERRORS):
        raised.append(instance(cls))
        anna = tg.person(user_id=4000 + n)
        await anna.send("/start")
        tg.take()
        await anna.send(PHONE)
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text == EXPECTED[cls], cls.__name__
        end_step = reply_for(raised[-1]).end_step
        assert await anna.state() == (None if end_step else LoginFlow.phone.state), cls.__name__
        if cls is errors.CodeExpired:
            assert buttons(reply.reply_markup)[0] == "🔁 Send a new code"


def test_rate_limits_read_in_minutes_and_hours() -> None:
    i18n = make_i18n()
    with use_locale(i18n, "en"):
        assert error_text(errors.PhoneLocked(3600)).endswith("try again in 1 hour.")
        assert error_text(errors.RateLimited(90)).endswith("ask again in 2 minutes.")
    with use_locale(i18n, "ru"):
        assert error_text(errors.PhoneLocked(3600)).endswith("попробуйте через 1 час.")
