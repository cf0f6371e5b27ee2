from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from db.engine import make_engine
from tests.conftest import truncate


async def _empty(url: str) -> None:
    engine = make_engine(url)
    try:
        await truncate(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def postgres_url(migrated: Any) -> Iterator[str]:
    """The migrated PostgreSQL test database, emptied before and after the test."""
    url = str(migrated("postgres"))
    asyncio.run(_empty(url))
    yield url
    asyncio.run(_empty(url))
