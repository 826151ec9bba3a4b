"""docker-compose.yml, the Dockerfile and the configuration docs agree (no Docker engine here:
the files are parsed and checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "beat"]


def _command(service: str) -> str:
    command = SERVICES[service]["command"]
    return " ".join(command) if isinstance(command, list) else command


def _healthcheck(service: str) -> str:
    return " ".join(SERVICES[service]["healthcheck"]["test"])


def compose_variables() -> set[str]:
    # ${VAR}, ${VAR:-default}, ${VAR:?message}; "$${VAR}" is an escaped, in-container variable.
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))


def settings_variables() -> set[str]:
    source = (ROOT / "msp_ops" / "settings.py").read_text()
    return set(re.findall(r"""\benv(?:_[a-z_]+|\.db)?\(\s*["']([A-Z_][A-Z0-9_]*)["']""", source))


def env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s?([A-Z_][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def readme_reference_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_][A-Z0-9_]*)`", section, flags=re.MULTILINE))


def test_the_five_services_and_a_one_shot_migration():
    assert {"db", "redis", "web", "worker", "beat"} <= set(SERVICES)
    assert SERVICES["db"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert _command("migrate") == "python manage.py migrate --noinput"
    assert SERVICES["migrate"]["restart"] == "no"


def test_commands_run_gunicorn_worker_and_beat():
    assert _command("web").startswith("gunicorn msp_ops.wsgi --bind=0.0.0.0:8000")
    assert _command("worker").startswith("celery -A msp_ops worker")
    assert _command("beat").startswith("celery -A msp_ops beat")
    for service in ["migrate", *APP_SERVICES]:
        assert SERVICES[service]["build"] == "."
        assert SERVICES[service]["env_file"] == ".env"


def test_every_long_running_service_has_a_healthcheck():
    assert "pg_isready" in _healthcheck("db")
    assert _healthcheck("redis") == "CMD redis-cli ping"
    assert "http://127.0.0.1:8000/healthz/" in _healthcheck("web")
    assert "celery -A msp_ops inspect ping" in _healthcheck("worker")
    assert ".ping()" in _healthcheck("beat")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_healthy_servers_and_applied_migrations(service):
    assert SERVICES[service]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_app_services_use_postgres_and_redis_from_the_compose_network():
    env = SERVICES["web"]["environment"]
    assert env["DATABASE_URL"].endswith("@db:5432/${POSTGRES_DB:-msp_ops}")
    assert env["CELERY_BROKER_URL"] == env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose refuses to start without one
    assert all(SERVICES[s]["environment"] == env for s in ["migrate", "worker", "beat"])


def test_web_is_published_on_the_loopback_interface_unless_told_otherwise():
    # It trusts X-Forwarded-Proto (BEHIND_PROXY): reachable by anyone, a client could claim https.
    assert SERVICES["web"]["ports"] == ["${WEB_BIND:-127.0.0.1}:${WEB_PORT:-8000}:8000"]


def test_data_lives_in_named_volumes():
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "beatdata"}
    assert SERVICES["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert SERVICES["redis"]["volumes"] == ["redisdata:/data"]
    assert SERVICES["beat"]["volumes"] == ["beatdata:/app/data"]


def test_dockerfile_builds_a_non_root_gunicorn_image_with_collected_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nFROM python:3.11-slim\n" in dockerfile
    assert "python manage.py collectstatic --noinput" in dockerfile
    assert "\nUSER app\n" in dockerfile
    assert 'CMD ["gunicorn", "msp_ops.wsgi"' in dockerfile


def test_settings_reading_is_found_by_the_scan():
    # Guards the regex below against silently finding nothing.
    assert {
        "DATABASE_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "CELERY_BROKER_URL",
        "LOG_LEVEL",
        "API_THROTTLE_RATE",
        "ADMINS",
    } <= settings_variables()
    assert {"POSTGRES_PASSWORD", "SECRET_KEY", "WEB_PORT"} <= compose_variables()


@pytest.mark.parametrize("where", ["settings.py", "docker-compose.yml"])
def test_every_variable_is_documented_in_env_example_and_readme(where):
    used = settings_variables() if where == "settings.py" else compose_variables()
    assert used - env_example_variables() == set(), ".env.example misses these"
    assert used - readme_reference_variables() == set(), "README's configuration reference misses these"


def test_docs_list_no_variable_that_nothing_reads():
    read = settings_variables() | compose_variables() | {"POSTGRES_DB", "POSTGRES_USER"}
    assert env_example_variables() - read == set()
    assert readme_reference_variables() - read - {"PORT", "HOST", "PYTHON"} == set()  # bin/run's own
