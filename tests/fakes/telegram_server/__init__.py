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

The package, by responsibility:

- ``protocol``: the wire format (decoding a method call, the error envelope);
- ``formatting``: what Telegram checks in texts and keyboards (HTML parse mode, limits);
- ``objects``: the things in the world (``FakeUser``, ``FakeChat``, ``BotMessage``, ...);
- ``world``: the state of the world and what the bot left in it;
- ``people``: the users and groups a test adds, and what they do (each action an update);
- ``updates``: the queue behind ``getUpdates`` and webhook delivery;
- ``methods``: the Bot API methods by name (``BotApi``), the bot's own settings;
- ``messages``: the methods in a chat (sending, editing, deleting, callbacks, files);
- ``calls``: the record of calls, waiting for one, injected failures;
- ``server``: ``FakeTelegram``, all of it served over HTTP (aiohttp);
- ``control``: the ``/_fake/*`` routes for the benchmark; ``__main__``: the standalone run.
"""

from tests.fakes.telegram_server.calls import Call, WaitTimeout
from tests.fakes.telegram_server.objects import (
    PNG_SIGNATURE,
    BotMessage,
    FakeChat,
    FakeUser,
    StoredFile,
    WebhookState,
)
from tests.fakes.telegram_server.protocol import ApiError, JsonDict, Upload
from tests.fakes.telegram_server.server import (
    DEFAULT_BOT_USERNAME,
    DEFAULT_TOKEN,
    FakeTelegram,
    LocalAiohttpSession,
    WebhookDelivery,
)

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "PNG_SIGNATURE",
    "ApiError",
    "BotMessage",
    "Call",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "JsonDict",
    "LocalAiohttpSession",
    "StoredFile",
    "Upload",
    "WaitTimeout",
    "WebhookDelivery",
    "WebhookState",
]
