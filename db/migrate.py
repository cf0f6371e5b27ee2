"""Alembic, driven from code: the migrations ship inside this package (``db/migrations``), so
``referral migrate`` works from an installed wheel as well as from a checkout."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(slug)s_%%(rev)s"


def alembic_config(url: str) -> Config:
    """A config for ``url`` with no ``alembic.ini``: everything it needs is set here."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("file_template", FILE_TEMPLATE)
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the models (development)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
