"""A local SMS Aero v2 gateway: the real ``smsaero`` client (through ``SmsAeroSender``) talks to it.

It speaks the API as ``smsaero-api`` 3.2.0 calls it: ``POST /v2/<selector>`` (``sms/send``,
``sms/testsend``, ``balance``, ``auth``) with HTTP basic auth ``email:api_key`` and a JSON body
(query and form parameters are read too), answered with the envelope
``{"success": true, "data": {...}, "message": null}``. What it does is configurable per instance:

- ``delay``: seconds each request waits before its answer (1.5 for the concurrency test);
- ``mode``: ``ok``; ``no_money`` and ``reject`` (HTTP 200, ``success: false``); ``bad_status``
  (HTTP 500 with a *success* envelope, which only a status check catches); ``not_json`` (502 HTML
  from a proxy); ``unauthorized`` (401); ``hang`` (no answer until ``hang_seconds`` or ``stop()``);
- ``reject_numbers``: numbers answered with the ``reject`` envelope whatever the mode;
- ``tls``: an ``ssl.SSLContext`` to serve HTTPS (see :func:`server_tls`), or ``None`` for a plain
  HTTP listener (the TLS-fallback test checks that such a listener sees nothing).

It records ``requests`` (one :class:`ReceivedRequest` each, including the credentials it saw, so a
test can assert what travelled), ``received`` and ``max_in_flight``.

In tests::

    async with FakeSmsAeroGateway(tls=server_tls(ca), delay=1.5) as gateway:
        ...  # gateway.url == "https://127.0.0.1:<port>/v2/"

Standalone, for a benchmark (HTTPS with a fresh CA written to ``--ca-dir``)::

    python -m tests.fakes.smsaero_server --port 8443 --delay 1.5 --ca-dir var/smsaero-ca
    # then: REQUESTS_CA_BUNDLE=var/smsaero-ca/ca.pem SMSAERO_GATEWAYS=https://127.0.0.1:8443/v2/
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import ssl
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import trustme
from aiohttp import BasicAuth, web

from tests.fakes.local_server import LocalServer, listen, run_until_signalled

Mode = Literal["ok", "no_money", "reject", "bad_status", "not_json", "unauthorized", "hang"]
MODES: tuple[str, ...] = get_args(Mode)

NO_MONEY = {"success": False, "data": None, "message": "Insufficient funds"}
REJECTED = {
    "success": False,
    "data": {"number": ["The number is not valid or is blacklisted."]},
    "message": "Validation error.",
}
UNAUTHORIZED = {"success": False, "data": None, "message": "Your email or api key is incorrect."}
NOT_FOUND = {"success": False, "data": None, "message": "Not found."}


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the gateway saw it."""

    secure: bool
    method: str
    path: str
    user: str | None
    api_key: str | None
    number: str | None
    text: str | None
    sign: str | None


