"""A staff adjustment's reason is written for staff: members read a neutral "Points adjustment" on
their history page, in its CSV and in their data export; staff still see the reason in the admin."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from members import services

pytestmark = pytest.mark.django_db

REASON = "Fraud suspicion, see ticket T-000042"


@pytest.fixture
def adjusted(member):
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    services.points_adjust(member=member, points=50, reason=REASON, created_by=staff)
    return staff


def test_members_see_a_neutral_title_not_the_staff_reason(member_client, member, adjusted, client):
    page = member_client.get(reverse("members:history")).text
    csv = b"".join(member_client.get(reverse("members:history_csv")).streaming_content).decode()
    export = json.loads(member_client.get(reverse("members:profile_export")).content)
    dashboard = member_client.get(reverse("members:home")).text

    for text in (page, csv, json.dumps(export), dashboard):
        assert "Fraud suspicion" not in text
    assert "Points adjustment" in page and "Points adjustment" in csv
    [entry] = [e for e in export["ledger"] if e["kind"] == "adjust"]
    assert (entry["title"], entry["reason"], entry["points"]) == ("Points adjustment", "Points adjustment", 50)

    client.force_login(adjusted)
    assert REASON in client.get(reverse("admin:members_member_change", args=[member.pk])).text
