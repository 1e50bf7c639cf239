"""Production settings (DEBUG off, SECRET_KEY and ALLOWED_HOSTS set) are hardened: `check --deploy`
has nothing to say, cookies are secure, HSTS is on, the CSP is enforced, superusers need 2FA, and
webhooks cannot target private addresses. Loaded in a subprocess with a production environment."""

import json
import secrets

import pytest
from django.test import Client

from tests.config.test_settings import run

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "loyalty.example.com",
}
PRINT = (
    "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps({"
    "'debug': s.DEBUG, 'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
    "'session_httponly': s.SESSION_COOKIE_HTTPONLY, 'hsts': s.SECURE_HSTS_SECONDS,"
    "'hsts_sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'ssl_redirect': s.SECURE_SSL_REDIRECT,"
    "'csp': s.CONTENT_SECURITY_POLICY, 'csp_report_only': getattr(s, 'CONTENT_SECURITY_POLICY_REPORT_ONLY', None),"
    "'otp_superusers': s.OTP_REQUIRED_FOR_SUPERUSERS, 'webhook_private': s.WEBHOOK_ALLOW_PRIVATE_TARGETS,"
    "'middleware': s.MIDDLEWARE, 'x_frame': s.X_FRAME_OPTIONS}))"
)


@pytest.fixture(scope="module")
def production() -> dict:
    result = run(["-c", PRINT], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_reports_nothing_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_cookies_are_secure_and_hsts_is_on(production):
    assert production["debug"] is False
    assert production["session_secure"] is True
    assert production["csrf_secure"] is True
    assert production["session_httponly"] is True
    assert production["hsts"] >= 365 * 24 * 3600
    assert production["hsts_sub"] is True
    assert production["ssl_redirect"] is True
    assert production["x_frame"] == "DENY"


def test_the_csp_is_enforced_and_allows_no_inline_script(production):
    directives = production["csp"]["DIRECTIVES"]
    assert production["csp_report_only"] is None
    assert "csp.middleware.CSPMiddleware" in production["middleware"]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe-eval" in v or "http" in v for values in directives.values() for v in values)


def test_superusers_need_two_factor_and_webhooks_stay_public_in_production(production):
    assert production["otp_superusers"] is True
    assert production["webhook_private"] is False
    assert "django_otp.middleware.OTPMiddleware" in production["middleware"]


def test_responses_carry_the_csp_and_hsts_headers(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = False
    response = Client().get("/signin/", secure=True)
    assert response.status_code == 200
    # django-csp writes the directives in no fixed order: compare them as a mapping.
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