def make_ca() -> trustme.CA:
    """A throw-away certificate authority."""
    return trustme.CA()


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 and localhost, issued by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def write_ca(ca: trustme.CA, directory: Path) -> Path:
    """Write the CA certificate as ``directory/ca.pem`` (for ``REQUESTS_CA_BUNDLE``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


class FakeSmsAeroGateway(LocalServer):
    """An aiohttp server speaking SMS Aero v2; see the module docstring."""

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        mode: Mode = "ok",
        reject_numbers: Iterable[str] = (),
        email: str | None = None,
        api_key: str | None = None,
        hang_seconds: float = 30.0,
    ) -> None:
        self.tls = tls
        self.host = host
        self.port = port
        self.delay = delay
        self.mode: Mode = mode
        self.reject_numbers = {n.lstrip("+") for n in reject_numbers}
        self.email = email
        self.api_key = api_key
        self.hang_seconds = hang_seconds
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(1)
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._transports: set[asyncio.Transport] = set()

    # ----- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The gateway URL as ``SMSAERO_GATEWAYS`` takes it."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}/v2/"

    @property
    def received(self) -> int:
        return len(self.requests)

    def reset(self) -> None:
        self.requests.clear()
        self.max_in_flight = self.in_flight

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/v2/{selector:.+}", self._handle)
        self._runner, self.port = await listen(
            app, self.host, self.port, backlog=256, ssl_context=self.tls
        )

    async def stop(self) -> None:
        """Release hanging requests and close every connection."""
        self._released.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        # A TLS connection whose client has gone may still wait for its close_notify: drop it.
        transports, self._transports = self._transports, set()
        for transport in transports:
            transport.abort()
        if transports:
            for _ in range(3):
                await asyncio.sleep(0)  # let connection_lost close the sockets

    # ----- the API --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            self._transports.add(request.transport)
        params = await _params(request)
        user, api_key = _basic_auth(request)
        self.requests.append(
            ReceivedRequest(
                secure=request.secure,
                method=request.method,
                path=request.path,
                user=user,
                api_key=api_key,
                number=_text_or_none(params.get("number")),
                text=_text_or_none(params.get("text")),
                sign=_text_or_none(params.get("sign")),
            )
        )
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await self._answer(request.match_info["selector"], params, user, api_key)
        finally:
            self.in_flight -= 1

    async def _answer(
        self, selector: str, params: dict[str, Any], user: str | None, api_key: str | None
    ) -> web.StreamResponse:
        if self.mode == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.hang_seconds)
            return web.json_response(NOT_FOUND, status=504)
        if self.mode == "unauthorized" or (
            self.email is not None and (user, api_key) != (self.email, self.api_key)
        ):
            return web.json_response(UNAUTHORIZED, status=401)
        if self.mode == "not_json":
            return web.Response(
                status=502,
                text="<html><body>502 Bad Gateway</body></html>",
                content_type="text/html",
            )
        if selector == "auth":
            return _envelope(None)
        if selector == "balance":
            return _envelope({"balance": 337.03})
        if selector not in ("sms/send", "sms/testsend"):
            return web.json_response(NOT_FOUND, status=404)
        if self.mode == "no_money":
            return web.json_response(NO_MONEY)
        number = _text_or_none(params.get("number"))
        text = _text_or_none(params.get("text"))
        if self.mode == "reject" or not number or not text or number in self.reject_numbers:
            return web.json_response(REJECTED)
        now = int(time.time())
        data = {
            "id": next(self._ids),
            "from": _text_or_none(params.get("sign")) or "SMS Aero",
            "number": number,
            "text": text,
            "status": 0,
            "extendStatus": "queue",
            "channel": "FREE SIGN",
            "cost": 5.49,
            "dateCreate": now,
            "dateSend": now,
        }
        return _envelope(data, status=500 if self.mode == "bad_status" else 200)


def _envelope(data: Any, status: int = 200) -> web.Response:
    return web.json_response({"success": True, "data": data, "message": None}, status=status)


async def _params(request: web.Request) -> dict[str, Any]:
    """Query parameters, then the JSON or form body on top."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update(await request.post())
    return params


def _basic_auth(request: web.Request) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization")
    if not header:
        return None, None
    try:
        auth = BasicAuth.decode(header)
    except ValueError:
        return None, None
    return auth.login, auth.password


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# ----- standalone ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local SMS Aero v2 gateway for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument(
        "--ca-dir",
        type=Path,
        default=Path("var/smsaero-ca"),
        help="where the generated CA is written as ca.pem (for REQUESTS_CA_BUNDLE)",
    )
    parser.add_argument("--plain", action="store_true", help="serve plain HTTP (no TLS)")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> None:
    tls = None
    ca_note = ""
    if not args.plain:
        ca = make_ca()
        tls = server_tls(ca)
        ca_note = f" (CA: {write_ca(ca, args.ca_dir)})"
    gateway = FakeSmsAeroGateway(
        tls=tls, host=args.host, port=args.port, delay=args.delay, mode=args.mode
    )
    await run_until_signalled(gateway, lambda: f"SMS Aero fake gateway on {gateway.url}{ca_note}")
    sys.stdout.write(
        f"received {gateway.received} requests, at most {gateway.max_in_flight} at once\n"
    )


if __name__ == "__main__":
    main()
