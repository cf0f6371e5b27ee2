"""Dialog 1: /start, the deep link and its pending invite, /start when logged in."""

from __future__ import annotations

from aiogram.types import ReplyKeyboardMarkup

from bot.states import PENDING_INVITE, LoginFlow
from core.services import Services
from tests.bot.harness import Harness, SendMessage, buttons, sent
from tests.bot.helpers import PHONE, log_in, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user


async def test_start_welcomes_and_asks_for_the_phone_with_a_contact_button(tg: Harness) -> None:
    anna = tg.person()
    await anna.send("/start")
    [reply] = sent(tg.take(), SendMessage)
    assert "log in with your phone number" in reply.text
    assert isinstance(reply.reply_markup, ReplyKeyboardMarkup)
    share, cancel = (b for row in reply.reply_markup.keyboard for b in row)
    assert share.request_contact is True and "Share my phone number" in share.text
    assert "Cancel" in cancel.text
    assert await anna.state() == LoginFlow.phone.state


async def test_deep_link_names_the_inviter_and_keeps_the_code_pending(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    boris = await make_user(services, sms, clock, phone_number(1), first_name="Boris")
    anna = tg.person()
    await anna.send(f"/start {boris.invite_code.lower()}")
    text = tg.last_text()
    assert text.startswith("🎁 Boris invited you.")
    assert (await anna.data())[PENDING_INVITE] == boris.invite_code
    assert await anna.state() == LoginFlow.phone.state


async def test_deep_link_of_an_unknown_code_is_kept_without_a_name(tg: Harness) -> None:
    anna = tg.person()
    await anna.send("/start ZZZZZZ")
    assert "You came with the invite code <code>ZZZZZZ</code>" in tg.last_text()
    assert (await anna.data())[PENDING_INVITE] == "ZZZZZZ"


async def test_a_payload_that_is_not_an_invite_code_is_ignored(tg: Harness) -> None:
    anna = tg.person()
    await anna.send("/start utm_source-ads")
    text = tg.last_text()
    assert "🎁" not in text and "log in with your phone number" in text
    assert PENDING_INVITE not in await anna.data()


async def test_pending_invite_survives_cancel_and_a_plain_start(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    boris = await make_user(services, sms, clock, phone_number(1))
    anna = tg.person()
    await anna.send(f"/start {boris.invite_code}")
    await anna.send("/cancel")
    await anna.send("/start")
    assert (await anna.data())[PENDING_INVITE] == boris.invite_code


async def test_start_when_logged_in_shows_the_profile_and_the_menu(
    tg: Harness, sms: RecordingSmsSender
) -> None:
    anna = tg.person()
    user = await log_in(tg, anna, sms)
    await anna.send("/start")
    [reply] = sent(tg.take(), SendMessage)
    assert "Your profile" in reply.text and PHONE in reply.text
    assert f"https://t.me/referral_test_bot?start={user.invite_code}" in reply.text
    assert "👤 Profile" in buttons(reply.reply_markup)
    assert await anna.state() is None


async def test_deep_link_when_logged_in_activates_the_invite(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    boris = await make_user(services, sms, clock, phone_number(1), first_name="Boris")
    anna = tg.person()
    user = await log_in(tg, anna, sms)
    await anna.send(f"/start {boris.invite_code}")
    assert tg.last_text() == "🤝 You joined by the invite of Boris (+7999***4567)."
    assert (await get_user(services, user.id)).referrer_id == boris.id


async def test_own_deep_link_when_logged_in_is_explained(
    tg: Harness, sms: RecordingSmsSender
) -> None:
    anna = tg.person()
    user = await log_in(tg, anna, sms)
    await anna.send(f"/start {user.invite_code}")
    assert tg.last_text() == "This is your own invite code: send it to friends instead."
