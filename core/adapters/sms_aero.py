"""``SmsSender`` for SMS Aero, on the real ``smsaero-api`` 3.2.0 client.

``smsaero.SmsAero`` does the SMS Aero parts: it checks the e-mail, the key and the sender name at
construction, validates the number and the text, builds the ``sms/send`` payload and reads the
answer envelope (``check_response``). Its transport, ``SmsAero.request`` (the one method every API
call goes through), is replaced in a subclass, because the library's own has traits a login
service cannot keep (``docs/smsaero.md`` has the long form):

1. blocking ``requests`` with per-call state (``self.__resp``) → calls run in a dedicated pool of
   64 threads, each thread with its own ``requests.Session``; the replaced ``request`` writes
   nothing on the shared client, so one client serves every thread;
2. the constructor looks the e-mail domain up over DNS → the client is built once, off the event
   loop, by :meth:`SmsAeroSender.create`; a failure is a ``ConfigError`` naming EMAIL;
3. after a TLS error it retries in plain HTTP → https gateways only; ``proto="http"`` and
   ``http://`` URLs are refused, redirects are not followed;
4. after a read timeout it tries the next gateway (a second SMS) → another gateway is tried only
   when nothing was sent (no connection, or a certificate refused during the handshake);
5. it logs the URL with the key and the payload with the code at DEBUG → the ``smsaero`` logger is
   held at WARNING; our own lines mask the phone and never carry the key or the text;
6. it ignores the HTTP status → the status is checked, then the ``success`` flag; one deadline
   of ``timeout_seconds`` covers every attempt.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import requests
from email_validator import EmailNotValidError, validate_email
from requests.adapters import BaseAdapter
from smsaero import SmsAero, SmsAeroException, SmsAeroNoMoneyException
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.util import Timeout

from core.domain.errors import SmsDeliveryFailed
from core.domain.phone import mask_phone
from core.settings import ConfigError, SmsSettings

log = logging.getLogger("referral.sms.smsaero")

LIBRARY_LOGGER = "smsaero"
DEFAULT_GATEWAYS: tuple[str, ...] = tuple(
    "https://" + gate.lstrip("@") for gate in SmsAero.GATE_URLS
)
DEFAULT_THREADS = 64
MAX_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
USER_AGENT = "SAPythonClient/3.2.0 referral-service"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class SmsAeroSender:
    """Sends SMS through SMS Aero; every failure is ``SmsDeliveryFailed``.

    Build it with :meth:`create` (the constructor blocks: the library checks EMAIL over DNS) and
    close it with :meth:`aclose` (or ``async with``).
    """

    def __init__(self, settings: SmsSettings, *, threads: int = DEFAULT_THREADS) -> None:
        """Blocking: builds the client (a DNS lookup of the EMAIL domain). Prefer :meth:`create`."""
        if not settings.email or not settings.api_key:
            raise ConfigError(
                "set EMAIL and SMS_KEY (SMS Aero credentials) for the smsaero backend"
            )
        if not 0 < settings.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise ConfigError(
                f"SMS_TIMEOUT_SECONDS must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g}"
            )
        if threads < 1:
            raise ConfigError("the SMS Aero sender needs at least one thread")
        gateways = parse_gateways(settings.gateway_urls)
        quiet_library_logger()
        self._timeout = settings.timeout_seconds
        self._api_key = settings.api_key
        self._client = _build_client(settings, gateways)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smsaero")
        self._closed = False

    @classmethod
    async def create(cls, settings: SmsSettings, *, threads: int = DEFAULT_THREADS) -> Self:
        """Build the sender off the event loop; bad EMAIL, SMS_KEY or SMS_SIGN: ``ConfigError``."""
        return await asyncio.to_thread(cls, settings, threads=threads)

    @property
    def gateways(self) -> tuple[str, ...]:
        return self._client.gateways

    async def send(self, phone: str, text: str) -> None:
        if self._closed:
            raise RuntimeError("SmsAeroSender is closed")
        masked = mask_phone(phone)
        if not _E164.fullmatch(phone):
            log.warning("SMS to %s not sent: not an E.164 number", masked)
            raise SmsDeliveryFailed()
        deadline = time.monotonic() + self._timeout
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(
            self._executor, self._client.send_sms_by, deadline, int(phone[1:]), text
        )
        reason: str
        try:
            data = await asyncio.wait_for(job, self._timeout)
        except TimeoutError:
            reason = f"no answer within {self._timeout:g} s; the SMS may have gone"
        except GatewayFailure as exc:
            reason = str(exc)
        except SmsAeroNoMoneyException:
            reason = "no money on the SMS Aero account"
        except SmsAeroException as exc:
            reason = f"refused by SMS Aero: {exc}"
        except (ValueError, TypeError) as exc:
            reason = f"refused by the client's checks: {exc}"
        except Exception as exc:  # every failure is SmsDeliveryFailed; the type says which bug
            reason = f"unexpected {type(exc).__name__}"
        else:
            sms_id = data.get("id") if isinstance(data, Mapping) else None
            log.info("SMS to %s accepted by SMS Aero (id %s)", masked, sms_id)
            return
        # Raised outside the ``except`` blocks: no exception chain (and no request object with the
        # key and the code) travels with the domain error.
        log.warning("SMS to %s not sent: %s", masked, self._scrub(reason, phone, text))
        raise SmsDeliveryFailed()

    async def aclose(self) -> None:
        """Wait for the sends in progress, then close every connection."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _scrub(self, reason: str, phone: str, text: str) -> str:
        """A gateway's message may echo what we sent: keep the key, the text and the number out."""
        secrets = [self._api_key, text, phone, phone[1:], *re.findall(r"\d{4,}", text)]
        for secret in sorted(secrets, key=len, reverse=True):
            if secret:
                reason = reason.replace(secret, "***")
        return reason[:300]


