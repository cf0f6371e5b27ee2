"""The referral program: statuses, qualifying events and the rewards they earn.

Every change runs inside one transaction with what caused it (an activation, an integrator's
event, a review), writes its history row and its outbox events there too, and credits the
ledger under the reward rules in force, which are stored with what they produced.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from core.domain import events
from core.domain.entities import EventOutcome, LedgerEntry, StoredEvent, User, UserRef
from core.domain.errors import (
    EventConflict,
    InvalidEvent,
    ReferralAlreadyRejected,
    ReferralNotFlagged,
    ReferralNotFound,
    UserNotFound,
)
from core.domain.growth import Signal
from core.domain.limits import DAY
from core.domain.policy import RewardPolicy
from core.domain.program import parse_event_id, parse_event_type
from core.domain.rewards import (
    REFERRER_REASONS,
    ZERO,
    ReferralStatus,
    Reward,
    RewardStatus,
    capped,
    is_referrer_reward,
    join_rewards,
    parse_amount,
    qualifying_rewards,
)
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory
from core.services.accounts import find_user
from core.services.fraud import FraudCheck
from core.services.leaderboard import count_joined, count_qualified
from core.services.ledger import make_available, reverse

log = logging.getLogger(__name__)

MAX_ID = 2**63 - 1


class ProgramService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, policy: RewardPolicy, fraud: FraudCheck
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.policy = policy
        self._fraud = fraud
        self._rules = json.dumps(policy.as_dict(), sort_keys=True)
        self._digest = hashlib.sha256(self._rules.encode()).hexdigest()

    # ----- an invite activated (inside the activation's transaction) -----------------------

    async def joined(self, tx: UnitOfWork, referee: User, referrer: User, now: datetime) -> User:
        """The referral starts: ``joined`` (or at once ``qualified`` when no event is needed),
        with the join rewards; ``flagged`` instead, its rewards held, when it trips a fraud
        signal. Returns the referee as it now stands."""
        signals = await self._fraud.at_join(tx, referee, referrer, now)
        if signals:
            referee = await self._flag(tx, referee, referrer, signals, "on joining", now)
        else:
            referee = await self._set_status(
                tx, referee, referrer, ReferralStatus.JOINED, "invite activated", now
            )
        await count_joined(tx, referrer.id, now, 1)
        rewards = join_rewards(self.policy, referrer_id=referrer.id, referee_id=referee.id)
        entries = await self._credit(tx, rewards, now, event=None, held=bool(signals))
        await self._emit_referral(tx, events.REFERRAL_JOINED, referee, referrer, entries, now)
        if signals:
            await self._emit_referral(tx, events.REFERRAL_FLAGGED, referee, referrer, [], now)
        if self.policy.qualifying_event is None:
            referee = await self._qualify(tx, referee, referrer, now, "qualifies on joining")
            rewards = qualifying_rewards(
                self.policy,
                referrer_id=referrer.id,
                referee_id=referee.id,
                level2_id=referrer.referrer_id,
                amount=ZERO,
                first=True,
            )
            held = referee.referral_status == ReferralStatus.FLAGGED
            entries = await self._credit(tx, rewards, now, event=None, held=held)
            if not held:
                await self._emit_referral(
                    tx, events.REFERRAL_QUALIFIED, referee, referrer, entries, now
                )
        return referee

    # ----- an integrator's event -----------------------------------------------------------

    async def record_event(
        self,
        *,
        event_id: str,
        type: str,
        user: UserRef,
        amount: object,
        occurred_at: datetime | None = None,
    ) -> EventOutcome:
        """Record the event once per ``event_id`` and credit what it earns.

        The same ``event_id`` again (also many at once) changes nothing and answers what the
        first one did; the same id with another type, user or amount is a conflict. An event
        of a user without a referrer, of a rejected referral, or of a type that does not
        qualify is recorded and earns nothing.
        """
        external = parse_event_id(event_id)
        kind = parse_event_type(type)
        value = parse_amount(amount)
        now = self._clock.now()
        if occurred_at is not None and occurred_at.tzinfo is None:
            raise InvalidEvent("occurred_at needs a time zone, e.g. 2026-01-15T12:00:00Z.")
        async with self._uow() as tx:
            target = await find_user(tx, user)
            new_id = await tx.program.add_event(
                external_id=external,
                type=kind,
                user_id=target.id,
                amount=value,
                occurred_at=occurred_at or now,
                received_at=now,
            )
            if new_id is None:
                return await self._replay(tx, external, kind, target.id, value)
            referee = await tx.users.get(target.id, for_update=True)
            assert referee is not None
            status, entries = await self._process(tx, referee, kind, value, new_id, external, now)
            await tx.program.set_event_status(new_id, status)
        return EventOutcome(
            event_id=external,
            user_id=target.id,
            referral_status=status,
            rewards=tuple(entries),
            created=True,
        )

    async def _replay(
        self, tx: UnitOfWork, external: str, kind: str, user_id: int, amount: Decimal
    ) -> EventOutcome:
        stored = await tx.program.event(external)
        assert stored is not None
        if (stored.type, stored.user_id, stored.amount) != (kind, user_id, amount):
            raise EventConflict()
        return await self._outcome(tx, stored)

    async def _outcome(self, tx: UnitOfWork, stored: StoredEvent) -> EventOutcome:
        entries = await tx.ledger.entries_of_event(stored.id)
        return EventOutcome(
            event_id=stored.external_id,
            user_id=stored.user_id,
            referral_status=stored.referral_status,
            rewards=tuple(entries),
            created=False,
        )

    async def _process(
        self,
        tx: UnitOfWork,
        referee: User,
        kind: str,
        value: Decimal,
        event_id: int,
        external: str,
        now: datetime,
    ) -> tuple[ReferralStatus | None, list[LedgerEntry]]:
        if (
            referee.referrer_id is None
            or referee.referral_status == ReferralStatus.REJECTED
            or kind != self.policy.qualifying_event
        ):
            return referee.referral_status, []
        referrer = await tx.users.get(referee.referrer_id)
        assert referrer is not None
        first = referee.qualified_at is None
        if first:
            referee = await self._qualify(
                tx, referee, referrer, now, f"event {external!r} ({kind})"
            )
        rewards = qualifying_rewards(
            self.policy,
            referrer_id=referrer.id,
            referee_id=referee.id,
            level2_id=referrer.referrer_id,
            amount=value,
            first=first,
        )
        held = referee.referral_status == ReferralStatus.FLAGGED
        entries = await self._credit(tx, rewards, now, event=(event_id, external), held=held)
        if first and not held:
            await self._emit_referral(
                tx, events.REFERRAL_QUALIFIED, referee, referrer, entries, now, event_id=external
            )
        return referee.referral_status, entries

    # ----- review --------------------------------------------------------------------------

    async def reject(self, referee_id: int, reason: str, actor: str) -> User:
        """Refuse the referral: it earns nothing more, and its pending rewards are reversed."""
        now = self._clock.now()
        async with self._uow() as tx:
            referee, referrer = await self._reviewable(tx, referee_id)
            if referee.referral_status == ReferralStatus.REJECTED:
                raise ReferralAlreadyRejected()
            await self._uncount(tx, referee, referrer.id)
            referee = await self._set_status(
                tx, referee, referrer, ReferralStatus.REJECTED, reason, now, actor=actor
            )
            await reverse(
                tx, await tx.ledger.pending_of_referral(referee.id), now, self.policy.unit
            )
            await self._emit(
                tx, events.REFERRAL_REJECTED, events.referral(referee, referrer, reason=reason), now
            )
            await tx.growth.add_audit(
                actor, "referral.reject", f"user:{referee_id}", reason, None, now
            )
        log.info("referral of user %d rejected by %s", referee_id, actor)
        return referee

    async def approve(self, referee_id: int, reason: str | None, actor: str) -> User:
        """Release a flagged referral: back to joined or qualified, its held rewards scheduled
        on the hold's timetable (available at once if the hold has already passed)."""
        now = self._clock.now()
        async with self._uow() as tx:
            referee, referrer = await self._reviewable(tx, referee_id)
            if referee.referral_status != ReferralStatus.FLAGGED:
                raise ReferralNotFlagged()
            status = ReferralStatus.QUALIFIED if referee.qualified_at else ReferralStatus.JOINED
            if status == ReferralStatus.QUALIFIED and referee.qualified_at is not None:
                await count_qualified(tx, referrer.id, referee.qualified_at, 1)
            referee = await self._set_status(
                tx, referee, referrer, status, reason or "approved on review", now, actor=actor
            )
            hold = timedelta(seconds=self.policy.hold_seconds)
            due = []
            for entry in await tx.ledger.pending_of_referral(referee.id):
                if entry.available_at is not None:
                    continue
                available_at = entry.created_at + hold
                await tx.ledger.schedule(entry.id, available_at)
                if available_at <= now:
                    due.append(replace(entry, available_at=available_at))
            if due:
                await make_available(tx, due, now, self.policy.unit)
            await self._emit(
                tx,
                events.REFERRAL_APPROVED,
                events.referral(referee, referrer, reason=reason),
                now,
            )
            await tx.growth.add_audit(
                actor, "referral.approve", f"user:{referee_id}", reason, None, now
            )
        log.info("referral of user %d approved by %s", referee_id, actor)
        return referee

    async def _uncount(self, tx: UnitOfWork, referee: User, referrer_id: int) -> None:
        """Take the referral off the leaderboards it was counted on."""
        if referee.referred_at is not None:
            await count_joined(tx, referrer_id, referee.referred_at, -1)
        if referee.referral_status == ReferralStatus.QUALIFIED and referee.qualified_at:
            await count_qualified(tx, referrer_id, referee.qualified_at, -1)

    async def _reviewable(self, tx: UnitOfWork, referee_id: int) -> tuple[User, User]:
        referee = await tx.users.get(referee_id, for_update=True) if referee_id <= MAX_ID else None
        if referee is None:
            raise UserNotFound()
        if referee.referrer_id is None:
            raise ReferralNotFound()
        referrer = await tx.users.get(referee.referrer_id)
        assert referrer is not None
        return referee, referrer

    # ----- statuses ------------------------------------------------------------------------

    async def _qualify(
        self, tx: UnitOfWork, referee: User, referrer: User, now: datetime, reason: str
    ) -> User:
        """The referee did the qualifying action. A flagged referral (or one that trips a
        signal now, qualifying too fast) stays held for review, with its qualification noted.

        The caller emits ``referral.qualified`` once the rewards are credited, so the event
        carries them.
        """
        signals = self._fraud.at_qualify(referee, now)
        if signals and referee.referral_status != ReferralStatus.FLAGGED:
            referee = replace(referee, qualified_at=now)
            referee = await self._flag(tx, referee, referrer, signals, reason, now)
            await self._emit_referral(tx, events.REFERRAL_FLAGGED, referee, referrer, [], now)
            return referee
        if referee.referral_status == ReferralStatus.FLAGGED:
            await tx.users.set_referral_status(referee.id, ReferralStatus.FLAGGED, now)
            await tx.program.record_status(
                referee_id=referee.id,
                referrer_id=referrer.id,
                status=ReferralStatus.FLAGGED,
                reason=f"qualified while held for review: {reason}",
                actor=None,
                now=now,
            )
            return replace(referee, qualified_at=now)
        await count_qualified(tx, referrer.id, now, 1)
        return await self._set_status(
            tx, referee, referrer, ReferralStatus.QUALIFIED, reason, now, qualified_at=now
        )

    async def _flag(
        self,
        tx: UnitOfWork,
        referee: User,
        referrer: User,
        signals: list[Signal],
        reason: str,
        now: datetime,
    ) -> User:
        names = tuple(dict.fromkeys([*referee.referral_signals, *(s.value for s in signals)]))
        await tx.users.set_signals(referee.id, names)
        flagged = await self._set_status(
            tx,
            referee,
            referrer,
            ReferralStatus.FLAGGED,
            f"held for review ({', '.join(names)}): {reason}",
            now,
        )
        log.info("referral of user %d flagged: %s", referee.id, ", ".join(names))
        return replace(flagged, referral_signals=names)

    async def _set_status(
        self,
        tx: UnitOfWork,
        referee: User,
        referrer: User | None,
        status: ReferralStatus,
        reason: str,
        now: datetime,
        *,
        qualified_at: datetime | None = None,
        actor: str | None = None,
    ) -> User:
        """Move the referral to ``status``: the user's row, the referrer's counts, the history."""
        qualified_at = qualified_at or referee.qualified_at
        await tx.users.set_referral_status(referee.id, status, qualified_at)
        if referrer is not None:
            before, after = _counted(referee.referral_status), _counted(status)
            if before != after:
                delta = dict.fromkeys(("qualified", "flagged", "rejected"), 0)
                if before:
                    delta[before] -= 1
                if after:
                    delta[after] += 1
                await tx.users.count_statuses(referrer.id, **delta)
        await tx.program.record_status(
            referee_id=referee.id,
            referrer_id=referrer.id if referrer is not None else None,
            status=status,
            reason=reason[:300],
            actor=actor,
            now=now,
        )
        return replace(referee, referral_status=status, qualified_at=qualified_at)

    # ----- the ledger ----------------------------------------------------------------------

    async def _credit(
        self,
        tx: UnitOfWork,
        rewards: list[Reward],
        now: datetime,
        *,
        event: tuple[int, str] | None,
        held: bool,
    ) -> list[LedgerEntry]:
        """Write the rewards to the ledger and the balances, within the daily cap.

        The balance rows are locked first, in id order, so the cap's count of the last day is
        exact under concurrency and two credits never wait on each other in a circle.
        """
        if not rewards:
            return []
        rule_set_id = await tx.program.rule_set(self._digest, self._rules, now)
        await tx.ledger.lock_balances(sorted({r.user_id for r in rewards}))
        hold = timedelta(seconds=self.policy.hold_seconds)
        entries = []
        for reward in rewards:
            amount, note = reward.amount, None
            if is_referrer_reward(reward) and self.policy.referrer_daily_cap > 0:
                earned = await tx.ledger.earned_since(
                    reward.user_id, now - DAY, sorted(REFERRER_REASONS)
                )
                amount, note = capped(amount, earned, self.policy.referrer_daily_cap)
            if held or hold:
                status, available_at = RewardStatus.PENDING, (None if held else now + hold)
            else:
                status, available_at = RewardStatus.AVAILABLE, now
            entry_id = await tx.ledger.add(
                user_id=reward.user_id,
                amount=amount,
                status=status,
                reason=reward.reason,
                referral_user_id=reward.referral_user_id,
                event_id=event[0] if event else None,
                rule_set_id=rule_set_id,
                note=note,
                now=now,
                available_at=available_at,
            )
            if amount:
                if status == RewardStatus.AVAILABLE:
                    await tx.ledger.move_balance(reward.user_id, available=amount, pending=ZERO)
                else:
                    await tx.ledger.move_balance(reward.user_id, available=ZERO, pending=amount)
            entry = LedgerEntry(
                id=entry_id,
                user_id=reward.user_id,
                amount=amount,
                status=status,
                reason=reward.reason,
                referral_user_id=reward.referral_user_id,
                event_id=event[1] if event else None,
                created_at=now,
                available_at=available_at,
                note=note,
            )
            await self._emit(tx, events.REWARD_CREATED, events.reward(entry, self.policy.unit), now)
            if status == RewardStatus.AVAILABLE:
                await self._emit(
                    tx, events.REWARD_AVAILABLE, events.reward(entry, self.policy.unit), now
                )
            entries.append(entry)
        return entries

    async def _emit_referral(
        self,
        tx: UnitOfWork,
        type: str,
        referee: User,
        referrer: User,
        entries: list[LedgerEntry],
        now: datetime,
        *,
        event_id: str | None = None,
    ) -> None:
        """A referral's event, with the rewards the same change credited."""
        rewards = [events.reward(e, self.policy.unit)["reward"] for e in entries]
        payload = events.referral(referee, referrer, rewards=rewards)
        if event_id is not None:
            payload["event_id"] = event_id
        await self._emit(tx, type, payload, now)

    async def _emit(
        self, tx: UnitOfWork, type: str, payload: dict[str, object], now: datetime
    ) -> None:
        await tx.outbox.add(events.new_event_uid(), type, payload, now)


def _counted(status: ReferralStatus | None) -> str | None:
    """Which of the referrer's counters a status is counted in (joined is the remainder)."""
    if status in (ReferralStatus.QUALIFIED, ReferralStatus.FLAGGED, ReferralStatus.REJECTED):
        return status.value
    return None
