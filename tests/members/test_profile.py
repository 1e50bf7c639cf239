"""Enrollment, profile, consent, GDPR export and erasure."""

import json
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from core.errors import DomainError
from members import services
from members.exports import member_export
from members.models import LedgerEntry, Member
from tests.conftest import MemberFactory

from .conftest import buy, fresh

pytestmark = pytest.mark.django_db


def test_enrollment_gives_a_card_number_with_a_check_digit_and_an_unambiguous_code(program):
    member = MemberFactory(program=program, email="  Ana@Example.COM ")
    assert member.email == "ana@example.com"
    digits = [int(d) for d in member.number]
    assert len(digits) == 12
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    assert total % 10 == 0  # Luhn
    assert not set(member.referral_code) & set("01OIL")
    with pytest.raises(DomainError) as refused:
        MemberFactory(program=program, email="ana@example.com")
    assert refused.value.code == "email_taken"
    with pytest.raises(DomainError) as refused:
        MemberFactory(program=program, email="not an email")
    assert refused.value.code == "invalid_email"


def test_consent_changes_are_timestamped(member):
    assert member.consent_email_at is None
    services.member_consent_set(member=member, channel="email", granted=True)
    granted_at = fresh(member).consent_email_at
    assert fresh(member).consent_email and granted_at
    services.member_consent_set(member=member, channel="email", granted=True)  # no change, same timestamp
    assert fresh(member).consent_email_at == granted_at
    with pytest.raises(DomainError):
        services.member_consent_set(member=member, channel="fax", granted=True)


def test_profile_update_refuses_balances_and_taken_emails(program):
    a, b = MemberFactory(program=program), MemberFactory(program=program)
    with pytest.raises(DomainError) as refused:
        services.member_update(member=a, points_available=1000)
    assert refused.value.code == "not_writable"
    with pytest.raises(DomainError) as refused:
        services.member_update(member=a, email=b.email.upper())
    assert refused.value.code == "email_taken"
    services.member_update(member=a, phone="+40 721 000 000", language="it")
    assert (fresh(a).phone, fresh(a).language) == ("+40721000000", "it")  # stored in E.164


def test_gdpr_export_and_erasure_keep_the_ledger_amounts(program):
    member = MemberFactory(program=program, phone="+40720000000", first_name="Ana")
    buy(member, Decimal("25"))
    data = member_export(member=member)
    json.dumps(data, cls=DjangoJSONEncoder)  # plain JSON types
    assert data["email"] == member.email and data["purchases"][0]["amount"] == "25.00"
    assert [row["points"] for row in data["ledger"]] == [25]
    services.member_anonymize(member=member)
    erased = fresh(member)
    assert erased.status == Member.Status.ANONYMIZED
    assert (erased.first_name, erased.phone, erased.consent_email) == ("", "", False)
    assert erased.email.endswith("@invalid")
    assert erased.points_available == 25 and LedgerEntry.objects.filter(member=erased).count() == 1
    with pytest.raises(DomainError):
        services.member_set_status(member=erased, status=Member.Status.ACTIVE)
