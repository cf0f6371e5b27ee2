"""Dialogs 2-4: the phone, the code, the account link, the pending invite."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import (
    InlineKeyboardMarkup,
    MessageOriginUser,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.states import LOCALE, PENDING_INVITE, LoginFlow
from bot.states import PHONE as PHONE_KEY
from core.services import Services
from tests.bot.harness import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    Harness,
    SendMessage,
    buttons,
    callback_of,
    sent,
)
from tests.bot.helpers import PHONE, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


async def start_code_step(tg: Harness, sms: RecordingSmsSender, phone: str = PHONE) -> Any:
    person = tg.person()
    await person.send("/start")
    await person.share_contact(phone.lstrip("+"))
    tg.take()
    return person


class TestPhone:
    async def test_own_contact_sends_the_code_and_shows_the_masked_number(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start")
        tg.take()
        await anna.share_contact("79991234567")  # as Telegram sends it: no plus
        ack, prompt = sent(tg.take(), SendMessage)
        assert ack.text == "📨 We sent an SMS with a code to +7999***4567."
        assert isinstance(ack.reply_markup, ReplyKeyboardRemove)
        assert isinstance(prompt.reply_markup, InlineKeyboardMarkup)
        assert buttons(prompt.reply_markup) == [
            "⏳ Send again in 60 s",
            "✏️ Change number",
            "✖️ Cancel",
        ]
        assert sms.sent[-1][0] == PHONE
        assert await anna.state() == LoginFlow.code.state
        assert (await anna.data())[PHONE_KEY] == PHONE

    async def test_someone_elses_contact_is_refused_and_asked_again(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start")
        tg.take()
        await anna.share_contact("79991234567", user_id=999)
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text.startswith("This is not your own contact.")
        assert isinstance(reply.reply_markup, ReplyKeyboardMarkup)
        assert sms.sent == []
        assert await anna.state() == LoginFlow.phone.state

    async def test_a_contact_without_a_telegram_account_is_refused(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start")
        await anna.share_contact("79991234567", user_id=None)
        assert tg.last_text().startswith("This is not your own contact.")
        assert sms.sent == []

    async def test_a_forwarded_contact_is_refused_even_if_it_is_mine(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start")
        origin = MessageOriginUser(date=datetime.now(UTC), sender_user=anna.user)
        await anna.share_contact("79991234567", forward_origin=origin)
        assert tg.last_text().startswith("This is not your own contact.")
        assert sms.sent == []

    async def test_a_typed_number_works_too(self, tg: Harness, sms: RecordingSmsSender) -> None:
        anna = tg.person()
        await anna.send("/start")
        await anna.send("8 (999) 123-45-67")
        assert sms.sent[-1][0] == PHONE
        assert await anna.state() == LoginFlow.code.state

    async def test_a_bad_number_is_explained_and_the_step_stays(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start")
        for typed, text in [
            ("hello", "This does not look like a phone number."),
            ("+1 202 555 0143", "Sorry, phone numbers of this country are not served."),
        ]:
            tg.take()
            await anna.send(typed)
            assert tg.last_text().startswith(text)
            assert await anna.state() == LoginFlow.phone.state
        assert sms.sent == []

    async def test_the_code_goes_out_in_the_users_language(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        ivan = tg.person(language_code="uk")
        await ivan.send("/start")
        await ivan.share_contact("79991234567")
        assert sms.sent[-1][1].startswith("Ваш код")
        assert tg.texts()[-2] == "📨 Мы отправили SMS с кодом на +7999***4567."

    async def test_sms_failure_is_explained(self, tg: Harness, sms: RecordingSmsSender) -> None:
        sms.fail = True
        anna = tg.person()
        await anna.send("/start")
        await anna.share_contact("79991234567")
        assert tg.last_text() == "The SMS could not be sent. Please try again later."
        assert await anna.state() == LoginFlow.phone.state


class TestCode:
    async def test_right_code_links_the_account_and_greets_with_profile_and_menu(
        self, tg: Harness, services: Services, sms: RecordingSmsSender
    ) -> None:
        anna = await start_code_step(tg, sms)
        await anna.send(sms.last_code())
        [greeting] = sent(tg.take(), SendMessage)
        user = await services.accounts.user_by_telegram(anna.user.id)
        assert user is not None and user.phone == PHONE
        assert user.first_name == "Anna" and user.language == "en"
        assert greeting.text.startswith("✅ Welcome, Anna!\nYou are logged in with +7999***4567.")
        assert f"https://t.me/referral_test_bot?start={user.invite_code}" in greeting.text
        assert buttons(greeting.reply_markup) == [
            "👤 Profile",
            "🔗 My invite link",
            "👥 My referrals",
            "🎟 Enter invite code",
            "🌐 Language",
            "❓ Help",
        ]
        assert await anna.state() is None
        assert await anna.data() == {}

    async def test_a_phone_registered_through_the_api_is_the_same_account(
        self, tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        api_user = await make_user(services, sms, clock, PHONE)
        clock.advance(60)
        anna = await start_code_step(tg, sms)
        await anna.send(sms.last_code())
        linked = await services.accounts.user_by_telegram(anna.user.id)
        assert linked is not None and linked.id == api_user.id
        assert api_user.invite_code in tg.last_text()

    async def test_wrong_code_tells_the_attempts_left(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = await start_code_step(tg, sms)
        await anna.send(wrong(sms.last_code()))
        assert tg.last_text() == "Wrong code. 4 attempts left."
        for _ in range(3):
            await anna.send(wrong(sms.last_code()))
        assert tg.last_text() == "Wrong code. 1 attempt left."
        assert await anna.state() == LoginFlow.code.state

    async def test_a_used_up_code_offers_a_new_one(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = await start_code_step(tg, sms)
        for _ in range(5):
            await anna.send(wrong(sms.last_code()))
        [reply] = sent(tg.take(), SendMessage)[-1:]
        assert reply.text == "This code is no longer valid. Ask for a new one."
        assert buttons(reply.reply_markup)[0] == "🔁 Send a new code"

    async def test_malformed_code_is_explained(self, tg: Harness, sms: RecordingSmsSender) -> None:
        anna = await start_code_step(tg, sms)
        await anna.send("12ab")
        assert tg.last_text() == "The code is digits only, as in the SMS."
        assert await anna.state() == LoginFlow.code.state

    async def test_expired_code_offers_a_new_one_and_the_new_one_works(
        self, tg: Harness, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await start_code_step(tg, sms)
        clock.advance(301)
        await anna.send(sms.last_code())
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text == "The code has expired. Ask for a new one."
        assert isinstance(reply.reply_markup, InlineKeyboardMarkup)
        await anna.press(callback_of(reply.reply_markup, "Send a new code"))
        assert len(sms.sent) == 2
        await anna.send(sms.last_code())
        assert tg.last_text().startswith("✅ Welcome, Anna!")

    async def test_send_again_is_held_until_the_cooldown_is_over(
        self, tg: Harness, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await start_code_step(tg, sms)
        clock.advance(18)
        await anna.press("code:resend")
        calls = tg.take()
        [answer] = sent(calls, AnswerCallbackQuery)
        assert answer.text == "You can ask for a new code in 42 s."
        [edit] = sent(calls, EditMessageReplyMarkup)
        assert buttons(edit.reply_markup)[0] == "⏳ Send again in 42 s"
        assert len(sms.sent) == 1

        clock.advance(42)
        await anna.press("code:resend")
        [edit_text] = sent(tg.take(), EditMessageText)
        assert edit_text.text == "📨 We sent a new code to +7999***4567. Enter it here."
        assert buttons(edit_text.reply_markup)[0] == "⏳ Send again in 60 s"
        assert len(sms.sent) == 2

    async def test_the_core_still_refuses_too_many_codes(
        self, tg: Harness, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await start_code_step(tg, sms)
        for _ in range(4):  # five codes an hour
            clock.advance(60)
            await anna.press("code:resend")
        clock.advance(60)
        tg.take()
        await anna.press("code:resend")
        calls = tg.take()
        assert sent(calls, AnswerCallbackQuery)
        assert tg.texts(calls) == ["Too many code requests. You can ask again in 55 minutes."]

    async def test_change_number_goes_back_to_the_phone_step(
        self, tg: Harness, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await start_code_step(tg, sms)
        await anna.press("code:change")
        assert tg.last_text().startswith("Tap “Share my phone number” below")
        assert await anna.state() == LoginFlow.phone.state
        assert PHONE_KEY not in await anna.data()
        await anna.send(phone_number(7))
        assert sms.sent[-1][0] == phone_number(7)

    async def test_cancel_button_leaves_the_code_step(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = await start_code_step(tg, sms)
        await anna.press("cancel")
        assert tg.last_text() == "Cancelled. Press /start to log in."
        assert await anna.state() is None
        assert PHONE_KEY not in await anna.data()

    async def test_a_language_chosen_before_login_is_saved_on_the_account(
        self, tg: Harness, services: Services, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person(language_code="en")
        await anna.send("/start")
        await anna.press("lang:ru")
        assert (await anna.data())[LOCALE] == "ru"
        await anna.send(PHONE)
        await anna.send(sms.last_code())
        assert tg.last_text().startswith("✅ Добро пожаловать, Anna!")
        user = await services.accounts.user_by_telegram(anna.user.id)
        assert user is not None and user.language == "ru"


class TestLock:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"BOT_THROTTLE_PER_SECOND": 1000, "OTP_LOCK_AFTER_FAILURES": 3}

    async def test_wrong_codes_lock_the_number_and_say_when_to_retry(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = await start_code_step(tg, sms)
        for _ in range(3):
            await anna.send(wrong(sms.last_code()))
        assert tg.last_text() == "Too many wrong codes. This number is locked; try again in 1 hour."
        await anna.send(sms.last_code())
        assert tg.last_text() == "Too many wrong codes. This number is locked; try again in 1 hour."
        assert await anna.state() == LoginFlow.code.state


class TestPendingInvite:
    async def test_first_login_activates_the_pending_invite_and_says_whose(
        self, tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        boris = await make_user(services, sms, clock, phone_number(1), first_name="Boris")
        anna = tg.person()
        await anna.send(f"/start {boris.invite_code}")
        await anna.share_contact(PHONE)
        tg.take()
        await anna.send(sms.last_code(PHONE))
        greeting, invite = tg.texts()
        assert greeting.startswith("✅ Welcome, Anna!")
        assert invite == "🤝 You joined by the invite of Boris (+7999***4567)."
        user = await services.accounts.user_by_telegram(anna.user.id)
        assert user is not None and user.referrer_id == boris.id
        assert PENDING_INVITE not in await anna.data()

    async def test_unknown_pending_invite_is_explained_and_login_succeeds(
        self, tg: Harness, services: Services, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await anna.send("/start ZZZZZZ")
        await anna.share_contact(PHONE)
        tg.take()
        await anna.send(sms.last_code(PHONE))
        greeting, invite = tg.texts()
        assert greeting.startswith("✅ Welcome")
        assert invite == (
            "The invite code <code>ZZZZZZ</code> could not be applied: "
            "Nobody has this invite code. Check it and try again."
        )
        assert await services.accounts.user_by_telegram(anna.user.id) is not None

    @pytest.mark.parametrize(
        ("whose", "reason"),
        [
            (
                "another inviter's",
                "You have already activated an invite code; it can be done only once.",
            ),
            ("my own", "This is your own invite code: send it to friends instead."),
        ],
    )
    async def test_a_pending_invite_the_account_cannot_take_is_explained(
        self,
        tg: Harness,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        whose: str,
        reason: str,
    ) -> None:
        boris = await make_user(services, sms, clock, phone_number(1))
        vera = await make_user(services, sms, clock, phone_number(2))
        me = await make_user(services, sms, clock, PHONE, invite_code=boris.invite_code)
        clock.advance(60)
        anna = tg.person()
        code = me.invite_code if whose == "my own" else vera.invite_code
        await anna.send(f"/start {code}")
        await anna.share_contact(PHONE)
        tg.take()
        await anna.send(sms.last_code(PHONE))
        assert tg.texts()[-1].endswith(f"could not be applied: {reason}")
