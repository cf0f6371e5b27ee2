"""Whatever no other handler took: a short hint for the current step, never an exception."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards, texts
from bot.states import CampaignFlow, InviteFlow, LoginFlow, ProfileFlow
from core.domain.entities import User


async def on_anything(message: Message, state: FSMContext, user: User | None) -> None:
    step = await state.get_state()
    if step == LoginFlow.phone.state:
        await message.answer(texts.hint_phone(), reply_markup=keyboards.phone_request())
    elif step == LoginFlow.code.state:
        await message.answer(texts.hint_code())
    elif step == InviteFlow.code.state:
        await message.answer(texts.hint_invite_code())
    elif step in (ProfileFlow.name.state, CampaignFlow.name.state):
        await message.answer(texts.hint_name())
    elif user is None:
        await state.set_state(LoginFlow.phone)
        await message.answer(texts.welcome(), reply_markup=keyboards.phone_request())
    else:
        await message.answer(texts.menu_hint(), reply_markup=keyboards.main_menu())


async def on_edited(message: Message) -> None:
    await message.answer(texts.hint_edited())


async def on_stale_button(query: CallbackQuery) -> None:
    await query.answer(texts.stale_button())


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.register(on_anything)
    router.edited_message.register(on_edited)
    router.callback_query.register(on_stale_button)
    return router
