"""The profile and sign-up forms refuse what the member services refuse, as form errors."""

import pytest
from django.urls import reverse

from members.models import Member

pytestmark = pytest.mark.django_db


def _profile(client, **changes):
    data = {"first_name": "Ana", "email": "ana@example.com", "language": "en", "phone": "", "birth_date": ""}
    return client.post(reverse("members:profile"), data | changes)


def test_profile_refuses_a_phone_that_is_no_number_and_a_birthday_in_the_future(member_client, member):
    words = _profile(member_client, phone="call me maybe")
    assert words.status_code == 400 and words.context["profile_form"].errors["phone"]
    future = _profile(member_client, birth_date="2999-01-01")
    assert future.status_code == 400 and future.context["profile_form"].errors["birth_date"]
    member.refresh_from_db()
    assert (member.phone, member.birth_date) == ("", None)


def test_sms_consent_asks_for_a_phone(member_client, member, client, program):
    refused = member_client.post(reverse("members:profile_consents"), {"consent_sms": "on"})
    assert refused.status_code == 400 and refused.context["consent_form"].errors["consent_sms"]
    member.refresh_from_db()
    assert not member.consent_sms
    _profile(member_client, phone="+40 721 000 111")
    assert member_client.post(reverse("members:profile_consents"), {"consent_sms": "on"}).status_code == 302
    member.refresh_from_db()
    assert member.consent_sms


def test_sign_up_with_sms_consent_and_no_phone_is_a_form_error(client, program):
    response = client.post(
        reverse("members:signup"),
        {"first_name": "Ion", "email": "ion@example.com", "consent_sms": "on", "accept_terms": "on"},
    )
    assert response.context["form"].errors["phone"]
    assert not Member.objects.filter(email="ion@example.com").exists()
