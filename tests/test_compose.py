"""The container setup, checked without a Docker engine: docker-compose.yml, the Dockerfile and .dockerignore.

The compose file is read with PyYAML (anchors and merge keys resolved, as compose does) and validated against the
compose specification with check-jsonschema. The app environment is checked against the variables that
config/settings.py really reads, found by parsing its source, so renaming a variable on either side fails here.
"""

import ast
import fnmatch
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SETTINGS_FILE = ROOT / "config" / "settings.py"

BACKING_SERVICES = ("postgres", "redis", "mailpit")
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_SERVICES = ("postgres", "redis", "mailpit", "web", "worker", "beat")
# What every app process needs to start on the full stack.
REQUIRED_APP_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "SECURE_SSL_REDIRECT",
}
# Read by a program in the container rather than by the settings (gunicorn's number of workers).
PROCESS_VARIABLES = {"WEB_CONCURRENCY"}

# ${NAME:-default}, ${NAME-default}, ${NAME}, $NAME, and $$ (a literal dollar sign).
_COMPOSE_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:?-)(?P<default>[^}]*))?\}|(?P<bare>\w+))"
)


def interpolate(value: str) -> str:
    """The value compose gives `value` when no variable is set in the environment or an .env file."""

    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        if match["op"]:
            return match["default"]
        raise AssertionError(f"{match[0]} in {value!r} has no default: `docker compose up` would need it set")

    return _COMPOSE_VARIABLE.sub(replace, value)


