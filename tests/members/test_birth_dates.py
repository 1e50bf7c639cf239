"""A birth date earns a yearly gift: one in the future or more than 120 years back is refused on
every way in (partner API, member profile), with a clear error and nothing stored."""

import json

import pytest

from members.models import Member
from tests.conftest import PartnerFactory, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("birth_date", ["2999-01-01", "1900-01-01"])
def test_the_api_refuses_an_implausible_birth_date_and_enrolls_nobody(birth_date):
    partner = PartnerFactory()
    response = client_for(partner).post(
        "/api/v1/members",
        data=json.dumps({"email": "new@example.com", "birth_date": birth_date}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_birth_date"
    assert not Member.objects.filter(email="new@example.com").exists()


def test_a_plausible_birth_date_is_kept():
    partner = PartnerFactory()
    response = client_for(partner).post(
        "/api/v1/members",
        data=json.dumps({"email": "new@example.com", "birth_date": "1990-02-28"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert str(Member.objects.get(email="new@example.com").birth_date) == "1990-02-28"
