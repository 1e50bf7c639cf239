"""A hypothesis state machine over the ledger: whatever happens, in whatever order,
cached balance == ledger sum == sum of lot remainders >= 0."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.errors import DomainError
from members import services
from members.models import Program
from tests.conftest import MemberFactory, ProgramFactory

from .conftest import assert_ledger_consistent, fresh


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.traveller = time_machine.travel(datetime(2026, 1, 1, 9, 0, tzinfo=UTC), tick=False)
        self.clock = self.traveller.start()
        self.purchases = []
        self.sequence = 0

    @initialize(pending_days=st.sampled_from([0, 3]), policy=st.sampled_from(list(Program.Expiry.values)))
    def program_and_member(self, pending_days, policy):
        program = ProgramFactory(
            pending_days=pending_days, expiry_policy=policy, expiry_months=2, welcome_bonus=20, earn_rate=Decimal(1)
        )
        self.member = MemberFactory(program=program)

    @rule(amount=st.integers(min_value=1, max_value=300))
    def earn(self, amount):
        self.sequence += 1
        purchase, _ = services.purchase_record(
            member=self.member,
            partner=None,
            external_id=f"HYP-{self.member.pk}-{self.sequence}",
            amount=Decimal(amount),
            currency="EUR",
        )
        self.purchases.append(purchase)

    @rule(points=st.integers(min_value=1, max_value=200))
    def redeem(self, points):
        available = fresh(self.member).points_available
        try:
            services.points_spend(member=self.member, points=points, reason="Reward")
        except DomainError as refused:
            assert refused.code == "insufficient_points"
            assert points > available
        else:
            assert points <= available

    @rule(points=st.integers(min_value=1, max_value=50))
    def grant(self, points):
        services.points_grant(member=self.member, points=points, reason="Surprise")

    @precondition(lambda self: self.purchases)
    @rule(data=st.data(), share=st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal("1")]))
    def reverse(self, data, share):
        purchase = data.draw(st.sampled_from(self.purchases))
        purchase.refresh_from_db()
        left = purchase.amount - purchase.refunded_amount
        if left <= 0:
            return
        amount = max(Decimal("0.01"), (left * share).quantize(Decimal("0.01")))
        services.purchase_reverse(purchase=purchase, amount=amount)

    @rule()
    def release_and_expire(self):
        services.points_release_pending()
        services.points_expire_due()

    @rule(days=st.integers(min_value=1, max_value=40))
    def advance_clock(self, days):
        self.clock.shift(timedelta(days=days))

    @invariant()
    def balance_equals_ledger_equals_lots(self):
        if hasattr(self, "member"):
            assert_ledger_consistent(self.member)

    def teardown(self):
        self.traveller.stop()


@pytest.mark.django_db
def test_ledger_invariant_holds_under_any_sequence():
    LedgerMachine.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
