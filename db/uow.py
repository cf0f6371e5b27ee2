"""The unit of work: one transaction per use case, opened by the core's services."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from db.repositories.api_keys import SqlApiKeyRepository
from db.repositories.growth import SqlGrowthRepository
from db.repositories.ledger import SqlLedgerRepository
from db.repositories.otps import SqlOtpRepository
from db.repositories.program import SqlOutboxRepository, SqlProgramRepository
from db.repositories.telegram import SqlLeaseRepository, SqlTelegramQueueRepository
from db.repositories.tokens import SqlRefreshTokenRepository
from db.repositories.users import SqlUserRepository
from db.repositories.webhooks import SqlWebhookRepository


class SqlUnitOfWork:
    """``async with uow:`` begins a transaction; a normal exit commits, an exception rolls back."""

    users: SqlUserRepository
    otps: SqlOtpRepository
    refresh_tokens: SqlRefreshTokenRepository
    program: SqlProgramRepository
    ledger: SqlLedgerRepository
    api_keys: SqlApiKeyRepository
    outbox: SqlOutboxRepository
    webhooks: SqlWebhookRepository
    telegram: SqlTelegramQueueRepository
    leases: SqlLeaseRepository
    growth: SqlGrowthRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        self._conn = await self._engine.connect()
        try:
            if self._read_only:
                # Each read on its own: no BEGIN/COMMIT round trips, no SQLite write lock.
                await self._conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                self._tx = await self._conn.begin()
        except BaseException:
            await self._conn.close()
            raise
        self.users = SqlUserRepository(self._conn)
        self.otps = SqlOtpRepository(self._conn)
        self.refresh_tokens = SqlRefreshTokenRepository(self._conn)
        self.program = SqlProgramRepository(self._conn)
        self.ledger = SqlLedgerRepository(self._conn)
        self.api_keys = SqlApiKeyRepository(self._conn)
        self.outbox = SqlOutboxRepository(self._conn)
        self.webhooks = SqlWebhookRepository(self._conn)
        self.telegram = SqlTelegramQueueRepository(self._conn)
        self.leases = SqlLeaseRepository(self._conn)
        self.growth = SqlGrowthRepository(self._conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._tx is not None:
                if exc_type is None:
                    await self._tx.commit()
                else:
                    await self._tx.rollback()
        finally:
            await self._conn.close()
            self._conn = self._tx = None


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)


class SqlHealthProbe:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))


if TYPE_CHECKING:
    from core.ports import UnitOfWork

    def _conforms(engine: AsyncEngine) -> UnitOfWork:
        return SqlUnitOfWork(engine)
