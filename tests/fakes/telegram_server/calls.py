"""What the bot called: every Bot API call with its answer (or counters only, for a load run),
waiting for the call a test expects, and the failures a test injects."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, overload

from tests.fakes.telegram_server.protocol import ApiError, JsonDict, Params, Upload


class WaitTimeout(AssertionError):
    """``wait_for`` gave up: the bot did not make the expected call in time."""


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call the bot made, with its decoded parameters and the answer it got."""

    seq: int
    method: str
    params: JsonDict
    files: Mapping[str, Upload]
    ok: bool
    result: Any
    error_code: int | None
    description: str | None
    at: float
    via_webhook_reply: bool = False

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return value if isinstance(value, int | str) else None

    @property
    def text(self) -> str | None:
        value = self.params.get("text")
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> JsonDict | None:
        value = self.params.get("reply_markup")
        return value if isinstance(value, dict) else None


@dataclass(slots=True)
class _Failure:
    error_code: int
    description: str
    parameters: JsonDict | None
    remaining: int


@dataclass(slots=True, eq=False)
class _Waiter:
    predicate: Callable[[Call], bool]
    needed: int
    matches: list[Call]
    future: asyncio.Future[list[Call]]

    def offer(self, call: Call) -> None:
        if self.future.done():
            return
        try:
            matched = self.predicate(call)
        except Exception as exc:  # a broken predicate must fail the test, not the server
            self.future.set_exception(exc)
            return
        if matched:
            self.matches.append(call)
            if len(self.matches) >= self.needed:
                self.future.set_result(self.matches)


class CallLog:
    """The calls the bot made; ``FakeTelegram`` records each one as it answers it."""

    def __init__(self, *, record: bool, record_get_updates: bool) -> None:
        """The parameters are ``FakeTelegram``'s."""
        self.record = record
        self.record_get_updates = record_get_updates
        self.calls: list[Call] = []
        self.call_counts: Counter[str] = Counter()
        self.total_calls = 0
        self.unknown_methods: Counter[str] = Counter()
        self.internal_errors: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._waiters: list[_Waiter] = []
        self._action_mark = 0
        self._failures: dict[str, deque[_Failure]] = {}

    def mark_action(self) -> None:
        """The test just did something: by default, ``wait_for`` looks at the calls from here."""
        self._action_mark = len(self.calls)

    def mark(self) -> int:
        """The position of the next call in ``calls`` (for ``wait_for(..., since=mark)``)."""
        return len(self.calls)

    def calls_to(self, method: str) -> list[Call]:
        key = method.lower()
        return [c for c in self.calls if c.method.lower() == key]

    @overload
    async def wait_for(
        self, match: int, *, timeout: float = ..., since: int | None = ...
    ) -> list[Call]: ...

    @overload
    async def wait_for(
        self,
        match: str | Callable[[Call], bool],
        *,
        timeout: float = ...,
        since: int | None = ...,
    ) -> Call: ...

    async def wait_for(
        self,
        match: int | str | Callable[[Call], bool],
        *,
        timeout: float = 5.0,
        since: int | None = None,
    ) -> Call | list[Call]:
        """Wait until the bot has made a matching call; return it.

        ``match`` is a method name (case-insensitive), a predicate on ``Call``, or a count
        (then the list of that many calls is returned). Calls are looked for from ``since``
        (a ``mark()``), by default from the moment the last update was enqueued, so the
        answer is the bot's reaction to what the test just did.
        """
        if isinstance(match, int):
            return await self._wait(_any_call, match, timeout, since)
        predicate = _method_is(match) if isinstance(match, str) else match
        return (await self._wait(predicate, 1, timeout, since))[0]

    async def _wait(
        self,
        predicate: Callable[[Call], bool],
        needed: int,
        timeout: float,
        since: int | None,
    ) -> list[Call]:
        if not self.record:
            msg = "FakeTelegram(record=False) keeps no calls to wait for"
            raise RuntimeError(msg)
        start = self._action_mark if since is None else since
        matches = [c for c in self.calls[start:] if predicate(c)]
        if len(matches) >= needed:
            return matches[:needed]
        future: asyncio.Future[list[Call]] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(predicate, needed, matches, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            recent = [f"{c.method}({c.chat_id})" for c in self.calls[-8:]]
            msg = (
                f"the bot made {len(waiter.matches)}/{needed} matching calls within "
                f"{timeout} s; its last calls: {recent}"
            )
            raise WaitTimeout(msg) from None
        finally:
            self._waiters.remove(waiter)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        parameters: JsonDict | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (``"*"``: any but getUpdates) fail like this.

        ``error_code=429`` answers flood control with ``parameters.retry_after`` (1 s unless
        given), which aiogram raises as ``TelegramRetryAfter``.
        """
        params = dict(parameters or {})
        if error_code == 429:
            params.setdefault("retry_after", retry_after if retry_after is not None else 1)
        elif retry_after is not None:
            params["retry_after"] = retry_after
        if description is None:
            description = _default_description(error_code, params.get("retry_after"))
        self._failures.setdefault(method.lower(), deque()).append(
            _Failure(error_code, description, params or None, times)
        )

    def injected(self, key: str) -> ApiError | None:
        """The failure injected for this call (``key``: the method in lower case), if any."""
        for queue_key in (key, "*"):
            queue = self._failures.get(queue_key)
            if not queue or (queue_key == "*" and key == "getupdates"):
                continue
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.popleft()
            return ApiError(failure.error_code, failure.description, failure.parameters)
        return None

    def record_call(
        self, name: str, params: Params, result: Any, error: ApiError | None, via_webhook: bool
    ) -> None:
        """Count the call; keep it (and show it to the waiting tests) when recording."""
        self.total_calls += 1
        self.call_counts[name] += 1
        if not self.record or (name == "getUpdates" and not self.record_get_updates):
            return
        call = Call(
            seq=len(self.calls),
            method=name,
            params=params.values,
            files=params.files,
            ok=error is None,
            result=result,
            error_code=None if error is None else error.error_code,
            description=None if error is None else error.description,
            at=time.monotonic(),
            via_webhook_reply=via_webhook,
        )
        self.calls.append(call)
        for waiter in self._waiters:
            waiter.offer(call)


def _any_call(call: Call) -> bool:
    return True


def _method_is(method: str) -> Callable[[Call], bool]:
    key = method.lower()

    def predicate(call: Call) -> bool:
        return call.method.lower() == key

    return predicate


def _default_description(error_code: int, retry_after: Any) -> str:
    return {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request",
        429: f"Too Many Requests: retry after {retry_after}",
    }.get(error_code, "Internal Server Error")
