"""The Bot API methods the fake answers, by name: the bot's own (``getMe``, ``getUpdates``,
commands, the webhook) here, those in a chat in ``messages``. Each changes or reads the
``World`` as Telegram would; where real Telegram refuses something a bot could get wrong, so do
they (an empty or too long text, HTML that does not parse, callback data over 64 bytes, an edit
that changes nothing, a second answer to a callback query, an invalid command name, a chat that
never talked to the bot, a user who blocked it, ``getUpdates`` while a webhook is set or another
one is waiting)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from tests.fakes.telegram_server.messages import MessageMethods
from tests.fakes.telegram_server.objects import WebhookState
from tests.fakes.telegram_server.protocol import (
    ApiError,
    JsonDict,
    Params,
    bad_request,
)
from tests.fakes.telegram_server.world import World

MAX_POLL_TIMEOUT: Final = 50

COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE: Final = re.compile(r"^[a-z]{2}$")
SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Method = Callable[[Params], Any]


class BotApi:
    """The methods, by name; ``getUpdates`` (which may wait) is the coroutine ``get_updates``."""

    def __init__(self, world: World) -> None:
        self.world = world
        messages = MessageMethods(world)
        #: lower-case name -> (the name as documented, the method)
        self.methods: dict[str, tuple[str, Method]] = {
            name.lower(): (name, method)
            for name, method in (
                ("getMe", self._get_me),
                ("sendMessage", messages.send_message),
                ("editMessageText", messages.edit_message_text),
                ("editMessageCaption", messages.edit_message_caption),
                ("editMessageReplyMarkup", messages.edit_message_reply_markup),
                ("deleteMessage", messages.delete_message),
                ("answerCallbackQuery", messages.answer_callback_query),
                ("sendPhoto", messages.send_photo),
                ("sendDocument", messages.send_document),
                ("getFile", messages.get_file),
                ("sendChatAction", messages.send_chat_action),
                ("getChat", messages.get_chat),
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


def _true(p: Params) -> bool:
    return True
