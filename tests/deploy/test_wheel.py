"""The built wheel on its own: what it holds, and that a fresh virtual environment with only the
wheel and the locked dependencies migrates and serves (no checkout on the path)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import free_port, service_env, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
UV = str(Path(sys.executable).with_name("uv"))  # `make install` puts uv into the venv
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return str(done.stdout)


IMPORT_EVERYTHING = """
import importlib, importlib.metadata, importlib.util, pkgutil
import bot, core, db
for package in (core, db, bot):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        # alembic runs the migrations itself; __main__ would run the CLI
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
import smsaero
assert importlib.util.find_spec("setuptools") is None, "setuptools is installed"
assert importlib.util.find_spec("phonenumbers.geodata") is None, "full phonenumbers is installed"
importlib.metadata.version("phonenumberslite")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(UV, "build", "--wheel", "--quiet", "--out-dir", out, ROOT)
    (built,) = out.glob("*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_the_migrations_the_catalogs_and_the_license(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {"db/migrations/env.py", "db/migrations/script.py.mako"} | {
        f"db/migrations/versions/{path.name}"
        for path in (ROOT / "db" / "migrations" / "versions").glob("*.py")
    }
    assert len(migrations) > 2
    assert migrations <= names
    for locale in ("en", "ru"):
        assert f"bot/locales/{locale}/LC_MESSAGES/messages.mo" in names
    assert f"referral_service-{VERSION}.dist-info/licenses/LICENSE" in names
    assert not {name for name in names if name.startswith("tests/") or "__pycache__" in name}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_wheel_in_a_fresh_venv_migrates_and_answers_healthz(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    # Exactly the locked runtime closure (from uv's cache when it has it) and the wheel, with no
    # resolution of its own: uv.lock leaves out what tool.uv.exclude-dependencies names.
    requirements = tmp_path / "requirements.txt"
    run(
        UV,
        "export",
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--no-hashes",
        "--quiet",
        "--output-file",
        requirements,
        cwd=ROOT,
    )
    run(
        UV,
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--python",
        venv / "bin" / "python",
        "--requirement",
        requirements,
        wheel,
    )

    work = tmp_path / "work"  # not the checkout: nothing of it is importable from here
    work.mkdir()
    env = service_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'wheel.sqlite3'}",
        LOG_LEVEL="WARNING",
    )
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    referral = venv / "bin" / "referral"
    where = run(
        venv / "bin" / "python",
        "-c",
        "import db.migrate; print(db.migrate.__file__)",
        cwd=work,
        env=env,
    )
    assert Path(where.strip()).is_relative_to(venv)
    assert run(referral, "--version", cwd=work, env=env) == f"referral {VERSION}\n"
    # Every module imports on phonenumberslite alone, with no setuptools (item: a small image).
    run(venv / "bin" / "python", "-c", IMPORT_EVERYTHING, cwd=work, env=env)

    run(referral, "migrate", cwd=work, env=env)

    port = free_port()
    proc = subprocess.Popen(
        [str(referral), "api", "--host", "127.0.0.1", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, timeout=90)
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
    finally:
        assert stop(proc) == 0
