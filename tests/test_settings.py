"""Settings come from the environment, strictly parsed; production values pass check --deploy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import path

ROOT = Path(__file__).resolve().parent.parent
SERVER_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    env = os.environ.copy()
    for test_only in ("WHITENOISE_USE_FINDERS", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(test_only, None)
    env.update(
        DEBUG="false",
        HTTPS="true",
        BEHIND_PROXY="true",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="msp.example.com",
        CSRF_TRUSTED_ORIGINS="https://msp.example.com",
        MSP_OPS_DATA_DIR=str(tmp_path),
    )
    return env  # DATABASE_URL and REDIS_URL: the harness's PostgreSQL and Redis


def test_check_deploy_reports_nothing_in_production(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_check_deploy_names_what_is_missing_without_https(production_env):
    production_env["HTTPS"] = "false"
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 1
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean; use true or false."),
        ("HTTPS", "yes please", "HTTPS='yes please' is not a boolean; use true or false."),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT='twenty-five' is not a whole number."),
        (
            "LOG_LEVEL",
            "verbose",
            "LOG_LEVEL='verbose' is not a log level; use DEBUG, INFO, WARNING, ERROR or CRITICAL.",
        ),
        (
            "API_THROTTLE_RATE",
            "100/fortnight",
            "API_THROTTLE_RATE='100/fortnight' is not a rate; use requests/period, e.g. 6000/min"
            " (period: s, min, hour or day).",
        ),
        (
            "DATABASE_URL",
            "postgres//db/msp_ops",
            "DATABASE_URL='postgres//db/msp_ops' is not a database URL; use postgres://user:password@host:5432/name.",
        ),
        (
            "DATABASE_URL",
            "",
            "DATABASE_URL='' is not a database URL; use postgres://user:password@host:5432/name.",
        ),
        (
            "DATABASE_URL",
            "mysql://db/msp_ops",
            "DATABASE_URL='mysql://db/msp_ops': msp-ops runs on PostgreSQL (or SQLite, the embedded default);"
            " use postgres://user:password@host:5432/name.",
        ),
        (
            "ADMINS",
            "Ops, ops@example.com",
            "ADMINS: 'Ops' is not an address; use Name <user@example.com>, ...",
        ),
    ],
)
def test_a_mistyped_value_stops_the_app_naming_the_variable(production_env, name, value, message):
    production_env[name] = value
    result = manage("check", env=production_env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"msp-ops: {message}"  # the one line, no traceback


def test_an_empty_value_is_the_default_and_levels_take_any_case(production_env):
    # HTTPS on: HSTS preload defaults on; "SECURE_HSTS_PRELOAD=" in an .env file keeps it on.
    production_env.update(SECURE_HSTS_PRELOAD="", EMAIL_PORT="", LOG_LEVEL="warning", API_THROTTLE_RATE="")
    production_env["ADMINS"] = "Ops desk <ops@example.com>, dev@example.com"
    show = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_PRELOAD, s.EMAIL_PORT,"
        " s.LOGGING['root']['level'], s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['api_token'], s.ADMINS)"
    )
    result = manage("shell", "-c", show, env=production_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "True 25 WARNING 6000/min [('Ops desk', 'ops@example.com'), ('dev@example.com', 'dev@example.com')]"
    )


PRINT_SETTINGS = """
from django.conf import settings
from django.db import connection
print(json.dumps({
    "db": connection.vendor, "db_name": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL, "results": settings.CELERY_RESULT_BACKEND,
    "queue": settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"],
    "debug": settings.DEBUG, "key": settings.SECRET_KEY,
}))
"""


def test_with_nothing_set_the_embedded_default_applies(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARS}
    env["MSP_OPS_DATA_DIR"] = str(tmp_path)
    result = manage("shell", "-c", f"import json\n{PRINT_SETTINGS}", env=env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["db"] == "sqlite"  # the embedded default's file database, in the data directory
    assert Path(found["db_name"]).parent == tmp_path
    assert found["broker"] == "filesystem://"
    assert found["results"] is None
    assert found["queue"] == str(tmp_path / "broker" / "queue")
    assert found["debug"] is False
    # A random key is generated once into the data directory and reused afterwards.
    assert found["key"] == (tmp_path / "secret_key").read_text().strip()
    assert len(found["key"]) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_healthz_answers_on_any_host_over_plain_http(client, settings, db):
    settings.ALLOWED_HOSTS = ["msp.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz/", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    # Everything else still refuses a foreign host.
    assert client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def _broken_view(request):
    raise RuntimeError("the PSA sent something odd")


urlpatterns = [path("broken/", _broken_view)]


@override_settings(ROOT_URLCONF=__name__, ADMINS=[("Ops", "ops@example.com")], DEBUG=False)
def test_a_server_error_mails_the_admins(client, db, mailoutbox):
    client.raise_request_exception = False
    assert client.get("/broken/").status_code == 500
    [mail] = mailoutbox  # Django's mail_admins handler (the app's LOGGING keeps Django's own)
    assert mail.to == ["ops@example.com"]
    assert "RuntimeError at /broken/\nthe PSA sent something odd" in mail.body
