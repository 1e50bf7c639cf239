"""Staff see households: the list with members and pooled points, a household's members and
invitations, the program's household settings, and the household on the member 360° page."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from members import services
from members.models import Member, Program
from tests.conftest import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


@pytest.fixture
def household(program):
    Program.objects.filter(pk=program.pk).update(household_max_members=3)
    ana = MemberFactory(program=program, first_name="Ana")
    ion = MemberFactory(program=program, first_name="Ion")
    eva = MemberFactory(program=program, first_name="Eva")
    home = services.household_create(member=ana, name="Pop family")
    services.household_invitation_accept(
        invitation=services.household_invite(member=Member.objects.get(pk=ana.pk), invitee=ion.number), member=ion
    )
    services.household_invite(member=Member.objects.get(pk=ana.pk), invitee=eva.email)
    services.points_grant(member=ana, points=120, reason="test")
    services.points_grant(member=ion, points=80, reason="test")
    return home, ana, ion, eva


def test_the_households_list_shows_members_and_the_pool(superuser_client, household):
    _home, ana, ion, _ = household
    page = superuser_client.get(reverse("admin:members_household_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Pop family" in html and ana.number in html and ion.number in html and "200" in html
    found = superuser_client.get(reverse("admin:members_household_changelist"), {"q": ion.number})
    assert "Pop family" in found.content.decode()


def test_a_household_page_lists_its_members_and_invitations(superuser_client, household):
    home, ana, ion, eva = household
    html = superuser_client.get(reverse("admin:members_household_change", args=[home.pk])).content.decode()
    assert ana.number in html and ion.number in html
    assert "Waiting for an answer" in html and eva.full_name in html


def test_the_member_360_page_shows_the_household(superuser_client, household):
    _home, ana, ion, eva = household
    html = superuser_client.get(reverse("admin:member_360", args=[ana.pk])).content.decode()
    assert "Pop family" in html and "Pooled points: 200" in html
    assert reverse("admin:member_360", args=[ion.pk]) in html
    alone = superuser_client.get(reverse("admin:member_360", args=[eva.pk])).content.decode()
    assert "Not in a household." in alone


def test_the_program_page_has_the_household_settings(superuser_client, program):
    html = superuser_client.get(reverse("admin:members_program_change", args=[program.pk])).content.decode()
    assert 'name="household_max_members"' in html and 'name="household_tier_mode"' in html
