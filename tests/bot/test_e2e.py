"""End to end: the real bot polling a local Bot API server, as people would use it.

Everything is real except Telegram: ``run_polling`` with the aiogram ``Bot`` and its aiohttp
session (``TELEGRAM_API_URL`` points it at ``FakeTelegram``), the core over PostgreSQL, the FSM
in Redis, and the ``file`` SMS backend, from which the codes are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import EllipsisType
from typing import Any

import pytest
import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runner import run_polling
from core.runtime import worker_services
from core.services import Services
from core.settings import Settings
from core.worker.runner import Worker
from tests.bot.helpers import phone_number
from tests.conftest import REDIS_URL
from tests.fakes.telegram_server import BotMessage, Call, FakeTelegram, FakeUser

pytestmark = pytest.mark.postgres

REDIS_DB_URL = REDIS_URL


@pytest.fixture
def db_url(migrated: Any) -> str:
    """PostgreSQL only: the deployment the bot runs on."""
    return str(migrated("postgres"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
    assert server.internal_errors == []


@pytest.fixture
async def redis_db() -> AsyncIterator[None]:
    client = redis.Redis.from_url(REDIS_DB_URL)
    await client.flushdb()
    try:
        yield
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def sms_file(tmp_path: Path) -> Path:
    return tmp_path / "sms.jsonl"


@pytest.fixture
def settings_overrides(fake: FakeTelegram, sms_file: Path, redis_db: None) -> dict[str, Any]:
    return {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "REDIS_URL": REDIS_DB_URL,
        "SMS_BACKEND": "file",
        "SMS_FILE": str(sms_file),
        "BOT_THROTTLE_PER_SECOND": 100,
        "OTP_LOCK_AFTER_FAILURES": 3,
    }


@pytest.fixture
async def services(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Services]:
    # The real composition root, with the real FileSmsSender (no sms=, no clock=) and the
    # worker's Telegram sender, as ``referral dev`` builds them.
    async with worker_services(settings) as built:
        yield built


def commands_for(language: str | None) -> Callable[[Call], bool]:
    def match(call: Call) -> bool:
        return call.method == "setMyCommands" and call.params.get("language_code") == language

    return match


@pytest.fixture
async def running_bot(
    fake: FakeTelegram, settings: Settings, services: Services
) -> AsyncIterator[None]:
    polling = asyncio.create_task(run_polling(settings, services, handle_signals=False))
    stop = asyncio.Event()
    worker = asyncio.create_task(Worker(services).run(stop))  # it sends the notifications
    # Started: the command menu is set in English and for the four Russian-speaking clients.
    for language in (None, "ru", "uk", "be", "kk"):
        await fake.wait_for(commands_for(language), since=0)
    try:
        yield
    finally:
        stop.set()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await worker


class Person:
    """Someone using the bot through the fake server."""

    def __init__(self, fake: FakeTelegram, sms_file: Path, user: FakeUser) -> None:
        self.fake, self.sms_file, self.user = fake, sms_file, user

    async def replies(self, n: int = 1) -> list[BotMessage]:
        """The next ``n`` messages the bot sends this person after their last action."""
        found: list[BotMessage] = []
        since: int | None = None
        for _ in range(n):
            call = await self.fake.wait_for(lambda c: sent_to(c, self.user.id), since=since)
            found.append(self.fake.message(self.user.id, int(call.result["message_id"])))
            since = call.seq + 1
        return found

    async def say(self, text: str, replies: int = 1) -> list[BotMessage]:
        self.fake.send_text(self.user, text)
        return await self.replies(replies)

    async def tap(self, label: str, replies: int = 1) -> list[BotMessage]:
        """Tap a button of the reply keyboard the person sees now."""
        self.fake.press_reply_button(self.user, label)
        return await self.replies(replies)

    async def press(self, message: BotMessage, label: str) -> Call:
        """Press an inline button; returns the bot's answer to the callback query."""
        self.fake.press_button(self.user, message, button_text=label)
        return await self.fake.wait_for("answerCallbackQuery")

    async def share_contact(self, phone: str, *, owner: int | EllipsisType | None = ...) -> None:
        self.fake.send_contact(self.user, phone.lstrip("+"), contact_user_id=owner)

    def code(self, phone: str) -> str:
        """The code in the last SMS to ``phone``, from the ``file`` SMS backend."""
        for line in reversed(self.sms_file.read_text(encoding="utf-8").splitlines()):
            sms = json.loads(line)
            if sms["phone"] == phone:
                match = re.search(r"\d{4,8}", sms["text"])
                assert match, sms
                return match.group()
        raise AssertionError(f"no SMS to {phone} in {self.sms_file}")

    async def log_in(
        self, phone: str, *, start: str = "/start", replies: int = 1
    ) -> list[BotMessage]:
        """/start (or a deep link), share the own contact, type the code from the SMS."""
        [welcome] = await self.say(start)
        self.fake.press_reply_button(self.user, welcome.button_texts()[0])  # share my number
        sent, prompt = await self.replies(2)
        assert sent.content.startswith("📨"), sent.content
        assert prompt.inline_keyboard, prompt.content
        return await self.say(self.code(phone), replies=replies)


