"""The Makefile's virtual environment belongs to the interpreter that PYTHON names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make") or "make"


def planned(venv: Path, python: str = sys.executable) -> str:
    """What ``make install`` would run (``make -n``: nothing is executed)."""
    done = subprocess.run(
        [MAKE, "-n", "install", f"PYTHON={python}", f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def stamp_for_this_interpreter() -> str:
    version = ".".join(map(str, sys.version_info[:3]))
    return f".built-with-{sys.implementation.name}-{version}"


def test_a_venv_built_by_another_interpreter_is_rebuilt(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".built-with-cpython-3.0.0").touch()
    plan = planned(venv)
    assert f"rm -rf {venv}\n" in plan
    assert f"{sys.executable} -m venv {venv}\n" in plan


def test_a_venv_built_by_this_interpreter_is_kept(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / stamp_for_this_interpreter()).touch()
    plan = planned(venv)
    assert "rm -rf" not in plan
    assert "-m venv" not in plan


def test_a_name_that_is_no_interpreter_stops_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [MAKE, "install", "PYTHON=no-such-python", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert "no-such-python is not a Python interpreter: set PYTHON" in done.stderr
    assert not (tmp_path / "venv").exists()
