"""What may import what.

* The core's domain, ports and services import no framework, no transport, no storage and
  nothing of the composition root (the settings included): they receive plain values.
* The front ends stay apart: ``core/api`` never imports ``bot``, nor ``bot`` ``core.api``;
  only the composition root (``core.container``, ``core.runtime``) puts them together.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = (
    "fastapi",
    "starlette",
    "aiogram",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "redis",
    "bot",
    "db",
    "core.api",
    "core.adapters",
    "core.container",
    "core.runtime",
    "core.cli",
    "core.settings",
    "core.config_report",
    "core.logging",
    "uvicorn",
    "smsaero",
)
PURE = [
    *sorted((ROOT / "core" / "domain").glob("*.py")),
    ROOT / "core" / "ports.py",
    *sorted((ROOT / "core" / "services").glob("*.py")),
]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_stays_free_of_frameworks_and_storage(path: Path) -> None:
    bad = {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_transports_raise_no_http_errors_of_their_own() -> None:
    """Only the translation table in core/api/errors.py turns domain errors into HTTP."""
    for path in (ROOT / "core" / "api").rglob("*.py"):
        if path.name != "errors.py":
            assert "HTTPException" not in path.read_text(), path


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("front_end", "other"),
    [("core/api", "bot"), ("bot", "core.api")],
    ids=["api-imports-no-bot", "bot-imports-no-api"],
)
def test_front_ends_do_not_import_each_other(front_end: str, other: str) -> None:
    for path in _python_files(front_end):
        bad = {n for n in imported_modules(path) if n == other or n.startswith(other + ".")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_imported_modules_sees_lazy_imports_inside_functions() -> None:
    """The check walks the whole tree, so an import hidden in a function is caught too."""
    source = ROOT / "core" / "runtime.py"
    assert "bot.runner" in imported_modules(source)
