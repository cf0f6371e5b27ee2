"""Users, invite codes and the referral graph."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import Referral, Referrer, User
from core.domain.rewards import ReferralStatus
from db.mapping import to_referral, to_referrer, to_user
from db.models import UserRow

users = cast(Table, UserRow.__table__)
_USER_COLUMNS = [
    users.c.id,
    users.c.phone,
    users.c.invite_code,
    users.c.first_name,
    users.c.last_name,
    users.c.referrer_id,
    users.c.referred_at,
    users.c.telegram_id,
    users.c.language,
    users.c.referral_count,
    users.c.created_at,
    users.c.referral_status,
    users.c.qualified_at,
    users.c.qualified_count,
    users.c.flagged_count,
    users.c.rejected_count,
    users.c.referral_signals,
    users.c.campaign_id,
    users.c.is_admin,
]
#: One arbitrary constant: the advisory lock key that serialises invite activations on PostgreSQL.
_REFERRAL_GRAPH_LOCK = 0x5EF_E22A1


_referrer = users.alias("referrer")
_REFERRER_COLUMNS = [
    _referrer.c.id.label("r_id"),
    _referrer.c.phone.label("r_phone"),
    _referrer.c.invite_code.label("r_invite_code"),
    _referrer.c.first_name.label("r_first_name"),
    _referrer.c.last_name.label("r_last_name"),
]

# Statements built once: SQLAlchemy then finds their compiled SQL in its cache at once, instead
# of rebuilding (and re-keying) an expression tree per call on the hot paths.
_BY_ID = select(*_USER_COLUMNS).where(users.c.id == bindparam("user_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_PHONE = select(*_USER_COLUMNS).where(users.c.phone == bindparam("phone"))
_BY_INVITE_CODE = select(*_USER_COLUMNS).where(users.c.invite_code == bindparam("code"))
_ADMINS = select(*_USER_COLUMNS).where(users.c.is_admin.is_(True)).order_by(users.c.id)
_BY_TELEGRAM_ID = select(*_USER_COLUMNS).where(users.c.telegram_id == bindparam("telegram_id"))
_WITH_REFERRER = (
    select(*_USER_COLUMNS, *_REFERRER_COLUMNS)
    .select_from(users.outerjoin(_referrer, users.c.referrer_id == _referrer.c.id))
    .where(users.c.id == bindparam("user_id"))
)


def _chain_statement() -> Select[Any]:
    chain = (
        select(users.c.id, users.c.referrer_id)
        .where(users.c.id == bindparam("start_id"))
        .cte("chain", recursive=True)
    )
    parent = users.alias("parent")
    chain = chain.union(
        select(parent.c.id, parent.c.referrer_id).join(chain, parent.c.id == chain.c.referrer_id)
    )
    return (
        select(literal(1)).select_from(chain).where(chain.c.id == bindparam("target_id")).limit(1)
    )


_CHAIN_REACHES = _chain_statement()
_PHONES_BY_LIMIT: dict[int, Select[Any]] = {}


def _phones_statement(limit: int) -> Select[Any]:
    stmt = _PHONES_BY_LIMIT.get(limit)
    if stmt is None:
        stmt = (
            select(users.c.phone)
            .where(users.c.referrer_id == bindparam("user_id"))
            .order_by(users.c.referred_at.desc(), users.c.id.desc())
            .limit(limit)
        )
        _PHONES_BY_LIMIT[limit] = stmt
    return stmt


class SqlUserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def _one(self, stmt: Select[Any], **params: object) -> User | None:
        row = (await self._conn.execute(stmt, params)).first()
        return to_user(row) if row is not None else None

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        lock = for_update and self._dialect == "postgresql"
        return await self._one(_BY_ID_FOR_UPDATE if lock else _BY_ID, user_id=user_id)

    async def get_by_phone(self, phone: str) -> User | None:
        return await self._one(_BY_PHONE, phone=phone)

    async def get_by_invite_code(self, code: str) -> User | None:
        return await self._one(_BY_INVITE_CODE, code=code)

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return await self._one(_BY_TELEGRAM_ID, telegram_id=telegram_id)

    async def get_with_referrer(self, user_id: int) -> tuple[User, Referrer | None] | None:
        row = (await self._conn.execute(_WITH_REFERRER, {"user_id": user_id})).first()
        if row is None:
            return None
        return to_user(row), to_referrer(row)

    async def create_if_absent(
        self,
        *,
        phone: str,
        invite_code: str,
        now: datetime,
        first_name: str | None,
        last_name: str | None,
        language: str | None,
    ) -> User | None:
        values = {
            "phone": phone,
            "invite_code": invite_code,
            "created_at": now,
            "first_name": first_name,
            "last_name": last_name,
            "language": language,
            "referral_count": 0,
        }
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(users).values(**values).on_conflict_do_nothing().returning(*_USER_COLUMNS)
        row = (await self._conn.execute(stmt)).first()
        return to_user(row) if row is not None else None

    async def lock_referral_graph(self) -> None:
        # SQLite transactions already start with BEGIN IMMEDIATE: writers are serialised.
        if self._dialect == "postgresql":
            await self._conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFERRAL_GRAPH_LOCK}
            )

    async def chain_reaches(self, start_id: int, target_id: int) -> bool:
        params = {"start_id": start_id, "target_id": target_id}
        return (await self._conn.execute(_CHAIN_REACHES, params)).first() is not None

    async def set_referrer_once(self, user_id: int, referrer_id: int, now: datetime) -> bool:
        result = await self._conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.referrer_id.is_(None))
            .values(referrer_id=referrer_id, referred_at=now)
        )
        if not result.rowcount:
            return False
        await self._conn.execute(
            update(users)
            .where(users.c.id == referrer_id)
            .values(referral_count=users.c.referral_count + 1)
        )
        return True

    async def set_referral_status(
        self, user_id: int, status: ReferralStatus, qualified_at: datetime | None
    ) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(referral_status=status.value, qualified_at=qualified_at)
        )

    async def count_statuses(
        self, referrer_id: int, *, qualified: int = 0, flagged: int = 0, rejected: int = 0
    ) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == referrer_id)
            .values(
                qualified_count=users.c.qualified_count + qualified,
                flagged_count=users.c.flagged_count + flagged,
                rejected_count=users.c.rejected_count + rejected,
            )
        )

    async def set_signals(self, user_id: int, signals: Sequence[str]) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(referral_signals=",".join(signals) or None)
        )

    async def set_campaign(self, user_id: int, campaign_id: int) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(campaign_id=campaign_id)
        )

    async def record_client(self, user_id: int, client: str, *, first: bool) -> None:
        values = {"last_client": client[:128]}
        if first:
            values["signup_client"] = client[:128]
        await self._conn.execute(update(users).where(users.c.id == user_id).values(**values))

    async def clients(self, user_id: int) -> set[str]:
        row = (
            await self._conn.execute(
                select(users.c.signup_client, users.c.last_client).where(users.c.id == user_id)
            )
        ).first()
        return {c for c in (row or ()) if c}

    async def referrals_since(self, referrer_id: int, since: datetime) -> int:
        stmt = select(func.count()).where(
            users.c.referrer_id == referrer_id, users.c.referred_at >= since
        )
        return int((await self._conn.execute(stmt)).scalar_one())

    async def referrals_with_prefix(self, referrer_id: int, prefix: str) -> int:
        # A range of the (referrer_id, phone) index: every phone that starts with the prefix.
        stmt = select(func.count()).where(
            users.c.referrer_id == referrer_id,
            users.c.phone >= prefix,
            users.c.phone < prefix + "\uffff",
        )
        return int((await self._conn.execute(stmt)).scalar_one())

    async def referrals_with_status(
        self, status: str, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[tuple[User, Referrer]]:
        """Referees whose referral has this status, newest first, with their referrers."""
        stmt = (
            select(*_USER_COLUMNS, *_REFERRER_COLUMNS)
            .select_from(users.join(_referrer, users.c.referrer_id == _referrer.c.id))
            .where(users.c.referral_status == status)
        )
        if after is not None:
            moment, last_id = after
            stmt = stmt.where(
                or_(
                    users.c.referred_at < moment,
                    and_(users.c.referred_at == moment, users.c.id < last_id),
                )
            )
        stmt = stmt.order_by(users.c.referred_at.desc(), users.c.id.desc()).limit(limit)
        out = []
        for row in await self._conn.execute(stmt):
            referrer = to_referrer(row)
            assert referrer is not None
            out.append((to_user(row), referrer))
        return out

    async def admins(self) -> Sequence[User]:
        return [to_user(r) for r in await self._conn.execute(_ADMINS)]

    async def set_admin(self, user_id: int, is_admin: bool) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(is_admin=is_admin)
        )

    async def detach_referrer(self, user_id: int) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                referrer_id=None,
                referred_at=None,
                referral_status=None,
                qualified_at=None,
                referral_signals=None,
            )
        )

    async def count_referral(self, referrer_id: int, delta: int) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == referrer_id)
            .values(referral_count=users.c.referral_count + delta)
        )

    async def update_names(self, user_id: int, first_name: str, last_name: str | None) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(first_name=first_name, last_name=last_name)
        )

    async def set_language(self, user_id: int, language: str) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(language=language)
        )

    async def link_telegram(self, user_id: int, telegram_id: int) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.telegram_id == telegram_id, users.c.id != user_id)
            .values(telegram_id=None)
        )
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(telegram_id=telegram_id)
        )

    async def unlink_telegram(self, telegram_id: int) -> None:
        await self._conn.execute(
            update(users).where(users.c.telegram_id == telegram_id).values(telegram_id=None)
        )

    async def referral_phones(self, user_id: int, limit: int) -> Sequence[str]:
        result = await self._conn.execute(_phones_statement(limit), {"user_id": user_id})
        return [str(phone) for phone in result.scalars()]

    async def referrals_page(
        self, user_id: int, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[Referral]:
        stmt = select(
            users.c.id,
            users.c.phone,
            users.c.first_name,
            users.c.last_name,
            users.c.referred_at,
            users.c.referral_status,
            users.c.qualified_at,
        ).where(users.c.referrer_id == user_id)
        if after is not None:
            joined_at, last_id = after
            if self._dialect == "postgresql":
                stmt = stmt.where(
                    tuple_(users.c.referred_at, users.c.id)
                    < tuple_(literal(joined_at, users.c.referred_at.type), last_id)
                )
            else:
                stmt = stmt.where(
                    or_(
                        users.c.referred_at < joined_at,
                        and_(users.c.referred_at == joined_at, users.c.id < last_id),
                    )
                )
        stmt = stmt.order_by(users.c.referred_at.desc(), users.c.id.desc()).limit(limit)
        return [to_referral(row) for row in await self._conn.execute(stmt)]
