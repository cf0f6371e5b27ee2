"""Phone login: requesting a one-time code and logging in with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.entities import CodeSent, LoginResult, PhoneGuard, User
from core.domain.errors import (
    CodeExpired,
    CodeInvalid,
    DomainError,
    PhoneLocked,
    RateLimited,
    SmsDailyCapReached,
    SmsDeliveryFailed,
)
from core.domain.invite_code import generate_invite_code, parse_invite_code
from core.domain.otp import (
    derive_otp_key,
    generate_otp,
    hash_otp,
    otp_matches,
    otp_message,
    parse_otp,
)
from core.domain.phone import mask_phone, normalize_phone, phone_prefix
from core.ports import Clock, SmsSender, UnitOfWork, UnitOfWorkFactory
from core.services.languages import normalize_language
from core.services.metrics import Metrics
from core.services.names import name_from_telegram
from core.services.referrals import ReferralService
from core.settings import LimitSettings, OtpSettings

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_INVITE_CODE_TRIES = 8


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What a login through the bot knows about the person (plain values, no Telegram types)."""

    telegram_id: int
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None


class _DailyBudget:
    """The global cap of code sends per rolling day.

    Counting every send of a day on every request would grow with the traffic, so the count
    is read from the database at most every ``refresh`` and local sends are added in between:
    with several processes the cap may be overshot by what the others sent in that window.
    """

    def __init__(self, cap: int, refresh: timedelta = timedelta(seconds=2)) -> None:
        self.cap = cap
        self._refresh = refresh
        self._count = 0
        self._read_at: datetime | None = None
        self._logged_day: str | None = None

    async def check(self, tx: UnitOfWork, now: datetime) -> None:
        # ``now`` of a request that waited behind others may be a little older than the last
        # read: only a gap of a whole refresh period (either way) reads again, and the read
        # time is taken before the await, so concurrent requests do not all count at once.
        if self._read_at is None or abs(now - self._read_at) >= self._refresh:
            self._read_at = now
            self._count = await tx.otps.count_since(now - DAY)
        if self._count >= self.cap:
            day = now.date().isoformat()
            if self._logged_day != day:
                self._logged_day = day
                log.error(
                    "global SMS cap reached: %d codes sent in 24 h; refusing new requests", self.cap
                )
            raise SmsDailyCapReached()

    def sent(self) -> None:
        self._count += 1

    def failed(self) -> None:
        self._count = max(0, self._count - 1)


