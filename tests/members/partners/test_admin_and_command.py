"""Keys from admin and from `manage.py partner_key`; the demo key; the API admin pages."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from members.demo import DEMO_SLUG
from members.models import LedgerEntry, PartnerAPIKey, Program, RuleRevision, WebhookEndpoint
from tests.conftest import PartnerFactory


def _works(key: str, member) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.get(f"/api/v1/members/{member.number}").status_code == 200


def test_partner_key_command_prints_a_working_key_once(partner, member):
    out = io.StringIO()
    call_command("partner_key", partner.name, stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    assert _works(key, member)
    assert PartnerAPIKey.objects.get(partner=partner).prefix == key.split(".")[0]


def test_partner_key_command_needs_the_program_when_names_clash(partner):
    PartnerFactory(name=partner.name)
    with pytest.raises(CommandError, match="--program"):
        call_command("partner_key", partner.name, stdout=io.StringIO())
    out = io.StringIO()
    call_command("partner_key", partner.name, "--program", partner.program.slug, stdout=out, stderr=io.StringIO())
    assert PartnerAPIKey.objects.filter(partner=partner).count() == 1


def test_partner_key_command_refuses_an_unknown_partner(db):
    with pytest.raises(CommandError, match="No partner"):
        call_command("partner_key", "Nobody", stdout=io.StringIO())


def test_admin_creates_a_key_and_shows_it_once(admin_client, partner, member):
    response = admin_client.post(
        "/admin/members/partnerapikey/add/",
        {"partner": partner.pk, "name": "till 4", "rate_limit": "100/min"},
        follow=True,
    )
    assert response.status_code == 200
    shown = next(str(m) for m in response.context["messages"] if "API key" in str(m))
    key = shown.split(": ")[1].split(". ")[0]
    assert _works(key, member)
    assert PartnerAPIKey.objects.get(partner=partner).rate_limit == "100/min"


def test_admin_refuses_a_malformed_rate(admin_client, partner):
    response = admin_client.post(
        "/admin/members/partnerapikey/add/", {"partner": partner.pk, "name": "till", "rate_limit": "fast"}
    )
    assert response.status_code == 200
    assert not PartnerAPIKey.objects.exists()


def test_admin_revoke_action_stops_the_key(admin_client, api, member):
    assert api.get(f"/api/v1/members/{member.number}").status_code == 200
    api_key = PartnerAPIKey.objects.get()
    admin_client.post("/admin/members/partnerapikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert api.get(f"/api/v1/members/{member.number}").status_code == 401


def test_admin_registers_a_webhook_endpoint_with_a_generated_secret(admin_client, partner):
    form = admin_client.get("/admin/members/webhookendpoint/add/")
    secret = form.context["adminform"].form.fields["secret"].initial
    assert secret.startswith("whsec_")
    admin_client.post(
        "/admin/members/webhookendpoint/add/",
        {
            "partner": partner.pk,
            "url": "https://shop.example.com/hooks",
            "events": ["points.earned"],
            "secret": secret,
            "is_active": "on",
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["points.earned"]


@pytest.mark.parametrize("page", ["partnerapikey", "idempotencykey", "webhookendpoint", "webhookdelivery"])
def test_api_admin_pages_load(admin_client, api, member, page):
    api.post("/api/v1/members", {"email": "x@example.com"}, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert admin_client.get(f"/admin/members/{page}/").status_code == 200


def test_seed_demo_prints_a_working_key_and_revokes_the_previous_one(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if "FIDELIS_KEY=" in line)
    first = line.split("FIDELIS_KEY=")[1]
    member = Program.objects.get(slug=DEMO_SLUG).members.first()
    assert _works(first, member)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    second = next(line for line in out.getvalue().splitlines() if "FIDELIS_KEY=" in line).split("FIDELIS_KEY=")[1]
    assert _works(second, member)
    assert not _works(first, member)
    # The rules' history (README, "Rule revisions"), once however often the demo is seeded.
    revisions = list(RuleRevision.objects.filter(program=member.program).order_by("number"))
    assert [r.status for r in revisions] == ["published"] * 3 + ["scheduled"]
    assert LedgerEntry.objects.filter(program=member.program, kind="earn", rule_revision=revisions[0]).exists()
