"""A member's own email change on /profile/: verified by the new address, told to the old one, and
undone by a report from the old one."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members import links
from members.models import EmailChange, Member

pytestmark = pytest.mark.django_db

PROFILE = {"first_name": "Ana", "last_name": "", "email": "ana.new@example.com", "phone": "", "language": "en"}


def _link(message, purpose: str) -> str:
    url = re.search(rf"https?://\S+/email/{purpose}/\S+/", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def requested(member_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("members:profile"), PROFILE)
    assert response.status_code == 302
    return response


def test_a_new_email_on_the_profile_waits_for_the_link_sent_to_it(requested, member, member_client, client):
    member.refresh_from_db()
    assert member.email == "ana@example.com"
    to_new, to_old = mail.outbox
    assert to_new.to == ["ana.new@example.com"] and to_old.to == ["ana@example.com"]
    assert "ana.new@example.com" in to_old.body and "/email/report/" in to_old.body
    page = member_client.get(reverse("members:profile")).text
    assert "Waiting for confirmation" in page and "ana.new@example.com" in page
    confirm = _link(to_new, "confirm")
    assert "Confirm my new email" in client.get(confirm).text  # a mail scanner's GET changes nothing
    member.refresh_from_db()
    assert member.email == "ana@example.com"
    done = client.post(confirm)
    assert done.status_code == 200 and "your email is now ana.new@example.com" in done.text
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.email == member.user.email == "ana.new@example.com"
    assert client.post(confirm).status_code == 409  # spent


def test_the_old_address_can_undo_a_confirmed_change_and_signs_everyone_out(requested, member, client):
    to_new, to_old = mail.outbox
    client.post(_link(to_new, "confirm"))
    thief = client  # whoever confirmed may have signed in with the new address
    thief.force_login(member.user)
    assert thief.get(reverse("members:profile")).status_code == 200
    from django.test import Client

    owner = Client()
    undone = owner.post(_link(to_old, "report"))
    assert undone.status_code == 200 and "keeps using ana@example.com" in undone.text
    member.refresh_from_db()
    assert member.email == "ana@example.com"
    assert EmailChange.objects.get(member=member).status == EmailChange.Status.REPORTED
    assert thief.get(reverse("members:profile")).status_code == 302  # signed out: sent to sign in


def test_a_newer_request_replaces_the_pending_one(member_client, member, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(reverse("members:profile"), PROFILE)
        member_client.post(reverse("members:profile"), {**PROFILE, "email": "ana.other@example.com"})
    first_confirm = _link(mail.outbox[0], "confirm")
    assert client.post(first_confirm).status_code == 409
    member.refresh_from_db()
    assert member.email == "ana@example.com"
    assert EmailChange.objects.filter(member=member, status=EmailChange.Status.PENDING).get().new_email == (
        "ana.other@example.com"
    )


def test_an_email_already_used_is_a_form_error_and_nothing_is_sent(member_client, member, program):
    Member.objects.create(program=program, email="taken@example.com", number="1", referral_code="TAKEN1")
    response = member_client.post(reverse("members:profile"), {**PROFILE, "email": "taken@example.com"})
    assert response.status_code == 400 and "already registered" in response.text
    assert mail.outbox == [] and not EmailChange.objects.exists()


def test_confirm_links_expire_and_tampered_ones_are_refused(requested, client):
    confirm = _link(mail.outbox[0], "confirm")
    assert client.get(confirm[:-3] + "xx/").status_code == 404
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=links.EMAIL_CONFIRM_MAX_AGE + 60)):
        expired = client.post(confirm)
    assert expired.status_code == 410 and "expired" in expired.text


def test_erasure_forgets_the_addresses_of_email_changes(requested, member_client, member):
    member_client.post(reverse("members:profile_delete"), {"confirm": "on"})
    assert not EmailChange.objects.filter(member=member).exists()
