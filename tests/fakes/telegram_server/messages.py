"""The Bot API methods in a chat: sending, editing and deleting the bot's messages, answering
callback queries, files, chat actions, ``getChat``. Each checks what real Telegram checks and
changes the ``World`` as Telegram would."""

from __future__ import annotations

from typing import Final, Literal

from tests.fakes.telegram_server.formatting import (
    check_caption,
    check_text,
    render,
    reply_markup,
)
from tests.fakes.telegram_server.objects import PNG_SIGNATURE, BotMessage, StoredFile
from tests.fakes.telegram_server.protocol import JsonDict, Params, Upload, bad_request, now
from tests.fakes.telegram_server.world import World

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


class MessageMethods:
    """The chat methods over ``world``, one public method each (``BotApi`` names them)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def send_message(self, p: Params) -> JsonDict:
        chat = self._chat(p)
        parse_mode = p.opt_text("parse_mode")
        text, entities = render(p.req_text("text"), parse_mode, p.opt_json("entities"))
        check_text(text)
        return self._send(p, chat, parse_mode, entities, text=text)

    def send_photo(self, p: Params) -> JsonDict:
        return self._send_media(p, "photo")

    def send_document(self, p: Params) -> JsonDict:
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
        return self._send(
            p,
            chat,
            parse_mode,
            entities,
            caption=caption,
            photo=stored if kind == "photo" else None,
            document=stored if kind == "document" else None,
        )

    def edit_message_text(self, p: Params) -> JsonDict | bool:
        message = self._message_to_edit(p)
        if message is None:
            return True
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parse_mode = p.opt_text("parse_mode")
        text, entities = render(p.req_text("text"), parse_mode, p.opt_json("entities"))
        check_text(text)
        markup = reply_markup(p, inline_only=True)
        same = text == message.text and entities == message.entities
        _refuse_unchanged(message, markup, same_content=same)
        message.text, message.entities, message.parse_mode = text, entities, parse_mode
        return self._edited(message, markup)

    def edit_message_caption(self, p: Params) -> JsonDict | bool:
        message = self._message_to_edit(p)
        if message is None:
            return True
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        parse_mode = p.opt_text("parse_mode")
        caption, entities = render(
            p.opt_text("caption") or "", parse_mode, p.opt_json("caption_entities")
        )
        markup = reply_markup(p, inline_only=True)
        _refuse_unchanged(message, markup, same_content=caption == (message.caption or ""))
        message.caption, message.entities = caption or None, entities
        return self._edited(message, markup)

    def edit_message_reply_markup(self, p: Params) -> JsonDict | bool:
        message = self._message_to_edit(p)
        if message is None:
            return True
        markup = reply_markup(p, inline_only=True)
        _refuse_unchanged(message, markup)
        return self._edited(message, markup)

    def delete_message(self, p: Params) -> bool:
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

    def answer_callback_query(self, p: Params) -> bool:
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

    def get_file(self, p: Params) -> JsonDict:
        stored = self.world.files.get(p.req_text("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def send_chat_action(self, p: Params) -> bool:
        self._chat(p)
        if p.opt_text("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def get_chat(self, p: Params) -> JsonDict:
        chat = self._chat(p, for_write=False)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    # ----- helpers ----------------------------------------------------------------------

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

    def _send(
        self,
        p: Params,
        chat: JsonDict,
        parse_mode: str | None,
        entities: list[JsonDict],
        *,
        text: str | None = None,
        caption: str | None = None,
        photo: StoredFile | None = None,
        document: StoredFile | None = None,
    ) -> JsonDict:
        """The bot's new message, its markup and reply checked, kept and answered with."""
        message = BotMessage(
            message_id=0,
            chat=chat,
            date=now(),
            text=text,
            entities=entities,
            caption=caption,
            reply_markup=reply_markup(p),
            parse_mode=parse_mode,
            photo=photo,
            document=document,
            reply_to_message_id=self._reply_to(p, chat),
        )
        self.world.store_message(message)
        return message.to_api(self.world.bot_user)

    def _message_to_edit(self, p: Params) -> BotMessage | None:
        """The bot's message an edit is for; ``None`` for an inline message (the fake keeps no
        inline messages: their edits just succeed)."""
        if p.opt_text("inline_message_id"):
            return None
        chat = self._chat(p, for_write=False)
        message = self.world.find_message(chat["id"], p.req_int("message_id"))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        return message

    def _edited(self, message: BotMessage, markup: JsonDict | None) -> JsonDict:
        message.reply_markup = markup
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


def _refuse_unchanged(
    message: BotMessage, markup: JsonDict | None, *, same_content: bool = True
) -> None:
    """Telegram refuses an edit that changes neither the content nor the inline keyboard."""
    inline = message.reply_markup if message.inline_keyboard else None
    if same_content and markup == inline:
        raise bad_request(
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
