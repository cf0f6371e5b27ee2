"""A process that cannot start says in one line which setting to change, instead of a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli import main
from core.runtime import ensure_can_listen, ensure_files_writable
from core.settings import ConfigError, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


@pytest.fixture
def unwritable_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory where ``var/`` cannot be created: a file has its name.

    (A read-only mount gives EROFS instead; tests run as root, for whom permission bits do
    not stop a write, so a file in the way is the portable failure.)
    """
    (tmp_path / "var").write_text("not a directory")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["api"], ["dev"], ["migrate"], ["bot"]])
def test_an_unwritable_default_database_names_database_url(
    unwritable_cwd: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("configuration error: the SQLite database ./var/referral.sqlite3")
    assert "(the default)" in err
    assert "set DATABASE_URL" in err


def test_the_message_is_the_only_output_of_the_process(unwritable_cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "core", "api"],
        cwd=unwritable_cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "set DATABASE_URL" in line


def test_a_database_url_in_an_unwritable_place_is_named_as_set(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{blocker}/db.sqlite3")
    with pytest.raises(ConfigError, match="set DATABASE_URL") as error:
        ensure_files_writable(settings)
    assert "(the default)" not in str(error.value)


def test_an_unwritable_sms_file_names_sms_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
        SMS_BACKEND="file",
        SMS_FILE=str(blocker / "sms.jsonl"),
    )
    with pytest.raises(ConfigError, match="set SMS_FILE"):
        ensure_files_writable(settings)


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///:memory:", "postgresql+asyncpg://u:p@127.0.0.1:1/d"]
)
def test_databases_without_a_local_file_need_no_directory(unwritable_cwd: Path, url: str) -> None:
    ensure_files_writable(Settings(_env_file=None, DATABASE_URL=url))


def test_a_writable_place_passes_and_is_created(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new/dir/db.sqlite3"
    ensure_files_writable(Settings(_env_file=None, DATABASE_URL=url))
    assert (tmp_path / "new" / "dir").is_dir()


@pytest.mark.parametrize("command", ["api", "dev"])
def test_a_taken_port_names_api_port(
    taken_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3")
    monkeypatch.setenv("API_PORT", str(taken_port))
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"configuration error: port {taken_port} on 127.0.0.1 is already in use: "
        "stop what listens there, or set API_PORT (or --port) to a free port\n"
    )
    assert not (tmp_path / "db.sqlite3").exists()  # dev stopped before migrating


def test_a_host_of_another_machine_names_api_host() -> None:
    with pytest.raises(ConfigError, match="set API_HOST"):
        ensure_can_listen("192.0.2.1", 8000)  # TEST-NET-1: never an address of this host


def test_a_free_port_passes(taken_port: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    ensure_can_listen("127.0.0.1", port)
    with pytest.raises(ConfigError, match="API_PORT"):
        ensure_can_listen("127.0.0.1", taken_port)
