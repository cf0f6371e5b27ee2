"""Reply and inline keyboards, and the callback data they carry (each well under 64 bytes)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BotCommand,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import texts

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
CANCEL = "cancel"


class CodeAction(CallbackData, prefix="code"):
    action: str  # "resend" | "change"


class MenuAction(CallbackData, prefix="menu"):
    item: str  # "invite" | "referrals" | "name" | "campaign"


class ReferralPage(CallbackData, prefix="refs"):
    page: int


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def remove() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


def phone_request() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=texts.btn_share_phone(), request_contact=True)],
            [KeyboardButton(text=texts.btn_cancel())],
        ],
        resize_keyboard=True,
        input_field_placeholder="+79991234567",
    )


def cancel_only() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=texts.btn_cancel())]], resize_keyboard=True
    )


def main_menu() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [
                KeyboardButton(text=texts.btn_profile()),
                KeyboardButton(text=texts.btn_invite_link()),
            ],
            [
                KeyboardButton(text=texts.btn_referrals()),
                KeyboardButton(text=texts.btn_enter_code()),
            ],
            [KeyboardButton(text=texts.btn_language()), KeyboardButton(text=texts.btn_help())],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def code_step(seconds_left: int) -> InlineKeyboardMarkup:
    """Under the code prompt: "Send again" (counting down during the cooldown), "Change number"."""
    again = texts.btn_send_again_in(seconds_left) if seconds_left > 0 else texts.btn_send_again()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=again, callback_data=CodeAction(action="resend").pack())],
            [
                InlineKeyboardButton(
                    text=texts.btn_change_number(), callback_data=CodeAction(action="change").pack()
                ),
                InlineKeyboardButton(text=texts.btn_cancel(), callback_data=CANCEL),
            ],
        ]
    )


def new_code() -> InlineKeyboardMarkup:
    """After an expired or used-up code."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.btn_send_new_code(), callback_data=CodeAction(action="resend").pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=texts.btn_change_number(), callback_data=CodeAction(action="change").pack()
                ),
                InlineKeyboardButton(text=texts.btn_cancel(), callback_data=CANCEL),
            ],
        ]
    )


def share_url(link: str, text: str) -> str:
    return "https://t.me/share/url?" + urlencode({"url": link, "text": text}, quote_via=quote)


def invite(link: str, code: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts.btn_share(), url=share_url(link, texts.share_text()))],
            [InlineKeyboardButton(text=texts.btn_copy_code(), copy_text=CopyTextButton(text=code))],
            [
                InlineKeyboardButton(
                    text=texts.btn_new_campaign(), callback_data=MenuAction(item="campaign").pack()
                )
            ],
        ]
    )


def profile() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.btn_edit_name(), callback_data=MenuAction(item="name").pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=texts.btn_invite_link(), callback_data=MenuAction(item="invite").pack()
                ),
                InlineKeyboardButton(
                    text=texts.btn_referrals(), callback_data=MenuAction(item="referrals").pack()
                ),
            ],
        ]
    )


def referral_pages(page: int, has_next: bool) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="‹", callback_data=ReferralPage(page=page - 1).pack()))
    if has_next:
        row.append(InlineKeyboardButton(text="›", callback_data=ReferralPage(page=page + 1).pack()))
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


def invite_only() -> InlineKeyboardMarkup:
    """Under the empty referral list: straight to the link."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.btn_invite_link(), callback_data=MenuAction(item="invite").pack()
                )
            ]
        ]
    )


def languages(current: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=("✓ " if code == current else "") + name,
                    callback_data=LanguageChoice(code=code).pack(),
                )
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )


def commands() -> list[BotCommand]:
    return [BotCommand(command=name, description=text) for name, text in texts.commands()]
