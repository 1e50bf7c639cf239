"""Households: founding, invitations (by number or email), the size limit, leaving with what one
earned, the events partners get, and tier qualification by the household's combined metric."""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from members import services
from members.households import household_pool, household_tier_metric_values, household_view
from members.models import Event, HouseholdInvitation, Member, Program, Tier
from tests.conftest import MemberFactory, ProgramFactory, TierFactory

from .conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def _program(**fields) -> Program:
    program = ProgramFactory()
    Program.objects.filter(pk=program.pk).update(**{"household_max_members": 3, **fields})
    program.refresh_from_db()
    return program


def _fresh(member) -> Member:
    return Member.objects.select_related("program", "tier").get(pk=member.pk)


def _household_of(program, *members):
    """A household of `members`, the first founding it and inviting the others, who accept."""
    founder, *others = members
    household = services.household_create(member=founder, name="Pop family")
    for other in others:
        invitation = services.household_invite(member=_fresh(founder), invitee=other.number)
        services.household_invitation_accept(invitation=invitation, member=_fresh(other))
    return household


def test_a_member_founds_a_household_and_an_invited_member_joins_by_email():
    program = _program()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    household = services.household_create(member=ana, name="  Pop   family ")
    assert household.name == "Pop family"
    invitation = services.household_invite(member=_fresh(ana), invitee=ion.email.upper())
    assert invitation.member_id == ion.pk and invitation.status == HouseholdInvitation.Status.PENDING
    # The same invitation again is the one already waiting.
    assert services.household_invite(member=_fresh(ana), invitee=ion.number).pk == invitation.pk
    services.household_invitation_accept(invitation=invitation, member=_fresh(ion))
    assert _fresh(ion).household_id == household.pk
    invitation.refresh_from_db()
    assert invitation.status == HouseholdInvitation.Status.ACCEPTED
    events = list(Event.objects.filter(type="household.joined").order_by("pk").values_list("payload", flat=True))
    assert [(e["member"], e["invited_by"], e["members"]) for e in events] == [
        (ana.number, None, 1),
        (ion.number, ana.number, 2),
    ]


def test_only_the_invited_member_answers_and_only_once():
    program = _program()
    ana, ion, eva = (MemberFactory(program=program) for _ in range(3))
    services.household_create(member=ana)
    invitation = services.household_invite(member=_fresh(ana), invitee=ion.number)
    with pytest.raises(DomainError) as refused:
        services.household_invitation_accept(invitation=invitation, member=_fresh(eva))
    assert refused.value.code == "invitation_not_found"
    services.household_invitation_decline(invitation=invitation, member=_fresh(ion))
    with pytest.raises(DomainError) as refused:
        services.household_invitation_accept(invitation=invitation, member=_fresh(ion))
    assert refused.value.code == "invitation_decided"
    assert _fresh(ion).household_id is None


def test_the_program_sets_whether_households_exist_and_their_size():
    program = _program()
    ana, ion, eva, dan = (MemberFactory(program=program) for _ in range(4))
    _household_of(program, ana, ion, eva)
    with pytest.raises(DomainError) as refused:
        services.household_invite(member=_fresh(ana), invitee=dan.number)
    assert refused.value.code == "household_full"
    Program.objects.filter(pk=program.pk).update(household_max_members=0)
    with pytest.raises(DomainError) as refused:
        services.household_create(member=_fresh(dan))
    assert refused.value.code == "households_off"


def test_an_invitation_accepted_once_the_household_filled_up_is_refused():
    program = _program(household_max_members=2)
    ana, ion, eva = (MemberFactory(program=program) for _ in range(3))
    services.household_create(member=ana)
    to_ion = services.household_invite(member=_fresh(ana), invitee=ion.number)
    to_eva = services.household_invite(member=_fresh(ana), invitee=eva.number)
    services.household_invitation_accept(invitation=to_ion, member=_fresh(ion))
    with pytest.raises(DomainError) as refused:
        services.household_invitation_accept(invitation=to_eva, member=_fresh(eva))
    assert refused.value.code == "household_full"


def test_unknown_invitees_and_members_of_another_household_are_refused():
    program = _program()
    ana, ion, eva = (MemberFactory(program=program) for _ in range(3))
    services.household_create(member=ana)
    services.household_create(member=eva)
    for who in ("nobody@example.com", "123", "not a number"):
        with pytest.raises(DomainError) as refused:
            services.household_invite(member=_fresh(ana), invitee=who)
        assert refused.value.code == "member_not_found"
    invitation = services.household_invite(member=_fresh(eva), invitee=ion.number)
    services.household_invitation_accept(invitation=invitation, member=_fresh(ion))
    to_ion = services.household_invite(member=_fresh(ana), invitee=ion.number)
    with pytest.raises(DomainError) as refused:
        services.household_invitation_accept(invitation=to_ion, member=_fresh(ion))
    assert refused.value.code == "already_in_household"
    with pytest.raises(DomainError) as refused:
        services.household_create(member=_fresh(ion))
    assert refused.value.code == "already_in_household"


