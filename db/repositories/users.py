"""Users, invite codes and the referral graph."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, func, literal, or_, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import Referral, Referrer, User
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
]
#: One arbitrary constant: the advisory lock key that serialises invite activations on PostgreSQL.
_REFERRAL_GRAPH_LOCK = 0x5EF_E22A1


class SqlUserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def _one(self, *where: object, for_update: bool = False) -> User | None:
        stmt = select(*_USER_COLUMNS).where(*where)  # type: ignore[arg-type]
        if for_update and self._dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).first()
        return to_user(row) if row is not None else None

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        return await self._one(users.c.id == user_id, for_update=for_update)

    async def get_by_phone(self, phone: str) -> User | None:
        return await self._one(users.c.phone == phone)

    async def get_by_invite_code(self, code: str) -> User | None:
        return await self._one(users.c.invite_code == code)

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return await self._one(users.c.telegram_id == telegram_id)

    async def get_referrer(self, user_id: int) -> Referrer | None:
        referrer = users.alias("referrer")
        stmt = (
            select(
                referrer.c.id,
                referrer.c.phone,
                referrer.c.invite_code,
                referrer.c.first_name,
                referrer.c.last_name,
            )
            .select_from(users.join(referrer, users.c.referrer_id == referrer.c.id))
            .where(users.c.id == user_id)
        )
        row = (await self._conn.execute(stmt)).first()
        return to_referrer(row) if row is not None else None

    async def get_with_referrer(self, user_id: int) -> tuple[User, Referrer | None] | None:
        referrer = users.alias("referrer")
        referrer_columns = [
            referrer.c.id.label("r_id"),
            referrer.c.phone.label("r_phone"),
            referrer.c.invite_code.label("r_invite_code"),
            referrer.c.first_name.label("r_first_name"),
            referrer.c.last_name.label("r_last_name"),
        ]
        stmt = (
            select(*_USER_COLUMNS, *referrer_columns)
            .select_from(users.outerjoin(referrer, users.c.referrer_id == referrer.c.id))
            .where(users.c.id == user_id)
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        found = (
            Referrer(
                id=row.r_id,
                phone=row.r_phone,
                invite_code=row.r_invite_code,
                first_name=row.r_first_name,
                last_name=row.r_last_name,
            )
            if row.r_id is not None
            else None
        )
        return to_user(row), found

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
        chain = (
            select(users.c.id, users.c.referrer_id)
            .where(users.c.id == start_id)
            .cte("chain", recursive=True)
        )
        parent = users.alias("parent")
        chain = chain.union(
            select(parent.c.id, parent.c.referrer_id).join(
                chain, parent.c.id == chain.c.referrer_id
            )
        )
        stmt = select(literal(1)).select_from(chain).where(chain.c.id == target_id).limit(1)
        return (await self._conn.execute(stmt)).first() is not None

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
        stmt = (
            select(users.c.phone)
            .where(users.c.referrer_id == user_id)
            .order_by(users.c.referred_at.desc(), users.c.id.desc())
            .limit(limit)
        )
        return list((await self._conn.execute(stmt)).scalars())

    async def referrals_page(
        self, user_id: int, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[Referral]:
        stmt = select(
            users.c.id, users.c.phone, users.c.first_name, users.c.last_name, users.c.referred_at
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

    async def count(self) -> int:
        return int((await self._conn.execute(select(func.count()).select_from(users))).scalar_one())