def settings_variables() -> set[str]:
    """Every NAME in an env("NAME", ...) or env.<cast>("NAME", ...) call in config/settings.py."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def as_argv(command) -> list[str]:
    """A compose `command` or healthcheck, in either of its forms, as a list of arguments."""
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment_of(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_cmd() -> list[str]:
    cmd = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert cmd, "the Dockerfile has no CMD"
    return json.loads(cmd[-1])


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def app_environment(services) -> dict[str, str]:
    """The web service's environment, with compose's defaults filled in."""
    return {name: interpolate(value) for name, value in environment_of(services["web"]).items()}


# --- The compose file as a whole ------------------------------------------------------------------------------


def test_the_compose_file_is_valid_against_the_compose_specification():
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stack_has_exactly_the_expected_services(services):
    assert set(services) == set(BACKING_SERVICES + APP_SERVICES)


def test_every_variable_has_a_default_so_the_stack_starts_with_nothing_set(compose):
    def strings(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from strings(key)
                yield from strings(value)
        elif isinstance(node, list):
            for item in node:
                yield from strings(item)
        elif isinstance(node, str):
            yield node

    for value in strings(compose):
        interpolate(value)  # raises on a ${NAME} without a default


def test_every_restart_policy_is_one_compose_knows(services):
    # The compose schema only asks for a string here; an unquoted `no` would even load as a boolean.
    for name, service in services.items():
        restart = service.get("restart", "no")
        assert isinstance(restart, str), f"{name}: restart is {restart!r}; quote it"
        assert re.fullmatch(r"no|always|unless-stopped|on-failure(:\d+)?", restart), f"{name}: restart {restart!r}"


@pytest.mark.parametrize("name", LONG_RUNNING_SERVICES)
def test_every_long_running_service_has_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name}'s healthcheck is disabled"
    test = healthcheck.get("test")
    assert test, f"{name}'s healthcheck has no test"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}'s healthcheck test is {test!r}"
        assert len(test) > 1, f"{name}'s healthcheck runs nothing"
        assert all(str(part).strip() for part in test[1:])
    else:
        assert test.strip()
        assert test.strip() != "NONE"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli ping"),
        ("mailpit", "/mailpit readyz"),
        ("worker", "celery -A config inspect ping -d celery@$$HOSTNAME"),
        ("web", "/healthz"),
        ("beat", "check_broker"),
    ],
)
def test_each_healthcheck_asks_the_service_itself(services, name, expected):
    test = services[name]["healthcheck"]["test"]
    assert expected in " ".join(as_argv(test)[1:])


def test_the_web_healthcheck_uses_python_not_curl(services):
    argv = as_argv(services["web"]["healthcheck"]["test"])
    assert argv[:3] == ["CMD", "python", "-c"]
    assert "urllib.request" in argv[3]
    assert "http://127.0.0.1:8000/healthz" in argv[3]


def test_the_backing_services_use_the_versions_we_run_against(services):
    assert re.fullmatch(r"postgres:1[56](\.\d+)*(-\w+)?", services["postgres"]["image"])
    assert re.fullmatch(r"redis:7(\.\d+)*(-\w+)?", services["redis"]["image"])
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")


def test_postgres_keeps_its_data_in_a_named_volume(compose, services):
    volumes = [str(volume) for volume in services["postgres"]["volumes"]]
    data = [volume for volume in volumes if volume.endswith(":/var/lib/postgresql/data")]
    assert data, volumes
    assert data[0].split(":", 1)[0] in compose["volumes"]


def test_mailpit_serves_its_interface_and_receives_smtp_on_the_usual_ports(services):
    published = {str(port).rsplit(":", 1)[-1] for port in services["mailpit"]["ports"]}
    assert {"8025", "1025"} <= published


# --- The app services -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_app_services_build_one_image_from_the_dockerfile(services, name):
    service = services[name]
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    dockerfile = COMPOSE_FILE.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    assert dockerfile.resolve() == DOCKERFILE
    assert service["image"] == services["web"]["image"]


def test_migrate_is_a_one_shot_job(services):
    migrate = services["migrate"]
    argv = as_argv(migrate["command"])
    assert argv[:3] == ["python", "manage.py", "migrate"]
    assert "--noinput" in argv
    assert migrate["restart"] == "no"
    # The image's HEALTHCHECK asks the web server, which a migration job never runs.
    assert migrate["healthcheck"] == {"disable": True}


def test_web_runs_gunicorn_on_the_published_port(services):
    web = services["web"]
    argv = as_argv(web["command"])
    assert argv[:2] == ["gunicorn", "config.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert argv[argv.index("--access-logfile") + 1] == "-"
    assert "8000:8000" in [str(port) for port in web["ports"]]


def test_web_runs_the_same_command_as_the_image(services):
    assert as_argv(services["web"]["command"]) == dockerfile_cmd()


def test_the_worker_runs_celery_workers(services):
    assert as_argv(services["worker"]["command"])[:4] == ["celery", "-A", "config", "worker"]


def test_beat_runs_celery_beat_on_the_database_scheduler(services, settings):
    argv = as_argv(services["beat"]["command"])
    assert argv[:4] == ["celery", "-A", "config", "beat"]
    # No scheduler on the command line: beat uses the setting, the schedule kept in django-celery-beat's tables.
    assert not {"-S", "--scheduler"} & set(argv)
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_app_services_get_every_variable_they_need(services, name):
    missing = REQUIRED_APP_VARIABLES - set(environment_of(services[name]))
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_settings_reads_the_variables_the_stack_relies_on():
    # Also proves the parser still finds env(...) calls: an empty set would make the next test pass vacuously.
    assert settings_variables() >= REQUIRED_APP_VARIABLES | {"SECURE_PROXY_SSL_HEADER"}


def test_the_shared_app_environment_names_only_variables_settings_reads(compose):
    unknown = set(compose["x-app-environment"]) - settings_variables()
    assert not unknown, f"config/settings.py reads none of {sorted(unknown)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_names_only_variables_something_reads(services, name):
    unknown = set(environment_of(services[name])) - settings_variables() - PROCESS_VARIABLES
    assert not unknown, f"{name} sets {sorted(unknown)}, which config/settings.py does not read"


def test_the_app_services_share_one_environment(services):
    shared = environment_of(services["migrate"])
    for name in APP_SERVICES:
        environment = environment_of(services[name])
        assert {key: environment[key] for key in shared} == shared, name


def test_the_app_runs_as_in_production_but_on_plain_http(app_environment):
    assert environ.Env.parse_value(app_environment["DEBUG"], bool) is False
    assert environ.Env.parse_value(app_environment["SECURE_SSL_REDIRECT"], bool) is False
    assert environ.Env.parse_value(app_environment.get("SECURE_PROXY_SSL_HEADER", "false"), bool) is False


def test_the_secret_key_comes_from_the_environment_with_a_marked_development_default(services):
    raw = environment_of(services["web"])["SECRET_KEY"]
    match = re.fullmatch(r"\$\{SECRET_KEY:-(?P<default>[^}]+)\}", raw)
    assert match, f"SECRET_KEY is {raw!r}: it must be ${{SECRET_KEY:-...}} so it can be set from outside"
    default = match["default"]
    assert "insecure" in default
    assert "development" in default
    assert len(default) >= 50  # Django's own minimum for a key that passes `check --deploy`


def test_the_database_url_points_at_the_postgres_service(services, app_environment):
    database = environ.Env.db_url_config(app_environment["DATABASE_URL"])
    postgres = {name: interpolate(value) for name, value in environment_of(services["postgres"]).items()}
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "postgres"
    assert database["PORT"] in {5432, "", None}
    assert database["NAME"] == postgres["POSTGRES_DB"]
    assert database["USER"] == postgres["POSTGRES_USER"]
    assert database["PASSWORD"] == postgres["POSTGRES_PASSWORD"]


def test_the_redis_url_points_at_the_redis_service(app_environment):
    url = urlsplit(app_environment["REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname == "redis"
    assert url.port in {6379, None}


def test_email_goes_to_mailpit_over_smtp(app_environment):
    email = environ.Env.email_url_config(app_environment["EMAIL_URL"])
    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert email["EMAIL_HOST"] == "mailpit"
    assert email["EMAIL_PORT"] == 1025
    assert app_environment["DEFAULT_FROM_EMAIL"]


def test_the_site_address_is_an_allowed_host_and_a_trusted_origin(app_environment):
    site = urlsplit(app_environment["SITE_URL"])
    allowed_hosts = [host.strip() for host in app_environment["ALLOWED_HOSTS"].split(",")]
    trusted_origins = [origin.strip() for origin in app_environment["CSRF_TRUSTED_ORIGINS"].split(",")]
    # The healthchecks ask /healthz with this host: one that is not allowed gets a 400 and never turns healthy.
    assert site.hostname in allowed_hosts
    assert f"{site.scheme}://{site.netloc}" in trusted_origins
    assert site.port == 8000


# --- Start-up order -------------------------------------------------------------------------------------------


def conditions(service: dict) -> dict[str, str]:
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in depends_on.items()}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("migrate", {"postgres": "service_healthy"}),
        (
            "web",
            {
                "migrate": "service_completed_successfully",
                "postgres": "service_healthy",
                "redis": "service_healthy",
            },
        ),
        ("worker", {"migrate": "service_completed_successfully", "redis": "service_healthy"}),
        ("beat", {"migrate": "service_completed_successfully", "redis": "service_healthy"}),
    ],
)
def test_each_app_service_waits_for_what_it_needs(services, name, expected):
    found = conditions(services[name])
    assert {dependency: found.get(dependency) for dependency in expected} == expected


def test_every_dependency_condition_can_be_met(services):
    for name, service in services.items():
        for dependency, condition in conditions(service).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            target = services[dependency]
            if condition == "service_healthy":
                healthcheck = target.get("healthcheck") or {}
                assert healthcheck.get("test"), f"{dependency} has no healthcheck, so it never turns healthy"
                assert not healthcheck.get("disable"), f"{dependency}'s healthcheck is off, so it never turns healthy"
            elif condition == "service_completed_successfully":
                assert target.get("restart") == "no", f"{dependency} is restarted, so it never completes"


# --- The image ------------------------------------------------------------------------------------------------


def test_the_image_is_python_3_11_slim():
    froms = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert froms
    assert froms[-1].split()[0].startswith("python:3.11-slim")


def test_the_image_installs_the_pinned_requirements():
    runs = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install\b.*-r requirements\.txt", run) for run in runs)


def test_the_image_collects_static_files_with_a_throwaway_build_secret():
    instructions = dockerfile_instructions()
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    collect = [run for run in runs if "collectstatic" in run]
    assert collect, "no RUN collects the static files"
    assert "--noinput" in collect[0]
    assert "DEBUG=false" in collect[0]
    assert "SECRET_KEY=" in collect[0]
    # The build secret is for that one step: none is baked into the image.
    for keyword, arguments in instructions:
        if keyword in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in arguments


def test_the_image_does_not_run_as_root():
    users = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "USER"]
    assert users, "the Dockerfile has no USER line"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_image_has_a_healthcheck_on_healthz_without_curl():
    healthchecks = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert healthchecks, "the Dockerfile has no HEALTHCHECK"
    assert "/healthz" in healthchecks[-1]
    assert "urllib.request" in healthchecks[-1]
    assert "curl" not in healthchecks[-1]


def test_the_image_serves_gunicorn_on_port_8000():
    instructions = dockerfile_instructions()
    assert ("EXPOSE", "8000") in instructions
    cmd = dockerfile_cmd()
    assert cmd[:2] == ["gunicorn", "config.wsgi:application"]
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    # The number of workers comes from WEB_CONCURRENCY (gunicorn's own variable), not a fixed flag.
    assert not {"-w", "--workers"} & set(cmd)
    assert any(keyword == "ENV" and "WEB_CONCURRENCY=" in arguments for keyword, arguments in instructions)


def test_the_build_context_leaves_out_local_state_and_keeps_what_the_image_needs():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern.removeprefix("**/")) for pattern in patterns)

    for path in (".venv", ".git", "db.sqlite3", "db.sqlite3-wal", "staticfiles", ".env", "__pycache__"):
        assert ignored(path), f"{path} would be sent to the build"
    for path in ("requirements.txt", "manage.py", "config", "static", "templates", "locale"):
        assert not ignored(path), f"{path} is needed in the image but ignored"
