"""The things in the simulated world: users, groups, the bot's messages and files, the webhook
settings. ``World`` keeps them; they render themselves as the Bot API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from tests.fakes.telegram_server.formatting import reply_rows
from tests.fakes.telegram_server.protocol import JsonDict

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


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
        return _with_set(
            {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name},
            last_name=self.last_name,
            username=self.username,
            language_code=self.language_code,
        )

    def private_chat(self) -> JsonDict:
        return _with_set(
            {"id": self.id, "type": "private", "first_name": self.first_name},
            last_name=self.last_name,
            username=self.username,
        )


@dataclass(frozen=True, slots=True)
class FakeChat:
    """A group or supergroup the bot is a member of."""

    id: int
    title: str
    type: Literal["group", "supergroup"] = "supergroup"
    username: str | None = None

    def to_api(self) -> JsonDict:
        return _with_set(
            {"id": self.id, "type": self.type, "title": self.title}, username=self.username
        )


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
        return reply_rows(self.reply_markup)

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


def _with_set(data: JsonDict, **optional: object) -> JsonDict:
    """``data`` and those of the ``optional`` fields that are set (Telegram leaves out the rest)."""
    return data | {name: value for name, value in optional.items() if value is not None}
