"""The ``/_fake/*`` routes: another process (the benchmark's driver) injects updates and reads
the counters of a standalone fake.

- ``POST /_fake/text`` ``{"user_id": 1001, "text": "/start"}``: a text message from that user
  (created on first use, with ``first_name``, ``language_code``, ``username``, ``phone_number``
  taken from the body);
- ``POST /_fake/contact`` ``{"user_id": 1001}``: the user shares a contact (their own unless
  ``phone_number`` / ``contact_user_id`` say otherwise);
- ``POST /_fake/update``: a raw update;
- ``GET /_fake/stats``: ``FakeTelegram.stats()``;
- ``GET /_fake/last_message/<chat_id>``: the last message the bot sent there.

Each ``POST`` answers with the update it queued.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from aiohttp import web

from tests.fakes.telegram_server.objects import FakeUser
from tests.fakes.telegram_server.people import People
from tests.fakes.telegram_server.protocol import JsonDict, dumps


class ControlRoutes:
    """The routes over ``people``; ``stats`` gives what ``/_fake/stats`` shows."""

    def __init__(self, people: People, stats: Callable[[], JsonDict]) -> None:
        self.people = people
        self.stats = stats

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/_fake/{action}", self._action)
        app.router.add_get("/_fake/stats", self._stats)
        app.router.add_get("/_fake/last_message/{chat_id}", self._last_message)

    def _user(self, body: JsonDict) -> FakeUser:
        uid = int(body["user_id"])
        known = self.people.find_user(uid)
        if known is not None:
            return known
        return self.people.user(
            str(body.get("first_name") or f"User {uid}"),
            language_code=body.get("language_code", "en"),
            username=body.get("username"),
            phone_number=body.get("phone_number"),
            user_id=uid,
        )

    async def _action(self, request: web.Request) -> web.StreamResponse:
        """``POST /_fake/text|contact|update`` with a JSON body: enqueue that update."""
        action = request.match_info["action"]
        try:
            body = await request.json(loads=orjson.loads)
            if action == "update":
                update = self.people.send_update(body)
            elif action == "text":
                update = self.people.send_text(self._user(body), str(body["text"]))
            elif action == "contact":
                user = self._user(body)
                update = self.people.send_contact(
                    user,
                    body.get("phone_number"),
                    contact_user_id=body.get("contact_user_id", user.id),
                )
            else:
                return web.json_response({"error": f"unknown action {action}"}, status=404)
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": repr(exc)}, status=400)
        return web.json_response(update, dumps=dumps)

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.stats(), dumps=dumps)

    async def _last_message(self, request: web.Request) -> web.StreamResponse:
        message = self.people.find_last_message(int(request.match_info["chat_id"]))
        if message is None:
            return web.json_response({"error": "no message"}, status=404)
        return web.json_response(message.to_api(self.people.bot_user), dumps=dumps)
