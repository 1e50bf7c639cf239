"""The member pages: what a signed-in member sees and can do, scoped to them, in constant queries."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import EarningRule, LedgerEntry, Member, MembershipPlan, Subscription
from tests.members.pages.conftest import buy, signup

pytestmark = pytest.mark.django_db


def test_dashboard_shows_balances_tier_progress_expiry_and_latest(member_client, member, partner):
    buy(member, 120, partner=partner, external_id="RCPT-1")
    page = member_client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "Hello, Ana" in text
    assert "Insider" in text
    assert "Spend 380.00 EUR more to reach Silver." in text and "24% of the way" in text
    assert "Silver brings: Free shipping" in text
    assert "RCPT-1" in text and "Corner Shop" in text and "Welcome gift" in text
    assert page.context["member"].points_available == 200 + 120


def test_dashboard_warns_about_points_expiring_soon(client, program):
    with time_machine.travel(timezone.now() - timedelta(days=350)):
        member = signup(program)
    buy(member, 40)
    client.force_login(member.user)
    text = client.get("/").text
    assert "200\u00a0points expire within 30 days" in text


def test_dashboard_at_the_top_tier(member_client, member):
    buy(member, 600)
    assert "You are at the top tier" in member_client.get("/").text


def test_dashboard_query_count_does_not_grow_with_history(member_client, member, partner):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get("/").status_code == 200
        return len(captured)

    buy(member, 10, partner=partner)
    few = queries()
    for i in range(12):
        buy(member, 11 + i, partner=partner)
    assert queries() == few <= 16  # panels from other apps included


def test_history_lists_every_entry_with_why_and_filters(member_client, member, partner, program):
    EarningRule.objects.create(
        program=program,
        name="Coffee week",
        kind=EarningRule.Kind.CATEGORY,
        category="coffee",
        multiplier=Decimal("2"),
    )
    buy(
        member,
        40,
        partner=partner,
        external_id="R-COFFEE",
        items=[{"sku": "ESP", "category": "coffee", "unit_price": "40", "quantity": 1}],
    )
    services.points_spend(member=member, points=50, reason="Voucher")
    page = member_client.get(reverse("members:history"))
    text = page.text
    assert "R-COFFEE" in text and "Corner Shop" in text
    assert "Base points: 40.00 EUR x 1" in text and "Coffee week" in text and "+40" in text
    assert "-50" in text
    assert "3 movements" in text
    redeemed = member_client.get(reverse("members:history"), {"kind": "redeem"})
    assert [entry.kind for entry in redeemed.context["page"].object_list] == ["redeem"]
    last_30 = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert f'href="?since={last_30}&amp;kind=redeem"' in redeemed.text  # quick periods keep the kind
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = member_client.get(reverse("members:history"), {"since": tomorrow})
    assert later.context["page"].paginator.count == 0 and "No point movements yet." in later.text


def test_history_is_paginated_in_constant_queries(member_client, member, django_assert_max_num_queries):
    for _ in range(30):
        buy(member, 5)
    with django_assert_max_num_queries(10):
        first = member_client.get(reverse("members:history"))
    assert len(first.context["page"].object_list) == 25 and "Page 1 of 2" in first.text
    second = member_client.get(reverse("members:history"), {"page": 2, "kind": "earn"})
    assert len(second.context["page"].object_list) == 5
    assert "kind=earn&amp;page=1" in second.text  # links keep the filter


def test_history_invalid_filter_shows_an_error_not_a_500(member_client):
    page = member_client.get(reverse("members:history"), {"since": "2026-05-01", "until": "2026-01-01"})
    assert page.status_code == 200 and "end date is before" in page.text
    assert member_client.get(reverse("members:history"), {"kind": "nonsense"}).status_code == 200


def test_history_csv_download(member_client, member, partner):
    buy(member, 25, partner=partner, external_id="=HYPERLINK()")
    response = member_client.get(reverse("members:history_csv"), {"kind": "earn"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"points-{member.number}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Date", "Type", "Points"]
    assert len(rows) == 2 and rows[1][1] == "Purchase" and rows[1][2] == "25" and rows[1][3] == "Corner Shop"
    assert rows[1][4] == "'=HYPERLINK()"  # a partner's text cannot become a spreadsheet formula


def test_another_members_data_never_shows(member_client, program):
    other = signup(program, email="other@example.com", first_name="Zed")
    buy(other, 77, external_id="OTHER-RECEIPT")
    for name in ("home", "history", "referrals", "profile"):
        text = member_client.get(reverse(f"members:{name}")).text
        assert "OTHER-RECEIPT" not in text and "other@example.com" not in text and other.number not in text
    rows = b"".join(member_client.get(reverse("members:history_csv")).streaming_content).decode()
    assert "OTHER-RECEIPT" not in rows


def test_referrals_page_lists_link_code_friends_and_earnings(member_client, member, program):
    friend = signup(
        program, email="friend@example.com", first_name="Bob", last_name="Stone", referral_code=member.referral_code
    )
    signup(program, email="later@example.com", first_name="Cy", referral_code=member.referral_code)
    buy(friend, 30)
    page = member_client.get(reverse("members:referrals"))
    text = page.text
    assert f"/signup/{program.slug}/?ref={member.referral_code}" in text
    assert "https://wa.me/?text=" in text and "https://t.me/share/url?url=" in text and "mailto:?subject=" in text
    assert "Bob S." in text and "Stone" not in text  # an initial, not the full name
    earned = {r.name: r.points for r in page.context["referrals"]}
    assert earned == {"Bob S.": 150, "Cy": 0}


def test_referrals_page_queries_are_constant(member_client, member, program, django_assert_max_num_queries):
    for i in range(8):
        signup(program, email=f"f{i}@example.com", referral_code=member.referral_code)
    with django_assert_max_num_queries(8):
        member_client.get(reverse("members:referrals"))


@pytest.fixture
def plan(program):
    return MembershipPlan.objects.create(
        program=program,
        name="Plus",
        fee=Decimal("49"),
        duration_days=365,
        free_shipping=True,
        earn_multiplier=Decimal("2"),
        perks="Members-only events",
    )


def test_membership_subscribe_and_cancel(member_client, member, plan, program):
    MembershipPlan.objects.create(program=program, name="Retired", fee=1, is_active=False)
    page = member_client.get(reverse("members:membership"))
    assert "Plus" in page.text and "Free shipping" in page.text and "Members-only events" in page.text
    assert "Retired" not in page.text
    member_client.post(reverse("members:membership_subscribe", args=[plan.pk]))
    sub = Subscription.objects.get(member=member)
    assert sub.status == "pending"
    page = member_client.get(reverse("members:membership")).text
    assert "Waiting for payment" in page and "You are a Plus member" not in page
    services.plan_payment_record(subscription=sub, reference="DESK-1", paid_by="staff:ana")
    assert "You are a Plus member" in member_client.get(reverse("members:membership")).text
    member_client.post(reverse("members:membership_cancel"))
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    member_client.post(reverse("members:membership_subscribe", args=[plan.pk]))  # change of mind
    sub.refresh_from_db()
    assert sub.status == "active"


def test_joining_a_plan_on_the_page_gives_no_perks_until_the_fee_is_paid(member_client, member, plan, partner):
    member_client.post(reverse("members:membership_subscribe", args=[plan.pk]))
    unpaid = buy(member, "10.00", partner=partner)
    assert unpaid.points == 10  # no x2 while the fee is unpaid
    sub = Subscription.objects.get(member=member)
    services.plan_payment_record(subscription=sub, reference="DESK-7", paid_by="staff:ana")
    assert buy(member, "10.00", partner=partner).points == 20


def test_a_plan_request_can_be_withdrawn_before_it_is_paid(member_client, member, plan):
    member_client.post(reverse("members:membership_subscribe", args=[plan.pk]))
    page = member_client.post(reverse("members:membership_cancel"), follow=True).text
    assert "withdrawn" in page
    assert Subscription.objects.get(member=member).status == "expired"
    member_client.post(reverse("members:membership_subscribe", args=[plan.pk]))  # may ask again
    assert Subscription.objects.filter(member=member, status="pending").count() == 1


def test_membership_of_another_program_is_404(member_client, plan):
    from tests.conftest import ProgramFactory

    foreign = MembershipPlan.objects.create(program=ProgramFactory(), name="Foreign", fee=1)
    assert member_client.post(reverse("members:membership_subscribe", args=[foreign.pk])).status_code == 404
    assert member_client.post(reverse("members:membership_cancel")).status_code == 404  # nothing to cancel
    assert member_client.get(reverse("members:membership_subscribe", args=[plan.pk])).status_code == 405


def test_profile_update_consents_and_password(member_client, member, client):
    page = member_client.get(reverse("members:profile"))
    assert page.status_code == 200 and "ana@example.com" in page.text
    response = member_client.post(
        reverse("members:profile"),
        {
            "first_name": "Ana",
            "last_name": "Pop",
            "email": "ana.pop@example.com",
            "phone": "+40700000000",
            "birth_date": "1990-05-04",
            "language": "ro",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.last_name, member.email, member.language, str(member.birth_date)) == (
        "Pop",
        "ana@example.com",  # the new email waits for its confirmation (tests/members/pages/test_email_change.py)
        "ro",
        "1990-05-04",
    )
    member_client.post(reverse("members:profile_consents"), {"consent_sms": "on"})
    member.refresh_from_db()
    assert member.consent_sms and not member.consent_email
    weak = member_client.post(reverse("members:profile_password"), {"password": "abc", "password_again": "abc"})
    assert weak.status_code == 400
    differ = member_client.post(
        reverse("members:profile_password"), {"password": "a long passphrase", "password_again": "another one"}
    )
    assert differ.status_code == 400
    member_client.post(
        reverse("members:profile_password"), {"password": "a long passphrase", "password_again": "a long passphrase"}
    )
    assert member_client.get(reverse("members:profile")).status_code == 200  # still signed in
    signed_in = client.post(reverse("members:signin"), {"email": "ana@example.com", "password": "a long passphrase"})
    assert signed_in.status_code == 302


def test_profile_email_of_another_member_is_refused(member_client, program):
    signup(program, email="taken@example.com")
    response = member_client.post(
        reverse("members:profile"), {"first_name": "Ana", "email": "taken@example.com", "language": "en"}
    )
    assert response.status_code == 400 and "already registered" in response.text


def test_gdpr_export_downloads_the_members_data(member_client, member):
    buy(member, 10, external_id="EXP-1")
    response = member_client.get(reverse("members:profile_export"))
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "ana@example.com" and data["purchases"][0]["external_id"] == "EXP-1"


def test_account_deletion_needs_confirmation_then_erases_and_signs_out(member_client, member):
    assert "Delete my account" in member_client.get(reverse("members:profile_delete")).text
    member_client.post(reverse("members:profile_delete"), {})
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    response = member_client.post(reverse("members:profile_delete"), {"confirm": "on"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == Member.Status.ANONYMIZED and member.email.startswith("erased-")
    assert member_client.get(reverse("members:history")).status_code == 302  # signed out
    assert LedgerEntry.objects.filter(member=member).exists()  # the accounts stay


@pytest.mark.parametrize("name", ["home", "history", "referrals", "membership", "profile"])
def test_pages_render_in_romanian(member_client, name):
    member_client.post(reverse("members:language"), {"language": "ro", "next": "/"})
    page = member_client.get(reverse(f"members:{name}"))
    assert page.status_code == 200 and 'lang="ro"' in page.text


@pytest.mark.parametrize("name", ["membership", "profile", "profile_delete"])
def test_other_pages_run_a_fixed_number_of_queries(member_client, member, plan, name, django_assert_max_num_queries):
    for _ in range(5):
        buy(member, 5)
    with django_assert_max_num_queries(6):
        assert member_client.get(reverse(f"members:{name}")).status_code == 200


def test_nav_links_every_member_area(member_client):
    text = member_client.get(reverse("members:history")).text
    for path in ("/history/", "/rewards/", "/referrals/", "/membership/", "/campaigns/", "/feedback/", "/profile/"):
        assert f'href="{path}"' in text
    assert 'href="/history/" aria-current="page"' in text


def test_dates_and_numbers_follow_the_language(member_client, member, partner):
    buy(member, "1234.50", partner=partner, external_id="BIG")
    member_client.post(reverse("members:language"), {"language": "ro", "next": "/"})
    text = member_client.get(reverse("members:history")).text
    assert "1.234,50 EUR" in text and "+1.234" in text  # decimal comma, dot for thousands
    assert timezone.localdate().strftime("%d.%m.%Y") in text
    assert "Cumpărătură" in text and "Istoricul punctelor" in text


def test_not_found_page_uses_the_member_layout(member_client, settings):
    settings.DEBUG = False
    response = member_client.get(reverse("rewards:voucher", args=[999999]))
    assert response.status_code == 404
    assert "We could not find this page" in response.text and 'class="site-nav"' in response.text


def test_a_birthday_in_the_future_is_a_form_error_and_changes_nothing(member_client, member):
    before = member.birth_date
    response = member_client.post(
        reverse("members:profile"),
        {"first_name": "Ana", "last_name": "Pop", "email": member.email, "birth_date": "2999-01-01", "language": "en"},
    )
    assert response.status_code == 400
    assert "Enter your real date of birth." in response.text
    member.refresh_from_db()
    assert member.birth_date == before
