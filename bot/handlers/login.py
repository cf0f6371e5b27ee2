"""Logging in: the phone (shared contact or typed), then the code from the SMS.

The core sends the code, checks it and enforces every limit, the "Send again" cooldown
included; the bot only draws what the core answers.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import keyboards, texts
from bot.edits import edit_markup, edit_text
from bot.errors import error_text
from bot.filters import Button, NotLoggedIn, menu_buttons
from bot.links import invite_link
from bot.states import LOCALE, PENDING_INVITE, PHONE, LoginFlow
from core.services import Services, TelegramProfile


def client_id(telegram_id: int) -> str:
    """Who asks, for the core's per-client limits."""
    return f"tg:{telegram_id}"


# ----- the phone ----------------------------------------------------------------------------


async def _send_code(
    message: Message,
    state: FSMContext,
    services: Services,
    locale: str,
    raw_phone: str,
    telegram_id: int,
) -> None:
    sent = await services.auth.request_code(raw_phone, client_id(telegram_id), language=locale)
    await state.update_data({PHONE: sent.phone})
    await state.set_state(LoginFlow.code)
    await message.answer(texts.code_sent(sent.phone), reply_markup=keyboards.remove())
    await message.answer(texts.ask_code(), reply_markup=keyboards.code_step(sent.resend_after))


async def on_contact(message: Message, state: FSMContext, services: Services, locale: str) -> None:
    contact, sender = message.contact, message.from_user
    if contact is None or sender is None:
        return
    if contact.user_id != sender.id or message.forward_origin is not None:
        await state.set_state(LoginFlow.phone)
        await message.answer(texts.not_own_contact(), reply_markup=keyboards.phone_request())
        return
    await _send_code(message, state, services, locale, contact.phone_number, sender.id)


async def on_phone_text(
    message: Message, state: FSMContext, services: Services, locale: str
) -> None:
    if message.text is None or message.from_user is None:
        return
    await _send_code(message, state, services, locale, message.text, message.from_user.id)


# ----- the code -----------------------------------------------------------------------------


async def on_code(
    message: Message, state: FSMContext, services: Services, bot: Bot, i18n: I18n
) -> None:
    sender = message.from_user
    if message.text is None or sender is None:
        return
    data = await state.get_data()
    phone = data.get(PHONE)
    if not isinstance(phone, str):
        await state.set_state(LoginFlow.phone)
        await message.answer(texts.ask_phone(), reply_markup=keyboards.phone_request())
        return
    chosen = data.get(LOCALE)
    pending = data.get(PENDING_INVITE)
    result = await services.auth.login_with_pending_invite(
        phone,
        message.text,
        pending if isinstance(pending, str) else None,
        TelegramProfile(
            telegram_id=sender.id,
            first_name=sender.first_name,
            last_name=sender.last_name,
            language=chosen if isinstance(chosen, str) else sender.language_code,
        ),
    )
    await state.set_state(None)
    await state.set_data({LOCALE: chosen} if isinstance(chosen, str) else {})
    user = result.user
    locale = user.language if user.language in i18n.available_locales else i18n.current_locale
    with i18n.use_locale(locale):
        link = await invite_link(bot, user.invite_code)
        await message.answer(texts.greeting(user, link), reply_markup=keyboards.main_menu())
        if result.activation is not None:
            await message.answer(texts.invite_activated(result.activation.referrer))
        elif result.invite_refused is not None and isinstance(pending, str):
            # The invite is explained on its own: a refusal never undoes the login.
            reason = error_text(result.invite_refused)
            await message.answer(texts.pending_invite_failed(pending, reason))


async def on_resend(
    query: CallbackQuery, state: FSMContext, services: Services, locale: str
) -> None:
    phone = (await state.get_data()).get(PHONE)
    if not isinstance(phone, str) or not isinstance(query.message, Message):
        await query.answer(texts.stale_button())
        return
    sent = await services.auth.resend_code(phone, client_id(query.from_user.id), language=locale)
    if not sent.sent:
        await query.answer(texts.resend_wait(sent.resend_after))
        await edit_markup(query.message, keyboards.code_step(sent.resend_after))
        return
    await query.answer()
    await edit_text(
        query.message, texts.new_code_sent(sent.phone), keyboards.code_step(sent.resend_after)
    )


async def on_change_number(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    data.pop(PHONE, None)
    await state.set_data(data)
    await state.set_state(LoginFlow.phone)
    await query.answer()
    if isinstance(query.message, Message):
        await edit_markup(query.message, None)
        await query.message.answer(texts.ask_phone(), reply_markup=keyboards.phone_request())


# ----- the menu before logging in -----------------------------------------------------------


async def on_login_required(message: Message, state: FSMContext) -> None:
    await state.set_state(LoginFlow.phone)
    await message.answer(texts.login_first(), reply_markup=keyboards.phone_request())


async def on_login_required_button(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(LoginFlow.phone)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.login_first(), reply_markup=keyboards.phone_request())


def build_router() -> Router:
    router = Router(name="login")
    router.message.filter(NotLoggedIn())
    router.callback_query.filter(NotLoggedIn())
    text_input = (F.text, ~F.text.startswith("/"), ~menu_buttons())

    any_login_step = StateFilter(None, LoginFlow.phone, LoginFlow.code)
    router.message.register(on_contact, any_login_step, F.contact)
    router.message.register(on_phone_text, LoginFlow.phone, *text_input)
    router.message.register(on_code, LoginFlow.code, *text_input)
    router.callback_query.register(on_resend, keyboards.CodeAction.filter(F.action == "resend"))
    router.callback_query.register(
        on_change_number, keyboards.CodeAction.filter(F.action == "change")
    )
    router.message.register(
        on_login_required, Command("profile", "invite", "referrals", "code", "stats", "top")
    )
    router.message.register(
        on_login_required,
        Button(texts.btn_profile, texts.btn_invite_link, texts.btn_referrals, texts.btn_enter_code),
    )
    router.callback_query.register(on_login_required_button, keyboards.MenuAction.filter())
    router.callback_query.register(on_login_required_button, keyboards.ReferralPage.filter())
    return router
