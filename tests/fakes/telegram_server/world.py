"""The simulated Telegram's state: the bot, users with their private chats, groups, the update
queue, and what the bot left: its messages (their text and markup after edits, so a test can
press their buttons), uploaded files, commands per scope and language, and the webhook settings.

``People`` adds the users and what they do; ``BotApi`` changes the world as the bot calls the
methods, through the few methods at the end of ``World``; a test reads what the bot left with
the methods in between.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import orjson

from tests.fakes.telegram_server.objects import (
    BotMessage,
    FakeUser,
    StoredFile,
    WebhookState,
)
from tests.fakes.telegram_server.protocol import JsonDict, bad_request, forbidden
from tests.fakes.telegram_server.updates import UpdateQueue


class World:
    """Who is there, and what the bot has sent and set; see the module docstring."""

    def __init__(
        self,
        *,
        bot_id: int,
        bot_username: str,
        bot_first_name: str,
        strict_chats: bool,
        privacy_mode: bool,
        max_messages: int,
        first_update_id: int,
        on_update: Callable[[], object],
    ) -> None:
        """The parameters are ``FakeTelegram``'s, and ``on_update``: called for every update a
        test makes (the call log marks the moment)."""
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_chats = strict_chats
        self.privacy_mode = privacy_mode
        self.max_messages = max_messages
        self.updates = UpdateQueue(first_update_id, on_push=on_update)

        # who is there
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, JsonDict] = {}
        self._usernames: dict[str, int] = {}
        self._blocked: set[int] = set()
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)
        self._last_message_id: dict[int, int] = {}

        # what the bot has sent and set
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

    @property
    def bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @property
    def pending_updates(self) -> int:
        return len(self.updates)

    @property
    def allowed_updates(self) -> list[str] | None:
        """The last ``allowed_updates`` the bot gave (``getUpdates`` or ``setWebhook``)."""
        return self.updates.allowed

    @property
    def confirmed_updates(self) -> int:
        return self.updates.confirmed

    @property
    def dropped_updates(self) -> int:
        """Updates the bot never got: hidden by privacy mode, not allowed, or dropped."""
        return self.updates.dropped

    # ----- what the bot left ------------------------------------------------------------

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

    # ----- for the Bot API methods and the routes -------------------------------------

    def resolve_chat(self, raw: Any, *, for_write: bool = True) -> JsonDict:
        """The chat a ``chat_id`` parameter names (a number or ``@username``)."""
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

    def new_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def has_message_id(self, chat_id: int, message_id: int) -> bool:
        """A message with this id was sent in this chat, by the bot or by a user."""
        return 0 < message_id <= self._last_message_id.get(chat_id, 0)

    def find_user(self, user_id: int) -> FakeUser | None:
        return self._users.get(user_id)

    def find_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        return self._messages.get((chat_id, message_id))

    def find_last_message(self, chat_id: int) -> BotMessage | None:
        return self._last_by_chat.get(chat_id)

    def store_message(self, message: BotMessage) -> None:
        """Give the bot's new message its id and keep it (and the reply keyboard it shows)."""
        chat_id = message.chat_id
        message.message_id = self.new_message_id(chat_id)
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

    def new_file_number(self) -> int:
        return next(self._file_seq)

    def keep_file(self, stored: StoredFile) -> None:
        self.files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        if len(self.files) > self.max_messages:
            dropped = self.files.pop(next(iter(self.files)))
            self._file_paths.pop(dropped.file_path, None)

    def file_at(self, path: str) -> StoredFile | None:
        return self._file_paths.get(path)

    def set_commands(
        self, language_code: str, scope: JsonDict | None, commands: list[JsonDict]
    ) -> None:
        """Set the commands of this scope and language (``[]``: delete them)."""
        key = (_scope_key(scope), language_code)
        if commands:
            self._commands[key] = commands
        else:
            self._commands.pop(key, None)

    def take_pending_callback(self, query_id: str) -> bool:
        """The callback query is still unanswered (it is not any more)."""
        return self._pending_callbacks.pop(query_id, None) is not None


def _scope_key(scope: JsonDict | None) -> str:
    scope = scope or {"type": "default"}
    normal = {
        k: (int(v) if k == "chat_id" and str(v).lstrip("-").isdigit() else v)
        for k, v in scope.items()
    }
    return orjson.dumps(normal, option=orjson.OPT_SORT_KEYS).decode()
