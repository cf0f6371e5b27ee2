"""The router tree: one router per feature, assembled fresh on every call.

Order matters: the commands every step understands come first, then the menu features (for
users who are logged in), then login (which also answers the menu for users who are not),
and the fallback last.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    common,
    fallback,
    growth,
    invite,
    language,
    login,
    profile,
    referrals,
    start,
)


def build_router() -> Router:
    root = Router(name="root")
    root.include_routers(
        common.build_router(),
        language.build_router(),
        start.build_router(),
        profile.build_router(),
        invite.build_router(),
        referrals.build_router(),
        growth.build_router(),
        login.build_router(),
        fallback.build_router(),
    )
    return root
