"""Driving the real Dispatcher in-process: updates in, recorded Bot API calls out.

``RecordingSession`` is an aiogram session that answers every method the way the Bot API
would (a ``Message`` for sends and edits, ``True`` otherwise) and records it, like aiogram's
own ``tests/mocked_bot.py``. The end-to-end suite uses the real HTTP session instead.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from pydantic import SecretStr

from bot.app import create_bot, create_dispatcher
from bot.middlewares.throttle import Throttle
from core.services import Services
from core.settings import Settings
from tests.fakes.clock import FrozenClock

T = TypeVar("T")
BOT_ID = 123456
BOT_USERNAME = "referral_test_bot"
BOT_TOKEN = f"{BOT_ID}:TEST-token-for-the-bot-suite"


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.errors: deque[Exception] = deque()
        self._ids = itertools.count(1000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[T], timeout: int | None = None
    ) -> T:
        self.requests.append(method)
        if self.errors:
            raise self.errors.popleft()
        return cast(T, self._answer(method))

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return User(id=BOT_ID, is_bot=True, first_name="Referrals", username=BOT_USERNAME)
        if isinstance(method, SendMessage | SendPhoto | EditMessageText):
            chat_id = int(method.chat_id or 0)
            text = getattr(method, "text", None)
            return Message(
                message_id=getattr(method, "message_id", None) or next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=chat_id, type="private"),
                text=text,
            )
        return True

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""


class Person:
    """A Telegram user talking to the bot in a private chat."""

    def __init__(
        self,
        harness: Harness,
        user_id: int,
        first_name: str = "Anna",
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        self.harness = harness
        self.user = User(
            id=user_id,
            is_bot=False,
            first_name=first_name,
            last_name=last_name,
            language_code=language_code,
        )
        self.chat = Chat(id=user_id, type="private")

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(self.harness.ids),
            date=datetime.now(UTC),
            chat=fields.pop("chat", self.chat),
            from_user=self.user,
            **fields,
        )

    async def send(self, text: str, **fields: Any) -> Any:
        return await self.harness.feed(
            Update(update_id=0, message=self._message(text=text, **fields))
        )

    async def send_message(self, **fields: Any) -> Any:
        return await self.harness.feed(Update(update_id=0, message=self._message(**fields)))

    async def share_contact(self, phone: str, *, user_id: int | None = -1, **fields: Any) -> Any:
        owner = self.user.id if user_id == -1 else user_id
        contact = Contact(phone_number=phone, first_name=self.user.first_name, user_id=owner)
        return await self.send_message(contact=contact, **fields)

    async def edit(self, text: str) -> Any:
        message = self._message(text=text, edit_date=int(datetime.now(UTC).timestamp()))
        return await self.harness.feed(Update(update_id=0, edited_message=message))

    async def press(self, data: str, message_id: int = 1) -> Any:
        query = CallbackQuery(
            id=str(next(self.harness.ids)),
            from_user=self.user,
            chat_instance="ci",
            data=data,
            message=Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=self.chat,
                from_user=User(id=BOT_ID, is_bot=True, first_name="Referrals"),
                text="…",
            ),
        )
        return await self.harness.feed(Update(update_id=0, callback_query=query))

    def context(self) -> FSMContext:
        key = StorageKey(bot_id=BOT_ID, chat_id=self.chat.id, user_id=self.user.id)
        return FSMContext(storage=self.harness.dp.storage, key=key)

    async def state(self) -> str | None:
        return await self.context().get_state()

    async def data(self) -> dict[str, Any]:
        return await self.context().get_data()


class Harness:
    def __init__(
        self,
        services: Services,
        settings: Settings,
        clock: FrozenClock,
        throttle: Throttle | None = None,
    ) -> None:
        self.session = RecordingSession()
        if settings.bot_token is None:
            settings = settings.model_copy(update={"bot_token": SecretStr(BOT_TOKEN)})
        self.bot = create_bot(settings, session=self.session)
        self.dp: Dispatcher = create_dispatcher(services, settings, clock=clock, throttle=throttle)
        self.services = services
        self.ids = itertools.count(1)
        self._update_ids = itertools.count(1)

    async def feed(self, update: Update) -> Any:
        update = update.model_copy(update={"update_id": next(self._update_ids)})
        return await self.dp.feed_update(self.bot, update)

    def person(self, user_id: int = 1001, **kwargs: Any) -> Person:
        return Person(self, user_id, **kwargs)

    async def deliver(self) -> int:
        """Run the worker's outbox rounds until nothing is left: its Telegram messages go out
        through this harness's bot (and are recorded with the rest)."""
        sent = 0
        while True:
            dispatched = await self.services.delivery.dispatch()
            tried = await self.services.delivery.send_telegram()
            sent += tried
            if not dispatched and not tried:
                return sent

    async def close(self) -> None:
        await self.dp.fsm.close()
        await self.bot.session.close()

    # ----- what the bot sent ------------------------------------------------------------

    def take(self) -> list[TelegramMethod[Any]]:
        """Every call since the last take (and forget them)."""
        calls = list(self.session.requests)
        self.session.requests.clear()
        return calls

    def texts(self, calls: list[TelegramMethod[Any]] | None = None) -> list[str]:
        """Texts of messages sent or edited (captions of photos), in order."""
        out: list[str] = []
        for call in calls if calls is not None else self.take():
            if isinstance(call, SendMessage | EditMessageText):
                out.append(call.text or "")
            elif isinstance(call, SendPhoto) and call.caption:
                out.append(call.caption)
        return out

    def last_text(self) -> str:
        texts = self.texts()
        assert texts, "the bot sent nothing"
        return texts[-1]


def sent(calls: list[TelegramMethod[Any]], kind: type[TelegramMethod[Any]]) -> list[Any]:
    return [c for c in calls if isinstance(c, kind)]


def buttons(markup: Any) -> list[str]:
    """Labels of an inline or reply keyboard, row by row."""
    if markup is None:
        return []
    rows = markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else markup.keyboard
    return [b.text for row in rows for b in row]


def callback_of(markup: InlineKeyboardMarkup, label_part: str) -> str:
    for row in markup.inline_keyboard:
        for b in row:
            if label_part in b.text:
                assert b.callback_data is not None
                return b.callback_data
    raise AssertionError(f"no button with {label_part!r} in {buttons(markup)}")


__all__ = [
    "BOT_TOKEN",
    "AnswerCallbackQuery",
    "EditMessageReplyMarkup",
    "EditMessageText",
    "Harness",
    "Person",
    "RecordingSession",
    "SendMessage",
    "SendPhoto",
    "SetMyCommands",
    "buttons",
    "callback_of",
    "sent",
]
