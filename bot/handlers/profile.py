"""The profile, and editing the name."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards, texts
from bot.filters import Button, LoggedIn, menu_buttons
from bot.links import invite_link
from bot.states import ProfileFlow
from core.domain.entities import User
from core.services import Services


async def on_profile(
    message: Message, state: FSMContext, services: Services, bot: Bot, user: User
) -> None:
    await state.set_state(None)
    profile = await services.referrals.profile(user.id, user.id)
    link = await invite_link(bot, profile.user.invite_code)
    await message.answer(
        texts.profile(profile, link, services.ledger.unit), reply_markup=keyboards.profile()
    )


async def on_edit_name(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(ProfileFlow.name)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.ask_name(), reply_markup=keyboards.cancel_only())


def split_name(text: str) -> tuple[str, str | None]:
    """``Anna Maria Petrova`` → (``Anna``, ``Maria Petrova``): the first word is the first name."""
    first, _, last = text.strip().partition(" ")
    return first, (last.strip() or None)


async def on_name(message: Message, state: FSMContext, services: Services, user: User) -> None:
    if message.text is None:
        return
    first, last = split_name(message.text)
    updated = await services.accounts.update_names(user.id, first_name=first, last_name=last)
    await state.set_state(None)
    await message.answer(texts.name_saved(updated), reply_markup=keyboards.main_menu())


def build_router() -> Router:
    router = Router(name="profile")
    router.message.filter(LoggedIn())
    router.callback_query.filter(LoggedIn())
    router.message.register(on_profile, Command("profile"))
    router.message.register(on_profile, Button(texts.btn_profile))
    router.callback_query.register(on_edit_name, keyboards.MenuAction.filter(F.item == "name"))
    router.message.register(
        on_name, ProfileFlow.name, F.text, ~F.text.startswith("/"), ~menu_buttons()
    )
    return router
