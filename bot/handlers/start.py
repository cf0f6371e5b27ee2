"""/start and the deep links: /start <invite code>, <invite code>-<campaign>, c_<campaign>."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import keyboards, texts
from bot.links import invite_link
from bot.states import PENDING_INVITE, LoginFlow
from core.domain.entities import User
from core.domain.growth import parse_start_payload
from core.services import Services


async def on_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    services: Services,
    bot: Bot,
    user: User | None,
) -> None:
    await state.set_state(None)
    if user is not None:
        parsed = parse_start_payload(command.args)
        code = parsed.invite_code if parsed else None
        if code is not None:
            activation = await services.referrals.activate_invite(user.id, code)
            await message.answer(
                texts.invite_activated(activation.referrer), reply_markup=keyboards.main_menu()
            )
            return
        profile = await services.referrals.profile(user.id, user.id)
        link = await invite_link(bot, profile.user.invite_code)
        await message.answer(
            texts.profile(profile, link, services.ledger.unit), reply_markup=keyboards.main_menu()
        )
        return
    lines = [texts.welcome()]
    # Remembered before any login: the click is the attribution, even if this dialog is lost.
    sender = message.from_user
    parsed = await services.growth.record_click(sender.id, command.args) if sender else None
    code = parsed.invite_code if parsed else None
    if code is not None:
        await state.update_data({PENDING_INVITE: code})
        inviter = await services.referrals.inviter(code)
        lines.insert(0, texts.invited_by(inviter, code))
    await state.set_state(LoginFlow.phone)
    await message.answer("\n\n".join(lines), reply_markup=keyboards.phone_request())


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(on_start, CommandStart())
    return router
