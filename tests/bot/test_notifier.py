"""The worker's Telegram sender: texts in the recipient's language, Telegram's answers mapped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage as SendMessageMethod

from bot.app import create_bot
from bot.middlewares.retry_after import retries_after
from bot.notifier import TelegramNotifier
from core.domain.entities import QueuedMessage
from core.ports import RecipientBlocked, SendFailed, SendLater
from core.settings import Settings
from tests.bot.harness import BOT_TOKEN, RecordingSession, SendMessage, sent

METHOD = SendMessageMethod(chat_id=501, text="x")


def message(kind: str, params: dict[str, Any], language: str | None = "en") -> QueuedMessage:
    return QueuedMessage(
        id=1,
        user_id=1,
        telegram_id=501,
        language=language,
        kind=kind,
        params=params,
        attempts=0,
        broadcast_id=None,
    )


ANNA = {"first_name": "Anna", "last_name": None, "phone": "+79990000002"}


@pytest.fixture
async def session() -> AsyncIterator[RecordingSession]:
    recording = RecordingSession()
    yield recording
    await recording.close()


@pytest.fixture
def notifier(session: RecordingSession) -> TelegramNotifier:
    return TelegramNotifier(Bot(BOT_TOKEN, session=session))


@pytest.mark.parametrize(
    ("kind", "params", "language", "text"),
    [
        (
            "referral_joined",
            {**ANNA, "referral_count": 2},
            "ru",
            "🎉 Anna присоединился(-ась) по вашему приглашению!\nТеперь у вас 2 реферала.",
        ),
        (
            "referral_joined",
            {"phone": "+79990000002", "referral_count": 3},
            "en",
            "🎉 +7999***0002 joined by your invite!\nYou now have 3 referrals.",
        ),
        (
            "referral_qualified",
            {**ANNA, "amount": "199.00", "unit": "points", "pending": False},
            "en",
            "✅ Anna, whom you invited, has qualified.\nYou earned 199.00 points.",
        ),
        (
            "referral_qualified",
            {
                **ANNA,
                "amount": "1234.50",
                "unit": "RUB",
                "pending": True,
                "available_at": "2026-01-29T12:00:00+00:00",
            },
            "en",
            "✅ Anna, whom you invited, has qualified.\n"
            "You earned 1,234.50 RUB; it becomes available on Jan 29, 2026.",
        ),
        (
            "reward_received",
            {"amount": "29.70", "unit": "points", "reason": "level2", "pending": False},
            "en",
            "🎁 29.70 points from a referral of your referral.",
        ),
        (
            "reward_available",
            {"amount": "100.00", "unit": "points"},
            "en",
            "💰 100.00 points of your rewards can now be spent.",
        ),
        ("broadcast", {"text": "Hello <b>all</b>"}, "en", "Hello <b>all</b>"),
    ],
)
async def test_each_kind_is_rendered_in_the_recipients_language(
    notifier: TelegramNotifier,
    session: RecordingSession,
    kind: str,
    params: dict[str, Any],
    language: str,
    text: str,
) -> None:
    await notifier.send(message(kind, params, language))
    [sent_message] = sent(session.requests, SendMessage)
    assert sent_message.chat_id == 501 and sent_message.text == text


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (
            TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user"),
            RecipientBlocked,
        ),
        (TelegramBadRequest(METHOD, "Bad Request: chat not found"), RecipientBlocked),
        (TelegramRetryAfter(METHOD, "Too Many Requests", 7), SendLater),
        (TelegramNetworkError(METHOD, "connection reset"), SendFailed),
    ],
)
async def test_telegrams_answers_become_the_ports_outcomes(
    notifier: TelegramNotifier,
    session: RecordingSession,
    error: Exception,
    outcome: type[Exception],
) -> None:
    session.errors.append(error)
    with pytest.raises(outcome) as raised:
        await notifier.send(message("reward_available", {"amount": "1.00", "unit": "points"}))
    if isinstance(raised.value, SendLater):
        assert raised.value.retry_after == 7


async def test_a_text_telegram_refuses_is_a_permanent_failure(
    notifier: TelegramNotifier, session: RecordingSession
) -> None:
    session.errors.append(TelegramBadRequest(METHOD, "Bad Request: message is too long"))
    with pytest.raises(SendFailed) as raised:
        await notifier.send(message("broadcast", {"text": "x"}))
    assert raised.value.permanent


def test_the_workers_bot_does_not_wait_out_a_flood_inside_a_send() -> None:
    """The worker's queue delays that chat instead, so the bot it sends with has no retry."""
    settings = Settings(_env_file=None, BOT_TOKEN=BOT_TOKEN)
    assert retries_after(create_bot(settings))
    assert not retries_after(create_bot(settings, wait_out_flood=False))
