"""The one CLI: every subcommand parses, and migrate builds the schema."""

import argparse
import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(
    name
    for action in build_parser()._actions
    if isinstance(action, argparse._SubParsersAction)
    for name in action.choices
)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: referral" in capsys.readouterr().out


def test_console_script_entry_point_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "core", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    for command in ("migrate", "api"):
        assert command in out.stdout


def test_migrate_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert {"user", "otp_challenge", "phone_guard", "refresh_token", "alembic_version"} <= tables


def test_apikey_create_prints_the_key_once_then_list_and_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "keys.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("SMS_BACKEND", "console")
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    assert main(["apikey", "create", "--name", "shop", "--scopes", "events:write,users:read"]) == 0
    out = capsys.readouterr().out.splitlines()
    secret = out[1]
    assert out[0] == "API key 1 (shop; events:write, users:read):" and secret.startswith("rk_")
    assert main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert "shop" in listed and "live" in listed and secret not in listed
    assert main(["apikey", "revoke", "1"]) == 0
    assert main(["apikey", "revoke", "1"]) == 1
    assert "No live API key" in capsys.readouterr().err
    assert main(["apikey", "create", "--name", "x", "--scopes", "root"]) == 1


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"referral {declared}\n"


def test_invalid_settings_are_one_line_naming_each_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTP_LENGTH", "3")
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(SystemExit) as exit_:
        main(["check-config"])
    assert exit_.value.code == (
        "invalid configuration: APP_ENV: Input should be 'development' or 'production'; "
        "OTP_LENGTH: Input should be greater than or equal to 4"
    )


def test_a_secret_file_problem_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    with pytest.raises(SystemExit) as exit_:
        main(["check-config"])
    assert exit_.value.code == (
        "invalid configuration: SECRET_KEY and SECRET_KEY_FILE are both set: keep one"
    )
