"""docker-compose.yml and the Dockerfile, checked offline (no Docker engine runs here).

The compose file is validated against the Compose specification's JSON schema that
check-jsonschema ships (``--builtin-schema vendor.compose-spec``), with every proxy pointed at a
closed port so that a network fetch would fail the test rather than pass it silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import SECRET_FILES, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_SAMPLE = ROOT / ".env.sample"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
APP_SERVICES = ("migrate", "api", "bot", "worker")
LONG_RUNNING = ("api", "bot", "worker")
SECRETS_DIR = "/run/secrets/"
OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}
# ${NAME}, ${NAME:-default}, ${NAME:?error} and $NAME; "$$" is a literal dollar.
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def strings(node: object) -> Iterator[str]:
    """Every string of a parsed YAML document, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def interpolated(node: object) -> set[str]:
    names = set()
    for text in strings(node):
        for braced, bare in VARIABLE.findall(text.replace("$$", "")):
            names.add(braced or bare)
    return names


def documented_variables() -> set[str]:
    """Names set in .env.sample, or shown there commented out (``# DATABASE_URL=...``)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_SAMPLE.read_text(), re.MULTILINE))


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` in either syntax, as {service: condition}."""
    raw = service.get("depends_on", {})
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


# ----- the compose file --------------------------------------------------------------------


