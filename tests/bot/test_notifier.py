"""Dialog 8: TelegramNotifier tells the referrer, in their language, and never raises."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import SendMessage as SendMessageMethod

from bot.middlewares.retry_after import RetryAfterMiddleware
from bot.notifier import TelegramNotifier
from core.domain.entities import User
from tests.bot.harness import BOT_TOKEN, RecordingSession, SendMessage, sent


def person(
    user_id: int,
    *,
    telegram_id: int | None = None,
    language: str | None = None,
    first_name: str | None = None,
    referral_count: int = 0,
) -> User:
    return User(
        id=user_id,
        phone=f"+7999000{user_id:04d}",
        invite_code="ABC123",
        first_name=first_name,
        last_name=None,
        referrer_id=None,
        referred_at=None,
        telegram_id=telegram_id,
        language=language,
        referral_count=referral_count,
        created_at=datetime(2026, 1, 15, tzinfo=UTC),
    )


@pytest.fixture
async def session() -> AsyncIterator[RecordingSession]:
    recording = RecordingSession()
    yield recording
    await recording.close()


def flood() -> TelegramRetryAfter:
    return TelegramRetryAfter(SendMessageMethod(chat_id=1, text="x"), "Too Many Requests", 0)


BORIS = person(1, telegram_id=501, language="en", referral_count=3)
ANNA = person(2, first_name="Anna")


async def test_the_referrer_gets_a_message_in_their_language(session: RecordingSession) -> None:
    notifier = TelegramNotifier(Bot(BOT_TOKEN, session=session))
    await notifier.referral_joined(
        person(1, telegram_id=501, language="ru", referral_count=2), ANNA
    )
    [message] = sent(session.requests, SendMessage)
    assert message.chat_id == 501
    assert message.text == (
        "🎉 Anna присоединился(-ась) по вашему приглашению!\nТеперь у вас 2 реферала."
    )


async def test_a_referral_without_a_name_is_shown_by_masked_phone(
    session: RecordingSession,
) -> None:
    await TelegramNotifier(Bot(BOT_TOKEN, session=session)).referral_joined(BORIS, person(2))
    [message] = sent(session.requests, SendMessage)
    assert message.text == "🎉 +7999***0002 joined by your invite!\nYou now have 3 referrals."


async def test_nobody_to_tell_without_a_linked_telegram(session: RecordingSession) -> None:
    await TelegramNotifier(Bot(BOT_TOKEN, session=session)).referral_joined(person(1), ANNA)
    assert session.requests == []


async def test_flood_control_is_waited_out_and_retried_once(session: RecordingSession) -> None:
    session.errors.append(flood())
    await TelegramNotifier(Bot(BOT_TOKEN, session=session)).referral_joined(BORIS, ANNA)
    assert len(sent(session.requests, SendMessage)) == 2


async def test_with_the_session_middleware_the_retry_is_not_doubled(
    session: RecordingSession, caplog: pytest.LogCaptureFixture
) -> None:
    session.middleware(RetryAfterMiddleware())
    session.errors.extend([flood(), flood()])
    await TelegramNotifier(Bot(BOT_TOKEN, session=session)).referral_joined(BORIS, ANNA)
    assert len(sent(session.requests, SendMessage)) == 2
    assert "could not tell user 1 about referral 2" in caplog.text


async def test_other_errors_are_logged_never_raised(
    session: RecordingSession, caplog: pytest.LogCaptureFixture
) -> None:
    session.errors.append(
        TelegramForbiddenError(SendMessageMethod(chat_id=1, text="x"), "bot was blocked")
    )
    with caplog.at_level(logging.WARNING, logger="bot.notifier"):
        await TelegramNotifier(Bot(BOT_TOKEN, session=session)).referral_joined(BORIS, ANNA)
    assert "could not tell user 1 about referral 2" in caplog.text
