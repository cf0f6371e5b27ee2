"""Robustness: groups, odd input, edits, stale buttons, bugs, floods, order, 429; help, logout."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage as SendMessageMethod
from aiogram.types import Chat, Sticker

from bot.i18n import make_i18n
from bot.middlewares.throttle import Throttle
from bot.states import LoginFlow
from core.services import Services
from core.settings import Settings
from tests.bot.harness import (
    AnswerCallbackQuery,
    Harness,
    SendMessage,
    buttons,
    sent,
)
from tests.bot.helpers import PHONE, log_in
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user


def sticker() -> Sticker:
    return Sticker(
        file_id="s",
        file_unique_id="s",
        type="regular",
        width=1,
        height=1,
        is_animated=False,
        is_video=False,
    )


class TestScope:
    async def test_group_messages_get_silence(
        self, tg: Harness, services: Services, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        group = Chat(id=-100, type="supergroup", title="friends")
        for text in ("/start", "/help", "+79991234567", "hello"):
            await anna.send(text, chat=group)
        assert tg.take() == []
        assert sms.sent == []
        assert await anna.state() is None


class TestOddInput:
    async def test_a_sticker_in_a_login_step_gets_a_hint(self, tg: Harness) -> None:
        anna = tg.person()
        await anna.send("/start")
        tg.take()
        await anna.send_message(sticker=sticker())
        assert tg.last_text() == "Send your phone number: tap the button below, or type it."
        assert await anna.state() == LoginFlow.phone.state
        await anna.send(PHONE)
        tg.take()
        await anna.send_message(sticker=sticker())
        assert tg.last_text() == "Send the code from the SMS as a text message."
        assert await anna.state() == LoginFlow.code.state

    async def test_a_sticker_in_the_invite_step_gets_a_hint(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.send("/code")
        await anna.send_message(sticker=sticker())
        assert tg.last_text() == "Send the invite code as a text message, or /cancel."

    async def test_a_sticker_in_the_name_step_gets_a_hint(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.press("menu:name")
        await anna.send_message(sticker=sticker())
        assert tg.last_text() == "Send your name as a text message, or /cancel."

    async def test_anything_from_a_stranger_leads_to_the_login(self, tg: Harness) -> None:
        anna = tg.person()
        await anna.send("hello?")
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text.startswith("Hi!")
        assert buttons(reply.reply_markup)[0] == "📱 Share my phone number"
        assert await anna.state() == LoginFlow.phone.state

    async def test_the_menu_before_login_asks_to_log_in_first(self, tg: Harness) -> None:
        anna = tg.person()
        for entry in ("/profile", "👥 My referrals"):
            await anna.send(entry)
            assert tg.last_text().startswith("Log in first:")
        await anna.press("refs:1")
        assert tg.last_text().startswith("Log in first:")
        assert await anna.state() == LoginFlow.phone.state

    async def test_unknown_text_when_logged_in_points_to_the_menu(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        for message in ({"text": "what now?"}, {"text": "/unknown"}, {"sticker": sticker()}):
            await anna.send_message(**message)
            [reply] = sent(tg.take(), SendMessage)
            assert reply.text == "Choose an item from the menu below, or see /help."
            assert "👤 Profile" in buttons(reply.reply_markup)

    async def test_edited_messages_get_a_hint(self, tg: Harness) -> None:
        anna = tg.person()
        await anna.send("/start")
        tg.take()
        await anna.edit("+79991234567")
        assert tg.last_text() == "Edited messages are not read: please send a new message."
        assert await anna.state() == LoginFlow.phone.state

    async def test_a_stale_button_is_answered(self, tg: Harness, sms: RecordingSmsSender) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        for data in ("code:resend", "whatever"):
            await anna.press(data)
            [answer] = sent(tg.take(), AnswerCallbackQuery)
            assert answer.text == "This button is no longer active."


class TestErrors:
    async def test_a_bug_is_logged_with_the_update_id_and_the_user_gets_an_apology(
        self,
        tg: Harness,
        services: Services,
        sms: RecordingSmsSender,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("database on fire")

        monkeypatch.setattr(services.referrals, "profile", broken)
        with caplog.at_level(logging.ERROR, logger="bot.errors"):
            await anna.send("/profile")
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text == "Sorry, something went wrong on our side. Please try again."
        assert "👤 Profile" in buttons(reply.reply_markup)
        [record] = [r for r in caplog.records if r.name == "bot.errors"]
        assert record.getMessage().startswith("update ")
        assert "database on fire" in record.getMessage()
        assert record.exc_info is not None

    async def test_a_bug_in_a_button_still_answers_the_button(
        self,
        tg: Harness,
        services: Services,
        sms: RecordingSmsSender,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

        monkeypatch.setattr(services.referrals, "referrals", broken)
        await anna.press("refs:0")
        calls = tg.take()
        assert len(sent(calls, AnswerCallbackQuery)) == 1
        assert tg.texts(calls) == ["Sorry, something went wrong on our side. Please try again."]

    async def test_a_failing_send_of_the_apology_is_only_logged(
        self,
        tg: Harness,
        services: Services,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

        monkeypatch.setattr(services.referrals, "inviter", broken)
        tg.session.errors.append(RuntimeError("network down"))  # the apology fails too
        anna = tg.person()
        await anna.send("/start ABCDEF")  # no exception escapes feed_update
        assert any("could not send the apology" in r.getMessage() for r in caplog.records)


class TestThrottle:
    async def test_a_flood_is_dropped_with_one_notice(
        self, services: Services, settings: Settings, clock: FrozenClock
    ) -> None:
        now = [0.0]
        throttle = Throttle(2.0, make_i18n(), clock=lambda: now[0])
        harness = Harness(services, settings, clock, throttle=throttle)
        try:
            anna = harness.person()
            for _ in range(10):
                await anna.send("/help")
            texts = harness.texts()
            assert texts.count("Too many messages at once. Please wait a moment.") == 1
            assert len(texts) == 6 + 1  # a burst of 3 s at 2/s, then one notice
            now[0] += 1.0  # two more a second later
            for _ in range(3):
                await anna.send("/help")
            texts = harness.texts()
            assert len(texts) == 2 + 1
            # Someone else is not affected.
            await harness.person(user_id=2002).send("/help")
            assert len(harness.texts()) == 1
        finally:
            await harness.close()

    async def test_a_flooded_button_gets_its_notice_as_an_answer(
        self, services: Services, settings: Settings, clock: FrozenClock
    ) -> None:
        throttle = Throttle(0.1, make_i18n(), clock=lambda: 0.0)
        harness = Harness(services, settings, clock, throttle=throttle)
        try:
            anna = harness.person()
            await anna.press("whatever")
            harness.take()
            await anna.press("whatever")
            [answer] = sent(harness.take(), AnswerCallbackQuery)
            assert answer.text == "Too many messages at once. Please wait a moment."
        finally:
            await harness.close()

    def test_the_rate_comes_from_the_settings(self, tg: Harness) -> None:
        [throttle] = [m for m in tg.dp.update.outer_middleware if isinstance(m, Throttle)]
        assert throttle.rate == 1000


class TestIsolation:
    async def test_a_contact_and_a_code_sent_together_are_handled_in_order(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start")
        tg.take()
        # "12345" arrives while the contact is still being handled. With per-user isolation it
        # waits and is read in the code step (a malformed code); without, it would be read in
        # the phone step (an invalid number).
        await asyncio.gather(anna.share_contact("79991234567"), anna.send("12345"))
        assert tg.texts() == [
            "📨 We sent an SMS with a code to +7999***4567.",
            "Enter the code from the SMS. No SMS? Ask for a new one when the button allows.",
            "The code is digits only, as in the SMS.",
        ]


class TestRetryAfter:
    async def test_a_429_on_a_send_is_waited_out_and_retried_once(self, tg: Harness) -> None:
        method = SendMessageMethod(chat_id=1, text="x")
        tg.session.errors.append(TelegramRetryAfter(method, "Too Many Requests", retry_after=0))
        await tg.person().send("/help")
        calls = sent(tg.take(), SendMessage)
        assert len(calls) == 2 and calls[0].text == calls[1].text

    async def test_a_second_429_is_logged_not_raised(
        self, tg: Harness, caplog: pytest.LogCaptureFixture
    ) -> None:
        method = SendMessageMethod(chat_id=1, text="x")
        for _ in range(2):
            tg.session.errors.append(TelegramRetryAfter(method, "Too Many Requests", retry_after=0))
        await tg.person().send("/help")
        assert any(r.name == "bot.errors" and r.levelno == logging.ERROR for r in caplog.records)
        assert tg.texts()[-1] == "Sorry, something went wrong on our side. Please try again."


class TestHelpAndLogout:
    async def test_help_explains_the_service(self, tg: Harness) -> None:
        await tg.person().send("❓ Help")
        text = tg.last_text()
        assert text.startswith("<b>How it works</b>")
        assert "/invite" in text and "/referrals" in text and "/logout" in text

    async def test_logout_unlinks_this_telegram_account(
        self, tg: Harness, services: Services, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person(language_code="en")
        user = await log_in(tg, anna, sms)
        await anna.send("/logout")
        assert tg.last_text().startswith("You are logged out")
        assert await services.accounts.user_by_telegram(anna.user.id) is None
        assert (await get_user(services, user.id)).telegram_id is None
        await anna.send("/profile")
        assert tg.last_text().startswith("Log in first:")

    async def test_logout_when_not_logged_in(self, tg: Harness) -> None:
        await tg.person().send("/logout")
        assert tg.last_text() == "You are not logged in. Press /start to log in."
