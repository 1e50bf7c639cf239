"""Points integrity under any sequence: a hypothesis state machine drives the partner API (a real key,
through the test client) and the staff services with purchases (with items, back-dated, huge, or
with baskets that do not add up), reversals (one at a time and several in parallel threads),
redemptions and their cancels, campaign offers (a bonus and a multiplier) and staff adjustments.
After every step:

- cached balances == ledger sums == lot remainders (members.selectors.ledger_mismatches), none negative;
- the points a purchase triggered (its earn entry and whatever its recording set off: offer bonus
  and multiplier, ...) never exceed what the program's rules allow for its amount;
- a fully refunded purchase has taken back, net, every point it triggered (from lots or as debt);
- every answer tells what the ledger holds (a reversal's points and debt; a purchase's status).

PostgreSQL only (row locks under threads); CI runs it once, in its PostgreSQL configuration.
"""

import threading
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
from django.db import connection
from django.db.models import Max, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from campaigns import services as campaign_services
from campaigns.models import Offer
from core.errors import DomainError
from members import services
from members.earning import earn_quote
from members.models import EarningRule, LedgerEntry, Member, Purchase
from members.selectors import ledger_mismatches
from tests.campaigns.conftest import CampaignFactory, OfferFactory
from tests.conftest import PartnerFactory, ProgramFactory, client_for, enroll
from tests.rewards.conftest import RewardFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CENT = Decimal("0.01")
# The program's rules, so "what its rules allow for its amount" has a ceiling independent of the
# items a partner sends: base x1, coffee lines x3 (at most the whole amount), a 25-point bonus from
# 50.00, a bonus offer of 150 from 20.00 and a x2 multiplier offer on everything.
COFFEE_MULTIPLIER, BASKET_BONUS, BASKET_BONUS_FROM = Decimal(3), 25, Decimal("50")
OFFER_BONUS, OFFER_BONUS_FROM, OFFER_MULTIPLIER = 150, Decimal("20"), Decimal(2)
REWARD_COST = 30

line = st.tuples(
    st.sampled_from(["coffee", "home", ""]),
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=1, max_value=20_000).map(lambda cents: Decimal(cents) * CENT),
)
# 0: now; a few days back (inside the return window), past it, and before the member enrolled.
BACK_DAYS = st.sampled_from([0, 0, 0, 1, 13, 20, 200, 365 * 100])
HUGE = st.sampled_from(["99999999.99", "1200000000.00", "9999999999.99"])


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def ceiling(amount: Decimal) -> int:
    return int((amount * COFFEE_MULTIPLIER).to_integral_value(ROUND_CEILING)) + BASKET_BONUS


