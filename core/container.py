"""The composition root: the only place that chooses adapters."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from core.adapters.clock import SystemClock
from core.adapters.sms_log import ConsoleSmsSender, FileSmsSender
from core.ports import Clock, SmsSender
from core.services import AuthService, Metrics, ReferralService, Services, TokenService
from core.settings import Settings
from db.engine import make_engine
from db.uow import SqlHealthProbe, SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


async def make_sms_sender(settings: Settings, stack: AsyncExitStack) -> SmsSender:
    sms = settings.sms
    if sms.backend == "smsaero":
        from core.adapters.sms_aero import SmsAeroSender

        sender = await SmsAeroSender.create(sms)
        stack.push_async_callback(sender.aclose)
        return sender
    if sms.backend == "file":
        log.warning("SMS codes are written to %s (development only)", sms.file)
        return FileSmsSender(sms.file)
    log.warning("SMS codes are printed to this log (development only)")
    return ConsoleSmsSender()


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
        metrics = metrics or Metrics()
        sender = sms or await make_sms_sender(settings, stack)
        referrals = ReferralService(uow, clock, metrics)
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
            health=SqlHealthProbe(engine),
            metrics=metrics,
        )
