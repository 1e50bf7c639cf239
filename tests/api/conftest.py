"""Partner API fixtures: a partner with a key, a client that sends it, and a second program/partner
for the cross-partner (BOLA) checks."""

import pytest
from rest_framework.test import APIClient

from members.partners.services import partner_key_create
from tests.conftest import MemberFactory, PartnerFactory, ProgramFactory


def client_for(partner) -> APIClient:
    _, key = partner_key_create(partner=partner, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    client.key = key
    return client


@pytest.fixture
def api(partner) -> APIClient:
    return client_for(partner)


@pytest.fixture
def other_partner(program):
    """Another partner of the same program."""
    return PartnerFactory(program=program)


@pytest.fixture
def other_api(other_partner) -> APIClient:
    return client_for(other_partner)


@pytest.fixture
def foreign_api(db) -> APIClient:
    """A partner of another program."""
    return client_for(PartnerFactory(program=ProgramFactory()))


@pytest.fixture
def foreign_member(db):
    return MemberFactory(program=ProgramFactory())


def purchase_body(member, **overrides) -> dict:
    return {
        "member": member.number,
        "external_id": "ORD-1",
        "amount": "100.00",
        "currency": "EUR",
        **overrides,
    }