def sent_to(call: Call, chat_id: int) -> bool:
    return bool(
        call.ok
        and call.method in ("sendMessage", "sendPhoto")
        and call.result["chat"]["id"] == chat_id
    )


@pytest.fixture
def people(fake: FakeTelegram, sms_file: Path, running_bot: None) -> Any:
    def make(first_name: str, phone: str, language_code: str = "en", **kw: Any) -> Person:
        user = fake.user(
            first_name, language_code=language_code, phone_number=phone.lstrip("+"), **kw
        )
        return Person(fake, sms_file, user)

    return make


# ----- journeys -----------------------------------------------------------------------------


async def test_deep_link_contact_code_invite_and_the_inviter_is_notified(
    fake: FakeTelegram, services: Services, people: Any
) -> None:
    boris = people("Boris", phone_number(1))
    [greeting] = await boris.log_in(phone_number(1))
    link = re.search(r"https://t\.me/referral_test_bot\?start=(\w+)", greeting.content)
    assert link is not None, greeting.content
    assert greeting.button_texts()[0] == "👤 Profile"

    anna = people("Anna", phone_number(2), last_name="Petrova")
    [welcome] = await anna.say(f"/start {link.group(1)}")
    assert welcome.content.startswith("🎁 Boris invited you.")
    # The reply keyboard: the contact button (its text was escaped on the way, too).
    keyboard = fake.reply_keyboard(anna.user.id)
    assert keyboard is not None and keyboard["keyboard"][0][0]["request_contact"] is True
    fake.press_reply_button(anna.user, "📱 Share my phone number")
    sent, _prompt = await anna.replies(2)
    assert sent.content == "📨 We sent an SMS with a code to +7999***4567."
    greeting2, joined = await anna.say(anna.code(phone_number(2)), replies=2)
    assert greeting2.content.startswith("✅ Welcome, Anna Petrova!")
    assert joined.content == "🤝 You joined by the invite of Boris (+7999***4567)."

    [note] = await boris.replies(1)
    assert note.content == "🎉 Anna Petrova joined by your invite!\nYou now have 1 referral."
    user = await services.accounts.user_by_telegram(anna.user.id)
    assert user is not None and user.referrer_id is not None


async def test_someone_elses_contact_is_refused(fake: FakeTelegram, people: Any) -> None:
    other = fake.user("Mallory", phone_number=phone_number(9).lstrip("+"))
    anna = people("Anna", phone_number(2))
    await anna.say("/start")
    await anna.share_contact(phone_number(9), owner=other.id)
    [reply] = await anna.replies(1)
    assert reply.content.startswith("This is not your own contact.")
    assert fake.reply_keyboard(anna.user.id) is not None


async def test_wrong_code_until_the_number_is_locked(people: Any) -> None:
    anna = people("Anna", phone_number(2))
    await anna.say("/start")
    await anna.share_contact(phone_number(2))
    await anna.replies(2)
    right = anna.code(phone_number(2))
    wrong = f"{(int(right) + 1) % 10000:04d}"
    answers = [(await anna.say(wrong))[0].content for _ in range(3)]
    assert answers == [
        "Wrong code. 4 attempts left.",
        "Wrong code. 3 attempts left.",
        "Too many wrong codes. This number is locked; try again in 1 hour.",
    ]
    [locked] = await anna.say(right)
    assert locked.content.startswith("Too many wrong codes.")


async def test_manual_invite_entry(services: Services, people: Any) -> None:
    boris = people("Boris", phone_number(1))
    await boris.log_in(phone_number(1))
    owner = await services.accounts.user_by_telegram(boris.user.id)
    assert owner is not None

    anna = people("Anna", phone_number(2))
    await anna.log_in(phone_number(2))
    [prompt] = await anna.tap("🎟 Enter invite code")
    assert prompt.content.startswith("Send the invite code")
    [done] = await anna.say(owner.invite_code.lower())
    assert done.content == "🤝 You joined by the invite of Boris (+7999***4567)."
    [note] = await boris.replies(1)
    assert note.content.startswith("🎉 Anna joined by your invite!")


async def test_invite_link_comes_with_a_qr_code(fake: FakeTelegram, people: Any) -> None:
    anna = people("Anna", phone_number(2))
    await anna.log_in(phone_number(2))
    [photo] = await anna.tap("🔗 My invite link")
    assert photo.photo is not None and photo.photo.is_png
    assert "https://t.me/referral_test_bot?start=" in photo.content
    assert [b.get("copy_text") is not None for b in photo.buttons()] == [False, True, False]
    assert photo.buttons()[0]["url"].startswith("https://t.me/share/url?url=")


