"""The arithmetic of the limits: rolling windows, waits and lock lengths. Pure functions.

Each check takes the times the use case read from storage and answers with the error to
raise (carrying how long to wait) or ``None``. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from core.domain.errors import RateLimited, ResendTooSoon
from core.domain.policy import LimitPolicy, OtpPolicy

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` until ``moment``, rounded up, at least 1."""
    return max(1, int((moment - now).total_seconds() + 0.999))


def _nth_newest_expires(times: Sequence[datetime], cap: int, window: timedelta) -> datetime:
    """When the oldest of the ``cap`` newest ``times`` (sorted oldest first) leaves the window."""
    return times[-cap] + window


def phone_wait(times: Sequence[datetime], now: datetime, otp: OtpPolicy) -> RateLimited | None:
    """The per-phone rules for a new code: the resend cooldown, the hourly and daily caps.

    ``times`` are the phone's code sends of the last day, oldest first.
    """
    if not times:
        return None
    resend_at = times[-1] + timedelta(seconds=otp.resend_seconds)
    if resend_at > now:
        return ResendTooSoon(seconds_until(resend_at, now))
    in_hour = [t for t in times if t > now - HOUR]
    if len(in_hour) >= otp.sends_per_hour:
        wait = seconds_until(_nth_newest_expires(in_hour, otp.sends_per_hour, HOUR), now)
        return RateLimited(
            wait, f"Too many codes for this number this hour. Try again in {wait} seconds."
        )
    if len(times) >= otp.sends_per_day:
        wait = seconds_until(_nth_newest_expires(times, otp.sends_per_day, DAY), now)
        return RateLimited(
            wait, f"Too many codes for this number today. Try again in {wait} seconds."
        )
    return None


def client_wait(
    times: Sequence[datetime], now: datetime, cap: int, what: str = "code requests"
) -> RateLimited | None:
    """A per-client hourly cap; ``times`` are the client's counted actions of the last hour."""
    if len(times) < cap:
        return None
    wait = seconds_until(_nth_newest_expires(times, cap, HOUR), now)
    return RateLimited(wait, f"Too many {what} from you. Try again in {wait} seconds.")


def prefix_wait(
    first_sends: Mapping[str, datetime], phone: str, now: datetime, limits: LimitPolicy
) -> RateLimited | None:
    """At most ``prefix_numbers_per_hour`` distinct numbers under one prefix per hour.

    ``first_sends`` maps each number of the prefix that got a code in the last hour to its
    first send; a number already among them may get more codes.
    """
    cap = limits.prefix_numbers_per_hour
    if phone in first_sends or len(first_sends) < cap:
        return None
    firsts = sorted(first_sends.values())
    wait = seconds_until(_nth_newest_expires(firsts, cap, HOUR), now)
    return RateLimited(
        wait, f"Too many code requests for numbers like this. Try again in {wait} seconds."
    )


def lock_seconds(locks_so_far: int, otp: OtpPolicy) -> int:
    """The next lock of a phone: the base lock doubled for each earlier one, up to the maximum."""
    return int(min(otp.lock_base_seconds * 2**locks_so_far, otp.lock_max_seconds))


def low_conversion(
    rows: Sequence[tuple[str, int, int]], limits: LimitPolicy
) -> tuple[int, int, list[tuple[str, int, int]]] | None:
    """(sent, used, worst prefixes) when many codes went out and few were used, else ``None``.

    ``rows`` are ``(prefix, sent, used)`` for the last hour.
    """
    sent = sum(r[1] for r in rows)
    used = sum(r[2] for r in rows)
    if sent <= limits.watch_min_sent or used >= sent * limits.watch_min_conversion:
        return None
    worst = sorted(rows, key=lambda r: (r[2] / r[1], -r[1]))[:5]
    return sent, used, worst