# ----- configuration ------------------------------------------------------------------


def parse_gateways(urls: Sequence[str]) -> tuple[str, ...]:
    """``SMSAERO_GATEWAYS`` as base URLs ending in ``/v2/``; https only. Empty: the library's."""
    if not urls:
        return DEFAULT_GATEWAYS
    gateways = []
    for raw in urls:
        parts = urlsplit(raw.strip())
        try:
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError:
            raise ConfigError(f"SMSAERO_GATEWAYS: {parts.hostname} has an invalid port") from None
        if parts.scheme != "https" or not parts.hostname:
            raise ConfigError(
                f"SMSAERO_GATEWAYS must list https:// URLs only, not {parts.scheme}://"
                f"{parts.hostname or ''}: plain HTTP would carry SMS_KEY and the codes in clear"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(
                "SMSAERO_GATEWAYS: a gateway URL holds no credentials, query or fragment "
                "(EMAIL and SMS_KEY hold the credentials)"
            )
        path = parts.path.rstrip("/")
        if not path.endswith("/v2"):
            path += "/v2"
        gateways.append(urlunsplit(("https", parts.netloc, path + "/", "", "")))
    return tuple(gateways)


def quiet_library_logger() -> None:
    """The library logs the URL with the key and the payload with the code at DEBUG."""
    library = logging.getLogger(LIBRARY_LOGGER)
    library.setLevel(logging.WARNING)
    if not any(isinstance(f, _WarningsOnly) for f in library.filters):
        library.addFilter(_WarningsOnly())


class _WarningsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _build_client(settings: SmsSettings, gateways: tuple[str, ...]) -> _GuardedSmsAero:
    assert settings.email and settings.api_key
    try:
        return _GuardedSmsAero(
            email=settings.email,
            api_key=settings.api_key,
            sign=settings.sign,
            gateways=gateways,
            timeout_seconds=settings.timeout_seconds,
            check_email_domain=settings.check_email_domain,
        )
    except (ValueError, TypeError) as exc:
        if isinstance(exc.__cause__, EmailNotValidError):
            message = f"EMAIL={settings.email!r} cannot be used with SMS Aero: {exc}"
        else:
            message = f"SMS Aero refuses the settings (check SMS_KEY and SMS_SIGN): {exc}"
    except Exception as exc:  # e.g. no resolver configuration for the DNS check
        message = (
            f"EMAIL={settings.email!r} could not be checked over DNS: {type(exc).__name__}: {exc}"
        )
    raise ConfigError(message)


# ----- the client ---------------------------------------------------------------------


class GatewayFailure(Exception):
    """Why a send failed, in words safe to log: no key, no text, no full number."""


class _GuardedSmsAero(SmsAero):  # type: ignore[misc]  # smsaero ships no type information
    """``smsaero.SmsAero`` with its transport replaced; see the module docstring.

    The library's payload building, validation and envelope reading stay in the path:
    ``send_sms`` → (``send_sms_validate``, payload) → ``request`` (ours) → ``check_response``.
    Nothing here writes on the instance per call (the deadline and the session are
    thread-local), which is what lets one client serve every worker thread.
    """

    def __init__(
        self,
        *,
        email: str,
        api_key: str,
        sign: str,
        gateways: tuple[str, ...],
        timeout_seconds: float,
        check_email_domain: bool = True,
    ) -> None:
        self._check_email_domain = check_email_domain
        # The library wants an int above 2; ``request`` below applies the real budget.
        super().__init__(
            email=email, api_key=api_key, signature=sign, timeout=max(3, math.ceil(timeout_seconds))
        )
        self.gateways = gateways
        self._credentials = (email, api_key)
        self._timeout = timeout_seconds
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._closed = False

    def init_validate(
        self, email: str, api_key: str, signature: str, *args: Any, **kw: Any
    ) -> None:
        """The library's checks; with SMSAERO_CHECK_EMAIL_DOMAIN=false, EMAIL's syntax only.

        The library asks DNS whether EMAIL's domain receives mail, which fails on a host with
        no outside DNS (an isolated network, a benchmark against a local gateway).
        """
        if self._check_email_domain:
            SmsAero.init_validate(email, api_key, signature, *args, **kw)
            return
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(str(exc)) from exc
        if not isinstance(api_key, str) or not 16 <= len(api_key) <= 32:
            raise ValueError("API key length must be between 16 and 32 characters.")
        if not isinstance(signature, str) or len(signature) < 2:
            raise ValueError("Signature length must be at least 2 characters.")

    def send_sms_by(self, deadline: float, number: int, text: str) -> Any:
        """``send_sms`` with every attempt finished by ``deadline`` (``time.monotonic()``)."""
        self._local.deadline = deadline
        try:
            return self.send_sms(number=number, text=text)
        finally:
            self._local.deadline = None

    def request(
        self,
        selector: str,
        data: dict[str, Any] | None = None,
        page: int | None = None,
        proto: str = "https",
    ) -> Any:
        """The library's ``request``, made https-only and safe to fail over."""
        if proto != "https":
            raise GatewayFailure("plain HTTP refused")
        deadline = getattr(self._local, "deadline", None) or time.monotonic() + self._timeout
        session = self._session()
        for index, gateway in enumerate(self.gateways):
            host = urlsplit(gateway).netloc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GatewayFailure(f"no time left to try {host}")
            url = urljoin(gateway, selector)
            if page:
                url += "?" + urlencode({"page": int(page)})
            try:
                response = session.post(
                    url, json=data or {}, timeout=_attempt_timeout(remaining), allow_redirects=False
                )
            except requests.RequestException as exc:
                last = index == len(self.gateways) - 1
                if _nothing_was_sent(exc) and not last:
                    log.warning(
                        "SMS Aero gateway %s failed before anything was sent (%s); trying the next",
                        host,
                        _describe(exc),
                    )
                    continue
                raise GatewayFailure(f"{host}: {_describe(exc)}") from None
            with response:
                return self._answer(response, host)
        raise GatewayFailure("no SMS Aero gateway configured")

    def _answer(self, response: requests.Response, host: str) -> Any:
        if not 200 <= response.status_code < 300:
            raise GatewayFailure(f"{host} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise GatewayFailure(f"{host} answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise GatewayFailure(f"{host} answered JSON that is not an envelope")
        # The library's reading of the envelope: "no credits" → SmsAeroNoMoneyException,
        # success=false → SmsAeroException(message).
        return self.check_response(response)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.auth = self._credentials
            session.headers["User-Agent"] = USER_AGENT
            session.mount("http://", _RefusePlainHttp())
            with self._sessions_lock:
                if self._closed:
                    session.close()
                    raise GatewayFailure("the sender is closed")
                self._sessions.append(session)
            self._local.session = session
        return session

    def close(self) -> None:
        with self._sessions_lock:
            self._closed = True
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()


class _RefusePlainHttp(BaseAdapter):
    """Mounted on ``http://``: nothing leaves in clear, whatever builds the URL."""

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        raise requests.exceptions.InvalidSchema("plain HTTP refused")

    def close(self) -> None:
        pass


def _attempt_timeout(remaining: float) -> Any:
    # ``requests`` passes a urllib3 ``Timeout`` through as is (its stubs know only floats and
    # tuples); ``total`` caps connect + read, so an attempt ends by the deadline.
    return Timeout(connect=min(remaining, CONNECT_TIMEOUT_SECONDS), read=remaining, total=remaining)


def _nothing_was_sent(exc: requests.RequestException) -> bool:
    """Whether the attempt failed before the request left: only then may another gateway try."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    if isinstance(exc, requests.exceptions.SSLError):
        # A refused certificate ends the handshake before any request byte; other TLS errors may
        # come after the request was written.
        return _is_certificate_error(reason)
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _is_certificate_error(error: BaseException | None) -> bool:
    for _ in range(6):
        if error is None:
            return False
        if isinstance(error, ssl.SSLCertVerificationError):
            return True
        nested = error.args[0] if error.args else None
        error = (
            nested if isinstance(nested, BaseException) else (error.__cause__ or error.__context__)
        )
    return False


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "no answer in time; the SMS may have gone, so no other gateway is tried"
    if isinstance(exc, requests.exceptions.SSLError):
        if _nothing_was_sent(exc):
            return "TLS certificate refused"
        return "TLS error"
    if isinstance(exc, requests.ConnectionError):
        if _nothing_was_sent(exc):
            return "cannot connect"
        return "connection lost after sending; not retried"
    return type(exc).__name__
