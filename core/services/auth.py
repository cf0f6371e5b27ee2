"""Phone login: requesting a one-time code, and logging in with it.

Two policies for a login that carries an invite code, each a method of its own:

* ``login`` (the REST API): the invite is part of the request. A bad invite refuses the whole
  login, nothing is written and the one-time code stays usable, so the client can fix the
  invite or drop it and send the same code again.
* ``login_with_pending_invite`` (the bot): the invite came from a deep link opened earlier and
  the person now only wants to get in. The login always goes through; the invite is applied in
  the same transaction when the core's rules allow, and the result says why when they do not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import events
from core.domain.entities import CodeSent, LoginResult, PhoneGuard, User
from core.domain.errors import (
    CodeExpired,
    CodeInvalid,
    DomainError,
    PhoneLocked,
    ResendTooSoon,
    SmsDeliveryFailed,
)
from core.domain.invite_code import generate_invite_code, parse_invite_code
from core.domain.languages import normalize_language
from core.domain.limits import DAY, HOUR, client_wait, lock_seconds, phone_wait, prefix_wait
from core.domain.limits import seconds_until as _seconds_until
from core.domain.names import name_from_telegram
from core.domain.otp import (
    derive_otp_key,
    generate_otp,
    hash_otp,
    otp_matches,
    otp_message,
    parse_otp,
)
from core.domain.phone import mask_phone, normalize_phone, phone_prefix
from core.domain.policy import LimitPolicy, OtpPolicy
from core.ports import Clock, Metrics, SmsSender, UnitOfWork, UnitOfWorkFactory
from core.services.growth import attributed_click
from core.services.referrals import ReferralService
from core.services.sms_budget import ConversionWatch, DailyBudget

log = logging.getLogger(__name__)

_INVITE_CODE_TRIES = 8


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What a login through the bot knows about the person (plain values, no Telegram types)."""

    telegram_id: int
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None


