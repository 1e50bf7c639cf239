"""The member chooses their time zone on the profile page and sees their plan's perks."""

from decimal import Decimal

from django.urls import reverse

from members import services
from members.models import Member, MembershipPlan

PROFILE = {"first_name": "Ana", "last_name": "", "email": "ana@example.com", "phone": "", "language": "en"}


def test_the_member_chooses_a_time_zone_on_the_profile_page(member_client, member):
    page = member_client.get(reverse("members:profile")).text
    assert 'name="time_zone"' in page and "Pacific/Auckland" in page
    response = member_client.post(reverse("members:profile"), {**PROFILE, "time_zone": "Pacific/Auckland"})
    assert response.status_code == 302
    assert Member.objects.get(pk=member.pk).time_zone == "Pacific/Auckland"
    refused = member_client.post(reverse("members:profile"), {**PROFILE, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    assert Member.objects.get(pk=member.pk).time_zone == "Pacific/Auckland"
    member_client.post(reverse("members:profile"), {**PROFILE, "time_zone": ""})  # back to the program's
    assert Member.objects.get(pk=member.pk).time_zone == ""


def test_the_membership_page_lists_the_perks_once_paid(member_client, member, program):
    plan = MembershipPlan.objects.create(
        program=program, name="Plus", fee=Decimal("49"), free_shipping=True, early_access=True
    )
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="member page")
    page = member_client.get(reverse("members:membership")).text
    assert "Free shipping on your orders" not in page  # not paid yet: no perks
    services.plan_payment_record(subscription=sub, reference="PAY-7", paid_by="staff")
    page = member_client.get(reverse("members:membership")).text
    assert "Free shipping on your orders" in page and "Early access:" in page
