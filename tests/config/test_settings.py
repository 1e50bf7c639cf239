"""Settings come from the environment: defaults for a newcomer, strict values for production."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'debug': settings.DEBUG, 'db': settings.DATABASES['default']['ENGINE'], "
    "'db_name': str(settings.DATABASES['default']['NAME']), 'eager': settings.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': settings.CELERY_BROKER_URL, 'cache': settings.CACHES['default']['BACKEND'], "
    "'email': settings.EMAIL_BACKEND, 'languages': [c for c, _ in settings.LANGUAGES], "
    "'hsts': settings.SECURE_HSTS_SECONDS, 'ssl_redirect': settings.SECURE_SSL_REDIRECT}))"
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": "/dev/null",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def load(**env: str) -> dict:
    result = run(["-c", PRINT_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_for_a_newcomer_are_sqlite_eager_celery_and_console_email():
    values = load(DEBUG="true")
    assert values["debug"] is True
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["db_name"] == str(ROOT / "db.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == "memory://localhost/"
    assert values["cache"].endswith("LocMemCache")
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["languages"] == ["en", "ro", "it", "ru"]


def test_database_and_redis_urls_switch_to_postgres_and_a_real_broker():
    values = load(
        DEBUG="true", DATABASE_URL="postgres://u:p@db.internal:5432/loyalty", REDIS_URL="redis://cache:6379/2"
    )
    assert values["db"] == "django.db.backends.postgresql"
    assert values["db_name"] == "loyalty"
    assert values["eager"] is False
    assert values["broker"] == "redis://cache:6379/2"
    assert values["cache"].endswith("RedisCache")


def test_secret_key_is_required_when_debug_is_off():
    result = run(["-c", PRINT_SETTINGS], DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_are_hardened():
    values = load(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50))
    assert values["debug"] is False
    assert values["hsts"] >= 31536000
    assert values["ssl_redirect"] is True


def test_check_deploy_is_clean_with_production_values():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="loyalty.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "name", ["DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "ALLOWED_HOSTS", "TIME_ZONE"]
)
def test_env_example_documents_every_variable(name):
    assert f"{name}=" in (ROOT / ".env.example").read_text()
