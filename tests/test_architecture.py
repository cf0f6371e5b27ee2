"""The core's domain, ports and services import no framework, no transport and no storage."""

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
