"""/stats (my funnel), /top (the leaderboard and the running contest), campaign links."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import keyboards, texts
from bot.filters import LoggedIn, menu_buttons
from bot.handlers.invite import qr_png
from bot.states import CampaignFlow
from core.domain.entities import User
from core.ports import Clock
from core.services import Services


async def on_stats(message: Message, state: FSMContext, services: Services, user: User) -> None:
    await state.set_state(None)
    data = await services.growth.stats(user.id)
    await message.answer(texts.stats(data, services.ledger.unit))


async def on_top(
    message: Message, state: FSMContext, services: Services, user: User, clock: Clock
) -> None:
    await state.set_state(None)
    board = await services.leaderboard.leaderboard(user.id, "week", "joined", 10)
    await message.answer(texts.leaderboard(board, clock.now()))


async def on_new_campaign(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(CampaignFlow.name)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.ask_campaign_name(), reply_markup=keyboards.cancel_only())


async def on_campaign_name(
    message: Message, state: FSMContext, services: Services, bot: Bot, user: User
) -> None:
    if message.text is None:
        return
    campaign = await services.growth.create_campaign(user.id, message.text)
    await state.set_state(None)
    caption = texts.campaign_created(campaign.name, campaign.link)
    if campaign.link:
        await bot.send_photo(
            message.chat.id,
            BufferedInputFile(qr_png(campaign.link), filename=f"campaign-{campaign.slug}.png"),
            caption=caption,
            reply_markup=keyboards.main_menu(),
        )
    else:
        await message.answer(caption, reply_markup=keyboards.main_menu())


def build_router() -> Router:
    router = Router(name="growth")
    router.message.filter(LoggedIn())
    router.callback_query.filter(LoggedIn())
    router.message.register(on_stats, Command("stats"))
    router.message.register(on_top, Command("top"))
    router.callback_query.register(
        on_new_campaign, keyboards.MenuAction.filter(F.item == "campaign")
    )
    router.message.register(
        on_campaign_name, CampaignFlow.name, F.text, ~F.text.startswith("/"), ~menu_buttons()
    )
    return router