class AuthService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sms: SmsSender,
        clock: Clock,
        otp: OtpSettings,
        limits: LimitSettings,
        secret_key: str,
        referrals: ReferralService,
        metrics: Metrics,
    ) -> None:
        self._uow = uow
        self._sms = sms
        self._clock = clock
        self._otp = otp
        self._limits = limits
        self._key = derive_otp_key(secret_key)
        self._referrals = referrals
        self._metrics = metrics
        self._budget = _DailyBudget(limits.global_sends_per_day)
        self._watched_at: datetime | None = None

    def normalize_phone(self, raw: str) -> str:
        return normalize_phone(raw, self._limits.allowed_prefixes)

    # ----- requesting a code -------------------------------------------------------------

    async def request_code(
        self, raw_phone: str, client: str, language: str | None = None
    ) -> CodeSent:
        """Send a fresh code to the phone, within every limit; only its hash is stored.

        ``client`` names the caller for the per-client cap (``ip:1.2.3.4``, ``tg:42``). The
        answer is the same whether or not the phone has an account.
        """
        phone = self.normalize_phone(raw_phone)
        prefix = phone_prefix(phone, self._limits.prefix_digits)
        code = generate_otp(self._otp.length)
        now = self._clock.now()
        async with self._uow() as tx:
            guard = await tx.otps.guard(phone, for_update=True)
            if guard.locked_until is not None and guard.locked_until > now:
                raise PhoneLocked(_seconds_until(guard.locked_until, now))
            await self._check_phone_limits(tx, phone, now)
            await self._check_client_limit(tx, client, now)
            await self._check_prefix_limit(tx, prefix, phone, now)
            await self._budget.check(tx, now)
            challenge_id = await tx.otps.create(
                phone=phone,
                prefix=prefix,
                client=client,
                code_hash=hash_otp(self._key, phone, code),
                now=now,
                expires_at=now + timedelta(seconds=self._otp.ttl_seconds),
            )
        self._budget.sent()
        try:
            await self._sms.send(phone, otp_message(code, normalize_language(language)))
        except BaseException as exc:
            # A code that never left does not start the cooldown nor count against any cap.
            self._budget.failed()
            async with self._uow() as tx:
                await tx.otps.delete(challenge_id)
            self._metrics.codes_failed()
            if isinstance(exc, SmsDeliveryFailed):
                raise
            if isinstance(exc, Exception):
                log.exception("SMS sender failed for %s", mask_phone(phone))
                raise SmsDeliveryFailed() from exc
            raise
        self._metrics.codes_sent()
        log.debug("code sent to %s", mask_phone(phone))
        await self._watch_conversion(now)
        return CodeSent(
            phone=phone, expires_in=self._otp.ttl_seconds, resend_after=self._otp.resend_seconds
        )

    async def _check_phone_limits(self, tx: UnitOfWork, phone: str, now: datetime) -> None:
        times = await tx.otps.sent_times(phone, now - DAY)
        if not times:
            return
        last = times[-1]
        resend_at = last + timedelta(seconds=self._otp.resend_seconds)
        if resend_at > now:
            raise RateLimited(
                _seconds_until(resend_at, now),
                f"A code was just sent. You can ask for a new one in "
                f"{_seconds_until(resend_at, now)} seconds.",
            )
        in_hour = [t for t in times if t > now - HOUR]
        if len(in_hour) >= self._otp.sends_per_hour:
            wait = _seconds_until(in_hour[-self._otp.sends_per_hour] + HOUR, now)
            raise RateLimited(
                wait, f"Too many codes for this number this hour. Try again in {wait} seconds."
            )
        if len(times) >= self._otp.sends_per_day:
            wait = _seconds_until(times[-self._otp.sends_per_day] + DAY, now)
            raise RateLimited(
                wait, f"Too many codes for this number today. Try again in {wait} seconds."
            )

    async def _check_client_limit(self, tx: UnitOfWork, client: str, now: datetime) -> None:
        cap = self._limits.client_requests_per_hour
        times = await tx.otps.client_sent_times(client, now - HOUR)
        if len(times) >= cap:
            wait = _seconds_until(times[-cap] + HOUR, now)
            raise RateLimited(
                wait, f"Too many code requests from you. Try again in {wait} seconds."
            )

    async def _check_prefix_limit(
        self, tx: UnitOfWork, prefix: str, phone: str, now: datetime
    ) -> None:
        cap = self._limits.prefix_numbers_per_hour
        phones = await tx.otps.prefix_phones(prefix, now - HOUR)
        if phone in phones or len(phones) < cap:
            return
        firsts = sorted(phones.values())
        wait = _seconds_until(firsts[-cap] + HOUR, now)
        log.warning("prefix cap reached for %s: %d numbers in an hour", prefix, len(phones))
        raise RateLimited(
            wait, f"Too many code requests for numbers like this. Try again in {wait} seconds."
        )

    async def _watch_conversion(self, now: datetime) -> None:
        """Warn when many codes go out and few are used: the signature of SMS pumping."""
        interval = timedelta(seconds=self._limits.watch_interval_seconds)
        if self._watched_at is not None and now - self._watched_at < interval:
            return
        self._watched_at = now
        async with self._uow() as tx:
            rows = await tx.otps.conversion_by_prefix(now - HOUR)
        sent = sum(r[1] for r in rows)
        used = sum(r[2] for r in rows)
        if sent <= self._limits.watch_min_sent or used >= sent * self._limits.watch_min_conversion:
            return
        worst = sorted(rows, key=lambda r: (r[2] / r[1], -r[1]))[:5]
        log.warning(
            "low code conversion: %d sent, %d used (%.0f%%) in the last hour; worst prefixes: %s",
            sent,
            used,
            100 * used / sent,
            ", ".join(f"{p} ({u}/{s})" for p, s, u in worst),
        )

    # ----- logging in --------------------------------------------------------------------

    async def login(
        self,
        raw_phone: str,
        raw_code: str,
        invite_code: str | None = None,
        telegram: TelegramProfile | None = None,
    ) -> LoginResult:
        """Check the newest live code; on success return the user, created on first login.

        With ``invite_code`` the user is registered as that code's referral in the same
        transaction; a bad invite code refuses the whole login and leaves the code usable.
        """
        phone = self.normalize_phone(raw_phone)
        code = parse_otp(raw_code, self._otp.length)
        invite = parse_invite_code(invite_code) if invite_code is not None else None
        now = self._clock.now()
        failure: DomainError | None = None
        result: LoginResult | None = None
        async with self._uow() as tx:
            guard = await tx.otps.guard(phone, for_update=True)
            if guard.locked_until is not None and guard.locked_until > now:
                raise PhoneLocked(_seconds_until(guard.locked_until, now))
            challenge = await tx.otps.newest(phone)
            if challenge is None or challenge.used_at is not None:
                failure = CodeInvalid(0)
            elif challenge.expires_at <= now:
                failure = CodeExpired()
            else:
                # The attempt is counted before the comparison, and counted even when it fails.
                await tx.otps.count_attempt(challenge.id)
                attempts = challenge.attempts + 1
                if attempts > self._otp.max_attempts or not otp_matches(
                    self._key, phone, code, challenge.code_hash
                ):
                    failure = await self._register_failure(tx, guard, now)
                    if failure is None:
                        failure = CodeInvalid(self._otp.max_attempts - attempts)
                elif not await tx.otps.consume(challenge.id, now):
                    failure = CodeInvalid(0)
                else:
                    if guard.failures or guard.locks:
                        await tx.otps.save_guard(PhoneGuard(phone, 0, 0, None))
                    result = await self._sign_in(tx, phone, invite, telegram, now)
        if failure is not None:
            self._metrics.login_failed()
            raise failure
        assert result is not None
        self._metrics.logged_in(created=result.created)
        if result.activation is not None:
            await self._referrals.notify(result.activation)
        return result

    async def _register_failure(
        self, tx: UnitOfWork, guard: PhoneGuard, now: datetime
    ) -> PhoneLocked | None:
        failures = guard.failures + 1
        if failures < self._otp.lock_after_failures:
            await tx.otps.save_guard(
                PhoneGuard(guard.phone, failures, guard.locks, guard.locked_until)
            )
            return None
        seconds = min(self._otp.lock_base_seconds * 2**guard.locks, self._otp.lock_max_seconds)
        await tx.otps.save_guard(
            PhoneGuard(guard.phone, 0, guard.locks + 1, now + timedelta(seconds=seconds))
        )
        log.warning(
            "phone %s locked for %d s after %d wrong codes",
            mask_phone(guard.phone),
            seconds,
            failures,
        )
        return PhoneLocked(seconds)

    async def _sign_in(
        self,
        tx: UnitOfWork,
        phone: str,
        invite: str | None,
        telegram: TelegramProfile | None,
        now: datetime,
    ) -> LoginResult:
        user, created = await self._get_or_create(tx, phone, telegram, now)
        activation = None
        if invite is not None:
            activation = await self._referrals.activate_in(tx, user.id, invite, now, on_login=True)
            if activation is not None:
                user = activation.user
        if telegram is not None and user.telegram_id != telegram.telegram_id:
            await tx.users.link_telegram(user.id, telegram.telegram_id)
            user = await self._reload(tx, user.id)
        return LoginResult(user=user, created=created, activation=activation)

    async def _get_or_create(
        self, tx: UnitOfWork, phone: str, telegram: TelegramProfile | None, now: datetime
    ) -> tuple[User, bool]:
        existing = await tx.users.get_by_phone(phone)
        if existing is not None:
            return existing, False
        for _ in range(_INVITE_CODE_TRIES):
            created = await tx.users.create_if_absent(
                phone=phone,
                invite_code=generate_invite_code(),
                now=now,
                first_name=name_from_telegram(telegram.first_name) if telegram else None,
                last_name=name_from_telegram(telegram.last_name) if telegram else None,
                language=normalize_language(telegram.language) if telegram else None,
            )
            if created is not None:
                log.info("new user %d (%s)", created.id, mask_phone(phone))
                return created, True
            user = await tx.users.get_by_phone(phone)
            if user is not None:  # created meanwhile by a login that held no lock (SQLite tests)
                return user, False
            # The random invite code collided with an existing one: draw another.
        raise RuntimeError("could not draw a free invite code")  # pragma: no cover

    async def _reload(self, tx: UnitOfWork, user_id: int) -> User:
        user = await tx.users.get(user_id)
        assert user is not None
        return user
