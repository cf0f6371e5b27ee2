"""My referrals: 10 a page, newest first, with ‹ › buttons over the core's keyset cursors.

The cursor of every page shown so far is kept in the FSM data, so the callback data carries
only the page number.
"""

from __future__ import annotations

import math
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards, texts
from bot.edits import edit_text
from bot.filters import Button, LoggedIn
from bot.states import REFERRAL_CURSORS
from core.domain.entities import User
from core.services import Services

PAGE_SIZE = 10


async def _render(
    state: FSMContext, services: Services, user: User, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    data = await state.get_data()
    cursors: list[Any] = data.get(REFERRAL_CURSORS) or [None]
    if not 0 <= page < len(cursors):  # a button from a list this chat no longer holds
        page, cursors = 0, [None]
    result = await services.referrals.referrals(user.id, limit=PAGE_SIZE, cursor=cursors[page])
    if not result.items and page == 0:
        await state.update_data({REFERRAL_CURSORS: [None]})
        return texts.referrals_empty(), keyboards.invite_only()
    cursors = (
        [*cursors[: page + 1], result.next_cursor] if result.next_cursor else cursors[: page + 1]
    )
    await state.update_data({REFERRAL_CURSORS: cursors})
    total = max(user.referral_count, page * PAGE_SIZE + len(result.items))
    pages = max(page + 1, math.ceil(total / PAGE_SIZE))
    text = texts.referrals_page(result.items, total, page, pages, page * PAGE_SIZE + 1)
    return text, keyboards.referral_pages(page, has_next=result.next_cursor is not None)


async def on_referrals(message: Message, state: FSMContext, services: Services, user: User) -> None:
    await state.set_state(None)
    text, markup = await _render(state, services, user, 0)
    await message.answer(text, reply_markup=markup)


async def on_referrals_button(
    query: CallbackQuery, state: FSMContext, services: Services, user: User
) -> None:
    text, markup = await _render(state, services, user, 0)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def on_page(
    query: CallbackQuery,
    callback_data: keyboards.ReferralPage,
    state: FSMContext,
    services: Services,
    user: User,
) -> None:
    text, markup = await _render(state, services, user, callback_data.page)
    await query.answer()
    if isinstance(query.message, Message):
        await edit_text(query.message, text, markup)


def build_router() -> Router:
    router = Router(name="referrals")
    router.message.filter(LoggedIn())
    router.callback_query.filter(LoggedIn())
    router.message.register(on_referrals, Command("referrals"))
    router.message.register(on_referrals, Button(texts.btn_referrals))
    router.callback_query.register(
        on_referrals_button, keyboards.MenuAction.filter(F.item == "referrals")
    )
    router.callback_query.register(on_page, keyboards.ReferralPage.filter())
    return router
