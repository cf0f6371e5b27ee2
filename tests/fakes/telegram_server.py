"""A local Telegram Bot API server: the real aiogram ``Bot`` talks to it over real HTTP.

It speaks the Bot API as aiogram 3 sends it: ``POST /bot<token>/<method>`` with form fields
(nested values JSON-encoded) or multipart when files are attached (``attach://<key>``); JSON
bodies and query strings are read too. Every answer is the envelope ``{"ok": true, "result": ...}``
or ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`` with HTTP status
N, so aiogram raises its own exceptions (``TelegramRetryAfter``, ``TelegramBadRequest``, ...).

It simulates a small world: the bot (``getMe``), users with their private chats, groups, the
update queue behind ``getUpdates`` (offset confirms, long polling wakes up on a new update), the
messages the bot sent (their text and markup after edits, so a test can press their buttons),
uploaded files, commands per scope and language, and the webhook settings. Where real Telegram
refuses something a bot could get wrong, so does the fake: an empty or too long text, HTML that
does not parse, callback data over 64 bytes, an edit that changes nothing, a second answer to
a callback query, an invalid command name, a chat that never talked to the bot, a user who
blocked it, ``getUpdates`` while a webhook is set or while another ``getUpdates`` is waiting.

In tests::

    async with FakeTelegram() as tg, tg.make_bot() as bot:
        alice = tg.user("Alice")
        ...  # run the Dispatcher on ``bot`` (polling), then:
        tg.send_text(alice, "/start ABC123")
        reply = await tg.next_message(alice.id)
        tg.press_button(alice, reply, button_text="Invite")
        await tg.wait_for("answerCallbackQuery")

Standalone, as a load target (``/_fake/*`` lets another process inject updates and read stats)::

    python -m tests.fakes.telegram_server --port 8081
    # bot: TelegramAPIServer.from_base("http://127.0.0.1:8081"), token printed at start
    # POST /_fake/text {"user_id": 1001, "text": "/start"}   GET /_fake/stats
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import EllipsisType
from typing import Any, Final, Literal, overload

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientSession, ClientTimeout, MultipartReader, web
from aiohttp.web_request import FileField

from tests.fakes.local_server import LocalServer, listen, run_until_signalled

JsonDict = dict[str, Any]

DEFAULT_TOKEN: Final = "123456:TEST-token-for-the-bot-suite"
DEFAULT_BOT_USERNAME: Final = "referral_test_bot"
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
MAX_POLL_TIMEOUT: Final = 50

#: Update types Telegram leaves out when ``allowed_updates`` was never set (or set to ``[]``).
NOT_BY_DEFAULT: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

#: Form fields that stay strings (everything else is JSON-decoded when it parses).
STRING_FIELDS: Final = frozenset(
    [
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "phone_number",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    ]
)

CHAT_ACTIONS: Final = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)

INLINE_BUTTON_ACTIONS: Final = frozenset(
    [
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    ]
)

COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE: Final = re.compile(r"^[a-z]{2}$")
SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

HTML_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


# ----- errors -------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer: HTTP status ``error_code`` with the ``ok: false`` envelope."""

    def __init__(
        self, error_code: int, description: str, parameters: JsonDict | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JsonDict:
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


class WaitTimeout(AssertionError):
    """``wait_for`` gave up: the bot did not make the expected call in time."""


# ----- the simulated world ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeUser:
    """A Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    phone_number: str | None = None
    is_bot: bool = False

    def to_api(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> JsonDict:
        chat: JsonDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True, slots=True)
class FakeChat:
    """A group or supergroup the bot is a member of."""

    id: int
    title: str
    type: Literal["group", "supergroup"] = "supergroup"
    username: str | None = None

    def to_api(self) -> JsonDict:
        chat: JsonDict = {"id": self.id, "type": self.type, "title": self.title}
        if self.username is not None:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file the bot sent (uploaded bytes, or a URL / known ``file_id``)."""

    file_id: str
    file_unique_id: str
    kind: str
    file_path: str
    data: bytes | None = None
    filename: str | None = None
    content_type: str | None = None
    url: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0

    @property
    def is_png(self) -> bool:
        return self.data is not None and self.data.startswith(PNG_SIGNATURE)

    def photo_sizes(self) -> list[JsonDict]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": self.size,
            }
        ]

    def document(self) -> JsonDict:
        doc: JsonDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.filename:
            doc["file_name"] = self.filename
        if self.content_type:
            doc["mime_type"] = self.content_type
        return doc


@dataclass(slots=True, eq=False)
class BotMessage:
    """A message the bot sent, in its current state (edits and deletion applied)."""

    message_id: int
    chat: JsonDict
    date: int
    text: str | None = None
    entities: list[JsonDict] = field(default_factory=list)
    caption: str | None = None
    reply_markup: JsonDict | None = None
    parse_mode: str | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def content(self) -> str:
        """The text, or the caption of a media message."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def inline_keyboard(self) -> list[list[JsonDict]]:
        if self.reply_markup is None:
            return []
        rows: list[list[JsonDict]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def keyboard(self) -> list[list[JsonDict]]:
        """The rows of a reply keyboard sent with this message (strings become ``{"text": s}``)."""
        if self.reply_markup is None:
            return []
        return _reply_rows(self.reply_markup)

    def buttons(self) -> list[JsonDict]:
        return [b for row in (self.inline_keyboard or self.keyboard) for b in row]

    def button_texts(self) -> list[str]:
        return [str(b.get("text", "")) for b in self.buttons()]

    def button(self, text: str) -> JsonDict:
        for candidate in self.buttons():
            if candidate.get("text") == text:
                return candidate
        msg = f"no button {text!r} on message {self.message_id}; it has {self.button_texts()}"
        raise AssertionError(msg)

    def callback_data(self, text: str) -> str:
        data = self.button(text).get("callback_data")
        if not isinstance(data, str):
            msg = f"button {text!r} on message {self.message_id} carries no callback_data"
            raise AssertionError(msg)
        return data

    def to_api(self, bot_user: JsonDict) -> JsonDict:
        data: JsonDict = {
            "message_id": self.message_id,
            "from": bot_user,
            "chat": self.chat,
            "date": self.date,
        }
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo.photo_sizes()
        if self.document is not None:
            data["document"] = self.document.document()
        if self.caption is not None:
            data["caption"] = self.caption
            if self.entities:
                data["caption_entities"] = self.entities
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        # Telegram only returns an inline keyboard in ``Message.reply_markup``.
        if self.inline_keyboard:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass(slots=True)
class WebhookState:
    """What the last ``setWebhook`` / ``deleteWebhook`` left."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    drop_pending_updates: bool = False
    max_connections: int = 40
    ip_address: str | None = None
    has_custom_certificate: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call the bot made, with its decoded parameters and the answer it got."""

    seq: int
    method: str
    params: JsonDict
    files: Mapping[str, Upload]
    ok: bool
    result: Any
    error_code: int | None
    description: str | None
    at: float
    via_webhook_reply: bool = False

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return value if isinstance(value, int | str) else None

    @property
    def text(self) -> str | None:
        value = self.params.get("text")
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> JsonDict | None:
        value = self.params.get("reply_markup")
        return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """The webhook's answer to one posted update, and the method it answered with, if any."""

    status: int
    body: bytes
    reply: Call | None