def test_the_pool_adds_up_members_points_and_leaving_keeps_what_one_earned():
    program = _program()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    household = _household_of(program, ana, ion)
    services.points_grant(member=ana, points=300, reason="test")
    services.points_grant(member=ion, points=200, reason="test")
    assert household_pool(household_id=household.pk) == 500
    view = household_view(member=_fresh(ion))
    assert view.pool == 500 and [m.points_available for m in view.members] == [300, 200]
    services.household_leave(member=_fresh(ion))
    assert _fresh(ion).household_id is None
    assert assert_ledger_consistent(ion).points_available == 200
    assert household_pool(household_id=household.pk) == 300
    left = Event.objects.get(type="household.left").payload
    assert (left["member"], left["members"]) == (ion.number, 1)


def test_the_last_member_leaving_cancels_the_invitations_still_waiting():
    program = _program()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    services.household_create(member=ana)
    invitation = services.household_invite(member=_fresh(ana), invitee=ion.number)
    services.household_leave(member=_fresh(ana))
    invitation.refresh_from_db()
    assert invitation.status == HouseholdInvitation.Status.CANCELLED
    with pytest.raises(DomainError) as refused:
        services.household_leave(member=_fresh(ana))
    assert refused.value.code == "no_household"


def test_in_household_mode_the_combined_metric_qualifies_every_member(django_capture_on_commit_callbacks):
    program = _program(household_tier_mode=Program.HouseholdTierMode.HOUSEHOLD)
    TierFactory(program=program, name="Base", level=0, threshold=0, metric=Tier.Metric.POINTS)
    gold = TierFactory(program=program, name="Gold", level=1, threshold=500, metric=Tier.Metric.POINTS)
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    with django_capture_on_commit_callbacks(execute=True):
        _household_of(program, ana, ion)
    services.points_grant(member=ana, points=300, reason="test")
    assert _fresh(ana).tier.name == "Base"
    with django_capture_on_commit_callbacks(execute=True):
        services.points_grant(member=ion, points=250, reason="test")
    # Ion's grant took the household to 550: Ion at once, Ana by the task run after commit.
    assert _fresh(ion).tier_id == gold.pk
    assert _fresh(ana).tier_id == gold.pk


def test_the_daily_review_leaves_household_mode_members_to_their_household(django_capture_on_commit_callbacks):
    program = _program(household_tier_mode=Program.HouseholdTierMode.HOUSEHOLD)
    TierFactory(program=program, name="Base", level=0, threshold=0, metric=Tier.Metric.POINTS)
    gold = TierFactory(
        program=program, name="Gold", level=1, threshold=500, metric=Tier.Metric.POINTS, window=Tier.Window.ROLLING_12
    )
    ana, ion, eva = (MemberFactory(program=program) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        _household_of(program, ana, ion)
        services.points_grant(member=ana, points=300, reason="test")
        services.points_grant(member=ion, points=250, reason="test")
    Member.objects.filter(pk=eva.pk).update(tier=gold)  # alone, 0 points: warned
    assert _fresh(ana).tier_id == gold.pk
    assert services.tiers_review()["warned"] == 1
    assert _fresh(ana).tier_downgrade_warned_at is None and _fresh(eva).tier_downgrade_warned_at is not None


def test_in_member_mode_each_member_qualifies_alone():
    program = _program()
    TierFactory(program=program, name="Base", level=0, threshold=0, metric=Tier.Metric.POINTS)
    TierFactory(program=program, name="Gold", level=1, threshold=500, metric=Tier.Metric.POINTS)
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    _household_of(program, ana, ion)
    services.points_grant(member=ana, points=300, reason="test")
    services.points_grant(member=ion, points=250, reason="test")
    assert _fresh(ana).tier.name == _fresh(ion).tier.name == "Base"


def test_the_household_metric_selector_adds_up_mates_and_leaves_others_alone():
    program = _program()
    tier = TierFactory(program=program, name="Gold", level=1, threshold=500, metric=Tier.Metric.POINTS)
    ana, ion, eva = (MemberFactory(program=program) for _ in range(3))
    _household_of(program, ana, ion)
    for member, points in ((ana, 300), (ion, 250), (eva, 100)):
        services.points_grant(member=member, points=points, reason="test")
    values = household_tier_metric_values(tier=tier, member_ids=[ana.pk, eva.pk], now=timezone.now())
    assert values == {ana.pk: Decimal(550), eva.pk: Decimal(100)}


def test_an_erased_member_leaves_the_household(django_capture_on_commit_callbacks):
    program = _program()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    household = _household_of(program, ana, ion)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_anonymize(member=_fresh(ion))
    assert _fresh(ion).household_id is None
    assert list(Member.objects.filter(household=household)) == [_fresh(ana)]
