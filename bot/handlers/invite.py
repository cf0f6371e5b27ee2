"""My invite link (with Share, Copy code and a QR code), and entering someone's invite code."""

from __future__ import annotations

import io

import segno
from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import keyboards, texts
from bot.filters import Button, LoggedIn, menu_buttons
from bot.links import invite_link
from bot.states import InviteFlow
from core.domain.entities import User
from core.services import Services


def qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


async def _send_invite(bot: Bot, chat_id: int, user: User) -> None:
    link = await invite_link(bot, user.invite_code)
    await bot.send_photo(
        chat_id,
        BufferedInputFile(qr_png(link), filename=f"invite-{user.invite_code}.png"),
        caption=texts.invite_link(link, user.invite_code),
        reply_markup=keyboards.invite(link, user.invite_code),
    )


async def on_invite_link(message: Message, state: FSMContext, bot: Bot, user: User) -> None:
    await state.set_state(None)
    await _send_invite(bot, message.chat.id, user)


async def on_invite_link_button(query: CallbackQuery, bot: Bot, user: User) -> None:
    await query.answer()
    if query.message is not None:
        await _send_invite(bot, query.message.chat.id, user)


async def on_enter_code(message: Message, state: FSMContext) -> None:
    await state.set_state(InviteFlow.code)
    await message.answer(texts.ask_invite_code(), reply_markup=keyboards.cancel_only())


async def on_invite_code(
    message: Message, state: FSMContext, services: Services, user: User
) -> None:
    if message.text is None:
        return
    activation = await services.referrals.activate_invite(user.id, message.text)
    await state.set_state(None)
    await message.answer(
        texts.invite_activated(activation.referrer), reply_markup=keyboards.main_menu()
    )


def build_router() -> Router:
    router = Router(name="invite")
    router.message.filter(LoggedIn())
    router.callback_query.filter(LoggedIn())
    router.message.register(on_invite_link, Command("invite"))
    router.message.register(on_invite_link, Button(texts.btn_invite_link))
    router.callback_query.register(
        on_invite_link_button, keyboards.MenuAction.filter(F.item == "invite")
    )
    router.message.register(on_enter_code, Command("code"))
    router.message.register(on_enter_code, Button(texts.btn_enter_code))
    router.message.register(
        on_invite_code, InviteFlow.code, F.text, ~F.text.startswith("/"), ~menu_buttons()
    )
    return router
