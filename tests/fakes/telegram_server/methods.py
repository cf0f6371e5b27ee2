"""The Bot API methods the fake answers, each changing or reading the ``World`` as Telegram
would; where real Telegram refuses something a bot could get wrong, so do they (an empty or too
long text, HTML that does not parse, callback data over 64 bytes, an edit that changes nothing,
a second answer to a callback query, an invalid command name, a chat that never talked to the
bot, a user who blocked it, ``getUpdates`` while a webhook is set or another one is waiting)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, Literal

from tests.fakes.telegram_server.formatting import (
    check_caption,
    check_text,
    render,
    reply_markup,
)
from tests.fakes.telegram_server.objects import PNG_SIGNATURE, BotMessage, StoredFile, WebhookState
from tests.fakes.telegram_server.protocol import (
    ApiError,
    JsonDict,
    Params,
    Upload,
    bad_request,
    now,
)
from tests.fakes.telegram_server.world import World

MAX_POLL_TIMEOUT: Final = 50

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

COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE: Final = re.compile(r"^[a-z]{2}$")
SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Method = Callable[[Params], Any]


class BotApi:
    """The methods, by name; ``getUpdates`` (which may wait) is the coroutine ``get_updates``."""

    def __init__(self, world: World) -> None:
        self.world = world
        #: lower-case name -> (the name as documented, the method)
        self.methods: dict[str, tuple[str, Method]] = {
            name.lower(): (name, method)
            for name, method in (
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

    def _get_me(self, p: Params) -> JsonDict:
        return {
            **self.world.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.world.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, p: Params) -> list[JsonDict]:
        if self.world.webhook.url:
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
            self.world.updates.allowed = [str(kind) for kind in allowed]
        return await self.world.updates.poll(offset, limit, timeout)

    def _send_message(self, p: Params) -> JsonDict:
        chat = self._chat(p)
        parse_mode = p.opt_text("parse_mode")
        text, entities = render(p.req_text("text"), parse_mode, p.opt_json("entities"))
        check_text(text)
        message = BotMessage(
            message_id=0,
            chat=chat,
            date=now(),
            text=text,
            entities=entities,
            reply_markup=reply_markup(p),
            parse_mode=parse_mode,
            reply_to_message_id=self._reply_to(p, chat),
        )
        return self._store_sent(message)

    def _send_photo(self, p: Params) -> JsonDict:
        return self._send_media(p, "photo")

    def _send_document(self, p: Params) -> JsonDict:
        return self._send_media(p, "document")

    def _send_media(self, p: Params, kind: Literal["photo", "document"]) -> JsonDict:
        chat = self._chat(p)
        stored = self._file_param(p, kind)
        parse_mode = p.opt_text("parse_mode")
        caption: str | None = None
        entities: list[JsonDict] = []
        raw_caption = p.opt_text("caption")
        if raw_caption is not None:
            caption, entities = render(raw_caption, parse_mode, p.opt_json("caption_entities"))
            check_caption(caption)
        message = BotMessage(
            message_id=0,
            chat=chat,
            date=now(),
            caption=caption,
            entities=entities,
            reply_markup=reply_markup(p),
            parse_mode=parse_mode,
            reply_to_message_id=self._reply_to(p, chat),
        )
        if kind == "photo":
            message.photo = stored
        else:
            message.document = stored
        return self._store_sent(message)

    def _edit_message_text(self, p: Params) -> JsonDict | bool:
        if p.opt_text("inline_message_id"):
            return True
        message = self._own_message(p, "message to edit not found")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parse_mode = p.opt_text("parse_mode")
        text, entities = render(p.req_text("text"), parse_mode, p.opt_json("entities"))
        check_text(text)
        markup = reply_markup(p, inline_only=True)
        if text == message.text and entities == message.entities and markup == _inline(message):
            raise _not_modified()
        message.text, message.entities, message.parse_mode = text, entities, parse_mode
        message.reply_markup = markup
        return self._edited(message)

    def _edit_message_caption(self, p: Params) -> JsonDict | bool:
        if p.opt_text("inline_message_id"):
            return True
        message = self._own_message(p, "message to edit not found")
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        parse_mode = p.opt_text("parse_mode")
        caption, entities = render(
            p.opt_text("caption") or "", parse_mode, p.opt_json("caption_entities")
        )
        markup = reply_markup(p, inline_only=True)
        if caption == (message.caption or "") and markup == _inline(message):
            raise _not_modified()
        message.caption, message.entities = caption or None, entities
        message.reply_markup = markup
        return self._edited(message)

    def _edit_message_reply_markup(self, p: Params) -> JsonDict | bool:
        if p.opt_text("inline_message_id"):
            return True
        message = self._own_message(p, "message to edit not found")
        markup = reply_markup(p, inline_only=True)
        if markup == _inline(message):
            raise _not_modified()
        message.reply_markup = markup
        return self._edited(message)

    def _delete_message(self, p: Params) -> bool:
        chat = self._chat(p, for_write=False)
        message_id = p.req_int("message_id")
        message = self.world.find_message(chat["id"], message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        # A user's message (ids are shared in a chat) may be deleted too; twice is an error.
        if message is None and self.world.has_message_id(chat["id"], message_id):
            return True
        raise bad_request("message to delete not found")

    def _answer_callback_query(self, p: Params) -> bool:
        query_id = p.req_text("callback_query_id")
        if not self.world.take_pending_callback(query_id):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.opt_text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.world.callback_answers[query_id] = dict(p.values)
        return True

    def _get_file(self, p: Params) -> JsonDict:
        stored = self.world.files.get(p.req_text("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def _send_chat_action(self, p: Params) -> bool:
        self._chat(p)
        if p.opt_text("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_chat(self, p: Params) -> JsonDict:
        chat = self._chat(p, for_write=False)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    def _set_my_commands(self, p: Params) -> bool:
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
        self.world.set_commands(*self._commands_for(p), cleaned)
        return True

    def _get_my_commands(self, p: Params) -> list[JsonDict]:
        return self.world.commands(*self._commands_for(p))

    def _delete_my_commands(self, p: Params) -> bool:
        self.world.set_commands(*self._commands_for(p), [])
        return True

    def _commands_for(self, p: Params) -> tuple[str, JsonDict | None]:
        """The language and scope the commands are for."""
        language = p.opt_text("language_code") or ""
        if language and not LANGUAGE_RE.fullmatch(language):
            raise bad_request("invalid language code specified")
        scope = p.opt_json("scope")
        if scope is not None and not (isinstance(scope, dict) and "type" in scope):
            raise bad_request("can't parse BotCommandScope")
        return language, scope

    def _set_webhook(self, p: Params) -> bool:
        url = p.opt_text("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.opt_text("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.opt_json("allowed_updates")
        drop = p.flag("drop_pending_updates")
        webhook = self.world.webhook = WebhookState(
            url=url,
            secret_token=secret,
            allowed_updates=[str(k) for k in allowed] if isinstance(allowed, list) else None,
            drop_pending_updates=drop,
            max_connections=p.opt_int("max_connections") or 40,
            ip_address=p.opt_text("ip_address"),
            has_custom_certificate="certificate" in p.values or "certificate" in p.files,
        )
        if isinstance(allowed, list):
            self.world.updates.allowed = webhook.allowed_updates
        if drop:
            self.world.updates.drop_pending()
        return True

    def _delete_webhook(self, p: Params) -> bool:
        drop = p.flag("drop_pending_updates")
        self.world.webhook = WebhookState(drop_pending_updates=drop)
        if drop:
            self.world.updates.drop_pending()
        return True

    def _get_webhook_info(self, p: Params) -> JsonDict:
        webhook, updates = self.world.webhook, self.world.updates
        info: JsonDict = {
            "url": webhook.url,
            "has_custom_certificate": webhook.has_custom_certificate,
            "pending_update_count": len(updates),
        }
        if webhook.url:
            info["max_connections"] = webhook.max_connections
            if webhook.ip_address:
                info["ip_address"] = webhook.ip_address
        if updates.allowed:
            info["allowed_updates"] = updates.allowed
        return info

    # ----- helpers of the methods -----------------------------------------------------

    def _chat(self, p: Params, *, for_write: bool = True) -> JsonDict:
        return self.world.resolve_chat(p.values.get("chat_id"), for_write=for_write)

    def _reply_to(self, p: Params, chat: JsonDict) -> int | None:
        reply = p.opt_json("reply_parameters")
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = p.opt_int("reply_to_message_id")
        if message_id is None:
            return None
        known = self.world.has_message_id(chat["id"], int(message_id))
        lenient = isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        if not known and not lenient:
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _own_message(self, p: Params, not_found: str) -> BotMessage:
        chat = self._chat(p, for_write=False)
        message = self.world.find_message(chat["id"], p.req_int("message_id"))
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    def _store_sent(self, message: BotMessage) -> JsonDict:
        self.world.store_message(message)
        return message.to_api(self.world.bot_user)

    def _edited(self, message: BotMessage) -> JsonDict:
        message.edit_date = now()
        message.edits += 1
        return message.to_api(self.world.bot_user)

    def _file_param(self, p: Params, kind: str) -> StoredFile:
        upload: Upload | None = None
        value = p.opt_text(kind)
        if value is None:
            upload = p.files.get(kind)
        elif value.startswith("attach://"):
            upload = p.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified: {value}")
        elif value in self.world.files:
            return self.world.files[value]
        elif not value.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is None and value is None:
            raise bad_request(f"there is no {kind} in the request")
        n = self.world.new_file_number()
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
        self.world.keep_file(stored)
        return stored


def _true(p: Params) -> bool:
    return True


def _inline(message: BotMessage) -> JsonDict | None:
    return message.reply_markup if message.inline_keyboard else None


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


def _is_image(data: bytes) -> bool:
    return data.startswith((PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) >= 24 and data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0
