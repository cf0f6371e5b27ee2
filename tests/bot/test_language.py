"""Dialog 9: the language, from Telegram's language_code or chosen with /language."""

from __future__ import annotations

from aiogram.types import BotCommandScopeChat

from bot.app import set_commands
from bot.i18n import make_i18n
from bot.states import LOCALE
from core.services import Services
from tests.bot.harness import (
    EditMessageText,
    Harness,
    SendMessage,
    SetMyCommands,
    buttons,
    sent,
)
from tests.bot.helpers import log_in
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user

LANGUAGE_CODES = {
    "ru": "Привет!",
    "uk": "Привет!",
    "be": "Привет!",
    "kk": "Привет!",
    "ru-RU": "Привет!",
    "en": "Hi!",
    "de": "Hi!",
    None: "Hi!",
}


async def test_telegram_language_code_picks_the_language(tg: Harness) -> None:
    for n, (language_code, greeting) in enumerate(LANGUAGE_CODES.items()):
        await tg.person(user_id=3000 + n, language_code=language_code).send("/start")
        assert tg.last_text().startswith(greeting), language_code


async def test_switching_saves_the_language_on_the_account_and_redraws_the_menu(
    tg: Harness, services: Services, sms: RecordingSmsSender
) -> None:
    anna = tg.person(language_code="en")
    user = await log_in(tg, anna, sms)
    await anna.send("🌐 Language")
    [prompt] = sent(tg.take(), SendMessage)
    assert prompt.text == "Choose your language:"
    assert buttons(prompt.reply_markup) == ["✓ English", "Русский"]

    await anna.press("lang:ru")
    calls = tg.take()
    [edit] = sent(calls, EditMessageText)
    assert edit.text == "Выберите язык:" and edit.reply_markup is None
    [done] = sent(calls, SendMessage)
    assert done.text == "🌐 Теперь бот говорит по-русски."
    assert buttons(done.reply_markup)[0] == "👤 Профиль"
    [commands] = sent(calls, SetMyCommands)
    assert commands.scope == BotCommandScopeChat(chat_id=anna.chat.id)
    assert commands.commands[0].description == "Начать или войти"
    assert (await get_user(services, user.id)).language == "ru"

    await anna.send("/help")
    assert tg.last_text().startswith("<b>Как это работает</b>")
    # The old English keyboard still works after the switch.
    await anna.send("👤 Profile")
    assert tg.last_text().startswith("👤 <b>Ваш профиль</b>")


async def test_the_saved_language_beats_telegrams(
    tg: Harness, services: Services, sms: RecordingSmsSender
) -> None:
    anna = tg.person(language_code="ru")
    user = await log_in(tg, anna, sms)
    await services.accounts.set_language(user.id, "en")
    await anna.send("/help")
    assert tg.last_text().startswith("<b>How it works</b>")


async def test_before_login_the_choice_is_kept_in_the_chat(tg: Harness) -> None:
    anna = tg.person(language_code="ru")
    await anna.send("/language")
    await anna.press("lang:en")
    assert (await anna.data())[LOCALE] == "en"
    tg.take()
    await anna.send("/start")
    assert tg.last_text().startswith("Hi!")


async def test_an_unknown_language_is_refused(tg: Harness) -> None:
    anna = tg.person()
    await anna.press("lang:de")
    assert tg.last_text() == "Only English and Russian are available."


async def test_command_menu_is_set_per_language_at_start_up(tg: Harness) -> None:
    await set_commands(tg.bot, make_i18n())
    calls = sent(tg.take(), SetMyCommands)
    by_language = {c.language_code: c.commands for c in calls}
    assert set(by_language) == {None, "ru", "uk", "be", "kk"}
    english = by_language[None]
    assert [c.command for c in english] == [
        "start",
        "profile",
        "invite",
        "referrals",
        "code",
        "stats",
        "top",
        "language",
        "help",
        "cancel",
        "logout",
    ]
    assert english[0].description == "Start or log in"
    assert by_language["uk"][0].description == "Начать или войти"
