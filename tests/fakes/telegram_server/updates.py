"""The updates waiting for the bot: ``getUpdates`` takes them (long polling, offsets confirm
them), webhook delivery posts them one by one."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from typing import Final

from tests.fakes.telegram_server.protocol import ApiError, JsonDict

#: Update types Telegram leaves out when ``allowed_updates`` was never set (or set to ``[]``).
NOT_BY_DEFAULT: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    """Updates in arrival order, each with the next ``update_id``, until the bot confirms them."""

    def __init__(self, first_update_id: int, on_push: Callable[[], object]) -> None:
        """:param on_push: called for every update made, delivered or not."""
        self._pending: deque[JsonDict] = deque()
        self._ids = itertools.count(first_update_id)
        self._on_push = on_push
        self._poller: asyncio.Future[bool] | None = None
        #: The last ``allowed_updates`` the bot gave (``getUpdates`` or ``setWebhook``).
        self.allowed: list[str] | None = None
        self.confirmed = 0
        self.dropped = 0
        #: Closed (the server stops): a long poll answers at once.
        self.closed = False

    def __len__(self) -> int:
        return len(self._pending)

    def push(self, kind: str, payload: JsonDict, *, deliver: bool = True) -> JsonDict:
        """A new update; it waits for the bot unless ``deliver`` is false or the bot's
        ``allowed_updates`` leave it out (then it is counted as dropped)."""
        update: JsonDict = {"update_id": next(self._ids), kind: payload}
        self._on_push()
        if deliver and self._accepts(kind):
            self._pending.append(update)
            self._wake_poller(result=True)
        else:
            self.dropped += 1
        return update

    def first(self) -> JsonDict | None:
        return self._pending[0] if self._pending else None

    def confirm_first(self) -> None:
        self._pending.popleft()
        self.confirmed += 1

    def drop_pending(self) -> None:
        self.dropped += len(self._pending)
        self._pending.clear()

    async def poll(self, offset: int, limit: int, timeout: int) -> list[JsonDict]:
        """``getUpdates``: confirm what lies below ``offset``, then answer with up to ``limit``
        updates, waiting up to ``timeout`` seconds for one when none is there."""
        self._confirm(offset)
        # Like Telegram, a newer getUpdates ends the one still waiting (which gets 409).
        self._wake_poller(result=False)
        if self._pending or timeout == 0 or self.closed:
            return self._take(limit)
        poller: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._poller = poller
        try:
            done, _ = await asyncio.wait((poller,), timeout=timeout)
        finally:
            if self._poller is poller:
                self._poller = None
        if done and not poller.result():
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._take(limit)

    def open(self) -> None:
        self.closed = False

    def close(self) -> None:
        """Answer a waiting long poll; the next ones answer at once."""
        self.closed = True
        self._wake_poller(result=True)

    def _accepts(self, kind: str) -> bool:
        if not self.allowed:
            return kind not in NOT_BY_DEFAULT
        return kind in self.allowed

    def _confirm(self, offset: int) -> None:
        queue = self._pending
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
                self.confirmed += 1
            return
        while queue and queue[0]["update_id"] < offset:
            queue.popleft()
            self.confirmed += 1

    def _take(self, limit: int) -> list[JsonDict]:
        return list(itertools.islice(self._pending, limit))

    def _wake_poller(self, *, result: bool) -> None:
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(result)
