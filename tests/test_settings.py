"""Settings: one place, the original .env names, and production refusing unsafe values."""

from pathlib import Path
from typing import Any

import pytest

from core.settings import DEFAULT_SQLITE_URL, ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent
STRONG = "k" * 40


def load(**env: Any) -> Settings:
    return Settings(_env_file=None, **env)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


def test_embedded_default_is_sqlite_and_console_sms() -> None:
    settings = load()
    assert settings.db_url == DEFAULT_SQLITE_URL
    assert settings.sms.backend == "console"
    settings.ensure_can_start()


def test_postgres_url_is_built_from_the_original_names() -> None:
    settings = load(
        POSTGRES_DB="ref", POSTGRES_USER="app", PASSWORD_DATABASE="p@ss", POSTGRES_HOST="db"
    )
    assert settings.db_url == "postgresql+asyncpg://app:p%40ss@db:5432/ref"


def test_database_url_wins_and_plain_postgres_scheme_gets_the_async_driver() -> None:
    settings = load(
        DATABASE_URL="postgres://u:p@h/d",
        POSTGRES_DB="x",
        POSTGRES_USER="y",
        POSTGRES_PASSWORD="z",
        POSTGRES_HOST="w",
    )
    assert settings.db_url == "postgresql+asyncpg://u:p@h/d"


def test_incomplete_postgres_names_fall_back_to_sqlite() -> None:
    assert load(POSTGRES_DB="ref", POSTGRES_USER="app").db_url == DEFAULT_SQLITE_URL


def test_sms_backend_defaults_to_smsaero_with_credentials() -> None:
    assert load(EMAIL="a@b.c", SMS_KEY="key").sms.backend == "smsaero"
    assert load(EMAIL="a@b.c", SMS_KEY="key", SMS_BACKEND="file").sms.backend == "file"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"EMAIL": "a@b.c", "SMS_KEY": "k"}, "SECRET_KEY"),
        ({"EMAIL": "a@b.c", "SMS_KEY": "k", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG}, "EMAIL and SMS_KEY"),
        ({"SECRET_KEY": STRONG, "SMS_BACKEND": "file"}, "development only"),
        ({"SECRET_KEY": STRONG, "SMS_BACKEND": "smsaero"}, "EMAIL and SMS_KEY"),
    ],
)
def test_production_refuses_to_start_and_says_what_to_set(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load(APP_ENV="production", **env).ensure_can_start()


def test_production_with_real_values_starts() -> None:
    load(APP_ENV="production", SECRET_KEY=STRONG, EMAIL="a@b.c", SMS_KEY="k").ensure_can_start()


def test_secrets_do_not_show_in_repr() -> None:
    settings = load(SECRET_KEY=STRONG, SMS_KEY="sms-secret", DATABASE_URL="postgresql://u:pw@h/d")
    text = repr(settings)
    assert STRONG not in text and "sms-secret" not in text and "pw@h" not in text


@pytest.mark.parametrize("env", [{"OTP_LENGTH": "3"}, {"OTP_LENGTH": "9"}, {"APP_ENV": "staging"}])
def test_out_of_range_values_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        load(**env)


def test_every_setting_is_documented_in_env_sample() -> None:
    sample = (ROOT / ".env.sample").read_text()
    documented = {line.lstrip("# ").split("=")[0] for line in sample.splitlines() if "=" in line}
    missing = {str(f.alias) for f in Settings.model_fields.values() if f.alias not in documented}
    assert not missing, f"add to .env.sample: {sorted(missing)}"
    for name in (
        "SECRET_KEY",
        "PASSWORD_DATABASE",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "PGDATA",
        "EMAIL",
        "SMS_KEY",
    ):
        assert f"{name}=" in sample
