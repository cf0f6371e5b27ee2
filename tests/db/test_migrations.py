"""Migrations are the schema's source of truth: reversible, and in step with the models."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

import db.models  # noqa: F401
from db.base import Base
from db.engine import make_engine
from db.migrate import SCRIPT_LOCATION, alembic_config

ROOT = Path(__file__).resolve().parents[2]


def config(url: str) -> Config:
    return alembic_config(url)


def test_the_root_alembic_ini_points_at_the_packaged_migrations() -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    location = Path(str(cfg.get_main_option("script_location")))
    assert location.resolve() == SCRIPT_LOCATION
    assert cfg.get_main_option("file_template") == alembic_config("sqlite://").get_main_option(
        "file_template"
    )


def test_stairway_up_down_up_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stairway.sqlite3'}"
    cfg = config(url)
    revisions = list(reversed(list(ScriptDirectory.from_config(cfg).walk_revisions())))
    for revision in revisions:
        command.upgrade(cfg, revision.revision)
        command.downgrade(cfg, str(revision.down_revision or "base"))
        command.upgrade(cfg, revision.revision)


async def test_models_match_migrations(db_url: str) -> None:
    """``db_url`` is migrated by the real alembic; autogenerate must find nothing to do."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == []
    assert {"user", "otp_challenge", "phone_guard", "refresh_token"} <= tables


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(ctx, Base.metadata))


def test_downgrade_to_base_and_back_on_the_test_database(db_url: str) -> None:
    cfg = config(db_url)
    command.downgrade(cfg, "base")
    try:
        left = asyncio.run(table_names(db_url))
    finally:
        command.upgrade(cfg, "head")
    assert left <= {"alembic_version"}
    assert "user" in asyncio.run(table_names(db_url))


async def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
