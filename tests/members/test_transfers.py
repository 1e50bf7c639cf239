"""Points transfers between two members of a program: limits, both ledgers naming the other member,
the points' expiry kept, idempotent by reference."""

from datetime import timedelta

import pytest

from core.errors import DomainError
from members import services
from members.models import Event, LedgerEntry, PointLot, PointsTransfer, Program
from tests.conftest import MemberFactory

from .conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(program):
    Program.objects.filter(pk=program.pk).update(transfer_max_points=500, transfer_min_points=10)
    program.refresh_from_db()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    services.points_grant(member=ana, points=300, reason="Start")
    return ana, ion


def test_a_transfer_moves_points_and_both_ledgers_name_the_other_member(pair):
    ana, ion = pair
    _, created = services.points_transfer(sender=ana, recipient=ion, points=120, reference="T-1")
    assert created
    ana, ion = assert_ledger_consistent(ana), assert_ledger_consistent(ion)
    assert (ana.points_available, ion.points_available) == (180, 120)
    sent = LedgerEntry.objects.get(member=ana, kind=LedgerEntry.Kind.TRANSFER_OUT)
    got = LedgerEntry.objects.get(member=ion, kind=LedgerEntry.Kind.TRANSFER_IN)
    assert (sent.points, got.points) == (-120, 120)
    assert ion.number in sent.reason and ana.number in got.reason
    assert ion.points_lifetime == 0  # moved, not issued
    assert Event.objects.filter(type="points.transferred").count() == 1


def test_the_same_reference_moves_points_once(pair):
    ana, ion = pair
    first, _ = services.points_transfer(sender=ana, recipient=ion, points=100, reference="T-1")
    again, created = services.points_transfer(sender=ana, recipient=ion, points=100, reference="T-1")
    assert (again, created) == (first, False)
    with pytest.raises(DomainError) as other:
        services.points_transfer(sender=ana, recipient=ion, points=50, reference="T-1")
    assert other.value.code == "duplicate_reference"
    assert assert_ledger_consistent(ion).points_available == 100


@pytest.mark.parametrize(("points", "code"), [(5, "transfer_out_of_range"), (501, "transfer_out_of_range")])
def test_a_transfer_outside_the_program_limits_is_refused(pair, points, code):
    ana, ion = pair
    with pytest.raises(DomainError) as refused:
        services.points_transfer(sender=ana, recipient=ion, points=points, reference="T-x")
    assert refused.value.code == code
    assert not PointsTransfer.objects.exists()


def test_the_daily_limit_counts_every_transfer_of_the_day(pair, clock):
    ana, ion = pair
    Program.objects.filter(pk=ana.program_id).update(transfer_daily_points=150)
    ana.program.refresh_from_db()
    services.points_transfer(sender=ana, recipient=ion, points=100, reference="T-1")
    with pytest.raises(DomainError) as refused:
        services.points_transfer(sender=ana, recipient=ion, points=60, reference="T-2")
    assert (refused.value.code, refused.value.status) == ("transfer_daily_limit", 409)
    clock.shift(timedelta(days=1))
    services.points_transfer(sender=ana, recipient=ion, points=60, reference="T-2")


def test_no_overdraft_no_self_transfer_no_other_program_and_off_by_default(pair, program):
    ana, ion = pair
    with pytest.raises(DomainError) as short:
        services.points_transfer(sender=ana, recipient=ion, points=301, reference="T-1")
    assert short.value.code == "insufficient_points"
    with pytest.raises(DomainError) as self_gift:
        services.points_transfer(sender=ana, recipient=ana, points=10, reference="T-2")
    assert self_gift.value.code == "same_member"
    stranger = MemberFactory()
    with pytest.raises(DomainError) as foreign:
        services.points_transfer(sender=ana, recipient=stranger, points=10, reference="T-3")
    assert foreign.value.code == "other_program"
    off = MemberFactory(program=stranger.program)
    services.points_grant(member=stranger, points=50, reason="Start")
    with pytest.raises(DomainError) as disabled:
        services.points_transfer(sender=stranger, recipient=off, points=10, reference="T-4")
    assert disabled.value.code == "transfers_off"


def test_transferred_points_keep_their_expiry(program, clock):
    Program.objects.filter(pk=program.pk).update(
        transfer_max_points=500, expiry_policy=Program.Expiry.FIXED, expiry_months=12
    )
    program.refresh_from_db()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    services.points_grant(member=ana, points=100, reason="Old")
    expires = PointLot.objects.get(member=ana).expires_at
    clock.shift(timedelta(days=300))
    services.points_transfer(sender=ana, recipient=ion, points=100, reference="T-1")
    received = PointLot.objects.get(member=ion)
    assert received.expires_at == expires  # not 12 months from the transfer
