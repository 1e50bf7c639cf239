"""Vouchers: cancel and refund, partners validating and consuming, expiry, code import and uniqueness."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.csvfiles import ImportMode
from core.errors import DomainError
from members.models import Event, LedgerEntry
from rewards import selectors, services
from rewards.models import Redemption, Voucher
from tests.conftest import PartnerFactory
from tests.rewards.conftest import RewardFactory, assert_ledger_consistent, fresh, give


@pytest.fixture
def reward(program):
    return RewardFactory(program=program, points_cost=250, stock=3, min_order_value=Decimal("20"))


@pytest.fixture
def redemption(member, reward):
    give(member, 1000)
    return services.reward_redeem(member=member, reward=reward)


def test_cancel_returns_exactly_the_points_and_the_unit(member, reward, redemption, admin_user):
    assert fresh(member).points_available == 750
    services.redemption_cancel(redemption=redemption, reason="Wrong size", created_by=admin_user)

    assert fresh(member).points_available == 1000
    reward.refresh_from_db()
    assert reward.stock == 3
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED and redemption.cancel_reason == "Wrong size"
    assert Voucher.objects.get(redemption=redemption).status == Voucher.Status.CANCELLED
    refund = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.REFUND)
    assert refund.points == 250 and refund.reference == f"rewards.redemption:{redemption.pk}"
    assert refund.created_by == admin_user
    assert_ledger_consistent()


def test_cancel_twice_is_refused_and_refunds_once(member, redemption):
    services.redemption_cancel(redemption=redemption)
    with pytest.raises(DomainError) as exc:
        services.redemption_cancel(redemption=redemption)
    assert exc.value.code == "already_cancelled"
    assert fresh(member).points_available == 1000


def test_a_used_voucher_cannot_be_cancelled(member, redemption, partner):
    services.voucher_consume(code=redemption.voucher.code, partner=partner, order_reference="O-1", order_total=50)
    with pytest.raises(DomainError) as exc:
        services.redemption_cancel(redemption=redemption)
    assert exc.value.code == "voucher_consumed"
    assert fresh(member).points_available == 750


def test_partner_validates_then_consumes_a_voucher_typed_with_dashes(redemption, partner):
    code = services.voucher_code_display(redemption.voucher.code).lower()
    assert "-" in code
    assert services.voucher_validate(code=code, partner=partner, order_total=Decimal("20")) == redemption.voucher

    voucher = services.voucher_consume(code=code, partner=partner, order_reference="O-7", order_total=Decimal("35"))

    assert voucher.status == Voucher.Status.CONSUMED
    assert (voucher.consumed_by, voucher.order_reference, voucher.order_total) == (partner, "O-7", Decimal("35"))
    assert Event.objects.filter(type="voucher.consumed").count() == 1
    # The partner's retry of the same order is answered with the same voucher, not an error.
    again = services.voucher_consume(code=code, partner=partner, order_reference="O-7", order_total=Decimal("35"))
    assert again.pk == voucher.pk
    with pytest.raises(DomainError) as exc:
        services.voucher_consume(code=code, partner=partner, order_reference="O-8", order_total=Decimal("35"))
    assert exc.value.code == "voucher_consumed"


def test_order_below_the_minimum_is_refused(redemption, partner):
    with pytest.raises(DomainError) as exc:
        services.voucher_consume(
            code=redemption.voucher.code, partner=partner, order_reference="O-1", order_total=Decimal("19.99")
        )
    assert exc.value.code == "order_below_minimum"
    assert Voucher.objects.get(pk=redemption.voucher.pk).status == Voucher.Status.ISSUED


def test_unknown_codes_and_other_programs_codes_are_not_found(redemption):
    with pytest.raises(DomainError) as exc:
        services.voucher_validate(code="NOPE-NOPE-NOPE", partner=PartnerFactory(program=redemption.program))
    assert (exc.value.code, exc.value.status) == ("voucher_not_found", 404)
    with pytest.raises(DomainError) as exc:
        services.voucher_validate(code=redemption.voucher.code, partner=PartnerFactory())
    assert exc.value.code == "voucher_not_found"


def test_imported_codes_not_handed_out_are_not_found(reward, partner):
    services.voucher_codes_import(reward=reward, data="SECRET1234")
    with pytest.raises(DomainError) as exc:
        services.voucher_validate(code="SECRET1234", partner=partner)
    assert exc.value.code == "voucher_not_found"


def test_a_cancelled_voucher_is_refused(redemption, partner):
    services.redemption_cancel(redemption=redemption)
    with pytest.raises(DomainError) as exc:
        services.voucher_validate(code=redemption.voucher.code, partner=partner)
    assert exc.value.code == "voucher_cancelled"


def test_vouchers_expire_after_their_validity(clock, member, redemption, partner):
    clock.shift(timedelta(days=29))
    assert services.vouchers_expire() == 0
    services.voucher_validate(code=redemption.voucher.code, partner=partner)
    clock.shift(timedelta(days=1))
    # Refused at once, even before the periodic job has marked it.
    with pytest.raises(DomainError) as exc:
        services.voucher_validate(code=redemption.voucher.code, partner=partner)
    assert exc.value.code == "voucher_expired"
    assert services.vouchers_expire() == 1
    assert Voucher.objects.get(pk=redemption.voucher.pk).status == Voucher.Status.EXPIRED
    assert fresh(member).points_available == 750


def test_import_skips_headers_duplicates_and_known_codes_and_reports_invalid(reward):
    services.voucher_codes_import(reward=reward, data="KNOWN0001")
    data = "code,amount\nGC-1111-2222,10\ngc 1111 2222,10\nKNOWN0001,10\nbad!code,10\n\nAB,5\nGC33334444,10\n"

    result = services.voucher_codes_import(reward=reward, data=data, mode=ImportMode.VALID_ONLY)

    assert (result.added, result.unchanged, result.skipped_lines) == (2, 2, [5, 7])
    codes = set(reward.vouchers.values_list("code", flat=True))
    assert codes == {"KNOWN0001", "GC11112222", "GC33334444"}
    reward.refresh_from_db()
    assert reward.code_source == reward.CodeSource.IMPORTED


def test_donations_take_no_codes(program):
    from rewards.models import Reward
    from tests.rewards.conftest import CauseFactory

    donation = RewardFactory(program=program, kind=Reward.Kind.CHARITY, cause=CauseFactory(program=program))
    with pytest.raises(DomainError) as exc:
        services.voucher_codes_import(reward=donation, data="ABCD1234")
    assert exc.value.code == "codes_not_used"


def test_generated_codes_are_unique_at_100k_and_the_database_refuses_a_repeat(reward, member):
    codes = [services.voucher_code_new() for _ in range(100_000)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 12 and set(c) <= set("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for c in codes)
    Voucher.objects.create(program=reward.program, reward=reward, member=member, code=codes[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(program=reward.program, reward=reward, member=member, code=codes[0])


def test_liability_counts_issued_unexpired_vouchers_at_their_redemption_value(clock, member, program, partner):
    give(member, 5000)
    reward = RewardFactory(program=program, points_cost=100, value=Decimal("7.50"), voucher_valid_days=10)
    kept, used, cancelled = (services.reward_redeem(member=member, reward=reward) for _ in range(3))
    services.voucher_consume(code=used.voucher.code, partner=partner, order_reference="O", order_total=Decimal(50))
    services.redemption_cancel(redemption=cancelled)
    reward.value = Decimal("99")  # a later price change does not rewrite what was promised
    reward.save()
    assert selectors.voucher_liability(program=program) == Decimal("7.50")
    clock.shift(timedelta(days=10))
    assert selectors.voucher_liability(program=program) == Decimal("0")
    assert kept.voucher.status == Voucher.Status.ISSUED
