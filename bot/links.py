"""The deep link that carries an invite code: ``https://t.me/<bot>?start=<code>``."""

from __future__ import annotations

from aiogram import Bot


async def invite_link(bot: Bot, code: str) -> str:
    me = await bot.me()  # cached by aiogram after the first getMe
    if not me.username:
        raise RuntimeError("getMe returned no username: deep links need one")
    return f"https://t.me/{me.username}?start={code}"
