"""/language: English or Russian, saved on the account (or kept in the chat before login)."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BotCommandScopeChat, CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import keyboards, texts
from bot.edits import edit_text
from bot.filters import Button
from bot.states import LOCALE
from core.domain.entities import User
from core.domain.languages import parse_language
from core.services import Services

log = logging.getLogger(__name__)


async def on_language(message: Message, locale: str) -> None:
    await message.answer(texts.choose_language(), reply_markup=keyboards.languages(locale))


async def on_language_chosen(
    query: CallbackQuery,
    callback_data: keyboards.LanguageChoice,
    state: FSMContext,
    services: Services,
    bot: Bot,
    i18n: I18n,
    user: User | None,
) -> None:
    if user is not None:
        language = (await services.accounts.set_language(user.id, callback_data.code)).language
    else:
        language = parse_language(callback_data.code)
    assert language is not None
    await state.update_data({LOCALE: language})
    await query.answer()
    if not isinstance(query.message, Message):
        return
    chat_id = query.message.chat.id
    with i18n.use_locale(language):
        await edit_text(query.message, texts.choose_language(), None)
        await query.message.answer(
            texts.language_set(),
            reply_markup=keyboards.main_menu() if user is not None else None,
        )
        try:
            await bot.set_my_commands(
                keyboards.commands(), scope=BotCommandScopeChat(chat_id=chat_id)
            )
        except TelegramAPIError:
            log.warning("could not set the command menu of chat %d", chat_id, exc_info=True)


def build_router() -> Router:
    router = Router(name="language")
    router.message.register(on_language, Command("language"))
    router.message.register(on_language, Button(texts.btn_language))
    router.callback_query.register(on_language_chosen, keyboards.LanguageChoice.filter())
    return router