async def test_paging_referrals(fake: FakeTelegram, services: Services, people: Any) -> None:
    anna = people("Anna", phone_number(100))
    await anna.log_in(phone_number(100))
    owner = await services.accounts.user_by_telegram(anna.user.id)
    assert owner is not None
    for i in range(1, 13):
        phone = phone_number(i)
        await services.auth.request_code(phone, f"test:{i}")
        await services.auth.login(phone, anna.code(phone), invite_code=owner.invite_code)

    [page1] = await anna.tap("👥 My referrals")
    assert page1.content.split("\n")[:2] == ["👥 You invited 12 people.", "Page 1 of 2."]
    assert page1.button_texts() == ["›"]
    await anna.press(page1, "›")
    await fake.wait_for("editMessageText")
    assert page1.content.split("\n")[1] == "Page 2 of 2."
    assert len(page1.content.split("\n")) == 3 + 2
    assert page1.button_texts() == ["‹"]
    await anna.press(page1, "‹")
    await fake.wait_for("editMessageText")
    assert page1.content.split("\n")[1] == "Page 1 of 2."

    # A double tap: the second edit changes nothing, which Telegram refuses; no apology.
    mark = fake.mark()
    fake.press_button(anna.user, page1, button_text="›")
    fake.press_button(anna.user, page1, button_text="›")
    refused = await fake.wait_for(lambda c: c.method == "editMessageText" and not c.ok, since=mark)
    assert refused.description is not None and "message is not modified" in refused.description
    await anna.say("/help")  # handled after the double tap (updates of a user stay in order)
    to_anna = [c.text for c in fake.calls[mark:] if c.method == "sendMessage"]
    assert len(to_anna) == 1 and (to_anna[0] or "").startswith("<b>How it works</b>")


async def test_switching_language(fake: FakeTelegram, services: Services, people: Any) -> None:
    anna = people("Anna", phone_number(2))
    await anna.log_in(phone_number(2))
    [choice] = await anna.tap("🌐 Language")
    assert choice.button_texts() == ["✓ English", "Русский"]
    fake.press_button(anna.user, choice, button_text="Русский")
    [done] = await anna.replies(1)
    assert done.content == "🌐 Теперь бот говорит по-русски."
    assert choice.content == "Выберите язык:" and choice.button_texts() == []
    await fake.wait_for("setMyCommands")
    assert fake.visible_commands(anna.user)[0]["description"] == "Начать или войти"
    [help_text] = await anna.tap("❓ Помощь")
    assert help_text.content.startswith("Как это работает")
    user = await services.accounts.user_by_telegram(anna.user.id)
    assert user is not None and user.language == "ru"


async def test_a_russian_client_is_answered_in_russian(people: Any) -> None:
    ivan = people("Иван", phone_number(3), language_code="uk")
    [welcome] = await ivan.say("/start")
    assert welcome.content.startswith("Привет!")
    assert welcome.button_texts()[0] == "📱 Отправить мой номер"


async def test_flood_control_is_waited_out_and_the_send_retried(
    fake: FakeTelegram, people: Any
) -> None:
    anna = people("Anna", phone_number(2))
    fake.fail_next("sendMessage", error_code=429, retry_after=1)
    [reply] = await anna.say("/help")
    assert reply.content.startswith("How it works")
    attempts = fake.calls_to("sendMessage")
    assert [(c.ok, c.error_code) for c in attempts] == [(False, 429), (True, None)]
    assert attempts[1].at - attempts[0].at >= 0.9


async def test_a_contact_and_a_code_sent_together_stay_in_order(
    fake: FakeTelegram, people: Any
) -> None:
    anna = people("Anna", phone_number(2))
    await anna.say("/start")
    # Both updates are queued before the bot polls: Redis event isolation keeps them in order.
    fake.send_contact(anna.user, phone_number(2).lstrip("+"))
    fake.send_text(anna.user, "12345")
    replies = [m.content for m in await anna.replies(3)]
    assert replies[2] == "The code is digits only, as in the SMS."


async def test_groups_get_silence(fake: FakeTelegram, people: Any) -> None:
    anna = people("Anna", phone_number(2))
    group = fake.group("Friends")
    fake.send_text(anna.user, "/start", chat=group)
    [reply] = await anna.say("/help")  # the private chat still works, and nothing came before
    assert reply.content.startswith("How it works")
    assert not [c for c in fake.calls_to("sendMessage") if c.chat_id == group.id]


async def test_command_menus_are_set_at_start_up(fake: FakeTelegram, people: Any) -> None:
    del people  # the bot is running
    assert fake.commands()[0] == {"command": "start", "description": "Start or log in"}
    for language in ("ru", "uk", "be", "kk"):
        assert fake.commands(language)[0]["description"] == "Начать или войти"