class AuthService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sms: SmsSender,
        clock: Clock,
        otp: OtpPolicy,
        limits: LimitPolicy,
        secret_key: str,
        referrals: ReferralService,
        metrics: Metrics,
        attribution: timedelta = timedelta(days=30),
    ) -> None:
        self._uow = uow
        self._sms = sms
        self._clock = clock
        self._otp = otp
        self._limits = limits
        self._key = derive_otp_key(secret_key)
        self._referrals = referrals
        self._metrics = metrics
        self._budget = DailyBudget(limits.global_sends_per_day)
        self._watch = ConversionWatch(uow, limits)
        self._attribution = attribution

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
            await self._check_limits(tx, phone, prefix, client, now)
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
        await self._watch.check(now)
        return CodeSent(
            phone=phone, expires_in=self._otp.ttl_seconds, resend_after=self._otp.resend_seconds
        )

    async def resend_code(
        self, raw_phone: str, client: str, language: str | None = None
    ) -> CodeSent:
        """``request_code`` for a "Send again" button: pressed during the cooldown, it sends
        nothing and answers the time left (``sent=False``) instead of refusing."""
        try:
            return await self.request_code(raw_phone, client, language)
        except ResendTooSoon as exc:
            return CodeSent(
                phone=self.normalize_phone(raw_phone),
                expires_in=self._otp.ttl_seconds,
                resend_after=exc.retry_after,
                sent=False,
            )

    async def _check_limits(
        self, tx: UnitOfWork, phone: str, prefix: str, client: str, now: datetime
    ) -> None:
        refused = phone_wait(await tx.otps.sent_times(phone, now - DAY), now, self._otp)
        if refused is None:
            times = await tx.otps.client_sent_times(client, now - HOUR)
            refused = client_wait(times, now, self._limits.client_requests_per_hour)
        if refused is None:
            first_sends = await tx.otps.prefix_phones(prefix, now - HOUR)
            refused = prefix_wait(first_sends, phone, now, self._limits)
            if refused is not None:
                log.warning(
                    "prefix cap reached for %s: %d numbers in an hour", prefix, len(first_sends)
                )
        if refused is not None:
            raise refused

    # ----- logging in --------------------------------------------------------------------

    async def login(
        self,
        raw_phone: str,
        raw_code: str,
        invite_code: str | None = None,
        telegram: TelegramProfile | None = None,
        client: str | None = None,
    ) -> LoginResult:
        """Check the newest live code; on success return the user, created on first login.

        With ``invite_code`` the user is registered as that code's referral in the same
        transaction; a bad invite code refuses the whole login and leaves the code usable.
        """
        invite = parse_invite_code(invite_code) if invite_code is not None else None
        return await self._login(raw_phone, raw_code, invite, telegram, client, strict=True)

    async def login_with_pending_invite(
        self, raw_phone: str, raw_code: str, invite_code: str | None, telegram: TelegramProfile
    ) -> LoginResult:
        """Log in from Telegram, and apply the invite this person came with if the rules allow
        (best effort).

        The invite is the one of their last deep-link click within ATTRIBUTION_WINDOW_DAYS
        (the last click wins), else ``invite_code`` (the dialog's). The login never fails
        because of it: when it cannot be applied (malformed, unknown, one's own, a cycle,
        another invite already active) the result's ``invite_refused`` holds the reason and
        nothing about the invite is written.
        """
        client = f"tg:{telegram.telegram_id}"
        return await self._login(raw_phone, raw_code, invite_code, telegram, client, strict=False)

    async def _login(
        self,
        raw_phone: str,
        raw_code: str,
        invite: str | None,
        telegram: TelegramProfile | None,
        client: str | None,
        *,
        strict: bool,
    ) -> LoginResult:
        phone = self.normalize_phone(raw_phone)
        code = parse_otp(raw_code, self._otp.length)
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
                    result = await self._sign_in(
                        tx, phone, invite, telegram, client, now, strict=strict
                    )
        if failure is not None:
            self._metrics.login_failed()
            raise failure
        assert result is not None
        self._metrics.logged_in(created=result.created)
        if result.created:
            log.info("new user %d (%s)", result.user.id, mask_phone(phone))
        if result.activation is not None:
            self._referrals.activated(result.activation)
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
        seconds = lock_seconds(guard.locks, self._otp)
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
        client: str | None,
        now: datetime,
        *,
        strict: bool,
    ) -> LoginResult:
        click = None
        if telegram is not None and not strict:
            click = await attributed_click(tx, telegram.telegram_id, now, self._attribution)
            if click is not None and click.invite_code is not None:
                invite = click.invite_code
        user, created = await self._get_or_create(tx, phone, telegram, now)
        if client is not None:
            await tx.users.record_client(user.id, client, first=created)
        activation = None
        refused: DomainError | None = None
        if invite is not None:
            try:
                activation = await self._referrals.activate_in(
                    tx, user.id, parse_invite_code(invite), now, on_login=True
                )
            except DomainError as exc:
                # Every refusal is raised before the activation writes anything, so the
                # login's own writes are intact and may commit.
                if strict:
                    raise
                refused = exc
            if activation is not None:
                user = activation.user
        if click is not None:
            # The campaign is the user's if it brought them in: a new account, or the invite.
            came = created or activation is not None
            if click.campaign_id is not None and user.campaign_id is None and came:
                await tx.users.set_campaign(user.id, click.campaign_id)
            await tx.growth.convert(click.id, click.telegram_id, user.id, now)
        if telegram is not None and user.telegram_id != telegram.telegram_id:
            await tx.users.link_telegram(user.id, telegram.telegram_id)
            user = await self._reload(tx, user.id)
        return LoginResult(
            user=user, created=created, activation=activation, invite_refused=refused
        )

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
                await tx.outbox.add(
                    events.new_event_uid(), events.USER_CREATED, events.user_created(created), now
                )
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
