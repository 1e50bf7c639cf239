"""Operator-defined events through the partner API."""

import pytest

from members.models import CustomEventType

pytestmark = pytest.mark.django_db


def test_a_partner_reports_an_event_and_the_member_earns(api, partner, member, foreign_member):
    CustomEventType.objects.create(
        program_id=partner.program_id,
        key="bottle_recycled",
        name="Bottle recycled",
        points=5,
        attributes=[{"name": "count", "type": "number"}],
        points_attribute="count",
        points_per_unit=2,
    )
    url = f"/api/v1/members/{member.number}/events"
    body = {"type": "bottle_recycled", "reference": "B-1", "attributes": {"count": 3}}
    first = api.post(url, body, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["points"], first.json()["balance"]["available"]) == (11, 11)
    again = api.post(url, body, format="json")
    assert again.status_code == 200 and again.json()["balance"]["available"] == 11
    unknown = api.post(url, {**body, "type": "nope"}, format="json")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_event_type")
    bad = api.post(url, {**body, "reference": "B-2", "attributes": {"count": "three"}}, format="json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_attributes")
    assert api.post(f"/api/v1/members/{foreign_member.number}/events", body, format="json").status_code == 404