@dataclass(slots=True)
class _Failure:
    error_code: int
    description: str
    parameters: JsonDict | None
    remaining: int


@dataclass(slots=True, eq=False)
class _Waiter:
    predicate: Callable[[Call], bool]
    needed: int
    matches: list[Call]
    future: asyncio.Future[list[Call]]

    def offer(self, call: Call) -> None:
        if self.future.done():
            return
        try:
            matched = self.predicate(call)
        except Exception as exc:  # a broken predicate must fail the test, not the server
            self.future.set_exception(exc)
            return
        if matched:
            self.matches.append(call)
            if len(self.matches) >= self.needed:
                self.future.set_result(self.matches)


class _Params:
    """Decoded request parameters with Bot API-style errors for missing or wrong values."""

    __slots__ = ("files", "values")

    def __init__(self, values: JsonDict, files: dict[str, Upload]) -> None:
        self.values = values
        self.files = files

    def opt_text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def req_text(self, name: str) -> str:
        value = self.opt_text(name)
        if value is None:
            raise bad_request(f"parameter {name} is required")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def opt_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


# ----- the server ---------------------------------------------------------------------


class LocalAiohttpSession(AiohttpSession):
    """aiogram's ``AiohttpSession``, closed without its 250 ms wait for TLS shutdown.

    Requests go through the unchanged aiogram code; only ``close()`` differs, because a plain
    HTTP connection to 127.0.0.1 has no TLS goodbye to wait for (it saves 0.25 s per bot).
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegram(LocalServer):
    """A Bot API server with a simulated world; see the module docstring."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "Referral Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
        record_get_updates: bool = False,
        latency: float = 0.0,
        strict_chats: bool = True,
        privacy_mode: bool = True,
        max_messages: int = 100_000,
        first_update_id: int = 1,
    ) -> None:
        """
        :param record: keep every call in ``calls`` (``False`` for a load target: counters only).
        :param record_get_updates: also keep ``getUpdates`` calls (left out: they are noise).
        :param latency: seconds every API call waits before it is answered.
        :param strict_chats: sending to a chat nobody opened is an error, as in Telegram;
            ``False`` makes any numeric chat id a private chat (handy for a benchmark).
        :param privacy_mode: in groups, only commands, mentions and replies to the bot reach it.
        :param max_messages: how many bot messages and files are kept (oldest dropped first).
        """
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.port = port
        self.record = record
        self.record_get_updates = record_get_updates
        self.latency = latency
        self.strict_chats = strict_chats
        self.privacy_mode = privacy_mode
        self.max_messages = max_messages

        # calls
        self.calls: list[Call] = []
        self.call_counts: Counter[str] = Counter()
        self.total_calls = 0
        self.unknown_methods: Counter[str] = Counter()
        self.internal_errors: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._waiters: list[_Waiter] = []
        self._action_mark = 0
        self._failures: dict[str, deque[_Failure]] = {}

        # world
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, JsonDict] = {}
        self._usernames: dict[str, int] = {}
        self._blocked: set[int] = set()
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)
        self._last_message_id: dict[int, int] = {}

        # updates
        self._queue: deque[JsonDict] = deque()
        self._update_ids = itertools.count(first_update_id)
        self._allowed_updates: list[str] | None = None
        self._poller: asyncio.Future[bool] | None = None
        self.confirmed_updates = 0
        self.dropped_updates = 0

        # bot state
        self._messages: dict[tuple[int, int], BotMessage] = {}
        self._last_by_chat: dict[int, BotMessage] = {}
        self._reply_keyboards: dict[int, JsonDict] = {}
        self.files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.webhook = WebhookState()
        self._pending_callbacks: dict[str, int] = {}
        self.callback_answers: dict[str, JsonDict] = {}
        self._callback_ids = itertools.count(1)

        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._stopping = False
        self._handlers: dict[str, tuple[str, Callable[[_Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("sendMessage", self._send_message),
                ("editMessageText", self._edit_message_text),
                ("editMessageCaption", self._edit_message_caption),
                ("editMessageReplyMarkup", self._edit_message_reply_markup),
                ("deleteMessage", self._delete_message),
                ("answerCallbackQuery", self._answer_callback_query),
                ("sendPhoto", self._send_photo),
                ("sendDocument", self._send_document),
                ("getFile", self._get_file),
                ("sendChatAction", self._send_chat_action),
                ("getChat", self._get_chat),
                ("setMyCommands", self._set_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("setWebhook", self._set_webhook),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("close", _true),
                ("logOut", _true),
            )
        }

    # ----- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What ``TelegramAPIServer.from_base`` takes."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_server(self) -> TelegramAPIServer:
        return TelegramAPIServer.from_base(self.base_url)

    def make_session(self, **kwargs: Any) -> AiohttpSession:
        """aiogram's ``AiohttpSession`` pointed at this server (``LocalAiohttpSession``)."""
        return LocalAiohttpSession(api=self.api_server, **kwargs)

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` talking to this server; close it (``async with``)."""
        return Bot(token or self.token, session=self.make_session(), **kwargs)

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/_fake/{action}", self._control_action)
        app.router.add_get("/_fake/stats", self._control_stats)
        app.router.add_get("/_fake/last_message/{chat_id}", self._control_last_message)
        # A long poll whose client went away is cancelled instead of holding its slot.
        self._runner, self.port = await listen(
            app, self.host, self.port, backlog=1024, handler_cancellation=True
        )
        self._stopping = False

    async def stop(self) -> None:
        """Answer a waiting long poll, close the webhook client and the server."""
        self._stopping = True
        self._wake_poller(result=True)
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # ----- the world ------------------------------------------------------------------

    @property
    def bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(
        self,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        phone_number: str | None = None,
        user_id: int | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A new user; ``started`` means they have opened the chat, so the bot may write."""
        uid = next(self._user_ids) if user_id is None else user_id
        user = FakeUser(
            id=uid,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            # Telegram sends one's own number without "+" (as most clients share it).
            phone_number=phone_number if phone_number is not None else f"7999{uid % 10**7:07d}",
        )
        self._users[uid] = user
        if username:
            self._usernames[username.lower()] = uid
        if started:
            self._chats[uid] = user.private_chat()
        return user

    def group(
        self,
        title: str = "Test group",
        *,
        supergroup: bool = True,
        username: str | None = None,
    ) -> FakeChat:
        """A group the bot is a member of."""
        n = next(self._group_ids)
        chat = FakeChat(
            id=-(1_000_000_000_000 + n) if supergroup else -n,
            title=title,
            type="supergroup" if supergroup else "group",
            username=username,
        )
        self._chats[chat.id] = chat.to_api()
        if username:
            self._usernames[username.lower()] = chat.id
        return chat

    # ----- updates, as Telegram would send them ----------------------------------------

    def send_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: BotMessage | None = None,
    ) -> JsonDict:
        """A text message from ``user`` (in their private chat, or in ``chat``)."""
        content: JsonDict = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = reply_to.to_api(self.bot_user)
        message = self._user_message(user, chat, content)
        # In a group with privacy mode on, the bot only gets commands, mentions and replies.
        hidden = chat is not None and self.privacy_mode and not self._privacy_allows(text, reply_to)
        return self._enqueue("message", message, deliver=not hidden)

    def send_contact(
        self,
        user: FakeUser,
        phone_number: str | None = None,
        *,
        contact_user_id: int | EllipsisType | None = ...,
        first_name: str | None = None,
        chat: FakeChat | None = None,
    ) -> JsonDict:
        """A shared contact: by default ``user``'s own (``contact_user_id=user.id``).

        Pass another user's id for someone else's contact, or ``None`` for a contact who
        has no Telegram account.
        """
        phone = phone_number if phone_number is not None else user.phone_number
        if phone is None:
            msg = f"user {user.id} has no phone number"
            raise ValueError(msg)
        owner_id = user.id if isinstance(contact_user_id, EllipsisType) else contact_user_id
        owner = self._users.get(owner_id) if owner_id is not None else None
        contact: JsonDict = {
            "phone_number": phone,
            "first_name": first_name or (owner.first_name if owner else "Contact"),
        }
        if owner is not None and owner.last_name:
            contact["last_name"] = owner.last_name
        if owner_id is not None:
            contact["user_id"] = owner_id
        return self._enqueue("message", self._user_message(user, chat, {"contact": contact}))

    def send_sticker(self, user: FakeUser, *, emoji: str = "👍") -> JsonDict:
        n = next(self._file_seq)
        sticker: JsonDict = {
            "file_id": f"fake-sticker-{n}",
            "file_unique_id": f"fake-u-sticker-{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._enqueue("message", self._user_message(user, None, {"sticker": sticker}))

    def edit_user_message(self, user: FakeUser, original: JsonDict, text: str) -> JsonDict:
        """``user`` edits a message they sent (``original``: its update or message)."""
        message = dict(original.get("message") or original.get("edited_message") or original)
        if message.get("from", {}).get("id") != user.id:
            msg = "a user can only edit their own message"
            raise ValueError(msg)
        message["text"] = text
        message["edit_date"] = _now()
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        return self._enqueue("edited_message", message)

    def press_button(
        self,
        user: FakeUser,
        message: BotMessage | int,
        callback_data: str | None = None,
        *,
        button_text: str | None = None,
    ) -> JsonDict:
        """``user`` presses an inline button the message carries *now* (by data or by text)."""
        if isinstance(message, int):
            found = self._messages.get((user.id, message))
            if found is None:
                msg = f"no bot message {message} in chat {user.id}"
                raise AssertionError(msg)
            message = found
        if message.deleted:
            msg = f"message {message.message_id} was deleted; its buttons are gone"
            raise AssertionError(msg)
        if button_text is not None:
            callback_data = message.callback_data(button_text)
        if callback_data is None:
            msg = "give callback_data or button_text"
            raise ValueError(msg)
        available = [b.get("callback_data") for b in _iter_buttons(message.inline_keyboard)]
        if callback_data not in available:
            msg = (
                f"message {message.message_id} has no button with callback_data "
                f"{callback_data!r}; it has {available}"
            )
            raise AssertionError(msg)
        query_id = f"{user.id}{next(self._callback_ids):08d}"
        self._pending_callbacks[query_id] = message.chat_id
        query: JsonDict = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(self.bot_user),
            "chat_instance": str(abs(message.chat_id) * 7919 % 10**12),
            "data": callback_data,
        }
        return self._enqueue("callback_query", query)

    def press_reply_button(
        self, user: FakeUser, text: str, *, chat: FakeChat | None = None
    ) -> JsonDict:
        """``user`` taps a button of the reply keyboard they see now (contact buttons share
        their own contact)."""
        chat_id = chat.id if chat is not None else user.id
        keyboard = self._reply_keyboards.get(chat_id)
        rows = _reply_rows(keyboard) if keyboard is not None else []
        for row in rows:
            for button in row:
                if button.get("text") != text:
                    continue
                if button.get("request_contact"):
                    return self.send_contact(user, chat=chat)
                return self.send_text(user, text, chat=chat)
        shown = [b.get("text") for row in rows for b in row]
        msg = f"chat {chat_id} shows no reply button {text!r}; it shows {shown}"
        raise AssertionError(msg)

    def block_bot(self, user: FakeUser) -> JsonDict:
        """``user`` blocks the bot: sends to them fail with 403 until ``unblock_bot``."""
        self._blocked.add(user.id)
        return self._member_update(user, "member", "kicked")

    def unblock_bot(self, user: FakeUser) -> JsonDict:
        self._blocked.discard(user.id)
        self._chats[user.id] = user.private_chat()
        return self._member_update(user, "kicked", "member")

    def send_update(self, update: JsonDict) -> JsonDict:
        """Enqueue a raw update (its ``update_id`` is assigned here)."""
        kinds = [key for key in update if key != "update_id"]
        if len(kinds) != 1:
            msg = f"an update has exactly one payload, got {kinds}"
            raise ValueError(msg)
        return self._enqueue(kinds[0], update[kinds[0]])

    @property
    def pending_updates(self) -> int:
        return len(self._queue)

    @property
    def allowed_updates(self) -> list[str] | None:
        """The last ``allowed_updates`` the bot gave (``getUpdates`` or ``setWebhook``)."""
        return self._allowed_updates

    def _user_message(self, user: FakeUser, chat: FakeChat | None, content: JsonDict) -> JsonDict:
        if chat is None:
            self._users.setdefault(user.id, user)
            if user.id not in self._blocked:
                self._chats.setdefault(user.id, user.private_chat())
            chat_data = user.private_chat()
        else:
            chat_data = chat.to_api()
        message: JsonDict = {
            "message_id": self._new_message_id(chat_data["id"]),
            "from": user.to_api(),
            "chat": chat_data,
            "date": _now(),
        }
        message.update(content)
        return message

    def _member_update(self, user: FakeUser, old: str, new: str) -> JsonDict:
        def member(status: str) -> JsonDict:
            data: JsonDict = {"status": status, "user": self.bot_user}
            if status == "kicked":
                data["until_date"] = 0
            return data

        payload: JsonDict = {
            "chat": user.private_chat(),
            "from": user.to_api(),
            "date": _now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._enqueue("my_chat_member", payload)

    def _privacy_allows(self, text: str, reply_to: BotMessage | None) -> bool:
        return (
            text.startswith("/")
            or f"@{self.bot_username}".lower() in text.lower()
            or reply_to is not None
        )

    def _enqueue(self, kind: str, payload: JsonDict, *, deliver: bool = True) -> JsonDict:
        update: JsonDict = {"update_id": next(self._update_ids), kind: payload}
        self._action_mark = len(self.calls)
        if deliver and self._accepts(kind):
            self._queue.append(update)
            self._wake_poller(result=True)
        else:
            self.dropped_updates += 1
        return update

    def _accepts(self, kind: str) -> bool:
        if not self._allowed_updates:
            return kind not in NOT_BY_DEFAULT
        return kind in self._allowed_updates

    def _wake_poller(self, *, result: bool) -> None:
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(result)

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    # ----- what the bot did -------------------------------------------------------------

    def mark(self) -> int:
        """The position of the next call in ``calls`` (for ``wait_for(..., since=mark)``)."""
        return len(self.calls)

    def calls_to(self, method: str) -> list[Call]:
        key = method.lower()
        return [c for c in self.calls if c.method.lower() == key]

    @overload
    async def wait_for(
        self, match: int, *, timeout: float = ..., since: int | None = ...
    ) -> list[Call]: ...

    @overload
    async def wait_for(
        self,
        match: str | Callable[[Call], bool],
        *,
        timeout: float = ...,
        since: int | None = ...,
    ) -> Call: ...

    async def wait_for(
        self,
        match: int | str | Callable[[Call], bool],
        *,
        timeout: float = 5.0,
        since: int | None = None,
    ) -> Call | list[Call]:
        """Wait until the bot has made a matching call; return it.

        ``match`` is a method name (case-insensitive), a predicate on ``Call``, or a count
        (then the list of that many calls is returned). Calls are looked for from ``since``
        (a ``mark()``), by default from the moment the last update was enqueued, so the
        answer is the bot's reaction to what the test just did.
        """
        if isinstance(match, int):
            return await self._wait(_any_call, match, timeout, since)
        predicate = _method_is(match) if isinstance(match, str) else match
        return (await self._wait(predicate, 1, timeout, since))[0]

    async def next_message(
        self, chat_id: int, *, timeout: float = 5.0, since: int | None = None
    ) -> BotMessage:
        """Wait for the bot to send a message to ``chat_id`` (see ``wait_for`` for ``since``)."""

        def sent_here(call: Call) -> bool:
            return (
                call.ok
                and call.method in ("sendMessage", "sendPhoto", "sendDocument")
                and call.result["chat"]["id"] == chat_id
            )

        call = await self.wait_for(sent_here, timeout=timeout, since=since)
        return self.message(chat_id, int(call.result["message_id"]))

    async def _wait(
        self,
        predicate: Callable[[Call], bool],
        needed: int,
        timeout: float,
        since: int | None,
    ) -> list[Call]:
        if not self.record:
            msg = "FakeTelegram(record=False) keeps no calls to wait for"
            raise RuntimeError(msg)
        start = self._action_mark if since is None else since
        matches = [c for c in self.calls[start:] if predicate(c)]
        if len(matches) >= needed:
            return matches[:needed]
        future: asyncio.Future[list[Call]] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(predicate, needed, matches, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            recent = [f"{c.method}({c.chat_id})" for c in self.calls[-8:]]
            msg = (
                f"the bot made {len(waiter.matches)}/{needed} matching calls within "
                f"{timeout} s; its last calls: {recent}"
            )
            raise WaitTimeout(msg) from None
        finally:
            self._waiters.remove(waiter)

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        found = self._messages.get((chat_id, message_id))
        if found is None:
            msg = f"no bot message {message_id} in chat {chat_id}"
            raise AssertionError(msg)
        return found

    def sent_messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in this chat, oldest first, in their current state."""
        return [m for m in self._messages.values() if m.chat_id == chat_id]

    def last_message(self, chat_id: int) -> BotMessage:
        """The last message the bot sent to this chat (even if deleted since)."""
        found = self._last_by_chat.get(chat_id)
        if found is None:
            msg = f"the bot sent nothing to chat {chat_id}"
            raise AssertionError(msg)
        return found

    def reply_keyboard(self, chat_id: int) -> JsonDict | None:
        """The reply keyboard the user currently sees in this chat, if any."""
        return self._reply_keyboards.get(chat_id)

    def photos(self, chat_id: int | None = None) -> list[StoredFile]:
        return [
            m.photo
            for m in self._messages.values()
            if m.photo is not None and (chat_id is None or m.chat_id == chat_id)
        ]

    def commands(self, language_code: str = "", scope: JsonDict | None = None) -> list[JsonDict]:
        """The commands set for exactly this scope and language (``[]`` when none)."""
        return list(self._commands.get((_scope_key(scope), language_code), []))

    def visible_commands(self, user: FakeUser) -> list[JsonDict]:
        """The command menu ``user`` sees in their private chat (Telegram's fallback order)."""
        scopes: list[JsonDict] = [
            {"type": "chat", "chat_id": user.id},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        languages = [user.language_code or "", ""] if user.language_code else [""]
        for scope in scopes:
            for language in languages:
                found = self._commands.get((_scope_key(scope), language))
                if found:
                    return list(found)
        return []

    # ----- error injection ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        parameters: JsonDict | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (``"*"``: any but getUpdates) fail like this.

        ``error_code=429`` answers flood control with ``parameters.retry_after`` (1 s unless
        given), which aiogram raises as ``TelegramRetryAfter``.
        """
        params = dict(parameters or {})
        if error_code == 429:
            params.setdefault("retry_after", retry_after if retry_after is not None else 1)
        elif retry_after is not None:
            params["retry_after"] = retry_after
        if description is None:
            description = _default_description(error_code, params.get("retry_after"))
        self._failures.setdefault(method.lower(), deque()).append(
            _Failure(error_code, description, params or None, times)
        )

    def _injected(self, key: str) -> ApiError | None:
        for queue_key in (key, "*"):
            queue = self._failures.get(queue_key)
            if not queue or (queue_key == "*" and key == "getupdates"):
                continue
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.popleft()
            return ApiError(failure.error_code, failure.description, failure.parameters)
        return None

    # ----- webhook side ----------------------------------------------------------------

    async def post_update(
        self,
        update: JsonDict,
        *,
        url: str | None = None,
        secret_token: str | EllipsisType | None = ...,
        timeout: float = 10.0,
    ) -> WebhookDelivery:
        """POST ``update`` to the webhook as Telegram does, and run the method it answers with.

        ``url`` defaults to the one set with ``setWebhook``; ``secret_token`` to the one set
        there (sent as ``X-Telegram-Bot-Api-Secret-Token``); ``None`` sends no header.
        """
        target = url or self.webhook.url
        if not target:
            msg = "no webhook URL: pass url= or let the bot call setWebhook"
            raise RuntimeError(msg)
        secret = (
            self.webhook.secret_token if isinstance(secret_token, EllipsisType) else secret_token
        )
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        if self._client is None or self._client.closed:
            self._client = ClientSession()
        method: str | None = None
        values: JsonDict = {}
        files: dict[str, Upload] = {}
        async with self._client.post(
            target,
            data=orjson.dumps(update),
            headers=headers,
            timeout=ClientTimeout(total=timeout),
        ) as resp:
            status = resp.status
            if resp.content_type.startswith("multipart/"):
                body = b""
                reader = MultipartReader.from_response(resp)
                while (part := await reader.next()) is not None:
                    if isinstance(part, MultipartReader) or part.name is None:
                        continue
                    data = bytes(await part.read(decode=True))
                    if part.filename is not None:
                        content_type = part.headers.get("Content-Type")
                        files[part.name] = Upload(part.name, part.filename, content_type, data)
                    elif part.name == "method":
                        method = data.decode()
                    else:
                        values[part.name] = _decode_field(part.name, data.decode())
            else:
                body = await resp.read()
                if resp.content_type == "application/json" and body:
                    parsed = orjson.loads(body)
                    if isinstance(parsed, dict) and isinstance(parsed.get("method"), str):
                        method = parsed.pop("method")
                        values = parsed
        reply = None
        if method is not None and 200 <= status < 300:
            await self._execute(self.token, method, _Params(values, files), via_webhook=True)
            reply = self.calls[-1] if self.record and self.calls else None
        return WebhookDelivery(status=status, body=body, reply=reply)

    async def deliver_pending(self, *, url: str | None = None) -> list[WebhookDelivery]:
        """Post every queued update to the webhook; those answered with 2xx are confirmed."""
        deliveries = []
        while self._queue:
            delivery = await self.post_update(self._queue[0], url=url)
            deliveries.append(delivery)
            if not 200 <= delivery.status < 300:
                break
            self._queue.popleft()
            self.confirmed_updates += 1
        return deliveries

    # ----- HTTP ---------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        values, files = await _read_params(request)
        status, envelope = await self._execute(
            request.match_info["token"], request.match_info["method"], _Params(values, files)
        )
        return web.Response(
            body=orjson.dumps(envelope), status=status, content_type="application/json"
        )

    async def _execute(
        self, token: str, method: str, params: _Params, *, via_webhook: bool = False
    ) -> tuple[int, JsonDict]:
        key = method.lower()
        name, handler = self._handlers.get(key, (method, None))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            injected = self._injected(key)
            if injected is not None:
                raise injected
            result: Any
            if key == "getupdates":
                result = await self._get_updates(params)
            elif handler is not None:
                result = handler(params)
            else:
                self.unknown_methods[name] += 1
                result = True
        except ApiError as exc:
            self._record(name, params, None, exc, via_webhook)
            return exc.error_code, exc.envelope()
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.internal_errors.append(f"{name}: {exc!r}")
            error = ApiError(500, f"Internal Server Error: {exc!r}")
            self._record(name, params, None, error, via_webhook)
            return 500, error.envelope()
        finally:
            self.in_flight -= 1
        self._record(name, params, result, None, via_webhook)
        return 200, {"ok": True, "result": result}

    def _record(
        self, name: str, params: _Params, result: Any, error: ApiError | None, via_webhook: bool
    ) -> None:
        self.total_calls += 1
        self.call_counts[name] += 1
        if not self.record or (name == "getUpdates" and not self.record_get_updates):
            return
        call = Call(
            seq=len(self.calls),
            method=name,
            params=params.values,
            files=params.files,
            ok=error is None,
            result=result,
            error_code=None if error is None else error.error_code,
            description=None if error is None else error.description,
            at=time.monotonic(),
            via_webhook_reply=via_webhook,
        )
        self.calls.append(call)
        for waiter in self._waiters:
            waiter.offer(call)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._file_paths.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None or stored.data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=stored.data, content_type=stored.content_type or "application/octet-stream"
        )

    # ----- Bot API methods ------------------------------------------------------------

    def _get_me(self, p: _Params) -> JsonDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: _Params) -> list[JsonDict]:
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.opt_int("offset") or 0
        limit = min(max(p.opt_int("limit") or 100, 1), 100)
        timeout = min(max(p.opt_int("timeout") or 0, 0), MAX_POLL_TIMEOUT)
        allowed = p.opt_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self._confirm(offset)
        # Like Telegram, a newer getUpdates ends the one still waiting (which gets 409).
        self._wake_poller(result=False)
        if self._queue or timeout == 0 or self._stopping:
            return self._take(limit)
        poller: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._poller = poller
        try:
            done, _ = await asyncio.wait((poller,), timeout=timeout)
        finally:
            if self._poller is poller:
                self._poller = None
        if done and not poller.result():
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._take(limit)

    def _confirm(self, offset: int) -> None:
        queue = self._queue
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
                self.confirmed_updates += 1
            return
        while queue and queue[0]["update_id"] < offset:
            queue.popleft()
            self.confirmed_updates += 1

    def _take(self, limit: int) -> list[JsonDict]:
        return list(itertools.islice(self._queue, limit))

    def _send_message(self, p: _Params) -> JsonDict:
        chat = self._chat(p)
        parse_mode = p.opt_text("parse_mode")
        text, entities = _render(p.req_text("text"), parse_mode, p.opt_json("entities"))
        _check_text(text)
        message = BotMessage(
            message_id=0,
            chat=chat,
            date=_now(),
            text=text,
            entities=entities,
            reply_markup=_markup(p),
            parse_mode=parse_mode,
            reply_to_message_id=self._reply_to(p, chat),
        )
        return self._store_sent(message)

    def _send_photo(self, p: _Params) -> JsonDict:
        return self._send_media(p, "photo")

    def _send_document(self, p: _Params) -> JsonDict:
        return self._send_media(p, "document")

    def _send_media(self, p: _Params, kind: Literal["photo", "document"]) -> JsonDict:
        chat = self._chat(p)
        stored = self._file_param(p, kind)
        parse_mode = p.opt_text("parse_mode")
        caption: str | None = None
        entities: list[JsonDict] = []
        raw_caption = p.opt_text("caption")
        if raw_caption is not None:
            caption, entities = _render(raw_caption, parse_mode, p.opt_json("caption_entities"))
            if _utf16_len(caption) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        message = BotMessage(
            message_id=0,
            chat=chat,
            date=_now(),
            caption=caption,
            entities=entities,
            reply_markup=_markup(p),
            parse_mode=parse_mode,
            reply_to_message_id=self._reply_to(p, chat),
        )
        if kind == "photo":
            message.photo = stored
        else:
            message.document = stored
        return self._store_sent(message)

    def _edit_message_text(self, p: _Params) -> JsonDict | bool:
        if p.opt_text("inline_message_id"):
            return True
        message = self._own_message(p, "message to edit not found")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parse_mode = p.opt_text("parse_mode")
        text, entities = _render(p.req_text("text"), parse_mode, p.opt_json("entities"))
        _check_text(text)
        markup = _markup(p, inline_only=True)
        if text == message.text and entities == message.entities and markup == _inline(message):
            raise _not_modified()
        message.text, message.entities, message.parse_mode = text, entities, parse_mode
        message.reply_markup = markup
        return self._edited(message)

    def _edit_message_caption(self, p: _Params) -> JsonDict | bool:
        if p.opt_text("inline_message_id"):
            return True
        message = self._own_message(p, "message to edit not found")
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        parse_mode = p.opt_text("parse_mode")
        caption, entities = _render(
            p.opt_text("caption") or "", parse_mode, p.opt_json("caption_entities")
        )
        markup = _markup(p, inline_only=True)
        if caption == (message.caption or "") and markup == _inline(message):
            raise _not_modified()
        message.caption, message.entities = caption or None, entities
        message.reply_markup = markup
        return self._edited(message)

    def _edit_message_reply_markup(self, p: _Params) -> JsonDict | bool:
        if p.opt_text("inline_message_id"):
            return True
        message = self._own_message(p, "message to edit not found")
        markup = _markup(p, inline_only=True)
        if markup == _inline(message):
            raise _not_modified()
        message.reply_markup = markup
        return self._edited(message)

    def _delete_message(self, p: _Params) -> bool:
        chat = self._chat(p, for_write=False)
        message_id = p.req_int("message_id")
        message = self._messages.get((chat["id"], message_id))
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        # A user's message (ids are shared in a chat) may be deleted too; twice is an error.
        if message is None and 0 < message_id <= self._last_message_id.get(chat["id"], 0):
            return True
        raise bad_request("message to delete not found")

    def _answer_callback_query(self, p: _Params) -> bool:
        query_id = p.req_text("callback_query_id")
        if self._pending_callbacks.pop(query_id, None) is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.opt_text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = dict(p.values)
        return True

    def _get_file(self, p: _Params) -> JsonDict:
        stored = self.files.get(p.req_text("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def _send_chat_action(self, p: _Params) -> bool:
        self._chat(p)
        if p.opt_text("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_chat(self, p: _Params) -> JsonDict:
        chat = self._chat(p, for_write=False)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    def _set_my_commands(self, p: _Params) -> bool:
        commands = p.opt_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("parameter commands is invalid")
        cleaned: list[JsonDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand")
            command = str(item.get("command", "")).removeprefix("/")
            description = str(item.get("description", ""))
            if not COMMAND_RE.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = self._commands_key(p)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, p: _Params) -> list[JsonDict]:
        return list(self._commands.get(self._commands_key(p), []))

    def _delete_my_commands(self, p: _Params) -> bool:
        self._commands.pop(self._commands_key(p), None)
        return True

    def _commands_key(self, p: _Params) -> tuple[str, str]:
        language = p.opt_text("language_code") or ""
        if language and not LANGUAGE_RE.fullmatch(language):
            raise bad_request("invalid language code specified")
        scope = p.opt_json("scope")
        if scope is not None and not (isinstance(scope, dict) and "type" in scope):
            raise bad_request("can't parse BotCommandScope")
        return _scope_key(scope), language

    def _set_webhook(self, p: _Params) -> bool:
        url = p.opt_text("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.opt_text("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.opt_json("allowed_updates")
        drop = p.flag("drop_pending_updates")
        self.webhook = WebhookState(
            url=url,
            secret_token=secret,
            allowed_updates=[str(k) for k in allowed] if isinstance(allowed, list) else None,
            drop_pending_updates=drop,
            max_connections=p.opt_int("max_connections") or 40,
            ip_address=p.opt_text("ip_address"),
            has_custom_certificate="certificate" in p.values or "certificate" in p.files,
        )
        if isinstance(allowed, list):
            self._allowed_updates = self.webhook.allowed_updates
        if drop:
            self._drop_pending()
        return True

    def _delete_webhook(self, p: _Params) -> bool:
        drop = p.flag("drop_pending_updates")
        self.webhook = WebhookState(drop_pending_updates=drop)
        if drop:
            self._drop_pending()
        return True

    def _get_webhook_info(self, p: _Params) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook.url,
            "has_custom_certificate": self.webhook.has_custom_certificate,
            "pending_update_count": len(self._queue),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.ip_address:
                info["ip_address"] = self.webhook.ip_address
        if self._allowed_updates:
            info["allowed_updates"] = self._allowed_updates
        return info

    # ----- helpers of the methods -----------------------------------------------------

    def _chat(self, p: _Params, *, for_write: bool = True) -> JsonDict:
        raw = p.values.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            found = self._usernames.get(raw[1:].lower())
            if found is None:
                raise bad_request("chat not found")
            chat_id = found
        else:
            try:
                chat_id = int(raw)
            except (TypeError, ValueError):
                raise bad_request("chat not found") from None
        if for_write and chat_id in self._blocked:
            raise forbidden("bot was blocked by the user")
        chat = self._chats.get(chat_id)
        if chat is not None:
            return chat
        if chat_id in self._users:
            raise forbidden("bot can't initiate conversation with a user")
        if self.strict_chats or chat_id <= 0:
            raise bad_request("chat not found")
        chat = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        self._chats[chat_id] = chat
        return chat

    def _reply_to(self, p: _Params, chat: JsonDict) -> int | None:
        reply = p.opt_json("reply_parameters")
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = p.opt_int("reply_to_message_id")
        if message_id is None:
            return None
        known = 0 < int(message_id) <= self._last_message_id.get(chat["id"], 0)
        lenient = isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        if not known and not lenient:
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _own_message(self, p: _Params, not_found: str) -> BotMessage:
        chat = self._chat(p, for_write=False)
        message = self._messages.get((chat["id"], p.req_int("message_id")))
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    def _store_sent(self, message: BotMessage) -> JsonDict:
        chat_id = message.chat_id
        message.message_id = self._new_message_id(chat_id)
        self._messages[(chat_id, message.message_id)] = message
        if len(self._messages) > self.max_messages:
            del self._messages[next(iter(self._messages))]
        self._last_by_chat[chat_id] = message
        markup = message.reply_markup
        if markup is not None:
            if "keyboard" in markup:
                self._reply_keyboards[chat_id] = markup
            elif markup.get("remove_keyboard"):
                self._reply_keyboards.pop(chat_id, None)
        return message.to_api(self.bot_user)

    def _edited(self, message: BotMessage) -> JsonDict:
        message.edit_date = _now()
        message.edits += 1
        return message.to_api(self.bot_user)

    def _file_param(self, p: _Params, kind: str) -> StoredFile:
        upload: Upload | None = None
        value = p.opt_text(kind)
        if value is None:
            upload = p.files.get(kind)
        elif value.startswith("attach://"):
            upload = p.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified: {value}")
        elif value in self.files:
            return self.files[value]
        elif not value.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is None and value is None:
            raise bad_request(f"there is no {kind} in the request")
        n = next(self._file_seq)
        width, height = _png_size(upload.data) if upload is not None else (0, 0)
        if kind == "photo" and upload is not None and not _is_image(upload.data):
            raise bad_request("IMAGE_PROCESS_FAILED")
        stored = StoredFile(
            file_id=f"fake-{kind}-{n}",
            file_unique_id=f"fake-u-{kind}-{n}",
            kind=kind,
            file_path=f"{kind}s/file_{n}",
            data=upload.data if upload is not None else None,
            filename=upload.filename if upload is not None else None,
            content_type=upload.content_type if upload is not None else None,
            url=value if upload is None else None,
            width=width or 512,
            height=height or 512,
        )
        self.files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        if len(self.files) > self.max_messages:
            dropped = self.files.pop(next(iter(self.files)))
            self._file_paths.pop(dropped.file_path, None)
        return stored

    def _drop_pending(self) -> None:
        self.dropped_updates += len(self._queue)
        self._queue.clear()

    # ----- control endpoints (standalone use) -------------------------------------------

    def _control_user(self, body: JsonDict) -> FakeUser:
        uid = int(body["user_id"])
        known = self._users.get(uid)
        if known is not None:
            return known
        return self.user(
            str(body.get("first_name") or f"User {uid}"),
            language_code=body.get("language_code", "en"),
            username=body.get("username"),
            phone_number=body.get("phone_number"),
            user_id=uid,
        )

    async def _control_action(self, request: web.Request) -> web.StreamResponse:
        """``POST /_fake/text|contact|update`` with a JSON body: enqueue that update."""
        action = request.match_info["action"]
        try:
            body = await request.json(loads=orjson.loads)
            if action == "update":
                update = self.send_update(body)
            elif action == "text":
                update = self.send_text(self._control_user(body), str(body["text"]))
            elif action == "contact":
                user = self._control_user(body)
                update = self.send_contact(
                    user,
                    body.get("phone_number"),
                    contact_user_id=body.get("contact_user_id", user.id),
                )
            else:
                return web.json_response({"error": f"unknown action {action}"}, status=404)
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": repr(exc)}, status=400)
        return web.json_response(update, dumps=_dumps)

    async def _control_stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.stats(), dumps=_dumps)

    async def _control_last_message(self, request: web.Request) -> web.StreamResponse:
        message = self._last_by_chat.get(int(request.match_info["chat_id"]))
        if message is None:
            return web.json_response({"error": "no message"}, status=404)
        return web.json_response(message.to_api(self.bot_user), dumps=_dumps)

    def stats(self) -> JsonDict:
        return {
            "total_calls": self.total_calls,
            "calls": dict(self.call_counts),
            "unknown_methods": dict(self.unknown_methods),
            "pending_updates": len(self._queue),
            "confirmed_updates": self.confirmed_updates,
            "dropped_updates": self.dropped_updates,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "internal_errors": len(self.internal_errors),
        }


# ----- protocol helpers ---------------------------------------------------------------


def _true(p: _Params) -> bool:
    return True


def _any_call(call: Call) -> bool:
    return True


def _method_is(method: str) -> Callable[[Call], bool]:
    key = method.lower()

    def predicate(call: Call) -> bool:
        return call.method.lower() == key

    return predicate


def _now() -> int:
    return int(time.time())


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_field(name: str, raw: str) -> Any:
    """A form field as Telegram reads it: JSON where the field is not a plain string."""
    if name in STRING_FIELDS:
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


async def _read_params(request: web.Request) -> tuple[JsonDict, dict[str, Upload]]:
    """Query string, then a JSON, urlencoded or multipart body on top."""
    values: JsonDict = {k: _decode_field(k, v) for k, v in request.query.items()}
    files: dict[str, Upload] = {}
    if not request.can_read_body:
        return values, files
    if request.content_type == "application/json":
        body = await request.json(loads=orjson.loads)
        if isinstance(body, dict):
            values.update(body)
        return values, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, FileField):
            files[key] = Upload(key, value.filename, value.content_type, value.file.read())
        elif isinstance(value, bytes | bytearray):
            values[key] = _decode_field(key, bytes(value).decode())
        else:
            values[key] = _decode_field(key, value)
    return values, files


def _command_entities(text: str) -> list[JsonDict]:
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    if len(command) < 2:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


def _iter_buttons(rows: Iterable[Iterable[JsonDict]]) -> Iterable[JsonDict]:
    for row in rows:
        yield from row


def _reply_rows(markup: JsonDict) -> list[list[JsonDict]]:
    rows = markup.get("keyboard") or []
    return [[b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows]


def _inline(message: BotMessage) -> JsonDict | None:
    return message.reply_markup if message.inline_keyboard else None


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


def _check_text(text: str) -> None:
    if not text.strip():
        raise bad_request("message text is empty")
    if _utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")


def _markup(p: _Params, *, inline_only: bool = False) -> JsonDict | None:
    markup = p.opt_json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return markup if markup["inline_keyboard"] else None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in _reply_rows(markup):
            for button in row:
                if not button.get("text"):
                    raise bad_request("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("can't parse inline keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: text is empty")
            actions = INLINE_BUTTON_ACTIONS.intersection(button)
            if len(actions) != 1:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and not (
                isinstance(data, str) and 1 <= len(data.encode()) <= 64
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and not (
                isinstance(url, str) and url.startswith(("http://", "https://", "tg://"))
            ):
                raise bad_request("BUTTON_URL_INVALID")


def _scope_key(scope: JsonDict | None) -> str:
    scope = scope or {"type": "default"}
    normal = {
        k: (int(v) if k == "chat_id" and str(v).lstrip("-").isdigit() else v)
        for k, v in scope.items()
    }
    return orjson.dumps(normal, option=orjson.OPT_SORT_KEYS).decode()


def _is_image(data: bytes) -> bool:
    return data.startswith((PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) >= 24 and data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


def _default_description(error_code: int, retry_after: Any) -> str:
    return {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request",
        429: f"Too Many Requests: retry after {retry_after}",
    }.get(error_code, "Internal Server Error")


def _render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JsonDict]]:
    """The text users see and its entities: HTML is parsed (and refused like Telegram does
    when it does not parse); Markdown modes are kept as sent."""
    if isinstance(entities, list):
        return text, [e for e in entities if isinstance(e, dict)]
    if parse_mode is not None and parse_mode.lower() == "html":
        parser = _HtmlEntities()
        parser.feed(text)
        parser.close()
        return parser.result()
    return text, []


class _HtmlEntities(HTMLParser):
    """Telegram's HTML subset to plain text + entities (offsets in UTF-16 code units)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._length = 0
        self._stack: list[tuple[str, int, dict[str, str | None]]] = []
        self._entities: list[JsonDict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in HTML_TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        if tag == "a" and not attributes.get("href"):
            raise bad_request("can't parse entities: Empty URL in an <a> tag")
        self._stack.append((tag, self._length, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack or self._stack[-1][0] != tag:
            expected = f'"</{self._stack[-1][0]}>"' if self._stack else "nothing"
            raise bad_request(
                f'can\'t parse entities: Unmatched end tag "</{tag}>", expected {expected}'
            )
        name, start, attributes = self._stack.pop()
        length = self._length - start
        if length == 0:
            return
        entity: JsonDict = {"type": HTML_TAGS[name], "offset": start, "length": length}
        if name == "a":
            entity["url"] = attributes["href"]
        elif name == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        self._entities.append(entity)

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += _utf16_len(data)

    def handle_comment(self, data: str) -> None:
        raise bad_request("can't parse entities: Unsupported comment")

    def result(self) -> tuple[str, list[JsonDict]]:
        if self._stack:
            raise bad_request(
                "can't parse entities: Can't find end tag corresponding to start tag "
                f'"{self._stack[-1][0]}"'
            )
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._parts), entities


# ----- standalone ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Telegram Bot API server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per API call")
    parser.add_argument(
        "--record", action="store_true", help="keep every call in memory (off: counters only)"
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        token=args.token,
        bot_username=args.bot_username,
        host=args.host,
        port=args.port,
        latency=args.latency,
        record=args.record,
        strict_chats=False,
    )
    await run_until_signalled(
        fake, lambda: f"fake Telegram Bot API on {fake.base_url} (token {fake.token})"
    )
    sys.stdout.write(f"{_dumps(fake.stats())}\n")


if __name__ == "__main__":
    main()
