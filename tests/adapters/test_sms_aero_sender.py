"""``SmsAeroSender``: the real ``smsaero`` client against a local SMS Aero gateway over TLS.

Each trait of ``smsaero-api`` 3.2.0 that the adapter neutralises has a test here (see
``docs/smsaero.md``). No DNS: the library's constructor checks the EMAIL domain with
``email_validator``, whose own switch ``TEST_ENVIRONMENT`` skips that lookup (autouse fixture
``no_dns_check``); the one test about a failing lookup patches only the lookup function.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import email_validator
import email_validator.deliverability
import pytest
import trustme
from smsaero import SmsAero

from core.adapters.sms_aero import DEFAULT_GATEWAYS, SmsAeroSender
from core.domain.errors import SmsDeliveryFailed
from core.settings import ConfigError, SmsSettings
from tests.fakes.smsaero_server import FakeSmsAeroGateway, make_ca, server_tls, write_ca

EMAIL = "robot@referral.test"
API_KEY = "k3yK3yk3yK3yk3yK3yk3yK3yk3yK3y00"  # 32 characters, as SMS Aero issues them
SIGN = "Referral"
PHONE = "+79161234501"
CODE = "40719386"  # 8 digits: cannot hide inside a port number in a log line
TEXT = f"Your login code: {CODE}"

StartGateway = Callable[..., Awaitable[FakeSmsAeroGateway]]
OpenSender = Callable[..., Awaitable[SmsAeroSender]]


def sms_settings(*gateways: str, timeout: float = 5.0, **changes: Any) -> SmsSettings:
    values: dict[str, Any] = {
        "backend": "smsaero",
        "file": Path("unused.jsonl"),
        "email": EMAIL,
        "api_key": API_KEY,
        "sign": SIGN,
        "gateway_urls": gateways,
        "timeout_seconds": timeout,
    }
    values.update(changes)
    return SmsSettings(**values)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def no_dns_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """``email_validator``'s documented test switch: no DNS lookup of the EMAIL domain."""
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)


@pytest.fixture
def ca() -> trustme.CA:
    return make_ca()


@pytest.fixture
def trusted_ca(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """``requests`` (hence the library) trusts ``ca`` through ``REQUESTS_CA_BUNDLE``."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(write_ca(ca, tmp_path / "ca")))
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return ca


@pytest.fixture
async def start_gateway(trusted_ca: trustme.CA) -> AsyncIterator[StartGateway]:
    """Start fake gateways (HTTPS, trusted, expecting our credentials unless told otherwise)."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> FakeSmsAeroGateway:
            options.setdefault("tls", server_tls(trusted_ca))
            options.setdefault("email", EMAIL)
            options.setdefault("api_key", API_KEY)
            return await stack.enter_async_context(FakeSmsAeroGateway(**options))

        yield start


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> FakeSmsAeroGateway:
    return await start_gateway()


@pytest.fixture
async def open_sender(start_gateway: StartGateway) -> AsyncIterator[OpenSender]:
    """Senders built with ``create()``, closed before the gateways stop."""
    async with AsyncExitStack() as stack:

        async def open_(*gateways: FakeSmsAeroGateway | str, **options: Any) -> SmsAeroSender:
            urls = tuple(g if isinstance(g, str) else g.url for g in gateways)
            sender = await SmsAeroSender.create(sms_settings(*urls, **options))
            return await stack.enter_async_context(sender)

        yield open_


# ----- what a send looks like ---------------------------------------------------------


async def test_send_posts_number_text_and_sign_with_basic_auth(
    gateway: FakeSmsAeroGateway, open_sender: OpenSender
) -> None:
    sender = await open_sender(gateway)

    await sender.send(PHONE, TEXT)

    [request] = gateway.requests
    assert request.secure
    assert (request.method, request.path) == ("POST", "/v2/sms/send")
    assert (request.user, request.api_key) == (EMAIL, API_KEY)
    assert request.number == "79161234501"  # E.164 digits, no plus
    assert (request.text, request.sign) == (TEXT, SIGN)


def test_gateways_default_to_the_library_ones_over_https() -> None:
    assert DEFAULT_GATEWAYS == (
        "https://gate.smsaero.ru/v2/",
        "https://gate.smsaero.org/v2/",
        "https://gate.smsaero.net/v2/",
    )


# ----- trait 2: the constructor looks the EMAIL domain up over DNS --------------------


async def test_undeliverable_email_domain_is_a_config_error_naming_email(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", False)
    looked_up: list[str] = []

    def nxdomain(domain: str, *args: Any) -> dict[str, Any]:
        looked_up.append(domain)
        raise email_validator.EmailUndeliverableError(f"The domain name {domain} does not exist.")

    # Only the DNS lookup is replaced; the library's constructor runs as in production.
    monkeypatch.setattr(email_validator.deliverability, "validate_email_deliverability", nxdomain)

    with pytest.raises(ConfigError, match="EMAIL") as caught:
        await SmsAeroSender.create(sms_settings(email="robot@no-such-domain.example"))

    assert looked_up == ["no-such-domain.example"]
    assert "does not exist" in str(caught.value)


async def test_create_checks_the_email_domain_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", False)
    threads: list[threading.Thread] = []

    def slow_lookup(domain: str, *args: Any) -> dict[str, Any]:
        threads.append(threading.current_thread())
        time.sleep(0.2)
        return {}

    monkeypatch.setattr(
        email_validator.deliverability, "validate_email_deliverability", slow_lookup
    )
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        sender = await SmsAeroSender.create(sms_settings(email="robot@example.com"))
        await sender.aclose()
    finally:
        ticker.cancel()

    assert len(threads) == 1  # looked up once, at start-up...
    assert threads[0] is not threading.main_thread()  # ...in a worker thread
    assert ticks >= 5  # while the event loop kept running


async def test_domain_check_can_be_switched_off_for_hosts_without_dns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", False)
    looked_up: list[str] = []

    def lookup(domain: str, *args: Any) -> dict[str, Any]:
        looked_up.append(domain)
        raise email_validator.EmailUndeliverableError(f"The domain name {domain} does not exist.")

    monkeypatch.setattr(email_validator.deliverability, "validate_email_deliverability", lookup)
    sender = await SmsAeroSender.create(
        sms_settings(email="robot@offline.example", check_email_domain=False)
    )
    await sender.aclose()
    assert looked_up == []
    # The syntax and the key are still checked.
    with pytest.raises(ConfigError, match="EMAIL"):
        await SmsAeroSender.create(sms_settings(email="not-an-email", check_email_domain=False))
    with pytest.raises(ConfigError, match="SMS_KEY"):
        await SmsAeroSender.create(
            sms_settings(email="robot@offline.example", api_key="short", check_email_domain=False)
        )


async def test_malformed_email_is_a_config_error_naming_email() -> None:
    with pytest.raises(ConfigError, match="EMAIL"):
        await SmsAeroSender.create(sms_settings(email="not-an-email"))


async def test_short_api_key_is_a_config_error_without_the_key() -> None:
    with pytest.raises(ConfigError, match="SMS_KEY") as caught:
        await SmsAeroSender.create(sms_settings(api_key="short-key"))
    assert "short-key" not in str(caught.value)


async def test_missing_credentials_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="EMAIL and SMS_KEY"):
        await SmsAeroSender.create(sms_settings(api_key=None))


# ----- trait 3: after a TLS error it falls back to plain HTTP -------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/v2/", "127.0.0.1:8443", "ftp://gate.smsaero.ru/v2/"],
)
async def test_non_https_gateway_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="https://"):
        await SmsAeroSender.create(sms_settings(url))


