"""Editing a message the bot sent, where "nothing changed" is not an error.

Telegram refuses an edit that changes nothing ("message is not modified"), which happens
when a button is pressed twice before the first edit lands. That is not worth an apology.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message


def _not_modified(exc: TelegramBadRequest) -> bool:
    return "message is not modified" in exc.message


async def edit_text(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if not _not_modified(exc):
            raise


async def edit_markup(message: Message, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        if not _not_modified(exc):
            raise
