"""Dialog 5: the profile, and editing the name."""

from __future__ import annotations

from bot.states import ProfileFlow
from core.services import Services
from tests.bot.harness import Harness, SendMessage, buttons, sent
from tests.bot.helpers import PHONE, log_in, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user


async def test_profile_shows_name_phone_codes_inviter_and_referral_count(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    boris = await make_user(services, sms, clock, phone_number(1), first_name="Boris")
    anna = tg.person(first_name="Anna", last_name="Petrova")
    await anna.send(f"/start {boris.invite_code}")
    await anna.share_contact(PHONE)
    await anna.send(sms.last_code(PHONE))
    user = await services.accounts.user_by_telegram(anna.user.id)
    assert user is not None
    for i in (2, 3):
        await make_user(services, sms, clock, phone_number(i), invite_code=user.invite_code)
    tg.take()

    await anna.send("👤 Profile")
    [reply] = sent(tg.take(), SendMessage)
    assert reply.text == "\n".join(
        [
            "👤 <b>Your profile</b>",
            "",
            "Name: Anna Petrova",
            f"Phone: {PHONE}",
            f"Your invite code: <code>{user.invite_code}</code>",
            f"Your invite link: https://t.me/referral_test_bot?start={user.invite_code}",
            f"Invited by: Boris (+7999***4567), code <code>{boris.invite_code}</code>",
            "Referrals: 2",
            "  2 waiting to qualify",
            "Balance: 0.00 points",
        ]
    )
    assert buttons(reply.reply_markup) == ["✏️ Edit name", "🔗 My invite link", "👥 My referrals"]


async def test_an_apostrophe_in_a_name_is_shown_as_typed(
    tg: Harness, services: Services, sms: RecordingSmsSender
) -> None:
    anna = tg.person(first_name="Anna")
    user = await log_in(tg, anna, sms)
    await services.accounts.update_names(user.id, first_name="O'Hara")
    await anna.send("/profile")
    assert "Name: O'Hara" in tg.last_text()


async def test_editing_the_name(tg: Harness, services: Services, sms: RecordingSmsSender) -> None:
    anna = tg.person()
    user = await log_in(tg, anna, sms)
    await anna.press("menu:name")
    assert tg.last_text().startswith("Send your name:")
    assert await anna.state() == ProfileFlow.name.state
    await anna.send("  Анна   Мария Петрова ")
    [reply] = sent(tg.take(), SendMessage)
    assert reply.text == "Saved. Your name is Анна Мария Петрова."
    assert "👤 Profile" in buttons(reply.reply_markup)
    saved = await get_user(services, user.id)
    assert (saved.first_name, saved.last_name) == ("Анна", "Мария Петрова")
    assert await anna.state() is None


async def test_a_bad_name_is_explained_and_the_step_stays(
    tg: Harness, sms: RecordingSmsSender
) -> None:
    anna = tg.person()
    await log_in(tg, anna, sms)
    await anna.press("menu:name")
    await anna.send("R2-D2")
    assert tg.last_text() == "A name is 1 to 64 letters, spaces, hyphens or apostrophes."
    assert await anna.state() == ProfileFlow.name.state
