"""``referral check-config``: every effective value, no secret, and what production still lacks."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from core.config_report import report
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
STRONG = "k" * 40
ALIASES = [field.alias for field in Settings.model_fields.values() if field.alias]
SECRET_FIELDS = [
    name
    for name, field in Settings.model_fields.items()
    if SecretStr in typing.get_args(field.annotation) or field.annotation is SecretStr
]
COMPLETE_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": STRONG,
    "EMAIL": "owner@example.com",
    "SMS_KEY": "sms-api-key",
}


def load(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for alias in ALIASES:
        monkeypatch.delenv(alias, raising=False)


def secret_env(*, with_database_url: bool) -> dict[str, str]:
    """A distinct, recognisable value for every ``SecretStr`` setting there is."""
    env = {}
    for name in SECRET_FIELDS:
        alias = Settings.model_fields[name].alias or name.upper()
        env[alias] = f"{name}-Zq9/p@ss word-0123456789-0123456789"
    env["DATABASE_URL"] = "postgresql://app:db-pass-Zq9@db.internal:5432/referral"
    env["REDIS_URL"] = "redis://:redis-pass-Zq9@redis:6379/0"
    if not with_database_url:
        del env["DATABASE_URL"]
    env.update(POSTGRES_DB="referral", POSTGRES_USER="app", POSTGRES_HOST="postgres")
    return env


def test_there_are_secret_settings_to_check() -> None:
    assert {"secret_key", "database_url", "postgres_password", "sms_key", "bot_token"} <= set(
        SECRET_FIELDS
    )


@pytest.mark.parametrize("with_database_url", [True, False], ids=["DATABASE_URL", "POSTGRES_"])
def test_no_secret_is_printed(with_database_url: bool) -> None:
    env = secret_env(with_database_url=with_database_url)

    text, _ = report(load(**env))

    for alias, secret in env.items():
        if alias in {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_HOST"}:
            continue
        password = secret.rpartition("@")[0].rpartition(":")[2] if "://" in secret else secret
        for form in {secret, password, quote(password, safe=""), quote(password)}:
            assert form not in text, f"{alias} leaked as {form!r}"


def test_every_setting_has_exactly_one_line() -> None:
    text, _ = report(load(**secret_env(with_database_url=True)))
    lines = text.splitlines()
    for alias in ALIASES:
        assert sum(line.strip().startswith(f"{alias} = ") for line in lines) == 1, alias


def test_a_secret_from_a_file_shows_the_file_and_masks_the_secret(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text(STRONG + "\n")
    text, _ = report(load(SECRET_KEY_FILE=str(secret)))
    lines = text.splitlines()
    assert f"  SECRET_KEY_FILE = {secret}" in lines
    assert "  SECRET_KEY = ***" in lines
    assert STRONG not in text


def test_urls_are_shown_with_only_the_password_masked() -> None:
    text, _ = report(load(**secret_env(with_database_url=True)))

    assert "DATABASE_URL = postgresql://app:***@db.internal:5432/referral" in text
    assert "REDIS_URL = redis://:***@redis:6379/0" in text
    assert "database = postgresql+asyncpg://app:***@db.internal:5432/referral" in text


def test_effective_database_is_built_from_the_postgres_names() -> None:
    text, _ = report(
        load(
            POSTGRES_DB="referral", POSTGRES_USER="app", POSTGRES_PASSWORD="pw", POSTGRES_HOST="pg"
        )
    )
    assert "database = postgresql+asyncpg://app:***@pg:5432/referral" in text


def test_effective_values_include_defaults_and_the_sms_backend() -> None:
    text, _ = report(load())
    assert "OTP_TTL_SECONDS = 300" in text
    assert "SECRET_KEY = *** (the development default)" in text
    assert "database = sqlite+aiosqlite:///./var/referral.sqlite3" in text
    assert "SMS backend = console" in text


def test_development_lists_what_production_would_need_and_passes() -> None:
    settings = load()
    problems = settings.production_problems()
    assert problems

    text, ok = report(settings)

    assert ok
    assert "Production would still need:" in text
    for problem in problems:
        assert f"  - {problem}" in text


def test_production_with_problems_fails_and_lists_each_problem() -> None:
    settings = load(APP_ENV="production", SMS_BACKEND="file")
    problems = settings.production_problems()
    assert len(problems) == 2

    text, ok = report(settings)

    assert not ok
    assert "Production cannot start; required:" in text
    for problem in problems:
        assert f"  - {problem}" in text


def test_complete_production_config_passes() -> None:
    text, ok = report(load(**COMPLETE_PRODUCTION))

    assert ok
    assert "Production: nothing required is missing." in text
    assert "SMS backend = smsaero" in text


def run_check_config(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k.upper() not in {a.upper() for a in ALIASES}}
    return subprocess.run(
        [sys.executable, "-m", "core", "check-config"],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_check_config_exits_non_zero_only_when_production_lacks_something(
    tmp_path: Path,
) -> None:
    missing = run_check_config({"APP_ENV": "production"}, tmp_path)
    complete = run_check_config(COMPLETE_PRODUCTION, tmp_path)

    assert missing.returncode == 1, missing.stderr
    assert "set SECRET_KEY" in missing.stdout
    assert complete.returncode == 0, complete.stderr
    assert "sms-api-key" not in complete.stdout + complete.stderr
