"""The Household page: start one, invite by member number or email, the invited member sees the
invitation on the dashboard and accepts it, the pooled balance with each member's part, leaving;
the rewards pages show the pool and redeem from it."""

import pytest
from django.test import Client

from members import services
from members.models import Member, Program
from tests.members.pages.conftest import signup
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def households_on(program):
    Program.objects.filter(pk=program.pk).update(household_max_members=3)
    program.refresh_from_db()
    return program


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_a_member_starts_a_household_and_invites_another_who_accepts(households_on, member, member_client):
    ion = signup(households_on, email="ion@example.com", first_name="Ion")
    page = member_client.get("/household/")
    assert page.status_code == 200 and "Start a household" in page.content.decode()
    response = member_client.post("/household/create/", {"name": "Pop family"})
    assert response.status_code == 302
    response = member_client.post("/household/invite/", {"who": "ION@example.com"})
    assert response.status_code == 302
    ion_client = _client(ion)
    dashboard = ion_client.get("/").content.decode()
    assert "Ana invites you to Pop family." in dashboard
    invitation = ion.household_invitations.get()
    assert ion_client.post(f"/household/invitations/{invitation.pk}/accept/").status_code == 302
    services.points_grant(member=Member.objects.get(pk=member.pk), points=40, reason="test")
    page = ion_client.get("/household/")
    html = page.content.decode()
    assert page.context["view"].pool == 200 + 200 + 40  # two welcome gifts and the grant
    assert [m.first_name for m in page.context["view"].members] == ["Ana", "Ion"]
    assert "Pop family" in html and 'data-testid="household-pool">440<' in html


def test_bad_invitations_are_form_errors_not_failures(households_on, member, member_client):
    member_client.post("/household/create/", {"name": ""})
    response = member_client.post("/household/invite/", {"who": "nobody@example.com"})
    assert response.status_code == 400
    assert "No member of the program has this member number or email." in response.content.decode()
    assert member_client.post("/household/invite/", {"who": ""}).status_code == 400
    assert member_client.post("/household/invitations/999/accept/").status_code == 404
    assert member_client.post("/household/invitations/1/maybe/").status_code == 404


def test_leaving_keeps_the_points(households_on, member, member_client):
    member_client.post("/household/create/", {"name": "Pop family"})
    assert member_client.post("/household/leave/").status_code == 302
    assert Member.objects.get(pk=member.pk).household_id is None
    assert Member.objects.get(pk=member.pk).points_available == 200


def test_the_page_is_not_found_where_households_are_off(program, member_client):
    assert member_client.get("/household/").status_code == 404


def test_the_rewards_pages_show_the_pool_and_redeem_from_it(households_on, member, member_client):
    ion = signup(households_on, email="ion@example.com", first_name="Ion")
    services.household_create(member=member)
    invitation = services.household_invite(member=Member.objects.get(pk=member.pk), invitee=ion.number)
    services.household_invitation_accept(invitation=invitation, member=ion)
    reward = RewardFactory(program=households_on, points_cost=300, title="Dinner")
    assert "Your household has 400" in member_client.get("/rewards/").content.decode()
    confirm = member_client.get(f"/rewards/{reward.pk}/redeem/")
    assert confirm.context["pool"] == 400 and confirm.context["offer"].can_redeem
    assert member_client.post(f"/rewards/{reward.pk}/redeem/").status_code == 302
    assert Member.objects.get(pk=member.pk).points_available == 0
    assert Member.objects.get(pk=ion.pk).points_available == 100
