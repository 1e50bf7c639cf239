"""The earn and balance hot paths: what they cache stays correct when staff change the program, the
member lookup and lock in one statement keeps referrals working, and the statement budget of one
earn request and one balance read (round trips are what the benchmark measures; see bench/)."""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import services
from members.models import EarningRule, LedgerEntry, Member, MembershipPlan, Program, Tier
from tests.conftest import MemberFactory, TierFactory, purchase_body


def _earn(api, member, external_id: str, amount: str = "100.00") -> dict:
    response = api.post(
        "/api/v1/transactions", purchase_body(member, external_id=external_id, amount=amount), format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_an_earning_rule_added_after_a_purchase_applies_to_the_next_one(api, program, member):
    assert _earn(api, member, "A-1")["points"] == 100  # the rules are now cached
    rule = EarningRule.objects.create(
        program=Program.objects.get(pk=program.pk),  # another copy, as admin would load it
        name="Bonus week",
        kind=EarningRule.Kind.BONUS,
        points=25,
    )
    second = _earn(api, member, "A-2")
    assert second["points"] == 125
    assert {"kind": "bonus", "label": "Bonus week", "points": 25, "rule": rule.pk} in second["breakdown"]


def test_saving_a_program_loaded_before_a_rule_changed_keeps_the_new_rule(api, program, member):
    stale = Program.objects.get(pk=program.pk)  # say, an admin form opened earlier
    assert _earn(api, member, "H-1")["points"] == 100
    EarningRule.objects.create(program_id=program.pk, name="Bonus", kind=EarningRule.Kind.BONUS, points=10)
    stale.points_name = "stars"
    stale.save()
    assert _earn(api, member, "H-2")["points"] == 110


def test_a_rule_switched_off_or_deleted_stops_applying(api, program, member):
    rule = EarningRule.objects.create(program=program, name="Bonus", kind=EarningRule.Kind.BONUS, points=10)
    assert _earn(api, member, "B-1")["points"] == 110
    rule.is_active = False
    rule.save()
    assert _earn(api, member, "B-2")["points"] == 100
    rule.is_active = True
    rule.save()
    assert _earn(api, member, "B-3")["points"] == 110
    rule.delete()
    assert _earn(api, member, "B-4")["points"] == 100


def test_a_plan_created_after_purchases_multiplies_its_subscribers_points(api, program, member):
    assert _earn(api, member, "C-1")["points"] == 100  # cached: the program sells no plans
    plan = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("9.99"), earn_multiplier=2)
    services.plan_subscribe(
        member=Member.objects.get(pk=member.pk), plan=plan, paid_by="test", payment_reference="PAY-1"
    )
    assert _earn(api, member, "C-2")["points"] == 200


def test_a_tier_added_later_is_reached_by_the_next_purchase(api, program, member):
    TierFactory(program=program, name="Base", level=0)
    _earn(api, member, "D-1")
    assert Member.objects.get(pk=member.pk).tier.name == "Base"
    Tier.objects.create(program=program, name="Gold", level=1, threshold=Decimal("150"))
    _earn(api, member, "D-2")
    assert Member.objects.get(pk=member.pk).tier.name == "Gold"
    balance = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert balance["tier"] == "Gold" and balance["next_tier"] is None


def test_the_first_purchase_of_a_referred_member_rewards_the_referrer_through_the_api(api, program):
    program.referral_referrer_points = 50
    program.referral_referee_points = 20
    program.save()
    referrer = MemberFactory(program=program)
    friend = MemberFactory(program=program, referral_code=referrer.referral_code)
    assert Member.objects.get(pk=friend.pk).referred_by_id == referrer.pk
    _earn(api, friend, "E-1")
    _earn(api, friend, "E-2")
    assert LedgerEntry.objects.filter(member=referrer, kind=LedgerEntry.Kind.REFERRAL).count() == 1
    assert Member.objects.get(pk=referrer.pk).points_available == 50


def test_an_unknown_member_is_a_404_and_earns_nothing(api, member):
    response = api.post("/api/v1/transactions", {**purchase_body(member), "member": "999999999999"}, format="json")
    assert response.status_code == 404
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EARN).exists()


def test_one_earn_request_stays_within_its_statement_budget(api, program, member):
    TierFactory(program=program, name="Base", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("1000"))
    _earn(api, member, "W-1")  # warms the per-program cache and the key cache
    with CaptureQueriesContext(connection) as queries:
        api.post(
            "/api/v1/transactions", purchase_body(member, external_id="F-1"), format="json", HTTP_IDEMPOTENCY_KEY="F-1"
        )
    # 11 statements of work (claim, lock, duplicate check, the member's points today for the daily
    # ceiling (skipped on a member's first purchase of the day), purchase, entry, lot, member, events,
    # tier metric, stored answer) plus transaction control (BEGIN/SAVEPOINT/RELEASE/COMMIT).
    work = [
        q for q in queries.captured_queries if q["sql"].split()[0] not in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT")
    ]
    assert len(work) <= 11, "\n".join(q["sql"][:120] for q in work)


def test_a_balance_read_is_two_statements_then_one_from_the_cache(api, program, member):
    TierFactory(program=program, name="Base", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("1000"))
    program.expiry_policy = Program.Expiry.FIXED
    program.save()
    _earn(api, member, "G-1")
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/members/{member.number}/balance")
    assert response.status_code == 200
    assert response.json()["next_tier"]["value"] == "100.00"
    assert len(queries.captured_queries) == 2  # the member, then its standing in one SELECT
    with CaptureQueriesContext(connection) as queries:
        again = api.get(f"/api/v1/members/{member.number}/balance")
    assert again.content == response.content
    assert len(queries.captured_queries) == 1  # the member row only: the answer is the cached body


def test_a_balance_read_right_after_an_earn_or_a_spend_is_fresh(api, program, member):
    TierFactory(program=program, name="Base", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("150"))
    program.pending_days = 0
    program.save()
    first = api.get(f"/api/v1/members/{member.number}/balance").json()  # cached now
    _earn(api, member, "K-1")
    after_earn = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert after_earn["available"] == first["available"] + 100
    assert after_earn["next_tier"]["value"] == "100.00"
    services.points_spend(member=Member.objects.get(pk=member.pk), points=30, reason="test", reference="t:1")
    after_spend = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert after_spend["available"] == after_earn["available"] - 30
    _earn(api, member, "K-2")  # reaches Gold
    assert api.get(f"/api/v1/members/{member.number}/balance").json()["tier"] == "Gold"
