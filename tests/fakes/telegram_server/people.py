"""The people in the simulated world: a test adds users and groups and acts as them
(``send_text``, ``press_button``, ``block_bot``, ...); each action becomes an update as Telegram
would send it, queued for the bot."""

from __future__ import annotations

from types import EllipsisType

from tests.fakes.telegram_server.formatting import command_entities, reply_rows
from tests.fakes.telegram_server.objects import BotMessage, FakeChat, FakeUser
from tests.fakes.telegram_server.protocol import JsonDict, now
from tests.fakes.telegram_server.world import World


class People(World):
    """The world as a test acts in it: who is there, and what they do."""

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
        entities = command_entities(text)
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
        message["edit_date"] = now()
        entities = command_entities(text)
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
        available = [b.get("callback_data") for row in message.inline_keyboard for b in row]
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
        rows = reply_rows(keyboard) if keyboard is not None else []
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

    def _user_message(self, user: FakeUser, chat: FakeChat | None, content: JsonDict) -> JsonDict:
        if chat is None:
            self._users.setdefault(user.id, user)
            if user.id not in self._blocked:
                self._chats.setdefault(user.id, user.private_chat())
            chat_data = user.private_chat()
        else:
            chat_data = chat.to_api()
        message: JsonDict = {
            "message_id": self.new_message_id(chat_data["id"]),
            "from": user.to_api(),
            "chat": chat_data,
            "date": now(),
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
            "date": now(),
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
        return self.updates.push(kind, payload, deliver=deliver)
