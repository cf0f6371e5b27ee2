"""``FakeTelegram``: the simulated world and the record of calls, served over HTTP by aiohttp.

A request to ``/bot<token>/<method>`` is decoded (``protocol``), checked (token, injected
failures, latency), answered by ``BotApi`` and recorded (``CallLog``); ``/file/bot<token>/...``
serves what the bot uploaded; ``/_fake/*`` are the control routes (``control``). As Telegram
does, the fake also posts updates to the bot's webhook and runs the method it answers with.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import EllipsisType
from typing import Any, Final

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientSession, ClientTimeout, web

from tests.fakes.local_server import LocalServer, listen
from tests.fakes.telegram_server.calls import Call, CallLog
from tests.fakes.telegram_server.control import ControlRoutes
from tests.fakes.telegram_server.methods import BotApi
from tests.fakes.telegram_server.objects import BotMessage
from tests.fakes.telegram_server.people import People
from tests.fakes.telegram_server.protocol import (
    ApiError,
    JsonDict,
    Params,
    read_params,
    read_webhook_reply,
)

DEFAULT_TOKEN: Final = "123456:TEST-token-for-the-bot-suite"
DEFAULT_BOT_USERNAME: Final = "referral_test_bot"
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024


class LocalAiohttpSession(AiohttpSession):
    """aiogram's ``AiohttpSession``, closed without its 250 ms wait for TLS shutdown.

    Requests go through the unchanged aiogram code; only ``close()`` differs, because a plain
    HTTP connection to 127.0.0.1 has no TLS goodbye to wait for (it saves 0.25 s per bot).
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """The webhook's answer to one posted update, and the method it answered with, if any."""

    status: int
    body: bytes
    reply: Call | None


class FakeTelegram(People, CallLog, LocalServer):
    """A Bot API server with a simulated world; see the package docstring."""

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
        CallLog.__init__(self, record=record, record_get_updates=record_get_updates)
        People.__init__(
            self,
            bot_id=int(token.split(":", 1)[0]),
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            strict_chats=strict_chats,
            privacy_mode=privacy_mode,
            max_messages=max_messages,
            first_update_id=first_update_id,
            on_update=self.mark_action,
        )
        self.token = token
        self.host = host
        self.port = port
        self.latency = latency
        self._api = BotApi(self)
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None

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
        ControlRoutes(self, self.stats).add_to(app)
        # A long poll whose client went away is cancelled instead of holding its slot.
        self._runner, self.port = await listen(
            app, self.host, self.port, backlog=1024, handler_cancellation=True
        )
        self.updates.open()

    async def stop(self) -> None:
        """Answer a waiting long poll, close the webhook client and the server."""
        self.updates.close()
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # ----- what the bot did -------------------------------------------------------------

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

    def stats(self) -> JsonDict:
        return {
            "total_calls": self.total_calls,
            "calls": dict(self.call_counts),
            "unknown_methods": dict(self.unknown_methods),
            "pending_updates": self.pending_updates,
            "confirmed_updates": self.confirmed_updates,
            "dropped_updates": self.dropped_updates,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "internal_errors": len(self.internal_errors),
        }

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
        async with self._client.post(
            target,
            data=orjson.dumps(update),
            headers=headers,
            timeout=ClientTimeout(total=timeout),
        ) as resp:
            status = resp.status
            body, method, params = await read_webhook_reply(resp)
        reply = None
        if method is not None and 200 <= status < 300:
            await self._execute(self.token, method, params, via_webhook=True)
            reply = self.calls[-1] if self.record and self.calls else None
        return WebhookDelivery(status=status, body=body, reply=reply)

    async def deliver_pending(self, *, url: str | None = None) -> list[WebhookDelivery]:
        """Post every queued update to the webhook; those answered with 2xx are confirmed."""
        deliveries = []
        while (update := self.updates.first()) is not None:
            delivery = await self.post_update(update, url=url)
            deliveries.append(delivery)
            if not 200 <= delivery.status < 300:
                break
            self.updates.confirm_first()
        return deliveries

    # ----- HTTP ---------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        params = await read_params(request)
        status, envelope = await self._execute(
            request.match_info["token"], request.match_info["method"], params
        )
        return web.Response(
            body=orjson.dumps(envelope), status=status, content_type="application/json"
        )

    async def _execute(
        self, token: str, method: str, params: Params, *, via_webhook: bool = False
    ) -> tuple[int, JsonDict]:
        key = method.lower()
        name, handler = self._api.methods.get(key, (method, None))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            injected = self.injected(key)
            if injected is not None:
                raise injected
            result: Any
            if key == "getupdates":
                result = await self._api.get_updates(params)
            elif handler is not None:
                result = handler(params)
            else:
                self.unknown_methods[name] += 1
                result = True
        except ApiError as exc:
            self.record_call(name, params, None, exc, via_webhook)
            return exc.error_code, exc.envelope()
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.internal_errors.append(f"{name}: {exc!r}")
            error = ApiError(500, f"Internal Server Error: {exc!r}")
            self.record_call(name, params, None, error, via_webhook)
            return 500, error.envelope()
        finally:
            self.in_flight -= 1
        self.record_call(name, params, result, None, via_webhook)
        return 200, {"ok": True, "result": result}

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.file_at(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None or stored.data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=stored.data, content_type=stored.content_type or "application/octet-stream"
        )
