"""Dialogs 4 and 6: entering an invite code, and my invite link with Share, Copy and a QR code."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage as SendMessageMethod
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup

from bot.states import InviteFlow
from core.services import Services
from tests.bot.harness import Harness, SendMessage, SendPhoto, buttons, sent
from tests.bot.helpers import log_in, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user

OWN_CODE = "<my own code>"
MY_REFERRALS_CODE = "<the code of someone I invited>"


class TestInviteLink:
    async def test_link_comes_as_a_qr_photo_with_share_and_copy_buttons(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        user = await log_in(tg, anna, sms)
        await anna.send("🔗 My invite link")
        [photo] = sent(tg.take(), SendPhoto)
        link = f"https://t.me/referral_test_bot?start={user.invite_code}"
        assert photo.caption is not None and link in photo.caption
        assert isinstance(photo.photo, BufferedInputFile)
        assert photo.photo.data.startswith(b"\x89PNG\r\n\x1a\n")
        markup = photo.reply_markup
        assert isinstance(markup, InlineKeyboardMarkup)
        share, copy, campaign = (b for row in markup.inline_keyboard for b in row)
        assert campaign.callback_data == "menu:campaign"
        assert share.url is not None
        parts = urlsplit(share.url)
        assert (parts.netloc, parts.path) == ("t.me", "/share/url")
        query = parse_qs(parts.query)
        assert query["url"] == [link]
        assert query["text"] == ["Join me: log in with your phone number in this bot."]
        assert copy.copy_text is not None and copy.copy_text.text == user.invite_code

    async def test_qr_code_decodes_to_the_link(self, tg: Harness, sms: RecordingSmsSender) -> None:
        # segno has no decoder: the picture must be exactly the encoding of the link.
        anna = tg.person()
        user = await log_in(tg, anna, sms)
        await anna.send("/invite")
        [photo] = sent(tg.take(), SendPhoto)
        link = f"https://t.me/referral_test_bot?start={user.invite_code}"
        expected = io.BytesIO()
        segno.make(link, error="m").save(expected, kind="png", scale=8, border=2)
        assert isinstance(photo.photo, BufferedInputFile)
        assert photo.photo.data == expected.getvalue()

    async def test_profile_button_opens_the_link_too(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.press("menu:invite")
        assert len(sent(tg.take(), SendPhoto)) == 1


class TestEnterCode:
    async def test_menu_opens_the_step_with_a_cancel_button(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.send("🎟 Enter invite code")
        [prompt] = sent(tg.take(), SendMessage)
        assert prompt.text == "Send the invite code: 6 letters and digits, e.g. 7KQ2XD."
        assert buttons(prompt.reply_markup) == ["✖️ Cancel"]
        assert await anna.state() == InviteFlow.code.state

    async def test_a_code_typed_loosely_is_activated(
        self, tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        boris = await make_user(services, sms, clock, phone_number(1), first_name="Boris")
        anna = tg.person()
        user = await log_in(tg, anna, sms)
        await anna.send("/code")
        tg.take()
        loose = f"{boris.invite_code[:3].lower()} - {boris.invite_code[3:].lower()}"
        await anna.send(loose)
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text == "🤝 You joined by the invite of Boris (+7999***4567)."
        assert "👤 Profile" in buttons(reply.reply_markup)
        assert (await get_user(services, user.id)).referrer_id == boris.id
        assert await anna.state() is None

    @pytest.mark.parametrize(
        ("typed", "text"),
        [
            ("12", "An invite code is 6 letters and digits, e.g. 7KQ2XD."),
            ("ZZZZZZ", "Nobody has this invite code. Check it and try again."),
            (OWN_CODE, "This is your own invite code: send it to friends instead."),
            (
                MY_REFERRALS_CODE,
                "This code belongs to someone you invited, directly or through others, "
                "so it cannot be activated.",
            ),
        ],
        ids=["malformed", "unknown", "own", "cycle"],
    )
    async def test_a_refused_code_is_explained_and_the_step_stays(
        self,
        tg: Harness,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        typed: str,
        text: str,
    ) -> None:
        anna = tg.person()
        user = await log_in(tg, anna, sms)
        if typed == OWN_CODE:
            typed = user.invite_code
        elif typed == MY_REFERRALS_CODE:
            boris = await make_user(
                services, sms, clock, phone_number(1), invite_code=user.invite_code
            )
            typed = boris.invite_code
        await anna.send("/code")
        await anna.send(typed)
        assert tg.last_text() == text
        assert await anna.state() == InviteFlow.code.state

    async def test_a_second_activation_is_refused_and_ends_the_step(
        self, tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        boris = await make_user(services, sms, clock, phone_number(1))
        vera = await make_user(services, sms, clock, phone_number(2))
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.send("/code")
        await anna.send(boris.invite_code)
        await anna.send("/code")
        tg.take()
        await anna.send(vera.invite_code)
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text == (
            "You have already activated an invite code; it can be done only once."
        )
        assert "👤 Profile" in buttons(reply.reply_markup)
        assert await anna.state() is None

    async def test_cancel_leaves_the_step_with_the_menu(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.send("/code")
        tg.take()
        await anna.send("✖️ Cancel")
        [reply] = sent(tg.take(), SendMessage)
        assert reply.text == "Cancelled."
        assert "👤 Profile" in buttons(reply.reply_markup)
        assert await anna.state() is None

    async def test_a_menu_button_in_the_step_is_not_taken_for_a_code(
        self, tg: Harness, sms: RecordingSmsSender
    ) -> None:
        anna = tg.person()
        await log_in(tg, anna, sms)
        await anna.send("/code")
        tg.take()
        await anna.send("👤 Profile")
        assert tg.last_text().startswith("👤 <b>Your profile</b>")
        assert await anna.state() is None


class TestNotification:
    async def test_the_inviter_is_told_in_their_language(
        self, tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        inviter = tg.person(user_id=2002, first_name="Boris", language_code="ru")
        boris = await log_in(tg, inviter, sms, phone_number(1))
        clock.advance(60)
        anna = tg.person(first_name="Anna", last_name="Petrova")
        await anna.send(f"/start {boris.invite_code}")
        await anna.share_contact(phone_number(2))
        tg.take()
        await anna.send(sms.last_code(phone_number(2)))
        assert not [m for m in sent(tg.take(), SendMessage) if m.chat_id == inviter.user.id]
        await tg.deliver()  # the worker's round
        notes = [m for m in sent(tg.take(), SendMessage) if m.chat_id == inviter.user.id]
        assert [n.text for n in notes] == [
            "🎉 Anna Petrova присоединился(-ась) по вашему приглашению!\nТеперь у вас 1 реферал."
        ]

    async def test_a_failed_notification_does_not_undo_the_activation(
        self, tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        inviter = tg.person(user_id=2002, first_name="Boris")
        boris = await log_in(tg, inviter, sms, phone_number(1))
        clock.advance(60)
        anna = tg.person()
        user = await log_in(tg, anna, sms)
        await anna.send("/code")
        tg.take()
        await anna.send(boris.invite_code)
        assert tg.last_text() == "🤝 You joined by the invite of Boris (+7999***4567)."
        # The worker's notification to Boris fails: he has blocked the bot.
        tg.session.errors.append(
            TelegramForbiddenError(SendMessageMethod(chat_id=2002, text="x"), "blocked")
        )
        assert await tg.deliver() == 1
        assert (await get_user(services, user.id)).referrer_id == boris.id
        # He is marked, and nothing more is tried for him.
        await services.referrals.activate_invite(
            (await make_user(services, sms, clock, phone_number(3))).id, boris.invite_code
        )
        tg.take()
        assert await tg.deliver() == 0
        assert not sent(tg.take(), SendMessage)
