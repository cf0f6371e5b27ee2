"""The composition root: the only place that chooses adapters."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from core.adapters.clock import SystemClock
from core.adapters.health import AllOf, RedisProbe
from core.adapters.metrics import PrometheusMetrics
from core.adapters.sms_log import ConsoleSmsSender, FileSmsSender
from core.ports import Clock, HealthProbe, ReferralNotifier, SmsSender
from core.services import AuthService, Metrics, ReferralService, Services, TokenService
from core.settings import Settings
from db.engine import make_engine
from db.uow import SqlHealthProbe, SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


async def make_sms_sender(settings: Settings, stack: AsyncExitStack) -> SmsSender:
    sms = settings.sms
    if sms.backend == "smsaero":
        from core.adapters.sms_aero import SmsAeroSender

        sender = await SmsAeroSender.create(sms, threads=sms.concurrency)
        stack.push_async_callback(sender.aclose)
        return sender
    if sms.backend == "file":
        log.warning("SMS codes are written to %s (development only)", sms.file)
        return FileSmsSender(sms.file)
    log.warning("SMS codes are printed to this log (development only)")
    return ConsoleSmsSender()


async def make_notifier(settings: Settings, stack: AsyncExitStack) -> ReferralNotifier | None:
    """With BOT_TOKEN, referrers hear of new referrals in Telegram, from the API process too."""
    if settings.bot_token is None:
        return None
    from bot.app import create_bot
    from bot.notifier import TelegramNotifier

    bot = create_bot(settings)
    stack.push_async_callback(bot.session.close)
    return TelegramNotifier(bot)


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    sms: SmsSender | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
) -> AsyncIterator[Services]:
    """Build every service once; the engine and the SMS client are closed on exit."""
    settings.ensure_can_start()
    async with AsyncExitStack() as stack:
        engine = make_engine(
            settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        stack.push_async_callback(engine.dispose)
        uow = SqlUnitOfWorkFactory(engine)
        clock = clock or SystemClock()
        metrics = metrics or PrometheusMetrics()
        sender = sms or await make_sms_sender(settings, stack)
        referrals = ReferralService(uow, clock, metrics, await make_notifier(settings, stack))
        probes: list[HealthProbe] = [SqlHealthProbe(engine)]
        if settings.redis_url is not None:
            redis_probe = RedisProbe(settings.redis_url.get_secret_value())
            stack.push_async_callback(redis_probe.aclose)
            probes.append(redis_probe)
        yield Services(
            auth=AuthService(
                uow,
                sender,
                clock,
                settings.otp,
                settings.limits,
                settings.secret_key.get_secret_value(),
                referrals,
                metrics,
            ),
            referrals=referrals,
            tokens=TokenService(uow, clock, settings.jwt),
            health=AllOf(probes),
            metrics=metrics,
        )
