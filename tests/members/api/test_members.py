"""Members endpoints: enrollment, lookup, profile (writable-field whitelist), balance, ledger."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from members import auth, services
from members.models import LedgerEntry, Member, MembershipPlan, Program
from tests.conftest import MemberFactory, ProgramFactory, TierFactory, purchase_body


def test_enroll_credits_the_welcome_gift_and_returns_the_member(api, program):
    Program.objects.filter(pk=program.pk).update(welcome_bonus=200)
    response = api.post(
        "/api/v1/members",
        {"email": "Ana@Example.com", "first_name": "Ana", "consent_email": True, "external_id": "CRM-1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "ana@example.com"
    assert body["points_available"] == 200
    assert body["consent_email"] is True
    assert Member.objects.get(number=body["number"]).program == program


def test_enroll_twice_with_the_same_email_is_a_conflict(api, member):
    response = api.post("/api/v1/members", {"email": member.email}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"


def test_enroll_with_an_invalid_email_names_the_field(api, program):
    response = api.post("/api/v1/members", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "email" in error["fields"]
    assert not Member.objects.exists()


def test_enroll_refuses_balance_and_tier_fields(api, program):
    response = api.post(
        "/api/v1/members", {"email": "a@example.com", "points_available": 10**6, "tier": "Gold"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"points_available", "tier"}
    assert not Member.objects.exists()


def test_enroll_with_an_unknown_referral_code_is_refused(api, program):
    response = api.post("/api/v1/members", {"email": "a@example.com", "referral_code": "NOPE1234"}, format="json")
    assert response.status_code == 404  # the code named in the body is not found, like an unknown member
    assert response.json()["error"]["code"] == "invalid_referral_code"


def test_get_member(api, member):
    response = api.get(f"/api/v1/members/{member.number}")
    assert response.status_code == 200
    assert response.json()["number"] == member.number


def test_lookup_by_email_phone_or_external_id(api, program):
    ana = MemberFactory(program=program, email="ana@example.com", phone="+40720000001", external_id="C-9")
    MemberFactory(program=program)
    for query in ("email=ANA@example.com", "phone=%2B40720000001", "external_id=C-9"):
        response = api.get(f"/api/v1/members?{query}")
        assert response.status_code == 200
        assert [m["number"] for m in response.json()["results"]] == [ana.number]


def test_lookup_without_a_filter_finds_nobody(api, member):
    # Partners find members, they never list the program: no criteria, an empty page (valid per the
    # schema, which cannot say "at least one of these query parameters").
    response = api.get("/api/v1/members")
    assert response.status_code == 200
    assert response.json()["count"] == 0 and response.json()["results"] == []


def test_lookup_page_size_is_capped(api, member):
    response = api.get(f"/api/v1/members?email={member.email}&page_size=5000")
    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]


def test_lookup_never_finds_members_of_another_program(api, foreign_member):
    response = api.get(f"/api/v1/members?email={foreign_member.email}")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_patch_changes_profile_and_consent(api, member):
    response = api.patch(
        f"/api/v1/members/{member.number}", {"phone": "+40721000222", "consent_sms": True}, format="json"
    )
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert member.phone == "+40721000222"
    assert member.consent_sms is True
    assert member.consent_sms_at is not None


@pytest.mark.parametrize(
    "field, value",
    [
        ("points_available", 999999),
        ("points_pending", 5),
        ("points_lifetime", 5),
        ("tier", "Platinum"),
        ("status", "active"),
        ("number", "111111111111"),
        ("referral_code", "FREEPTS1"),
        ("program", 1),
    ],
)
def test_patch_never_writes_balance_tier_status_or_identity(api, member, field, value):
    before = Member.objects.values().get(pk=member.pk)
    response = api.patch(f"/api/v1/members/{member.number}", {field: value, "first_name": "Eve"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Member.objects.values().get(pk=member.pk) == before


def test_patch_to_an_email_in_use_is_a_conflict(api, program, member):
    other = MemberFactory(program=program)
    response = api.patch(f"/api/v1/members/{member.number}", {"email": other.email}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"


def test_balance_shows_tier_progress_and_expiring_points(api, partner):
    program = partner.program
    Program.objects.filter(pk=program.pk).update(expiry_policy=Program.Expiry.FIXED, expiry_months=2)
    TierFactory(program=program, name="Insider", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("500"))
    member = MemberFactory(program=Program.objects.get(pk=program.pk))
    api.post("/api/v1/transactions", purchase_body(member, amount="120.00"), format="json")
    response = api.get(f"/api/v1/members/{member.number}/balance")
    assert response.status_code == 200
    body = response.json()
    assert body["available"] == 120
    assert body["lifetime"] == 120
    assert body["tier"] == "Insider"
    assert body["next_tier"]["name"] == "Gold"
    assert Decimal(body["next_tier"]["needed"]) == Decimal("380")
    # Two months (59 to 62 days) of validity: nothing within 30 days, all of it within 90.
    assert body["expiring"]["within_30_days"] == 0
    assert body["expiring"]["within_90_days"] == 120


def test_transactions_show_only_the_partners_own_entries_with_totals(api, other_api, member):
    api.post("/api/v1/transactions", purchase_body(member, external_id="A", amount="50.00"), format="json")
    purchase = api.post("/api/v1/transactions", purchase_body(member, external_id="B"), format="json").json()
    api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "40.00"}, format="json")
    other_api.post("/api/v1/transactions", purchase_body(member, external_id="C", amount="70.00"), format="json")

    response = api.get(f"/api/v1/members/{member.number}/transactions")
    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["results"]] == ["reverse", "earn", "earn"]
    assert body["totals"] == {"count": 3, "points_in": 150, "points_out": -40, "net": 110}

    only_earn = api.get(f"/api/v1/members/{member.number}/transactions?kind=earn&page_size=1").json()
    assert only_earn["count"] == 2
    assert len(only_earn["results"]) == 1
    assert only_earn["totals"]["net"] == 150
    assert only_earn["next"] is not None


def test_transactions_filter_by_date(api, member):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        api.post("/api/v1/transactions", purchase_body(member, external_id="OLD"), format="json")
    api.post("/api/v1/transactions", purchase_body(member, external_id="NEW"), format="json")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    body = api.get(f"/api/v1/members/{member.number}/transactions", {"since": since}).json()
    assert [e["reference"] for e in body["results"]] == ["purchase:NEW"]


def test_welcome_gift_and_other_partners_entries_are_not_listed(api, program):
    Program.objects.filter(pk=program.pk).update(welcome_bonus=50)
    member = MemberFactory(program=Program.objects.get(pk=program.pk))
    services.points_grant(member=member, points=5, reason="surprise")
    assert LedgerEntry.objects.filter(member=member).count() == 2
    assert api.get(f"/api/v1/members/{member.number}/transactions").json()["count"] == 0


def _links(message) -> list[str]:
    return re.findall(r"https?://\S+/email/(?:confirm|report)/\S+/", message.body)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_patch_with_a_new_email_waits_for_the_member_and_tells_the_old_address(
    api, member, partner, client, django_capture_on_commit_callbacks
):
    old = member.email
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/members/{member.number}", {"email": "Thief@Example.com", "first_name": "Eve"}, format="json"
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["email"] == old and body["first_name"] == "Eve"  # the rest is saved, the email is not
    assert body["email_change"]["status"] == "pending" and body["email_change"]["new_email"] == "thief@example.com"
    member.refresh_from_db()
    assert member.email == old
    # Nobody can take the account over by asking for a sign-in link at the new address meanwhile.
    mail.outbox.clear()
    auth.signin_link_send(email="thief@example.com")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/members/{member.number}", {"email": "thief@example.com"}, format="json")
    to_new, to_old = mail.outbox
    assert to_new.to == ["thief@example.com"] and "/email/confirm/" in to_new.body
    assert to_old.to == [old] and partner.name in to_old.body and "/email/report/" in to_old.body
    # The old address reports it: the change is stopped and the confirm link no longer works.
    report = _path(_links(to_old)[0])
    assert client.post(report).status_code == 200
    refused = client.post(_path(_links(to_new)[0]))
    assert refused.status_code == 409
    member.refresh_from_db()
    assert member.email == old


def test_patch_without_an_email_change_is_200_and_leaves_a_pending_change_alone(api, member):
    services.email_change_request(member=member, new_email="next@example.com", requested_by="member")
    response = api.patch(f"/api/v1/members/{member.number}", {"email": member.email.upper()}, format="json")
    assert response.status_code == 200
    assert response.json()["email_change"]["new_email"] == "next@example.com"


def test_a_partner_records_a_subscriptions_payment_once(api, program, member):
    plan = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("49"), earn_multiplier=2)
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="member page")
    listed = api.get(f"/api/v1/members/{member.number}/subscriptions").json()["results"]
    assert [(s["id"], s["status"]) for s in listed] == [(sub.pk, "pending")]
    earned = api.post("/api/v1/transactions", purchase_body(member, external_id="P-1", amount="10.00"), format="json")
    assert earned.json()["points"] == 10  # no perks while unpaid
    url = f"/api/v1/members/{member.number}/subscriptions/{sub.pk}/payment"
    assert api.post(url, {}, format="json").status_code == 400
    assert api.post(url, {"reference": "x" * 101}, format="json").status_code == 400
    paid = api.post(url, {"reference": "psp_1"}, format="json")
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "active" and paid.json()["payment_reference"] == "psp_1"
    replay = api.post(url, {"reference": "psp_1"}, format="json")
    assert replay.status_code == 200 and replay.json()["expires_at"] == paid.json()["expires_at"]
    other = api.post(url, {"reference": "psp_2"}, format="json")
    assert other.status_code == 409 and other.json()["error"]["code"] == "already_paid"
    earned = api.post("/api/v1/transactions", purchase_body(member, external_id="P-2", amount="10.00"), format="json")
    assert earned.json()["points"] == 20


def test_subscription_payment_is_scoped_to_the_member_and_program(api, program, member):
    plan = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("49"))
    sub = services.plan_subscribe(member=member, plan=plan)
    someone = MemberFactory(program=program)
    wrong_member = api.post(
        f"/api/v1/members/{someone.number}/subscriptions/{sub.pk}/payment", {"reference": "r"}, format="json"
    )
    assert wrong_member.status_code == 404
    foreign = MemberFactory(program=ProgramFactory())
    assert api.get(f"/api/v1/members/{foreign.number}/subscriptions").status_code == 404
    sub.refresh_from_db()
    assert sub.status == "pending"


def test_a_partner_transfers_points_between_two_members_of_its_program(api, partner, foreign_member):
    Program.objects.filter(pk=partner.program_id).update(transfer_max_points=500)
    program = Program.objects.get(pk=partner.program_id)
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    services.points_grant(member=ana, points=300, reason="Start")
    body = {"sender": ana.number, "recipient": ion.number, "points": 120, "reference": "GIFT-1"}
    moved = api.post("/api/v1/transfers", body, format="json")
    assert moved.status_code == 201, moved.content
    assert moved.json()["sender"]["balance"]["available"] == 180
    assert moved.json()["recipient"]["balance"]["available"] == 120
    again = api.post("/api/v1/transfers", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == moved.json()["id"]
    assert again.json()["sender"]["balance"]["available"] == 180
    too_much = api.post("/api/v1/transfers", {**body, "points": 400, "reference": "GIFT-2"}, format="json")
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "insufficient_points")
    foreign = api.post(
        "/api/v1/transfers", {**body, "recipient": foreign_member.number, "reference": "GIFT-3"}, format="json"
    )
    assert foreign.status_code == 404