@pytest.mark.slow
def test_compose_file_matches_the_compose_specification() -> None:
    done = check_compose_schema(COMPOSE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_schema_check_rejects_an_invalid_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  api:\n    image: x\n    depends_on: 5\n    restart_policy: x\n")
    done = check_compose_schema(broken)
    assert done.returncode != 0
    assert "depends_on" in done.stdout


def test_every_depends_on_target_is_a_service(services: dict[str, Any]) -> None:
    for name, service in services.items():
        missing = set(depends_on(service)) - set(services)
        assert not missing, f"{name} depends on unknown {sorted(missing)}"


def test_every_variable_the_compose_file_uses_is_documented_in_env_sample(
    compose: dict[str, Any],
) -> None:
    used = interpolated(compose)
    assert {"POSTGRES_DB", "PGDATA"} <= used  # the scan sees them
    undocumented = used - documented_variables()
    assert not undocumented, f"document {sorted(undocumented)} in .env.sample"


def test_compose_variables_scan_skips_escaped_dollars() -> None:
    assert interpolated(["$${POSTGRES_USER} ${A:-x} ${B:?y} $C"]) == {"A", "B", "C"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_api_and_bot_wait_for_healthy_database_and_redis_and_a_finished_migration(
    services: dict[str, Any], name: str
) -> None:
    assert depends_on(services[name]) == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "migrate": "service_completed_successfully",
    }


def test_migration_waits_for_a_healthy_database(services: dict[str, Any]) -> None:
    assert depends_on(services["migrate"]) == {"postgres": "service_healthy"}


def test_services_waited_on_have_healthchecks(services: dict[str, Any]) -> None:
    postgres = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in postgres
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_migrate_runs_referral_migrate_once(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"


def test_one_image_runs_every_role_with_a_real_subcommand(services: dict[str, Any]) -> None:
    from core.cli import build_parser

    images = {(services[name]["build"], services[name]["image"]) for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        build_parser().parse_args(services[name]["command"])  # exits on an unknown command
    assert services["bot"]["command"] == ["bot"]


def test_postgres_keeps_its_data_in_a_named_volume_at_pgdata(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    postgres = services["postgres"]
    pgdata = postgres["environment"]["PGDATA"]
    assert pgdata.startswith("${PGDATA")
    volume, _, target = postgres["volumes"][0].partition(":")
    assert target == pgdata
    assert volume in compose["volumes"]


def test_postgres_credentials_come_from_the_original_env_names(services: dict[str, Any]) -> None:
    environment = services["postgres"]["environment"]
    for name in ("POSTGRES_DB", "POSTGRES_USER"):
        assert environment[name].startswith(f"${{{name}"), name
    # The password is the same secret file the app services read (the image's *_FILE support).
    assert environment["POSTGRES_PASSWORD_FILE"] == SECRETS_DIR + "postgres_password"
    assert "POSTGRES_PASSWORD" not in environment
    assert services["postgres"]["secrets"] == ["postgres_password"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_read_env_and_reach_postgres_and_redis_by_service_name(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    assert service["env_file"] == ".env"
    environment = service["environment"]
    assert environment["POSTGRES_HOST"] == "postgres"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["API_HOST"] == "0.0.0.0"


def test_only_env_and_the_secrets_switch_the_service_to_the_compose_database(
    compose: dict[str, Any],
    services: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """.env.sample as it ships, the secret files as the docs write them, and the compose
    environment (with /run/secrets/ standing for the secrets' directory): PostgreSQL."""
    for model_field in Settings.model_fields.values():
        if model_field.alias:
            monkeypatch.delenv(model_field.alias, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_SAMPLE.read_text())
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    written = {"secret_key": "k" * 48, "postgres_password": "s3cret", "sms_key": "key"}
    for name, spec in compose["secrets"].items():
        (secrets / Path(spec["file"]).name).write_text(written.get(name, "") + "\n")
    for key, value in services["api"]["environment"].items():
        monkeypatch.setenv(key, value.replace(SECRETS_DIR, f"{secrets}/"))

    settings = Settings(_env_file=env_file)

    assert settings.db_url == "postgresql+asyncpg://referral:s3cret@postgres:5432/referral"
    assert settings.secret_key.get_secret_value() == "k" * 48
    assert settings.sms_key is not None and settings.sms_key.get_secret_value() == "key"
    assert settings.bot_token is None  # an empty secret file: no bot
    assert settings.redis_url is not None
    assert settings.redis_url.get_secret_value() == "redis://redis:6379/0"
    assert settings.api_host == "0.0.0.0"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_read_every_secret_from_a_compose_secret_not_the_environment(
    compose: dict[str, Any], services: dict[str, Any], name: str
) -> None:
    service = services[name]
    environment = service["environment"]
    file_variables = {f"{secret.upper()}_FILE" for secret in SECRET_FILES}
    assert file_variables <= set(environment)
    for secret in SECRET_FILES:
        assert secret.upper() not in environment
        path = environment[f"{secret.upper()}_FILE"]
        assert path.startswith(SECRETS_DIR)
        assert path.removeprefix(SECRETS_DIR) in service["secrets"]
    assert set(service["secrets"]) <= set(compose["secrets"])


def test_every_secret_is_a_file_under_secrets_kept_out_of_git_and_the_image(
    compose: dict[str, Any],
) -> None:
    assert set(compose["secrets"]) == set(SECRET_FILES)
    for name, spec in compose["secrets"].items():
        assert spec == {"file": f"./secrets/{name}"}
        assert dockerignored(f"secrets/{name}")
    assert "secrets/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_read_only_without_capabilities_and_with_a_memory_limit(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "cap_add" not in service
    assert "no-new-privileges:true" in service["security_opt"]
    assert "/tmp" in service["tmpfs"]
    limit = service["mem_limit"]
    assert re.fullmatch(r"[1-9][0-9]*[mg]", limit), limit


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_healthcheck_so_up_wait_works(
    services: dict[str, Any], name: str
) -> None:
    """`docker compose up --wait` fails on a service whose healthcheck is disabled
    (docker/compose#13522); the api inherits the image's, the bot has its own."""
    healthcheck = services[name].get("healthcheck", {})
    assert not healthcheck.get("disable", False)
    assert healthcheck.get("test", ["CMD"]) != ["NONE"]


def test_the_bot_starts_only_with_its_profile(services: dict[str, Any]) -> None:
    assert services["bot"]["profiles"] == ["bot"]
    for name, service in services.items():
        if name != "bot":
            assert "profiles" not in service, name  # `docker compose up -d` starts them


def test_api_publishes_the_port_it_listens_on(services: dict[str, Any]) -> None:
    (mapping,) = services["api"]["ports"]
    # host[:ip]:port:container_port, the container side being API_PORT (read from .env too).
    assert mapping.endswith(":${API_PORT:-8000}:${API_PORT:-8000}")


def test_docker_waits_longer_than_the_graceful_shutdown(services: dict[str, Any]) -> None:
    from core.runtime import GRACEFUL_SHUTDOWN_SECONDS

    for name in LONG_RUNNING:
        grace = services[name]["stop_grace_period"]
        assert grace.endswith("s")
        assert int(grace[:-1]) > GRACEFUL_SHUTDOWN_SECONDS, name


def test_api_workers_share_metrics_through_a_fresh_tmpfs(services: dict[str, Any]) -> None:
    api = services["api"]
    directory = api["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert any(mount.split(":")[0] == directory for mount in api["tmpfs"])


# ----- the Dockerfile ----------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def dockerfile_stages() -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults and the stages, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        instruction, args = instruction.upper(), " ".join(args.split())
        if instruction == "FROM":
            words = args.split()
            base = words[0]
            for key, default in global_args.items():
                base = base.replace(f"${{{key}}}", default)
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif not stages and instruction == "ARG":
            key, _, default = args.partition("=")
            global_args[key] = default
        elif stages:
            stages[-1].instructions.append((instruction, args))
    return global_args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return dockerfile_stages()[1]


def test_image_is_multi_stage_on_one_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    assert {stage.base for stage in stages} == {"python:3.11-slim"}


def test_dependencies_are_installed_from_uv_lock_with_uv(stages: list[Stage]) -> None:
    builder = stages[0]
    runs = " && ".join(builder.args("RUN"))
    assert "pip install" in runs
    assert "uv==" in runs
    syncs = re.findall(r"uv sync[^&;|]*", runs)
    assert syncs
    for sync in syncs:
        assert "--locked" in sync, sync
        assert "--no-dev" in sync, sync
    assert any("uv.lock" in copy for copy in builder.args("COPY"))
    for stage in stages:
        for run in stage.args("RUN"):
            assert "pip install -r" not in run
            assert "uv pip install" not in run
            assert "uv lock" not in run


def test_final_stage_has_only_the_venv_and_the_code_and_no_build_tools(
    stages: list[Stage],
) -> None:
    final = stages[-1]
    for copy in final.args("COPY"):
        assert copy.startswith(f"--from={stages[0].name} "), copy
    runs = " ".join(final.args("RUN"))
    for tool in ("gcc", "build-essential", "apt-get", "make ", "pip install", "uv "):
        assert tool not in runs, tool


def test_the_build_pulls_no_dockerfile_frontend_image() -> None:
    # A `# syntax=` directive makes BuildKit pull that image before building anything.
    first_lines = DOCKERFILE.read_text().splitlines()[:5]
    assert not [line for line in first_lines if re.match(r"#\s*syntax\s*=", line, re.IGNORECASE)]


def test_the_lock_holds_phonenumberslite_and_no_setuptools() -> None:
    import tomllib

    locked = {
        package["name"] for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    assert "phonenumberslite" in locked
    assert not {"phonenumbers", "setuptools"} & locked  # ~50 MB of data and a build tool


def test_no_code_needs_the_data_phonenumberslite_leaves_out() -> None:
    pattern = re.compile(r"\b(geocoder|carrier|timezone|geodata|carrierdata|tzdata)\b")
    for package in ("core", "db", "bot"):
        for path in (ROOT / package).rglob("*.py"):
            for line in path.read_text().splitlines():
                if "phonenumbers" in line:
                    assert not pattern.search(line), f"{path}: {line}"


def test_image_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    users = stages[-1].args("USER")
    assert users
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_image_has_one_entrypoint_for_every_role_and_serves_the_api_by_default(
    stages: list[Stage],
) -> None:
    final = stages[-1]
    assert final.args("ENTRYPOINT") == ['["referral"]']
    assert final.args("CMD") == ['["api", "--host", "0.0.0.0"]']


def test_image_healthcheck_asks_healthz_with_urllib(stages: list[Stage]) -> None:
    from core.api.routes.health import router

    (healthcheck,) = stages[-1].args("HEALTHCHECK")
    assert "urllib.request" in healthcheck
    path = router.url_path_for("healthz")
    assert f"{path}'" in healthcheck


def test_image_holds_every_package_and_the_migrations(stages: list[Stage]) -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {word for copy in stages[0].args("COPY") for word in copy.split()[:-1]}
    for needed in [*packages, "pyproject.toml", "uv.lock"]:
        assert needed in copied, needed
        assert not dockerignored(needed), needed


# ----- .dockerignore -----------------------------------------------------------------------


def _pattern(glob: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif glob.startswith("**", i):
            out += ".*"
            i += 2
        elif glob[i] == "*":
            out += "[^/]*"
            i += 1
        elif glob[i] == "?":
            out += "[^/]"
            i += 1
        elif glob[i] == "[":
            end = glob.index("]", i)
            out += glob[i : end + 1]
            i = end + 1
        else:
            out += re.escape(glob[i])
            i += 1
    return re.compile(out + r"\Z")


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _pattern(line.removeprefix("!").strip("/"))
        if any(pattern.match(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


@pytest.mark.parametrize(
    "path",
    [".env", ".git/config", ".venv/bin/python", "var/referral.sqlite3", "tests/conftest.py"],
)
def test_build_context_leaves_out_secrets_and_local_state(path: str) -> None:
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "core/cli.py",
        "db/migrations/env.py",
        "bot/locales/ru/LC_MESSAGES/messages.mo",  # the compiled catalogs the bot reads
        "uv.lock",
    ],
)
def test_build_context_keeps_the_code_and_its_data(path: str) -> None:
    assert (ROOT / path).exists()
    assert not dockerignored(path)


def test_build_context_leaves_out_bytecode_inside_packages() -> None:
    assert dockerignored("core/__pycache__/cli.cpython-311.pyc")