async def test_gateway_url_with_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no credentials") as caught:
        await SmsAeroSender.create(sms_settings(f"https://{EMAIL}:{API_KEY}@127.0.0.1/v2/"))
    assert API_KEY not in str(caught.value)


async def test_tls_failure_sends_nothing_in_plain_http(
    start_gateway: StartGateway, open_sender: OpenSender
) -> None:
    untrusted = await start_gateway(tls=server_tls(make_ca()))
    plain = await start_gateway(tls=None)  # where the library would send the key and the code
    sender = await open_sender(untrusted, plain.url.replace("http://", "https://"))

    with pytest.raises(SmsDeliveryFailed):
        await sender.send(PHONE, TEXT)

    assert untrusted.requests == []
    assert plain.requests == []


async def test_library_alone_does_fall_back_to_plain_http(
    start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: the same two gateways catch the unguarded client."""
    untrusted = await start_gateway(tls=server_tls(make_ca()))
    plain = await start_gateway(tls=None)
    gates = [f"@127.0.0.1:{untrusted.port}/v2/", f"@127.0.0.1:{plain.port}/v2/"]
    monkeypatch.setattr(SmsAero, "GATE_URLS", gates)
    client = SmsAero(EMAIL, API_KEY, signature=SIGN)
    try:
        await asyncio.to_thread(client.send_sms, int(PHONE[1:]), TEXT)
    finally:
        client._SmsAero__sess.close()  # the library offers no close()

    [request] = plain.requests
    assert not request.secure
    assert (request.api_key, request.text) == (API_KEY, TEXT)


# ----- trait 4: after a read timeout it sends again through the next gateway ----------


async def test_read_timeout_fails_without_trying_another_gateway(
    start_gateway: StartGateway, open_sender: OpenSender
) -> None:
    hanging = await start_gateway(mode="hang")
    spare = await start_gateway()
    sender = await open_sender(hanging, spare, timeout=1.0)

    started = time.monotonic()
    with pytest.raises(SmsDeliveryFailed):
        await sender.send(PHONE, TEXT)
    elapsed = time.monotonic() - started

    assert hanging.received == 1
    assert spare.received == 0
    assert elapsed < 1.0 + 0.25  # the deadline, plus scheduling


async def test_connect_failure_fails_over_to_the_next_gateway(
    gateway: FakeSmsAeroGateway, open_sender: OpenSender
) -> None:
    sender = await open_sender(f"https://127.0.0.1:{closed_port()}/v2/", gateway)

    await sender.send(PHONE, TEXT)

    assert gateway.received == 1


# ----- trait 6: it ignores the HTTP status --------------------------------------------


async def test_error_status_fails_even_with_a_success_envelope(
    start_gateway: StartGateway, open_sender: OpenSender
) -> None:
    broken = await start_gateway(mode="bad_status")  # HTTP 500 + {"success": true, ...}
    spare = await start_gateway()
    sender = await open_sender(broken, spare)

    with pytest.raises(SmsDeliveryFailed):
        await sender.send(PHONE, TEXT)

    assert broken.received == 1
    assert spare.received == 0


@pytest.mark.parametrize("mode", ["no_money", "reject", "not_json", "unauthorized"])
async def test_gateway_refusal_is_sms_delivery_failed(
    start_gateway: StartGateway, open_sender: OpenSender, mode: str
) -> None:
    sender = await open_sender(await start_gateway(mode=mode))

    with pytest.raises(SmsDeliveryFailed):
        await sender.send(PHONE, TEXT)


async def test_number_that_is_not_e164_is_refused_before_sending(
    gateway: FakeSmsAeroGateway, open_sender: OpenSender
) -> None:
    sender = await open_sender(gateway)

    with pytest.raises(SmsDeliveryFailed):
        await sender.send("89161234501", TEXT)

    assert gateway.received == 0


# ----- trait 5: at DEBUG it logs the key and the code ---------------------------------


async def test_library_debug_lines_are_silenced_once_a_sender_exists(
    gateway: FakeSmsAeroGateway,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    library = logging.getLogger("smsaero")
    monkeypatch.setattr(library, "filters", [])  # as before any sender was built
    library.setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)

    async def send_with_the_bare_library() -> None:
        client = SmsAero(EMAIL, API_KEY, signature=SIGN, url_gate=f"@127.0.0.1:{gateway.port}/v2/")
        try:
            await asyncio.to_thread(client.send_sms, int(PHONE[1:]), TEXT)
        finally:
            client._SmsAero__sess.close()  # the library offers no close()

    await send_with_the_bare_library()
    assert API_KEY in caplog.text  # the trait: the URL with the key, at DEBUG
    assert CODE in caplog.text  # and the payload with the code
    caplog.clear()

    await (await SmsAeroSender.create(sms_settings(gateway.url))).aclose()
    await send_with_the_bare_library()

    assert API_KEY not in caplog.text
    assert CODE not in caplog.text


async def test_debug_logs_hold_neither_the_key_nor_the_code(
    start_gateway: StartGateway, open_sender: OpenSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ok = await start_gateway()
    no_money = await start_gateway(mode="no_money")
    sender = await open_sender(ok)
    broke = await open_sender(f"https://127.0.0.1:{closed_port()}/v2/", no_money)

    await sender.send(PHONE, TEXT)
    with pytest.raises(SmsDeliveryFailed):
        await broke.send(PHONE, TEXT)

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "Insufficient funds" in logged  # the reason is logged...
    assert "+7916***4501" in logged  # ...with the phone masked
    for secret in (API_KEY, CODE, PHONE[1:]):
        assert secret not in logged
    assert not logging.getLogger("smsaero").isEnabledFor(logging.DEBUG)


# ----- trait 1: blocking, with per-call state -----------------------------------------


async def test_slow_gateway_serves_many_sends_at_once_without_mixing_them(
    start_gateway: StartGateway, open_sender: OpenSender
) -> None:
    phones = [f"+791612345{i:02d}" for i in range(50)]
    rejected = set(phones[::5])
    slow = await start_gateway(delay=1.5, reject_numbers=rejected)
    sender = await open_sender(slow)

    started = time.monotonic()
    results = await asyncio.gather(
        *(sender.send(phone, f"Code for {phone}") for phone in phones), return_exceptions=True
    )
    elapsed = time.monotonic() - started

    assert slow.max_in_flight >= 40
    assert elapsed < 10  # one at a time would take 75 s
    failed = {p for p, r in zip(phones, results, strict=True) if isinstance(r, SmsDeliveryFailed)}
    assert failed == rejected
    assert all(r is None or isinstance(r, SmsDeliveryFailed) for r in results)
    assert {(r.number, r.text) for r in slow.requests} == {(p[1:], f"Code for {p}") for p in phones}


async def test_closed_sender_refuses_to_send(
    gateway: FakeSmsAeroGateway, open_sender: OpenSender
) -> None:
    sender = await open_sender(gateway)
    await sender.aclose()

    with pytest.raises(RuntimeError, match="closed"):
        await sender.send(PHONE, TEXT)
