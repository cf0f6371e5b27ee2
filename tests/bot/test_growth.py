"""Deep-link clicks with campaigns, /stats, /top and campaign links in the bot."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendPhoto

from core.services import Services
from tests.bot.harness import Harness, sent
from tests.bot.helpers import PHONE, log_in, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user


async def test_a_click_is_remembered_when_the_dialog_is_lost(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    boris = await make_user(services, sms, clock, phone_number(1), first_name="Boris")
    campaign = await services.growth.create_campaign(boris.id, "channel")
    anna = tg.person()
    await anna.send(f"/start {boris.invite_code}-{campaign.slug}")
    assert tg.texts()[-1].startswith("🎁 Boris invited you.")
    # Days later, with the bot's memory of this chat gone, Anna logs in.
    clock.advance(days=3)
    await anna.context().clear()
    await anna.send("/start")
    await anna.share_contact(PHONE)
    await anna.send(sms.last_code(PHONE))
    user = await services.accounts.user_by_telegram(anna.user.id)
    assert user is not None and user.referrer_id == boris.id
    assert (await get_user(services, user.id)).campaign_id == campaign.id
    stats = await services.growth.stats(boris.id, clock.now() - timedelta(days=5))
    [(_, counts)] = stats.campaigns
    assert (counts.clicks, counts.logins, counts.joined) == (1, 1, 1)


async def test_stats_and_top(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    anna = tg.person(first_name="Anna")
    me = await log_in(tg, anna, sms)
    for i in (1, 2):
        await make_user(services, sms, clock, phone_number(i), invite_code=me.invite_code)
    tg.take()
    await anna.send("/stats")
    text = tg.last_text()
    assert text.startswith("📊 <b>Your last 30 days</b>")
    assert "Joined: 2" in text and "Earned: 0.00 points" in text
    await anna.send("/top")
    top = tg.last_text().split("\n")
    assert top[0] == "🏆 <b>Top referrers of the week</b>"
    assert "1. Anna — 2" in top and "You: place 1, 2" in top


async def test_a_campaign_link_is_made_from_the_invite_screen(
    tg: Harness, services: Services, sms: RecordingSmsSender
) -> None:
    anna = tg.person()
    me = await log_in(tg, anna, sms)
    await anna.press("menu:campaign")
    assert tg.last_text().startswith("Name the campaign")
    tg.take()
    await anna.send("Telegram channel")
    [photo] = sent(tg.take(), SendPhoto)
    assert photo.caption == (
        "🔗 Your link for “Telegram channel”:\n"
        f"https://t.me/referral_test_bot?start={me.invite_code}-telegram_channel"
    )
    assert await anna.state() is None