class PointsMachine(RuleBasedStateMachine):
    @initialize(
        pending_days=st.sampled_from([0, 14]),
        offers=st.sets(st.sampled_from([Offer.Kind.BONUS, Offer.Kind.MULTIPLIER])),
    )
    def program_partner_member(self, pending_days, offers):
        self.program = ProgramFactory(pending_days=pending_days, earn_rate=Decimal(1), burn_min_order=0)
        EarningRule.objects.create(
            program=self.program,
            name="Coffee x3",
            kind=EarningRule.Kind.CATEGORY,
            category="coffee",
            multiplier=COFFEE_MULTIPLIER,
        )
        EarningRule.objects.create(
            program=self.program,
            name="Basket bonus",
            kind=EarningRule.Kind.BONUS,
            points=BASKET_BONUS,
            min_amount=BASKET_BONUS_FROM,
        )
        self.partner = PartnerFactory(program=self.program)
        self.api = client_for(self.partner)
        self.api.raise_request_exception = False  # a 500 is an answer the machine checks, like any other
        self.member = enroll(self.program, timezone.now() - timedelta(days=120), consent_email=True)
        self.reward = RewardFactory(program=self.program, points_cost=REWARD_COST)
        self.purchases: dict[int, dict] = {}  # id -> what it triggered and what its refunds took
        self.redemptions: list[int] = []
        self.offers: set[str] = set()
        self.orders = 0
        for kind in sorted(offers):
            self.campaign_offer(kind)

    # --- helpers ------------------------------------------------------------------------------

    def fresh(self) -> Member:
        return Member.objects.get(pk=self.member.pk)

    def last_entry(self) -> int:
        return LedgerEntry.objects.filter(member=self.member).aggregate(m=Max("id"))["m"] or 0

    def entries_since(self, after: int) -> int:
        """Points of the member's entries after `after`, debt repayments aside (they settle older refunds)."""
        return (
            LedgerEntry.objects.filter(member=self.member, id__gt=after)
            .exclude(kind=LedgerEntry.Kind.DEBT)
            .aggregate(s=Sum("points"))["s"]
            or 0
        )

    def post(self, path: str, body: dict, client: APIClient | None = None):
        response = (client or self.api).post(f"/api/v1/{path}", body, format="json")
        assert response.status_code < 500, (path, body, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), (path, response["Content-Type"])
        return response

    def record(self, amount: Decimal, items: list[dict], back_days: int):
        self.orders += 1
        body = {
            "member": self.member.number,
            "external_id": f"ORD-{self.orders}",
            "amount": money(amount),
            "currency": "EUR",
            "items": items,
        }
        occurred_at = None
        if back_days:
            occurred_at = timezone.now() - timedelta(days=back_days)
            body["occurred_at"] = occurred_at.isoformat()
        before, offers = self.last_entry(), set(self.offers)
        response = self.post("transactions", body)
        if response.status_code != 201:
            assert 400 <= response.status_code < 500
            assert self.last_entry() == before, f"refused with {response.status_code} but points moved"
            return
        answer = response.json()
        purchase = Purchase.objects.get(pk=answer["id"])
        assert answer["points"] == purchase.points
        # Back-dating never predates the member nor skips the return window.
        assert purchase.occurred_at >= self.member.enrolled_at, f"recorded a purchase of {occurred_at}"
        if purchase.points and self.program.pending_days:
            assert answer["status"] == "pending", f"back-dated {back_days} days: {answer['status']}"
        self.purchases[purchase.pk] = {"gained": self.entries_since(before), "taken": 0, "offers": offers}

    def reverse_answer_matches(self, answers: list[dict], purchase: Purchase, debt_before: int, after: int):
        """A refund answers every point it took back: the purchase's own and those of what it set off
        (an offer's bonus or multiplier), from lots or as debt; the ledger's reverse entries say the same."""
        member = self.fresh()
        answered_points = sum(a["points_reversed"] for a in answers)
        answered_debt = sum(a["debt"] for a in answers)
        taken = sum(
            -points + sum(line.get("debt", 0) for line in breakdown or [] if isinstance(line, dict))
            for points, breakdown in LedgerEntry.objects.filter(
                purchase=purchase, kind=LedgerEntry.Kind.REVERSE, id__gt=after
            ).values_list("points", "breakdown")
        )
        assert answered_points == taken, f"answers say {answered_points} points reversed, the ledger took {taken}"
        assert answered_debt == member.points_debt - debt_before, (
            f"answers say {answered_debt} debt, the member's debt grew by {member.points_debt - debt_before}"
        )

    # --- rules --------------------------------------------------------------------------------

    @rule(lines=st.lists(line, min_size=1, max_size=3), back_days=BACK_DAYS)
    def purchase(self, lines, back_days):
        items = [
            {"sku": f"SKU-{i}", "category": c, "quantity": q, "unit_price": money(p)}
            for i, (c, q, p) in enumerate(lines)
        ]
        self.record(sum((q * p for _, q, p in lines), Decimal(0)), items, back_days)

    @rule(amount=HUGE)
    def huge_purchase(self, amount):
        self.record(Decimal(amount), [{"sku": "BIG", "category": "home", "quantity": 1, "unit_price": amount}], 0)

    @rule(
        amount=st.integers(min_value=1, max_value=10_000).map(lambda c: Decimal(c) * CENT),
        quantity=st.integers(min_value=2, max_value=100),
        unit_price=st.sampled_from([Decimal("100.00"), Decimal("999.99")]),
    )
    def basket_not_adding_up(self, amount, quantity, unit_price):
        """Items worth far more than the amount: refused, nothing earned."""
        self.orders += 1
        before = self.last_entry()
        body = {
            "member": self.member.number,
            "external_id": f"BAD-{self.orders}",
            "amount": money(amount),
            "currency": "EUR",
            "items": [{"sku": "X", "category": "coffee", "quantity": quantity, "unit_price": money(unit_price)}],
        }
        response = self.post("transactions", body)
        assert response.status_code == 400, f"{quantity} x {unit_price} for {amount}: {response.status_code}"
        assert self.last_entry() == before

    def open_purchase(self, data) -> Purchase:
        return Purchase.objects.get(pk=data.draw(st.sampled_from(sorted(self.purchases))))

    @precondition(lambda self: self.purchases)
    @rule(data=st.data(), share=st.sampled_from([None, Decimal("0.1"), Decimal("0.5"), Decimal("1")]))
    def reverse(self, data, share):
        purchase = self.open_purchase(data)
        left = purchase.amount - purchase.refunded_amount
        body = {"reason": "Returned"}
        if share is not None:
            body["amount"] = money(max(CENT, (left * share).quantize(CENT)))
        before, debt_before = self.last_entry(), self.fresh().points_debt
        response = self.post(f"transactions/{purchase.pk}/reverse", body)
        if left <= 0 or (share is not None and Decimal(body["amount"]) > left):
            assert response.status_code == 400
        if response.status_code != 200:
            assert self.last_entry() == before
            return
        self.reverse_answer_matches([response.json()], purchase, debt_before, before)
        debt_grew = self.fresh().points_debt - debt_before
        self.purchases[purchase.pk]["taken"] += self.entries_since(before) - debt_grew

    @precondition(lambda self: self.purchases)
    @rule(data=st.data(), threads=st.integers(min_value=2, max_value=6), share=st.sampled_from([None, Decimal("0.1")]))
    def parallel_reversals(self, data, threads, share):
        """Several refunds of one purchase at once, each from its own connection: together they take
        back at most the purchase, and their answers add up to what the ledger holds."""
        purchase = self.open_purchase(data)
        body = {"reason": "Returned"}
        if share is not None:
            body["amount"] = money(max(CENT, (purchase.amount * share).quantize(CENT)))
        before, debt_before = self.last_entry(), self.fresh().points_debt
        refunded_before = purchase.refunded_amount
        answers, barrier = [], threading.Barrier(threads)

        def refund():
            client = APIClient(raise_request_exception=False)
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {self.api.key}")
            try:
                barrier.wait(timeout=10)
                answers.append(client.post(f"/api/v1/transactions/{purchase.pk}/reverse", body, format="json"))
            finally:
                connection.close()

        workers = [threading.Thread(target=refund) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(answers) == threads
        assert all(r.status_code in (200, 400, 409) for r in answers), [r.status_code for r in answers]
        self.reverse_answer_matches([r.json() for r in answers if r.status_code == 200], purchase, debt_before, before)
        refunded = sum(Decimal(r.json()["amount"]) for r in answers if r.status_code == 200)
        purchase.refresh_from_db()
        assert refunded == purchase.refunded_amount - refunded_before <= purchase.amount - refunded_before
        debt_grew = self.fresh().points_debt - debt_before
        self.purchases[purchase.pk]["taken"] += self.entries_since(before) - debt_grew

    @rule()
    def redeem(self):
        available = self.fresh().points_available
        response = self.post("redemptions", {"member": self.member.number, "reward": self.reward.pk})
        if available >= REWARD_COST:
            assert response.status_code == 201, (available, response.json())
            self.redemptions.append(response.json()["id"])
        else:
            assert response.status_code == 409 and response.json()["error"]["code"] == "insufficient_points"

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def cancel_redemption(self, data):
        redemption = data.draw(st.sampled_from(self.redemptions))
        available = self.fresh().points_available
        response = self.post(f"redemptions/{redemption}/cancel", {"reason": "Changed mind"})
        if response.status_code == 200:
            self.redemptions.remove(redemption)
            assert self.fresh().points_available >= available + REWARD_COST
        else:
            assert response.status_code == 409

    @rule(kind=st.sampled_from([Offer.Kind.BONUS, Offer.Kind.MULTIPLIER]))
    def campaign_offer(self, kind):
        """A campaign hands the member an offer, paid on their next purchases."""
        if kind in self.offers:
            return
        offer = OfferFactory(
            program=self.program,
            kind=kind,
            title=f"{kind} offer",
            points=OFFER_BONUS,
            min_amount=OFFER_BONUS_FROM,
            multiplier=OFFER_MULTIPLIER,
            category="",
            discount_percent=0,
        )
        campaign_services.campaign_launch(campaign=CampaignFactory(program=self.program, offer=offer))
        assert self.member.offer_grants.filter(offer=offer).exists()
        self.offers.add(kind)

    @rule(points=st.integers(min_value=-300, max_value=500).filter(bool))
    def staff_adjustment(self, points):
        available = self.fresh().points_available
        try:
            services.points_adjust(member=self.member, points=points, reason="Correction", created_by=None)
        except DomainError as refused:
            assert refused.code == "insufficient_points" and -points > available
        else:
            assert points > 0 or self.fresh().points_available == available + points

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def balances_equal_ledger_equal_lots(self):
        assert ledger_mismatches() == []
        member = self.fresh()
        assert min(member.points_available, member.points_pending, member.points_debt) >= 0

    @invariant()
    def no_purchase_earns_more_than_its_rules_allow(self):
        for purchase in Purchase.objects.filter(pk__in=list(self.purchases)):
            state = self.purchases[purchase.pk]
            quote = earn_quote(
                program=self.program,
                amount=purchase.amount,
                at=purchase.occurred_at,
                items=purchase.items,
                paid_with_points=purchase.paid_with_points,
                partner=self.partner,
            )
            allowed = min(quote.points, ceiling(purchase.amount))
            if Offer.Kind.BONUS in state["offers"] and purchase.amount >= OFFER_BONUS_FROM:
                allowed += OFFER_BONUS
            if Offer.Kind.MULTIPLIER in state["offers"]:
                allowed += int(purchase.amount * (OFFER_MULTIPLIER - 1))
            assert purchase.points <= quote.points
            assert state["gained"] <= allowed, (
                f"{purchase.amount} EUR with {purchase.items} triggered {state['gained']} points; "
                f"its rules allow {allowed}"
            )

    @invariant()
    def a_full_refund_takes_back_everything_the_purchase_triggered(self):
        for purchase in Purchase.objects.filter(pk__in=list(self.purchases)):
            state = self.purchases[purchase.pk]
            if purchase.refunded_amount == purchase.amount:
                assert state["gained"] + state["taken"] == 0, (
                    f"purchase {purchase.amount} EUR fully refunded: triggered {state['gained']}, "
                    f"took back {-state['taken']}"
                )


@pytest.mark.filterwarnings("ignore")
def test_points_stay_whole_under_any_sequence_of_partner_and_staff_operations():
    run_state_machine_as_test(
        PointsMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        ),
    )
