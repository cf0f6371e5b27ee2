"""Settings: one place, the original .env names, and production refusing unsafe values."""

from pathlib import Path
from typing import Any

import pytest

from core.settings import DEFAULT_SQLITE_URL, DEV_SECRET_KEY, SECRET_FILES, ConfigError, Settings

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


# ----- secrets from files (NAME_FILE) -----------------------------------------------------

SECRET_FILE_NAMES = ["SECRET_KEY", "POSTGRES_PASSWORD", "SMS_KEY", "BOT_TOKEN", "WEBHOOK_SECRET"]


def secret_of(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name.lower())
    return None if value is None else str(value.get_secret_value())


@pytest.mark.parametrize("name", SECRET_FILE_NAMES)
def test_a_secret_is_read_from_the_file_its_file_variable_names(name: str, tmp_path: Path) -> None:
    path = tmp_path / name.lower()
    path.write_text("s3cret value\n")  # `echo value > file` adds the newline
    assert secret_of(load(**{f"{name}_FILE": str(path)}), name) == "s3cret value"


def test_secret_files_cover_the_documented_names() -> None:
    assert sorted(f.upper() for f in SECRET_FILES) == sorted(SECRET_FILE_NAMES)
    for name, file_field in SECRET_FILES.items():
        assert Settings.model_fields[file_field].alias == f"{name.upper()}_FILE"


def test_a_secret_file_may_be_named_in_the_env_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text(STRONG)
    env_file = tmp_path / ".env"
    env_file.write_text(f"SECRET_KEY=\nSECRET_KEY_FILE={secret}\n")  # as .env.sample ships
    assert Settings(_env_file=env_file).secret_key.get_secret_value() == STRONG


@pytest.mark.parametrize("name", SECRET_FILE_NAMES)
def test_setting_a_secret_and_its_file_is_refused(name: str, tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("from the file")
    with pytest.raises(ValueError, match=f"{name} and {name}_FILE are both set: keep one"):
        load(**{name: "from the variable", f"{name}_FILE": str(path)})


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ValueError, match=f"SMS_KEY_FILE={missing} cannot be read"):
        load(SMS_KEY_FILE=str(missing))


def test_an_empty_secret_file_leaves_the_secret_unset(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    settings = load(BOT_TOKEN_FILE=str(empty), SECRET_KEY_FILE=str(empty))
    assert settings.bot_token is None
    assert settings.secret_key.get_secret_value() == DEV_SECRET_KEY


def test_an_empty_file_variable_is_unset() -> None:
    assert load(SECRET_KEY_FILE="", BOT_TOKEN_FILE="").secret_key_file is None


def test_production_says_which_file_lacks_the_secret(tmp_path: Path) -> None:
    short = tmp_path / "secret_key"
    short.write_text("short\n")
    settings = load(APP_ENV="production", SECRET_KEY_FILE=str(short), EMAIL="a@b.c", SMS_KEY="k")
    with pytest.raises(ConfigError) as error:
        settings.ensure_can_start()
    assert f"set SECRET_KEY (in {short}, named by SECRET_KEY_FILE) to a random value" in str(
        error.value
    )


def test_production_starts_with_every_secret_from_files(tmp_path: Path) -> None:
    env = {}
    for name, value in {"SECRET_KEY": STRONG, "SMS_KEY": "key", "POSTGRES_PASSWORD": "pw"}.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")
        env[f"{name}_FILE"] = str(path)
    settings = load(
        APP_ENV="production",
        EMAIL="a@b.c",
        POSTGRES_DB="d",
        POSTGRES_USER="u",
        POSTGRES_HOST="db",
        **env,
    )
    settings.ensure_can_start()
    assert settings.db_url == "postgresql+asyncpg://u:pw@db:5432/d"
    assert STRONG not in repr(settings)


def test_an_empty_secret_key_is_the_development_key_not_an_empty_one() -> None:
    from core.settings import DEV_SECRET_KEY

    settings = Settings(_env_file=None, SECRET_KEY="")
    assert settings.secret_key.get_secret_value() == DEV_SECRET_KEY
    assert any("SECRET_KEY" in p for p in settings.production_problems())
