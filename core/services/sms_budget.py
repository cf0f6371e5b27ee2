"""The service-wide watch over SMS spending: the global daily cap and the conversion watch.

Both keep a little state per process (when they last read, what they last logged), so the
composition root builds each once and hands it to ``AuthService``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.domain.errors import SmsDailyCapReached
from core.domain.limits import DAY, HOUR, low_conversion
from core.domain.policy import LimitPolicy
from core.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class DailyBudget:
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
        """Raise ``SmsDailyCapReached`` when the day's sends have reached the cap."""
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


class ConversionWatch:
    """Warns when many codes go out and few are used: the signature of SMS pumping."""

    def __init__(self, uow: UnitOfWorkFactory, limits: LimitPolicy) -> None:
        self._uow = uow
        self._limits = limits
        self._watched_at: datetime | None = None

    async def check(self, now: datetime) -> None:
        """At most once per ``watch_interval_seconds``: read the last hour and warn if low."""
        interval = timedelta(seconds=self._limits.watch_interval_seconds)
        if self._watched_at is not None and now - self._watched_at < interval:
            return
        self._watched_at = now
        async with self._uow(read_only=True) as tx:
            rows = await tx.otps.conversion_by_prefix(now - HOUR)
        low = low_conversion(rows, self._limits)
        if low is None:
            return
        sent, used, worst = low
        log.warning(
            "low code conversion: %d sent, %d used (%.0f%%) in the last hour; worst prefixes: %s",
            sent,
            used,
            100 * used / sent,
            ", ".join(f"{p} ({u}/{s})" for p, s, u in worst),
        )
