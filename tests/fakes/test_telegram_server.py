"""The fake Bot API server, driven by the real aiogram ``Bot`` (and ``Dispatcher``) over HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates, SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientSession, web

from tests.fakes.telegram_server import PNG_SIGNATURE, FakeTelegram, WaitTimeout

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
    assert fake.internal_errors == []


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with tg.make_bot() as real_bot:
        yield real_bot


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


async def test_get_me_returns_the_bot(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (tg.bot_id, "referral_test_bot", True)
    assert tg.calls_to("getMe")[0].ok


async def test_unknown_token_is_unauthorized(tg: FakeTelegram) -> None:
    async with tg.make_bot("999:wrong-token") as stranger:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()


async def test_send_message_records_the_contact_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]],
        resize_keyboard=True,
    )

    sent = await bot.send_message(alice.id, "Share your phone", reply_markup=keyboard)

    call = await tg.wait_for("sendMessage")
    assert call.params["chat_id"] == alice.id
    assert call.reply_markup is not None
    assert call.reply_markup["keyboard"][0][0] == {"text": "Share phone", "request_contact": True}
    last = tg.last_message(alice.id)
    assert (last.message_id, last.text) == (sent.message_id, "Share your phone")
    assert tg.reply_keyboard(alice.id) == call.reply_markup
    assert sent.chat.id == alice.id and sent.date is not None


async def test_get_updates_returns_enqueued_updates_and_offset_confirms_them(
    tg: FakeTelegram, bot: Bot
) -> None:
    alice = tg.user("Alice", language_code="ru")
    first = tg.send_text(alice, "/start ABC123")
    tg.send_contact(alice)

    updates = await bot(GetUpdates(timeout=0))

    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    start = updates[0].message
    assert start is not None and start.text == "/start ABC123"
    assert start.entities is not None and start.entities[0].type == "bot_command"
    assert start.entities[0].length == len("/start")
    assert start.from_user is not None and start.from_user.language_code == "ru"
    contact = updates[1].message
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == alice.id
    assert await bot(GetUpdates(offset=updates[-1].update_id + 1, timeout=0)) == []
    assert tg.pending_updates == 0


async def test_user_actions_arrive_as_telegram_updates(tg: FakeTelegram, bot: Bot) -> None:
    alice, bob = tg.user("Alice"), tg.user("Bob")
    group = tg.group("Friends")
    await bot.send_message(
        alice.id,
        "Share your phone",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]]
        ),
    )
    said = tg.send_text(alice, "hello")
    tg.edit_user_message(alice, said, "hello, edited")
    tg.press_reply_button(alice, "Share phone")
    tg.send_contact(alice, "+79990001122", contact_user_id=bob.id)
    tg.send_text(bob, "chatter", chat=group)  # privacy mode: the bot never sees it
    tg.send_text(bob, "/me@referral_test_bot", chat=group)

    updates = await bot(GetUpdates(timeout=0))

    _, edited, shared, foreign, command = updates
    assert edited.edited_message is not None and edited.edited_message.text == "hello, edited"
    assert edited.edited_message.message_id == said["message"]["message_id"]
    assert shared.message is not None and shared.message.contact is not None
    assert shared.message.contact.user_id == alice.id
    assert shared.message.contact.phone_number == alice.phone_number
    assert foreign.message is not None and foreign.message.contact is not None
    assert foreign.message.contact.user_id == bob.id
    assert command.message is not None and command.message.chat.type == "supergroup"
    assert tg.dropped_updates == 1


async def test_long_poll_returns_as_soon_as_an_update_arrives(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, tg.send_sticker, alice)
    started = time.monotonic()

    updates = await bot(GetUpdates(timeout=10))

    assert time.monotonic() - started < 2
    assert len(updates) == 1
    assert updates[0].message is not None and updates[0].message.sticker is not None


async def test_send_photo_uploads_the_bytes(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    png = tiny_png()

    sent = await bot.send_photo(
        alice.id, BufferedInputFile(png, filename="qr.png"), caption="Your code"
    )

    [photo] = tg.photos(alice.id)
    assert photo.is_png and photo.data == png
    assert (photo.width, photo.height) == (3, 2)
    assert sent.photo is not None and sent.photo[-1].file_id == photo.file_id
    assert tg.last_message(alice.id).caption == "Your code"


async def test_photo_that_is_not_an_image_is_refused(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")

    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(alice.id, BufferedInputFile(b"not a picture", filename="x.png"))


async def test_injected_429_raises_retry_after(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    tg.fail_next("sendMessage", error_code=429, retry_after=7)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(alice.id, "hello")
    await bot.send_message(alice.id, "hello again")

    assert caught.value.retry_after == 7
    assert [c.error_code for c in tg.calls_to("sendMessage")] == [429, None]


async def test_injected_403_and_a_blocked_user_are_forbidden(tg: FakeTelegram, bot: Bot) -> None:
    alice, bob = tg.user("Alice"), tg.user("Bob")
    tg.fail_next("sendMessage", error_code=403)
    tg.block_bot(bob)

    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(alice.id, "hello")
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(bob.id, "hello")


async def test_set_my_commands_is_stored_per_language(tg: FakeTelegram, bot: Bot) -> None:
    ru = [BotCommand(command="start", description="Начать")]
    en = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="me", description="Me"),
    ]

    await bot.set_my_commands(en)
    await bot.set_my_commands(ru, language_code="ru", scope=BotCommandScopeAllPrivateChats())

    assert [c["command"] for c in tg.commands()] == ["start", "me"]
    assert tg.commands("ru", {"type": "all_private_chats"}) == [
        {"command": "start", "description": "Начать"}
    ]
    assert tg.visible_commands(tg.user("Ivan", language_code="ru"))[0]["description"] == "Начать"
    assert tg.visible_commands(tg.user("John", language_code="de"))[0]["description"] == "Start"
    assert [c.command for c in await bot.get_my_commands()] == ["start", "me"]
    await bot.delete_my_commands()
    assert tg.commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])


async def test_buttons_are_pressed_on_the_message_as_edited(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    menu = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Invite", callback_data="menu:invite")]]
    )
    sent = await bot.send_message(alice.id, "Menu", reply_markup=menu)
    message = tg.last_message(alice.id)

    update = tg.press_button(alice, message, button_text="Invite")
    [received] = await bot(GetUpdates(timeout=0))
    query = received.callback_query
    assert query is not None and query.data == "menu:invite"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.id == update["callback_query"]["id"]
    await bot.answer_callback_query(query.id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)

    await bot.edit_message_text("Menu, edited", chat_id=alice.id, message_id=sent.message_id)
    assert (message.text, message.inline_keyboard, message.edits) == ("Menu, edited", [], 1)
    with pytest.raises(AssertionError, match="no button"):
        tg.press_button(alice, message, "menu:invite")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id)


async def test_html_is_parsed_and_bad_html_refused(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")

    sent = await bot.send_message(alice.id, "<b>Hi</b> &lt;there&gt;", parse_mode="HTML")

    assert sent.text == "Hi <there>"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(alice.id, "<b>Hi", parse_mode="HTML")


async def test_unknown_methods_succeed_and_are_recorded(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_my_description("A referral bot", language_code="en")

    assert tg.unknown_methods["setMyDescription"] == 1
    assert tg.calls_to("setMyDescription")[0].params["description"] == "A referral bot"


async def test_wait_for_times_out_with_the_last_calls(tg: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()

    with pytest.raises(WaitTimeout, match="getMe"):
        await tg.wait_for("sendMessage", timeout=0.05)


async def test_dispatcher_polls_and_replies(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.message(F.text)
    async def on_text(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    alice = tg.user("Alice")
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))

    tg.send_text(alice, "hello")
    reply = await tg.next_message(alice.id)

    assert reply.text == "echo: hello"
    await dp.stop_polling()
    await polling
    assert tg.pending_updates == 0


async def test_webhook_is_stored_and_blocks_get_updates(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook(
        "https://bot.example/webhook", secret_token="s3cret", allowed_updates=["message"]
    )

    info = await bot.get_webhook_info()
    assert (info.url, info.allowed_updates) == ("https://bot.example/webhook", ["message"])
    assert tg.webhook.secret_token == "s3cret"
    with pytest.raises(TelegramConflictError):
        await bot(GetUpdates(timeout=0))
    await bot.delete_webhook(drop_pending_updates=True)
    assert tg.webhook.url == "" and tg.webhook.drop_pending_updates


async def test_post_update_reaches_an_aiogram_webhook(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.message(F.text)
    async def on_text(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="s3cret", handle_in_background=False).register(
        app, path="/webhook"
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        await bot.set_webhook("https://bot.example/webhook", secret_token="s3cret")
        alice = tg.user("Alice")
        update = tg.send_text(alice, "hi")
        url = f"http://127.0.0.1:{port}/webhook"

        refused = await tg.post_update(update, url=url, secret_token="wrong")
        [delivery] = await tg.deliver_pending(url=url)
    finally:
        await runner.cleanup()

    assert refused.status == 401
    assert delivery.status == 200
    assert delivery.reply is not None and delivery.reply.via_webhook_reply
    assert tg.last_message(alice.id).text == "echo: hi"
    assert tg.pending_updates == 0


async def test_control_routes_inject_updates_and_report_stats(tg: FakeTelegram, bot: Bot) -> None:
    async with ClientSession(tg.base_url) as http:
        async with http.post("/_fake/text", json={"user_id": 1001, "text": "/start"}) as resp:
            injected = await resp.json()
        async with http.post("/_fake/contact", json={"user_id": 1001}) as resp:
            assert resp.status == 200
        [start, shared] = await bot(GetUpdates(timeout=0))
        await bot.send_message(1001, "hello")
        async with http.get("/_fake/last_message/1001") as resp:
            last = await resp.json()
        async with http.get("/_fake/stats") as resp:
            stats = await resp.json()
        async with http.post("/_fake/wave", json={}) as resp:
            unknown_action = resp.status
        async with http.post("/_fake/text", json={"text": "whose?"}) as resp:
            no_user = resp.status
        async with http.get("/_fake/last_message/2002") as resp:
            no_message = resp.status

    assert start.message is not None and start.message.text == "/start"
    assert start.update_id == injected["update_id"]
    assert shared.message is not None and shared.message.contact is not None
    assert shared.message.contact.user_id == 1001
    assert last["text"] == "hello"
    assert stats["calls"]["sendMessage"] == 1 and stats["pending_updates"] == 2
    assert (unknown_action, no_user, no_message) == (404, 400, 404)


@pytest.mark.slow
def test_runs_standalone_until_sigterm() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram_server", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        injected = httpx.post(f"{base}/_fake/text", json={"user_id": 7, "text": "hi"}).json()
        stats = httpx.get(f"{base}/_fake/stats").json()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert banner.startswith(f"fake Telegram Bot API on {base} (token ")
    assert injected["message"]["text"] == "hi"
    assert stats["pending_updates"] == 1
    assert proc.returncode == 0
    assert json.loads(out.splitlines()[-1])["pending_updates"] == 1
