"""The one translation of the core's errors for Telegram, and the dispatcher's error handlers.

``REPLIES`` maps each ``DomainError`` class to what the user is told; a class without an entry
takes its nearest ancestor's (the lookup walks the MRO, so the order of the table is
irrelevant). Anything that is not a ``DomainError`` is a bug: it is logged with the update id
and the user gets an apology and the menu, never silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    ErrorEvent,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot import keyboards, texts
from core.domain.entities import User
from core.domain.errors import (
    CodeExpired,
    CodeInvalid,
    Conflict,
    DomainError,
    Forbidden,
    InvalidCode,
    InvalidCursor,
    InvalidInput,
    InvalidInviteCode,
    InvalidLanguage,
    InvalidName,
    InvalidPhone,
    InviteAlreadyActivated,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
    NotFound,
    PhoneLocked,
    PhoneNotAllowed,
    RateLimited,
    ResendTooSoon,
    SmsDailyCapReached,
    SmsDeliveryFailed,
    Unauthorized,
    Unavailable,
    UserNotFound,
)

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class ErrorReply:
    text: Callable[[DomainError], str]
    #: Inline buttons offering the way on (a new code), if any.
    markup: Callable[[DomainError], InlineKeyboardMarkup | None] | None = None
    #: Leave the current step and show the menu: repeating the input cannot help.
    end_step: bool = False


def _static(render: Callable[[], str], *, end_step: bool = False) -> ErrorReply:
    return ErrorReply(text=lambda _exc: render(), end_step=end_step)


def _retry_after(exc: DomainError) -> int:
    return exc.retry_after if isinstance(exc, RateLimited) else 1


def _attempts_left(exc: DomainError) -> int:
    return exc.attempts_left if isinstance(exc, CodeInvalid) else 0


def _code_invalid_text(exc: DomainError) -> str:
    left = _attempts_left(exc)
    return texts.err_code_wrong(left) if left else texts.err_code_used_up()


def _code_invalid_markup(exc: DomainError) -> InlineKeyboardMarkup | None:
    return None if _attempts_left(exc) else keyboards.new_code()


REPLIES: dict[type[DomainError], ErrorReply] = {
    # invalid input: the step stays, the user corrects the input
    InvalidInput: _static(texts.err_invalid_input),
    InvalidPhone: _static(texts.err_invalid_phone),
    PhoneNotAllowed: _static(texts.err_phone_not_allowed),
    InvalidCode: _static(texts.err_invalid_code_format),
    InvalidInviteCode: _static(texts.err_invalid_invite_code),
    InvalidName: _static(texts.err_invalid_name),
    InvalidLanguage: _static(texts.err_invalid_language),
    InvalidCursor: _static(texts.err_invalid_input),
    # not found
    NotFound: _static(texts.err_not_found),
    UserNotFound: _static(texts.err_user_not_found, end_step=True),
    InviteNotFound: _static(texts.err_invite_not_found),
    # conflicts
    Conflict: _static(texts.err_conflict, end_step=True),
    InviteOwnCode: _static(texts.err_invite_own_code),
    InviteAlreadyActivated: _static(texts.err_invite_already_activated, end_step=True),
    InviteCycle: _static(texts.err_invite_cycle),
    # one-time codes
    Unauthorized: _static(texts.err_unauthorized, end_step=True),
    CodeInvalid: ErrorReply(_code_invalid_text, _code_invalid_markup),
    CodeExpired: ErrorReply(
        lambda _exc: texts.err_code_expired(), lambda _exc: keyboards.new_code()
    ),
    # limits
    RateLimited: ErrorReply(lambda exc: texts.err_rate_limited(_retry_after(exc))),
    PhoneLocked: ErrorReply(lambda exc: texts.err_phone_locked(_retry_after(exc))),
    ResendTooSoon: ErrorReply(lambda exc: texts.resend_wait(_retry_after(exc))),
    # the SMS gateway
    Unavailable: _static(texts.err_unavailable),
    SmsDeliveryFailed: _static(texts.err_sms_unavailable),
    SmsDailyCapReached: _static(texts.err_sms_daily_cap),
    # the integrators' and the operator's errors: no dialog of the bot leads to them
    Forbidden: _static(texts.err_generic),
    # anything else the core may add later
    DomainError: _static(texts.err_generic),
}


def reply_for(exc: DomainError) -> ErrorReply:
    for cls in type(exc).__mro__:
        reply = REPLIES.get(cls)
        if reply is not None:
            return reply
    raise AssertionError("DomainError has an entry")  # pragma: no cover


def error_text(exc: DomainError) -> str:
    """The user-facing text of a domain error, in the current language."""
    return reply_for(exc).text(exc)


def _chat_id(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.edited_message is not None:
        return update.edited_message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    return None


async def _reply(bot: Bot, update: Update, text: str, markup: Markup | None) -> None:
    if update.callback_query is not None:
        # The handler may have answered the button before it failed: a second answer fails.
        with suppress(TelegramBadRequest):
            await update.callback_query.answer()
    chat_id = _chat_id(update)
    if chat_id is not None:
        await bot.send_message(chat_id, text, reply_markup=markup)


async def on_domain_error(
    event: ErrorEvent, bot: Bot, state: FSMContext | None = None, user: User | None = None
) -> bool:
    exc = event.exception
    assert isinstance(exc, DomainError)
    reply = reply_for(exc)
    log.info("update %d: %s (%s)", event.update.update_id, type(exc).__name__, exc.code)
    markup: Markup | None = reply.markup(exc) if reply.markup else None
    try:
        if reply.end_step:
            if state is not None:
                await state.set_state(None)
            markup = keyboards.main_menu() if user is not None else keyboards.remove()
        await _reply(bot, event.update, reply.text(exc), markup)
    except Exception:
        log.warning(
            "update %d: could not send the error reply", event.update.update_id, exc_info=True
        )
    return True


async def on_unexpected_error(event: ErrorEvent, bot: Bot, user: User | None = None) -> bool:
    log.error(
        "update %d failed: %r",
        event.update.update_id,
        event.exception,
        exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
    )
    markup = keyboards.main_menu() if user is not None else None
    try:
        await _reply(bot, event.update, texts.apology(), markup)
    except Exception:
        log.warning("update %d: could not send the apology", event.update.update_id, exc_info=True)
    return True


def register(dp: Dispatcher) -> None:
    dp.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    dp.errors.register(on_unexpected_error)
