"""Every setting of the service, in one place.

``Settings`` reads the environment and ``.env`` once (in ``core.cli``) and is passed down.
Environment names are flat and documented in ``.env.sample``; the original project's names
(``SECRET_KEY``, ``EMAIL``, ``SMS_KEY``, ``POSTGRES_*``, ``PASSWORD_DATABASE``, ``PGDATA``)
keep their meaning. The core's policies (``settings.otp``, ``settings.limits``, ``settings.jwt``:
frozen values of ``core.domain.policy``) and the adapters' groups (``settings.sms``) are what
each component receives; the core's domain, ports and services never import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.domain.policy import (
    DeliveryPolicy,
    GrowthPolicy,
    LimitPolicy,
    OtpPolicy,
    RewardPolicy,
    TokenPolicy,
)

DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./var/referral.sqlite3"
MIN_SECRET_BYTES = 32


#: Constraints of an amount setting (the ledger's range, two places) and of a percent setting.
_AMOUNT: dict[str, Any] = {"ge": 0, "le": Decimal("9999999999999999.99"), "decimal_places": 2}
_PERCENT: dict[str, Any] = {"ge": 0, "le": 100, "decimal_places": 2}

#: Secrets that may come from a file instead: setting -> the setting naming its file.
SECRET_FILES = {
    "secret_key": "secret_key_file",
    "postgres_password": "postgres_password_file",
    "sms_key": "sms_key_file",
    "bot_token": "bot_token_file",
    "webhook_secret": "webhook_secret_file",
}


class ConfigError(ValueError):
    """The configuration cannot run: the message says what to set."""


@dataclass(frozen=True, slots=True)
class SmsSettings:
    backend: Literal["console", "file", "smsaero"]
    file: Path
    email: str | None
    api_key: str | None
    sign: str
    gateway_urls: tuple[str, ...]
    timeout_seconds: float
    check_email_domain: bool = True
    concurrency: int = 200


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )

    # --- application ---
    app_env: Literal["development", "production"] = Field("development", alias="APP_ENV")
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET_KEY), alias="SECRET_KEY")
    secret_key_file: Path | None = Field(None, alias="SECRET_KEY_FILE")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")

    # --- database ---
    database_url: SecretStr | None = Field(None, alias="DATABASE_URL")
    postgres_db: str | None = Field(None, alias="POSTGRES_DB")
    postgres_user: str | None = Field(None, alias="POSTGRES_USER")
    postgres_password: SecretStr | None = Field(None, alias="POSTGRES_PASSWORD")
    postgres_password_file: Path | None = Field(None, alias="POSTGRES_PASSWORD_FILE")
    password_database: SecretStr | None = Field(None, alias="PASSWORD_DATABASE")
    postgres_host: str | None = Field(None, alias="POSTGRES_HOST")
    postgres_port: int = Field(5432, alias="POSTGRES_PORT")
    db_pool_size: int = Field(10, ge=1, le=200, alias="DB_POOL_SIZE")
    db_max_overflow: int = Field(0, ge=0, le=200, alias="DB_MAX_OVERFLOW")

    # --- one-time codes ---
    otp_length: int = Field(4, ge=4, le=8, alias="OTP_LENGTH")
    otp_ttl_seconds: int = Field(300, ge=30, le=3600, alias="OTP_TTL_SECONDS")
    otp_max_attempts: int = Field(5, ge=1, le=20, alias="OTP_MAX_ATTEMPTS")
    otp_resend_seconds: int = Field(60, ge=0, le=3600, alias="OTP_RESEND_SECONDS")
    otp_sends_per_hour: int = Field(5, ge=1, alias="OTP_SENDS_PER_HOUR")
    otp_sends_per_day: int = Field(10, ge=1, alias="OTP_SENDS_PER_DAY")
    otp_lock_after_failures: int = Field(10, ge=1, alias="OTP_LOCK_AFTER_FAILURES")
    otp_lock_seconds: int = Field(3600, ge=1, alias="OTP_LOCK_SECONDS")
    otp_lock_max_seconds: int = Field(86400, ge=1, alias="OTP_LOCK_MAX_SECONDS")

    # --- defences against SMS pumping ---
    allowed_country_prefixes: str = Field("+7", alias="ALLOWED_COUNTRY_PREFIXES")
    client_code_requests_per_hour: int = Field(10, ge=1, alias="CLIENT_CODE_REQUESTS_PER_HOUR")
    prefix_digits: int = Field(7, ge=1, le=15, alias="PREFIX_DIGITS")
    prefix_numbers_per_hour: int = Field(20, ge=1, alias="PREFIX_NUMBERS_PER_HOUR")
    sms_global_daily_cap: int = Field(5000, ge=1, alias="SMS_GLOBAL_DAILY_CAP")
    conversion_watch_min_sent: int = Field(50, ge=1, alias="CONVERSION_WATCH_MIN_SENT")
    conversion_watch_min_rate: float = Field(0.2, ge=0, le=1, alias="CONVERSION_WATCH_MIN_RATE")
    conversion_watch_interval_seconds: int = Field(
        60, ge=1, alias="CONVERSION_WATCH_INTERVAL_SECONDS"
    )

    # --- SMS ---
    sms_backend: Literal["console", "file", "smsaero"] | None = Field(None, alias="SMS_BACKEND")
    sms_file: Path = Field(Path("var/sms.jsonl"), alias="SMS_FILE")
    email: str | None = Field(None, alias="EMAIL")
    sms_key: SecretStr | None = Field(None, alias="SMS_KEY")
    sms_key_file: Path | None = Field(None, alias="SMS_KEY_FILE")
    sms_sign: str = Field("SMS Aero", alias="SMS_SIGN")
    smsaero_gateways: str = Field("", alias="SMSAERO_GATEWAYS")
    sms_timeout_seconds: float = Field(10.0, gt=0, le=10, alias="SMS_TIMEOUT_SECONDS")
    smsaero_check_email_domain: bool = Field(True, alias="SMSAERO_CHECK_EMAIL_DOMAIN")
    sms_concurrency: int = Field(200, ge=1, le=2000, alias="SMS_CONCURRENCY")

    # --- tokens ---
    jwt_issuer: str = Field("referral-service", alias="JWT_ISSUER")
    jwt_audience: str = Field("referral-api", alias="JWT_AUDIENCE")
    jwt_access_ttl_seconds: int = Field(900, ge=60, alias="JWT_ACCESS_TTL_SECONDS")
    jwt_refresh_ttl_seconds: int = Field(14 * 86400, ge=300, alias="JWT_REFRESH_TTL_SECONDS")
    jwt_refresh_reuse_grace_seconds: int = Field(
        0, ge=0, le=60, alias="JWT_REFRESH_REUSE_GRACE_SECONDS"
    )

    # --- HTTP API ---
    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: int = Field(8000, ge=1, le=65535, alias="API_PORT")
    api_workers: int = Field(1, ge=1, le=64, alias="API_WORKERS")
    forwarded_allow_ips: str = Field("127.0.0.1", alias="FORWARDED_ALLOW_IPS")
    max_body_bytes: int = Field(65536, ge=1024, alias="MAX_BODY_BYTES")

    # --- Telegram bot ---
    bot_token: SecretStr | None = Field(None, alias="BOT_TOKEN")
    bot_token_file: Path | None = Field(None, alias="BOT_TOKEN_FILE")
    telegram_api_url: str | None = Field(None, alias="TELEGRAM_API_URL")
    redis_url: SecretStr | None = Field(None, alias="REDIS_URL")
    webhook_url: str | None = Field(None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(None, alias="WEBHOOK_SECRET")
    webhook_secret_file: Path | None = Field(None, alias="WEBHOOK_SECRET_FILE")
    bot_throttle_per_second: float = Field(2.0, gt=0, alias="BOT_THROTTLE_PER_SECOND")

    # --- the worker: webhooks and Telegram messages ---
    webhook_max_age_seconds: int = Field(86400, ge=60, alias="WEBHOOK_MAX_AGE_SECONDS")
    webhook_disable_after_seconds: int = Field(86400, ge=60, alias="WEBHOOK_DISABLE_AFTER_SECONDS")
    worker_lease_seconds: int = Field(60, ge=15, le=3600, alias="WORKER_LEASE_SECONDS")
    telegram_messages_per_second: float = Field(
        30, gt=0, le=1000, alias="TELEGRAM_MESSAGES_PER_SECOND"
    )
    telegram_chat_interval_seconds: float = Field(
        1.0, ge=0, le=60, alias="TELEGRAM_CHAT_INTERVAL_SECONDS"
    )

    # --- growth: attribution and fraud signals ---
    attribution_window_days: int = Field(30, ge=1, le=365, alias="ATTRIBUTION_WINDOW_DAYS")
    fraud_referrals_per_hour: int = Field(5, ge=1, alias="FRAUD_REFERRALS_PER_HOUR")
    fraud_same_prefix_share: float = Field(0.5, gt=0, le=1, alias="FRAUD_SAME_PREFIX_SHARE")
    fraud_same_prefix_min: int = Field(5, ge=2, alias="FRAUD_SAME_PREFIX_MIN")
    fraud_fast_qualify_seconds: int = Field(60, ge=0, alias="FRAUD_FAST_QUALIFY_SECONDS")
    fraud_shared_client: bool = Field(True, alias="FRAUD_SHARED_CLIENT")
    bot_username: str | None = Field(None, max_length=64, alias="BOT_USERNAME")

    # --- the referral program (amounts: decimals with two places; percents of the event) ---
    reward_unit: str = Field("points", min_length=1, max_length=16, alias="REWARD_UNIT")
    reward_qualifying_event: str = Field("purchase", max_length=64, alias="REWARD_QUALIFYING_EVENT")
    reward_referrer_on_join: Decimal = Field(Decimal(0), alias="REWARD_REFERRER_ON_JOIN", **_AMOUNT)
    reward_referee_on_join: Decimal = Field(Decimal(0), alias="REWARD_REFEREE_ON_JOIN", **_AMOUNT)
    reward_referrer_fixed: Decimal = Field(Decimal(0), alias="REWARD_REFERRER_FIXED", **_AMOUNT)
    reward_referrer_percent: Decimal = Field(
        Decimal(0), alias="REWARD_REFERRER_PERCENT", **_PERCENT
    )
    reward_referee_fixed: Decimal = Field(Decimal(0), alias="REWARD_REFEREE_FIXED", **_AMOUNT)
    reward_referee_percent: Decimal = Field(Decimal(0), alias="REWARD_REFEREE_PERCENT", **_PERCENT)
    reward_every_event: bool = Field(False, alias="REWARD_EVERY_EVENT")
    reward_level2_percent: Decimal = Field(Decimal(0), alias="REWARD_LEVEL2_PERCENT", **_PERCENT)
    reward_hold_seconds: int = Field(0, ge=0, le=10 * 365 * 86400, alias="REWARD_HOLD_SECONDS")
    reward_referrer_daily_cap: Decimal = Field(
        Decimal(0), alias="REWARD_REFERRER_DAILY_CAP", **_AMOUNT
    )

    # --- docker-compose only (documented, read by compose, not by the service) ---
    pgdata: str | None = Field(None, alias="PGDATA")

    @field_validator(
        "sms_backend", "telegram_api_url", "webhook_url", "bot_username", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator(
        "database_url",
        "postgres_password",
        "password_database",
        "sms_key",
        "bot_token",
        "redis_url",
        "webhook_secret",
        "email",
        "postgres_db",
        "postgres_user",
        "postgres_host",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_secret_key_is_the_default(cls, value: object) -> object:
        """``SECRET_KEY=`` (as .env.sample ships it) is the development key, never an empty
        one: production refuses it with a message that says what to set."""
        return SecretStr(DEV_SECRET_KEY) if value in ("", None) else value

    # --- secrets read from files: NAME_FILE names a file holding NAME (docker secrets) ---

    @field_validator(*SECRET_FILES.values(), mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _read_secret_files(self) -> Self:
        """Each ``NAME_FILE`` that is set supplies ``NAME``: the file's text without its final
        newline; an empty file leaves ``NAME`` unset. Setting both is refused."""
        for name, file_field in SECRET_FILES.items():
            path: Path | None = getattr(self, file_field)
            if path is None:
                continue
            env_name = str(type(self).model_fields[name].alias)
            given: SecretStr | None = getattr(self, name)
            given_value = given.get_secret_value() if given else ""
            if name in self.model_fields_set and given_value not in ("", DEV_SECRET_KEY):
                raise ValueError(f"{env_name} and {env_name}_FILE are both set: keep one")
            try:
                text = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ValueError(f"{env_name}_FILE={path} cannot be read: {reason}") from None
            if text:
                setattr(self, name, SecretStr(text))
        return self

    # ----- checks ---------------------------------------------------------------------

    def ensure_can_start(self) -> None:
        """Refuse to start production with development secrets or a development SMS backend."""
        if self.webhook_url and not self.webhook_secret:
            raise ConfigError(
                "WEBHOOK_URL is set without WEBHOOK_SECRET: set WEBHOOK_SECRET to 1-256 letters, "
                "digits, _ or - so that only Telegram can post updates"
            )
        if self.webhook_url and not self.webhook_url.startswith("https://"):
            raise ConfigError(
                "WEBHOOK_URL must be an https:// URL (Telegram posts only over HTTPS)"
            )
        if self.is_production:
            problems = self.production_problems()
            if problems:
                raise ConfigError("APP_ENV=production cannot start: " + "; ".join(problems) + ".")

    def production_problems(self) -> list[str]:
        """What production still lacks, each as an instruction."""
        problems = []
        secret = self.secret_key.get_secret_value()
        if secret == DEV_SECRET_KEY or len(secret.encode()) < MIN_SECRET_BYTES:
            problems.append(
                f"set SECRET_KEY{self._in_file('secret_key', ' ({})')} to a random value of "
                'at least 32 bytes (python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        sms_key = (
            f"EMAIL and SMS_KEY (SMS Aero credentials{self._in_file('sms_key', '; SMS_KEY {}')})"
        )
        if self.effective_sms_backend != "smsaero":
            problems.append(
                f"set {sms_key} or SMS_BACKEND=smsaero; "
                f"the {self.effective_sms_backend!r} SMS backend is for development only"
            )
        elif not (self.email and self.sms_key):
            problems.append(f"set {sms_key} for the smsaero SMS backend")
        return problems

    def _in_file(self, name: str, template: str) -> str:
        """``template`` around "in <file>, named by NAME_FILE" for a secret read from a file."""
        path = getattr(self, SECRET_FILES[name])
        if path is None:
            return ""
        return template.format(f"in {path}, named by {name.upper()}_FILE")

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def effective_sms_backend(self) -> Literal["console", "file", "smsaero"]:
        if self.sms_backend is not None:
            return self.sms_backend
        return "smsaero" if self.email and self.sms_key else "console"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: ``DATABASE_URL``, else one built from ``POSTGRES_*``, else SQLite."""
        if self.database_url is not None:
            url = self.database_url.get_secret_value()
        else:
            password = self.postgres_password or self.password_database
            if self.postgres_db and self.postgres_user and password and self.postgres_host:
                url = (
                    f"postgresql+asyncpg://{quote(self.postgres_user, safe='')}:"
                    f"{quote(password.get_secret_value(), safe='')}@{self.postgres_host}:"
                    f"{self.postgres_port}/{quote(self.postgres_db, safe='')}"
                )
            else:
                url = DEFAULT_SQLITE_URL
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    @property
    def otp(self) -> OtpPolicy:
        return OtpPolicy(
            length=self.otp_length,
            ttl_seconds=self.otp_ttl_seconds,
            max_attempts=self.otp_max_attempts,
            resend_seconds=self.otp_resend_seconds,
            sends_per_hour=self.otp_sends_per_hour,
            sends_per_day=self.otp_sends_per_day,
            lock_after_failures=self.otp_lock_after_failures,
            lock_base_seconds=self.otp_lock_seconds,
            lock_max_seconds=self.otp_lock_max_seconds,
        )

    @property
    def limits(self) -> LimitPolicy:
        prefixes = tuple(
            p if p.startswith("+") else "+" + p
            for p in (part.strip() for part in self.allowed_country_prefixes.split(","))
            if p
        )
        return LimitPolicy(
            allowed_prefixes=prefixes,
            client_requests_per_hour=self.client_code_requests_per_hour,
            prefix_digits=self.prefix_digits,
            prefix_numbers_per_hour=self.prefix_numbers_per_hour,
            global_sends_per_day=self.sms_global_daily_cap,
            watch_min_sent=self.conversion_watch_min_sent,
            watch_min_conversion=self.conversion_watch_min_rate,
            watch_interval_seconds=self.conversion_watch_interval_seconds,
        )

    @property
    def jwt(self) -> TokenPolicy:
        return TokenPolicy(
            secret=self.secret_key.get_secret_value(),
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            access_ttl_seconds=self.jwt_access_ttl_seconds,
            refresh_ttl_seconds=self.jwt_refresh_ttl_seconds,
            refresh_reuse_grace_seconds=self.jwt_refresh_reuse_grace_seconds,
        )

    @property
    def delivery(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            webhook_max_age_seconds=self.webhook_max_age_seconds,
            webhook_disable_after_seconds=self.webhook_disable_after_seconds,
            lease_seconds=self.worker_lease_seconds,
            telegram_per_second=self.telegram_messages_per_second,
            telegram_chat_interval_seconds=self.telegram_chat_interval_seconds,
        )

    @property
    def growth(self) -> GrowthPolicy:
        return GrowthPolicy(
            attribution_window_days=self.attribution_window_days,
            fraud_referrals_per_hour=self.fraud_referrals_per_hour,
            fraud_same_prefix_share=self.fraud_same_prefix_share,
            fraud_same_prefix_min=self.fraud_same_prefix_min,
            fraud_fast_qualify_seconds=self.fraud_fast_qualify_seconds,
            fraud_shared_client=self.fraud_shared_client,
            prefix_digits=self.prefix_digits,
        )

    @property
    def rewards(self) -> RewardPolicy:
        cent = Decimal("0.01")
        return RewardPolicy(
            unit=self.reward_unit.strip(),
            qualifying_event=self.reward_qualifying_event.strip() or None,
            referrer_on_join=self.reward_referrer_on_join.quantize(cent),
            referee_on_join=self.reward_referee_on_join.quantize(cent),
            referrer_fixed=self.reward_referrer_fixed.quantize(cent),
            referrer_percent=self.reward_referrer_percent.quantize(cent),
            referee_fixed=self.reward_referee_fixed.quantize(cent),
            referee_percent=self.reward_referee_percent.quantize(cent),
            every_event=self.reward_every_event,
            level2_percent=self.reward_level2_percent.quantize(cent),
            hold_seconds=self.reward_hold_seconds,
            referrer_daily_cap=self.reward_referrer_daily_cap.quantize(cent),
        )

    @property
    def sms(self) -> SmsSettings:
        return SmsSettings(
            backend=self.effective_sms_backend,
            file=self.sms_file,
            email=self.email,
            api_key=self.sms_key.get_secret_value() if self.sms_key else None,
            sign=self.sms_sign,
            gateway_urls=tuple(u.strip() for u in self.smsaero_gateways.split(",") if u.strip()),
            timeout_seconds=self.sms_timeout_seconds,
            check_email_domain=self.smsaero_check_email_domain,
            concurrency=self.sms_concurrency,
        )
