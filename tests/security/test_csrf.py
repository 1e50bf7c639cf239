"""CSRF: every member-page URL rejects a POST without a token, and nothing outside the partner API
is exempt, except the RFC 8058 one-click unsubscribe (which uses no session: the signed link is the
credential, and mail providers post it without cookies)."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.members.pages.conftest import signup

pytestmark = pytest.mark.django_db

# Not member pages: the partner API (no cookies, API keys), its schema/docs, the admin (Django's
# own CSRF-protected forms) and the health probe.
NOT_MEMBER_PAGES = ("admin/", "api/", "healthz")
# The one exemption, and why it is safe.
EXEMPT = {
    "members:unsubscribe": "RFC 8058 one-click POST from mail providers; no session, signed link",
    "campaigns:sms_status": "Twilio's delivery callback; no session, its X-Twilio-Signature is checked",
}
# Email providers' tracking webhooks (django-anymail): no session; ANYMAIL_WEBHOOK_SECRET (basic auth).
PROVIDER_WEBHOOKS = ("anymail:",)
SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "x"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + route, ns)
        elif isinstance(entry, URLPattern):
            yield prefix + route, f"{namespace}{entry.name}", entry


def _concrete(route: str) -> str:
    """A path for a route: each <converter:name> filled with a sample value (CSRF refuses before the
    view runs, so the object need not exist)."""
    import re

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)


def member_routes():
    return [
        (route, name, entry)
        for route, name, entry in _walk(get_resolver().url_patterns)
        if not route.startswith(NOT_MEMBER_PAGES) and "(?P" not in route
    ]


def test_the_walk_finds_every_member_form():
    names = {name for _, name, _ in member_routes()}
    assert {
        "members:signup",
        "members:signin",
        "members:profile",
        "members:profile_password",
        "members:profile_delete",
        "members:membership_subscribe",
        "rewards:redeem",
        "feedback:answer",
        "feedback:tickets",
        "feedback:ticket",
        "set_language",
    } <= names


def test_every_member_page_refuses_a_post_without_a_csrf_token(program):
    member = signup(program, email="csrf@example.com")
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(member.user)
    anonymous = Client(enforce_csrf_checks=True)
    accepted = []
    for route, name, _ in member_routes():
        if name in EXEMPT or name.startswith(PROVIDER_WEBHOOKS):
            continue
        path = _concrete(route)
        for client in (anonymous, signed_in):
            response = client.post(path, {"email": "x@example.com"})
            if response.status_code != 403 or b"CSRF" not in response.content:
                accepted.append((name, path, response.status_code))
    assert accepted == []


def test_no_view_outside_the_api_is_csrf_exempt():
    exempt = {
        name
        for route, name, entry in _walk(get_resolver().url_patterns)
        if getattr(entry.callback, "csrf_exempt", False) and not route.startswith("api/")
    }
    assert {name for name in exempt if not name.startswith(PROVIDER_WEBHOOKS)} == set(EXEMPT)
    assert all(name.endswith("_tracking_webhook") for name in exempt if name.startswith(PROVIDER_WEBHOOKS))


def test_the_exempt_unsubscribe_needs_a_valid_signed_link(program):
    member = signup(program, email="unsub@example.com", consent_email=True)
    response = Client(enforce_csrf_checks=True).post("/unsubscribe/forged/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.consent_email is True
