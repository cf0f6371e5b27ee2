"""Dialog 7: my referrals, 10 a page, with ‹ › over the core's keyset cursors."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.states import REFERRAL_CURSORS
from core.domain.entities import User
from core.services import Services
from tests.bot.harness import EditMessageText, Harness, SendMessage, buttons, callback_of, sent
from tests.bot.helpers import log_in, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender


async def invite_people(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, owner: User, n: int
) -> None:
    for i in range(1, n + 1):
        await make_user(
            services,
            sms,
            clock,
            phone_number(i),
            invite_code=owner.invite_code,
            first_name=f"Friend{'abcdefghijklmnopqrstuvwxyz'[i - 1]}",
        )


async def test_empty_list_is_explained_with_the_way_to_the_link(
    tg: Harness, sms: RecordingSmsSender
) -> None:
    anna = tg.person()
    await log_in(tg, anna, sms)
    await anna.send("👥 My referrals")
    [reply] = sent(tg.take(), SendMessage)
    assert reply.text.startswith("Nobody has joined by your link yet.")
    assert buttons(reply.reply_markup) == ["🔗 My invite link"]


async def test_pages_of_ten_newest_first_with_forward_and_back(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    anna = tg.person()
    owner = await log_in(tg, anna, sms)
    await invite_people(services, sms, clock, owner, 23)
    tg.take()  # the notifications of each join

    await anna.send("/referrals")
    [first] = sent(tg.take(), SendMessage)
    lines = first.text.split("\n")
    assert lines[:2] == ["👥 You invited 23 people.", "Page 1 of 3."]
    assert lines[3] == "1. Friendw · +7999***4567 · joined Jan 15, 2026"
    assert len(lines) == 3 + 10
    assert isinstance(first.reply_markup, InlineKeyboardMarkup)
    assert buttons(first.reply_markup) == ["›"]
    # Callback data stays tiny: the cursors live in the FSM data.
    assert callback_of(first.reply_markup, "›") == "refs:1"
    assert len((await anna.data())[REFERRAL_CURSORS]) == 2

    await anna.press("refs:1")
    [second] = sent(tg.take(), EditMessageText)
    assert second.text.split("\n")[1] == "Page 2 of 3."
    assert second.text.split("\n")[3].startswith("11. Friendm ·")
    assert buttons(second.reply_markup) == ["‹", "›"]

    await anna.press("refs:2")
    [third] = sent(tg.take(), EditMessageText)
    names = [line.split(" · ")[0] for line in third.text.split("\n")[3:]]
    assert names == ["21. Friendc", "22. Friendb", "23. Frienda"]
    assert buttons(third.reply_markup) == ["‹"]

    await anna.press("refs:1")
    [back] = sent(tg.take(), EditMessageText)
    assert back.text == second.text


async def test_a_button_from_a_forgotten_list_starts_over(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    anna = tg.person()
    owner = await log_in(tg, anna, sms)
    await invite_people(services, sms, clock, owner, 3)
    tg.take()  # the notifications of each join
    await anna.press("refs:5")
    [edit] = sent(tg.take(), EditMessageText)
    assert edit.text.split("\n")[:2] == ["👥 You invited 3 people.", "Page 1 of 1."]


async def test_russian_list(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    anna = tg.person(language_code="ru")
    owner = await log_in(tg, anna, sms)
    await invite_people(services, sms, clock, owner, 2)
    tg.take()  # the notifications of each join
    await anna.send("/referrals")
    lines = tg.last_text().split("\n")
    assert lines[:2] == ["👥 Вы пригласили 2 человека.", "Страница 1 из 1."]
    assert lines[3] == "1. Friendb · +7999***4567 · с 15 янв. 2026\u202fг."
