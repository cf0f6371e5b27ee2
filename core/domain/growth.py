"""Growth: deep-link payloads and campaigns, leaderboard periods and names, fraud signals.

Pure rules; the services apply them in their transactions.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core.domain.errors import InvalidInput
from core.domain.invite_code import is_invite_code, parse_invite_code
from core.domain.phone import mask_phone

#: Telegram's limit for a ``start`` parameter: 64 characters of ``A-Za-z0-9_-``.
MAX_PAYLOAD = 64
SLUG_MAX = 24
_SLUG = re.compile(r"[a-z0-9_]{1,24}")
#: An operator's campaign has no invite code: its payload is ``c_<slug>``.
OPERATOR_PREFIX = "c_"


@dataclass(frozen=True, slots=True)
class StartPayload:
    """What a deep link carries: an invite code, a campaign slug, or both."""

    invite_code: str | None
    campaign_slug: str | None


def parse_start_payload(raw: str | None) -> StartPayload | None:
    """``7KQ2XD``, ``7KQ2XD-my_channel`` or ``c_partner``; anything else is ``None``."""
    if not raw or len(raw) > MAX_PAYLOAD:
        return None
    if raw.startswith(OPERATOR_PREFIX):
        slug = raw[len(OPERATOR_PREFIX) :].lower()
        return StartPayload(None, slug) if _SLUG.fullmatch(slug) else None
    code, _, slug = raw.partition("-")
    if not is_invite_code(code):
        return None
    if slug and not _SLUG.fullmatch(slug.lower()):
        return None
    return StartPayload(parse_invite_code(code), slug.lower() or None)


def start_payload(invite_code: str | None, slug: str | None) -> str:
    if invite_code is None:
        assert slug is not None
        return OPERATOR_PREFIX + slug
    return f"{invite_code}-{slug}" if slug else invite_code


def slug_for(name: str) -> str:
    """A slug from a campaign's name: lower-case ASCII letters, digits and ``_``."""
    folded = "".join(
        ch if ch in string.ascii_lowercase + string.digits else "_" for ch in name.lower()
    )
    slug = re.sub(r"_+", "_", folded).strip("_")[:SLUG_MAX].strip("_")
    return slug or "c" + secrets.token_hex(3)


def parse_campaign_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not 1 <= len(name) <= 64 or not name.isprintable():
        raise InvalidInput("A campaign's name is 1 to 64 printable characters.", field="name")
    return name


# ----- leaderboards ----------------------------------------------------------------------


class Period(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


class Metric(enum.StrEnum):
    JOINED = "joined"
    QUALIFIED = "qualified"


#: The start of "all time": one row per referrer for the whole history.
EPOCH = date(2000, 1, 1)


def period_start(period: Period, moment: datetime) -> date:
    """The first day of the period ``moment`` falls in (UTC; weeks start on Monday)."""
    day = moment.astimezone(UTC).date()
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return EPOCH


def score_periods(moment: datetime) -> list[tuple[str, date]]:
    """The leaderboard rows one referral at ``moment`` counts in: its week, month, all time."""
    return [(p.value, period_start(p, moment)) for p in Period]


def parse_board(period: str, metric: str, limit: int) -> tuple[Period, Metric]:
    try:
        chosen = Period(period), Metric(metric)
    except ValueError:
        raise InvalidInput(
            "period is week, month or all; by is joined or qualified.", field="period"
        ) from None
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100.", field="limit")
    return chosen


def display_name(first_name: str | None, last_name: str | None, phone: str) -> str:
    """``Anna P.``, or the masked phone: never a full phone or a full last name."""
    if first_name:
        return f"{first_name} {last_name[0]}." if last_name else first_name
    return mask_phone(phone)


# ----- fraud signals ---------------------------------------------------------------------


class Signal(enum.StrEnum):
    BURST = "burst"  # many referrals for one referrer within an hour
    SAME_PREFIX = "same_prefix"  # many referees of one referrer from one number block
    FAST_QUALIFY = "fast_qualify"  # qualified moments after joining
    SHARED_CLIENT = "shared_client"  # referee and referrer used the same client (IP)


def burst(referrals_last_hour: int, limit: int) -> bool:
    """More than ``limit`` referrals in an hour (this one included)."""
    return referrals_last_hour > limit


def same_prefix(same: int, total: int, share: float, minimum: int) -> bool:
    """At least ``minimum`` referrals, and at least ``share`` of them under one prefix."""
    return total >= minimum and same >= share * total


def fast_qualify(joined_at: datetime, qualified_at: datetime, seconds: int) -> bool:
    return (qualified_at - joined_at).total_seconds() < seconds


def shared_client(referee: str | None, referrer: set[str]) -> bool:
    """The referee's client is one the referrer used (IP addresses only: a Telegram id is
    a person, not a device)."""
    return referee is not None and referee.startswith("ip:") and referee in referrer
