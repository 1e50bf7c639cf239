"""Staff run the program from admin: members, actions, import/export, the rule simulator."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import EarningRule, Event, LedgerEntry, Member, MembershipPlan, Purchase, Subscription, TierChange
from members.resources import MemberResource
from tests.conftest import MemberFactory, PartnerFactory, TierFactory

from .conftest import assert_ledger_consistent, buy, fresh

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:members_member_changelist"


def change_url(member):
    return reverse("admin:members_member_change", args=[member.pk])


def run_action(client, action, members, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [m.pk for m in members], **data},
    )


def test_changelist_search_and_filters_stay_cheap(admin_client, program, django_assert_max_num_queries):
    members = [MemberFactory(program=program, phone=f"+40720000{i:03d}") for i in range(30)]
    target = members[7]
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    for term in (target.number, target.email.upper(), target.phone, target.last_name):
        found = admin_client.get(reverse(CHANGELIST), {"q": term}).context["cl"].result_list
        assert list(found) == [target], term
    filtered = admin_client.get(reverse(CHANGELIST), {"status__exact": "suspended"}).context["cl"].result_list
    assert list(filtered) == []


def test_member_page_shows_balance_tier_progress_and_a_paginated_ledger(admin_client, program):
    TierFactory(program=program, level=0, name="Base")
    TierFactory(program=program, level=1, name="Silver", threshold=Decimal(500))
    member = MemberFactory(program=program)
    for i in range(30):
        services.points_grant(member=member, points=i + 1, reason=f"grant {i + 1}")
    buy(member, 100)
    page = admin_client.get(change_url(member)).content.decode()
    assert "565 available" in page  # 1 + ... + 30 = 465, plus 100 from the purchase
    assert "400 spend more to Silver (20%)" in page
    assert "Page 1 of 2 (31 entries)" in page
    rows = re.findall(r"grant (\d+)", page)
    assert rows[0] == "30" and "grant 1<" not in page  # newest first; the oldest is on page 2
    older = admin_client.get(change_url(member), {"ledger_page": 2}).content.decode()
    assert "grant 1<" in older and "grant 30" not in older


def test_adjust_points_action_needs_a_reason_and_goes_through_the_ledger(admin_client, admin_user, program):
    a, b = MemberFactory(program=program), MemberFactory(program=program)
    form_page = run_action(admin_client, "adjust_points", [a, b])
    assert form_page.status_code == 200 and b"Reason" in form_page.content
    refused = run_action(admin_client, "adjust_points", [a, b], apply="1", points="50", reason="")
    assert b"This field is required" in refused.content
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUST).exists()
    run_action(admin_client, "adjust_points", [a, b], apply="1", points="50", reason="Broken parcel")
    for member in (a, b):
        entry = assert_ledger_consistent(member).ledger.get()
        assert (entry.kind, entry.points, entry.reason, entry.created_by) == ("adjust", 50, "Broken parcel", admin_user)
    response = run_action(admin_client, "adjust_points", [a], apply="1", points="-60", reason="Oops")
    assert response.status_code == 302
    assert fresh(a).points_available == 50  # refused: only 50 available
    messages = [str(m) for m in admin_client.get(reverse(CHANGELIST)).context["messages"]]
    assert any("Only 50 points are available" in m for m in messages)


def test_suspend_and_reactivate(admin_client, member):
    run_action(admin_client, "suspend", [member])
    assert fresh(member).status == Member.Status.SUSPENDED
    run_action(admin_client, "reactivate", [member])
    assert fresh(member).status == Member.Status.ACTIVE


def test_assign_tier_with_floor(admin_client, admin_user, program):
    TierFactory(program=program, level=0)
    gold = TierFactory(program=program, level=2, name="Gold")
    member = MemberFactory(program=program)
    until = timezone.localdate().replace(year=timezone.localdate().year + 1)
    run_action(admin_client, "assign_tier", [member], apply="1", tier=gold.pk, until=until.isoformat(), note="VIP")
    member = fresh(member)
    assert (member.tier, member.tier_floor, member.tier_floor_until) == (gold, gold, until)
    change = member.tier_changes.first()
    assert (change.reason, change.created_by, change.note) == (TierChange.Reason.MANUAL, admin_user, "VIP")


def test_adding_and_editing_a_member_goes_through_the_services(admin_client, program):
    program.welcome_bonus = 150
    program.save()
    referrer = MemberFactory(program=program)
    response = admin_client.post(
        reverse("admin:members_member_add"),
        {
            "program": program.pk,
            "email": "New.Member@Example.com",
            "first_name": "Nou",
            "language": "ro",
            "referral_code_used": referrer.referral_code.lower(),
        },
    )
    assert response.status_code == 302, response.content
    member = Member.objects.get(email="new.member@example.com")
    assert member.points_available == 150 and member.referred_by == referrer
    assert Event.objects.filter(type="member.enrolled", member=member).exists()

    data = {
        "email": "other@example.com",
        "first_name": "Nou",
        "last_name": "Nume",
        "language": "ro",
        "consent_email": "on",
        **{
            f"{prefix}-{k}": v
            for prefix in ("ledger", "cards", "tier_changes", "subscriptions")
            for k, v in _empty_formset()
        },
    }
    taken = MemberFactory(program=program)
    refused = admin_client.post(change_url(member), {**data, "email": taken.email.upper()})
    assert "Another member of this program uses this email." in refused.content.decode()
    response = admin_client.post(change_url(member), data)
    assert response.status_code == 302, response.content
    member = fresh(member)
    assert (member.email, member.last_name, member.consent_email) == ("other@example.com", "Nume", True)
    assert member.consent_email_at is not None and member.points_available == 150


def _empty_formset():
    return [("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "1000")]


def test_members_cannot_be_deleted(admin_client, member):
    assert admin_client.get(reverse("admin:members_member_delete", args=[member.pk])).status_code == 403


def _import(client, csv_text: str):
    upload = SimpleUploadedFile("members.csv", csv_text.encode(), content_type="text/csv")
    return client.post(reverse("admin:members_member_import"), {"format": "0", "import_file": upload})


def test_import_dry_run_lists_bad_rows_with_line_and_reason_and_writes_nothing(admin_client, program):
    MemberFactory(program=program, email="taken@example.com")
    before = Member.objects.count()
    csv_text = (
        "program,email,first_name,last_name,birth_date,language,referred_by\n"
        f"{program.slug},good@example.com,Ana,Pop,1990-05-01,ro,\n"
        f"{program.slug},not-an-email,Ion,Pop,,en,\n"
        f"{program.slug},fresh@example.com,Ion,Pop,01/05/1990,en,\n"
        f"{program.slug},other@example.com,Ion,Pop,,en,NOPE1234\n"
        f"{program.slug},x@example.com,Ion,Pop,,xx,\n"
        f"nope,y@example.com,Ion,Pop,,en,\n"
    )
    response = _import(admin_client, csv_text)
    assert response.status_code == 200
    result = response.context["result"]
    invalid = {row.number: row for row in result.invalid_rows}
    assert sorted(invalid) == [3, 4, 5, 6, 7]  # lines of the file: the header is line 1
    assert "valid email" in str(invalid[3].error_dict)
    assert "birth_date" in invalid[4].field_specific_errors
    assert "referral code does not exist" in str(invalid[5].field_specific_errors["referred_by"])
    assert "language" in invalid[6].field_specific_errors
    assert "program" in invalid[7].field_specific_errors
    assert Member.objects.count() == before
    page = response.content.decode()
    assert "Some rows failed to validate" in page


def test_import_enrolls_through_the_service_and_updates_existing(admin_client, program):
    program.welcome_bonus = 100
    program.save()
    referrer = MemberFactory(program=program, email="referrer@example.com", consent_sms=True)
    csv_text = (
        "program,email,first_name,last_name,consent_email,consent_sms,referred_by\n"
        f"{program.slug},New@Example.com,Ana,Pop,1,0,{referrer.referral_code}\n"
        f"{program.slug},referrer@example.com,Changed,Name,1,,\n"
    )
    preview = _import(admin_client, csv_text)
    assert not preview.context["result"].has_validation_errors()
    assert not Member.objects.filter(email="new@example.com").exists()  # the dry run wrote nothing
    confirm = preview.context["confirm_form"]
    response = admin_client.post(reverse("admin:members_member_process_import"), confirm.initial)
    assert response.status_code == 302
    new = Member.objects.get(email="new@example.com")
    assert (new.first_name, new.consent_email, new.referred_by, new.points_available) == ("Ana", True, referrer, 100)
    assert new.ledger.get().kind == LedgerEntry.Kind.WELCOME
    referrer = fresh(referrer)
    assert (referrer.first_name, referrer.consent_email, referrer.consent_sms) == ("Changed", True, True)
    assert referrer.points_available == 100  # an update never grants a second welcome gift


def test_export_csv(admin_client, program):
    member = MemberFactory(program=program)
    services.points_grant(member=member, points=42, reason="Gift")
    columns = MemberResource().get_export_headers()
    response = admin_client.post(
        reverse("admin:members_member_export"), {"format": "0", **{f"memberresource_{c}": "on" for c in columns}}
    )
    assert response.status_code == 200
    body = response.content.decode()
    header = body.splitlines()[0]
    assert header.startswith("number,program,email,phone,first_name")
    assert f"{member.number},{program.slug},{member.email}" in body
    assert ",42," in body


def test_simulator_shows_the_breakdown_and_writes_nothing(admin_client, program):
    TierFactory(program=program, level=0, earn_multiplier=Decimal("1"))
    gold = TierFactory(program=program, level=1, name="Gold", earn_multiplier=Decimal("2"))
    shop = PartnerFactory(program=program)
    EarningRule.objects.create(
        program=program, name="Coffee x3", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )
    EarningRule.objects.create(program=program, name="No gift cards", kind=EarningRule.Kind.EXCLUSION, category="gift")
    member = MemberFactory(program=program)
    counts = (LedgerEntry.objects.count(), Purchase.objects.count(), Event.objects.count())
    url = reverse("admin:members_earningrule_simulate")
    assert admin_client.get(url).status_code == 200
    basket = "C-1, coffee, 2, 5\nG-1, gift, 1, 50\nB-1, books, 1, 20"
    response = admin_client.post(
        url, {"program": program.pk, "tier": gold.pk, "partner": shop.pk, "amount": "80", "basket": basket}
    )
    result = response.context["result"]
    # base 30 (gift card excluded), coffee +20, gold tier x2 +50
    assert result.points == 100
    assert [row["label"] for row in result.breakdown] == ["30.00 EUR x 1", "G-1", "Coffee x3", f"{gold.name} x2.00"]
    assert "100 points" in response.content.decode()
    by_member = admin_client.post(url, {"program": program.pk, "member": member.number, "amount": "10"})
    assert by_member.context["result"].points == 10
    assert (LedgerEntry.objects.count(), Purchase.objects.count(), Event.objects.count()) == counts
    bad = admin_client.post(url, {"program": program.pk, "amount": "10", "basket": "just words"})
    assert "expected sku, category, quantity, unit price" in bad.content.decode()


def test_rule_form_requires_what_the_kind_needs(admin_client, program):
    response = admin_client.post(
        reverse("admin:members_earningrule_add"),
        {
            "program": program.pk,
            "name": "Coffee",
            "kind": "category",
            "multiplier": "2",
            "points": "0",
            "min_amount": "0",
            "priority": "0",
            "weekdays": "8",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "category" in errors and "weekdays" in errors
    assert not EarningRule.objects.exists()


def test_refund_action_on_a_purchase(admin_client, member):
    purchase = buy(member, 100)
    admin_client.post(
        reverse("admin:members_purchase_changelist"),
        {
            "action": "refund",
            helpers.ACTION_CHECKBOX_NAME: [purchase.pk],
            "apply": "1",
            "amount": "40",
            "reason": "Returned shoes",
        },
    )
    member = assert_ledger_consistent(member)
    assert member.points_available == 60
    assert member.ledger.get(kind=LedgerEntry.Kind.REVERSE).reason == "Returned shoes"


def test_every_admin_page_loads(admin_client, member):
    for name in (
        "program",
        "tier",
        "partner",
        "earningrule",
        "membershipplan",
        "subscription",
        "member",
        "ledgerentry",
        "purchase",
        "event",
    ):
        assert admin_client.get(reverse(f"admin:members_{name}_changelist")).status_code == 200, name
    assert admin_client.get(reverse("admin:members_program_change", args=[member.program_id])).status_code == 200


def test_subscribe_action(admin_client, admin_user, program):
    plan = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("49"))
    member = MemberFactory(program=program)
    run_action(admin_client, "subscribe", [member], apply="1", plan=plan.pk)
    sub = Subscription.objects.get(member=member)
    assert (sub.plan, sub.status) == (plan, Subscription.Status.PENDING)  # perks wait for the payment
    run_action(admin_client, "subscribe", [member], apply="1", plan=plan.pk)  # asked again: the same one
    assert Subscription.objects.filter(member=member).count() == 1


def test_staff_record_a_subscriptions_payment_and_its_perks_start(admin_client, admin_user, program):
    plan = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("49"), duration_days=30)
    member = MemberFactory(program=program)
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="member page")
    assert services.active_plan(member) is None
    url = reverse("admin:members_subscription_changelist")
    data = {"action": "record_payment", "_selected_action": [sub.pk]}
    form = admin_client.post(url, data)
    assert form.status_code == 200 and "Payment reference" in form.text
    blank = admin_client.post(url, {**data, "apply": "1", "reference": ""})
    assert blank.status_code == 200 and "This field is required" in blank.text
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.PENDING
    done = admin_client.post(url, {**data, "apply": "1", "reference": "DESK-0042"}, follow=True)
    assert "Payment recorded" in done.text
    sub.refresh_from_db()
    assert (sub.status, sub.payment_reference, sub.paid_by) == (
        Subscription.Status.ACTIVE,
        "DESK-0042",
        f"staff:{admin_user.username}",
    )
    assert services.active_plan(member) == plan
    again = admin_client.post(url, {**data, "apply": "1", "reference": "DESK-0099"}, follow=True)
    assert "already recorded" in again.text
    sub.refresh_from_db()
    assert sub.payment_reference == "DESK-0042"


def test_program_form_checks_referral_steps(admin_client, program):
    url = reverse("admin:members_program_change", args=[program.pk])
    page = admin_client.get(url)
    initial = page.context["adminform"].form.initial
    data = {k: v for k, v in initial.items() if v is not None and k != "logo"}  # no file: nothing to post
    data.update(
        {"referral_mode": "stepped", "referral_steps": "[[1]]", "tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0"}
    )
    refused = admin_client.post(url, data)
    assert "A list of [from_count, points] pairs" in refused.content.decode()
    data["referral_steps"] = "[[3, 200], [1, 100]]"
    assert admin_client.post(url, data).status_code == 302
    program.refresh_from_db()
    assert program.referral_steps == [[1, 100], [3, 200]]
