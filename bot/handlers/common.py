"""/help, /cancel (and the Cancel buttons), /logout: understood at every step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards, texts
from bot.edits import edit_markup
from bot.filters import Button
from bot.states import LOCALE, LOGIN_KEYS
from core.domain.entities import User
from core.services import Services


async def on_help(message: Message) -> None:
    await message.answer(texts.help_text())


async def _cancel(state: FSMContext) -> None:
    await state.set_state(None)
    data = await state.get_data()
    for key in LOGIN_KEYS:
        data.pop(key, None)
    await state.set_data(data)


async def on_cancel(message: Message, state: FSMContext, user: User | None) -> None:
    await _cancel(state)
    if user is not None:
        await message.answer(texts.cancelled(), reply_markup=keyboards.main_menu())
    else:
        await message.answer(texts.cancelled_anonymous(), reply_markup=keyboards.remove())


async def on_cancel_button(query: CallbackQuery, state: FSMContext, user: User | None) -> None:
    await _cancel(state)
    await query.answer()
    if isinstance(query.message, Message):
        await edit_markup(query.message, None)
        if user is not None:
            await query.message.answer(texts.cancelled(), reply_markup=keyboards.main_menu())
        else:
            await query.message.answer(texts.cancelled_anonymous(), reply_markup=keyboards.remove())


async def on_logout(
    message: Message, state: FSMContext, services: Services, user: User | None, locale: str
) -> None:
    await state.clear()
    if user is None:
        await message.answer(texts.not_logged_in(), reply_markup=keyboards.remove())
        return
    assert message.from_user is not None
    await services.accounts.unlink_telegram(message.from_user.id)
    await state.set_data({LOCALE: locale})  # keep speaking the same language
    await message.answer(texts.logged_out(), reply_markup=keyboards.remove())


def build_router() -> Router:
    router = Router(name="common")
    router.message.register(on_help, Command("help"))
    router.message.register(on_help, Button(texts.btn_help))
    router.message.register(on_cancel, Command("cancel"))
    router.message.register(on_cancel, Button(texts.btn_cancel))
    router.callback_query.register(on_cancel_button, F.data == keyboards.CANCEL)
    router.message.register(on_logout, Command("logout"))
    return router
