"""Rule revisions: drafts, their simulation against the last 30 days, scheduling, publishing, and the
revision every earn entry names."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import DomainError
from members import services
from members.models import AuditEntry, EarningRule, LedgerEntry, Purchase, RuleRevision
from members.services.revisions import revision_changes
from tests.conftest import MemberFactory, TierFactory, enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(db):
    return get_user_model().objects.create_user("rules-editor", password="pw", is_staff=True)


@pytest.fixture
def coffee(program):
    return EarningRule.objects.create(
        program=program, name="Coffee x2", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=Decimal("2")
    )


def basket(amount: str, category: str = "coffee") -> list[dict]:
    return [{"sku": "BEANS", "category": category, "unit_price": amount, "quantity": 1}]


def buy(member, amount: str, *, ref: str, days_ago: int = 0, category: str = "coffee") -> Purchase:
    purchase, _ = services.purchase_record(
        member=member,
        partner=None,
        external_id=ref,
        amount=Decimal(amount),
        currency="EUR",
        occurred_at=timezone.now() - timedelta(days=days_ago) if days_ago else None,
        items=basket(amount, category),
    )
    return purchase


def draft_with(program, author, /, **values):
    draft = services.rule_revision_draft_create(program=program, author=author, note="Coffee week")
    return services.rule_revision_draft_update(revision=draft, values=values, author=author)


def test_an_earn_entry_names_the_revision_in_force_at_the_purchase(program, coffee, member, author):
    first = services.rule_revision_capture(program=program, author=author, note="Launch")
    before = buy(member, "10.00", ref="A")
    draft = draft_with(program, author, rules={coffee.pk: {"multiplier": "3"}})
    services.rule_revision_publish(revision=draft, actor=author)
    after = buy(member, "10.00", ref="B")

    entries = {e.purchase.external_id: e for e in LedgerEntry.objects.filter(kind="earn").select_related("purchase")}
    assert (before.points, after.points) == (20, 30)
    assert entries["A"].rule_revision_id == first.pk
    assert entries["B"].rule_revision_id == draft.pk


def test_a_scheduled_revision_takes_effect_at_its_time(program, coffee, member, author):
    services.rule_revision_capture(program=program, author=author)
    draft = draft_with(
        program, author, rules={coffee.pk: {"multiplier": "4"}}, program={program.pk: {"earn_rate": "2"}}
    )
    start = timezone.now()
    services.rule_revision_schedule(revision=draft, effective_at=start + timedelta(hours=2), actor=author)

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert services.rule_revisions_publish_due() == 0
        assert buy(member, "10.00", ref="early").points == 20
    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
        assert services.rule_revisions_publish_due() == 1
        late = buy(member, "10.00", ref="late")
    draft.refresh_from_db()
    assert draft.status == RuleRevision.Status.PUBLISHED and draft.published_by is None
    assert late.points == 80  # 10 x 2 base, coffee x4
    assert late.entries.get().rule_revision_id == draft.pk


def test_simulation_equals_what_a_replay_under_the_draft_issues(program, coffee, author):
    TierFactory(program=program, level=0, name="Bronze", earn_multiplier=Decimal("1.5"))
    members = [enroll(program, timezone.now() - timedelta(days=10)) for _ in range(3)]
    services.rule_revision_capture(program=program, author=author)
    history = []
    for n, member in enumerate(members):
        for days_ago, (amount, category) in enumerate([("12.40", "coffee"), ("7.75", "tea"), ("3.10", "coffee")]):
            history.append((member, amount, category))
            buy(member, amount, ref=f"h-{n}-{days_ago}", days_ago=days_ago + 1, category=category)
    bonus = EarningRule.objects.create(
        program=program,
        name="Tea bonus",
        kind=EarningRule.Kind.BONUS,
        points=5,
        min_amount=Decimal("5"),
        is_active=False,
    )
    services.rule_revision_capture(program=program, author=author)
    draft = draft_with(
        program,
        author,
        rules={coffee.pk: {"multiplier": "1.5"}, bonus.pk: {"is_active": True}},
        program={program.pk: {"earn_rate": "1.25"}},
    )

    simulation = services.rule_revision_simulate(revision=draft)
    issued = sum(Purchase.objects.filter(program=program).values_list("points", flat=True))
    assert (simulation.purchases, simulation.issued) == (9, issued)
    assert simulation.simulated != simulation.issued

    services.rule_revision_publish(revision=draft, actor=author)
    replayed = sum(
        buy(member, amount, ref=f"replay-{i}", category=category).points
        for i, (member, amount, category) in enumerate(history)
    )
    assert simulation.simulated == replayed


def test_simulation_lists_who_gains_or_loses_a_tier(program, author):
    silver = TierFactory(program=program, level=1, name="Silver", threshold=Decimal("100"))
    gold = TierFactory(program=program, level=2, name="Gold", threshold=Decimal("200"))
    big, small = MemberFactory(program=program), MemberFactory(program=program)
    buy(big, "210.00", ref="big")  # Gold today
    buy(small, "150.00", ref="small")  # Silver today
    draft = draft_with(program, author, tiers={silver.pk: {"threshold": "160"}, gold.pk: {"threshold": "180"}})

    simulation = services.rule_revision_simulate(revision=draft)

    assert simulation.tiers_gained == [] and simulation.tiers_lost_count == 1
    assert [(m.number, m.before, m.after) for m in simulation.tiers_lost] == [(small.number, silver, None)]
    assert simulation.purchases == 2 and simulation.difference == 0


def test_the_history_says_who_changed_what(program, coffee, author):
    services.rule_revision_capture(program=program, author=author, note="Launch")
    draft = draft_with(program, author, rules={coffee.pk: {"multiplier": "2.5"}})
    draft = services.rule_revision_publish(revision=draft, actor=author)

    changes = [(c.part, c.row, c.field, c.before, c.after) for c in revision_changes(draft)]
    assert changes == [("Earning rules", "Coffee x2", "multiplier", "2.00", "2.50")]
    published = AuditEntry.objects.get(action="rules.revision.publish")
    assert published.actor == author
    assert published.changes == {"Earning rules: Coffee x2: multiplier": ["2.00", "2.50"]}
    assert draft.author == author and draft.published_by == author


def test_a_draft_is_checked_as_the_live_rows_would_be(program, coffee, author):
    silver = TierFactory(program=program, level=1, name="Silver", threshold=Decimal("100"))
    TierFactory(program=program, level=2, name="Gold", threshold=Decimal("200"))
    draft = services.rule_revision_draft_create(program=program, author=author)
    with pytest.raises(DomainError) as negative:
        services.rule_revision_draft_update(
            revision=draft, values={"rules": {coffee.pk: {"multiplier": "-1"}}}, author=author
        )
    with pytest.raises(DomainError) as disorder:
        services.rule_revision_draft_update(
            revision=draft, values={"tiers": {silver.pk: {"threshold": "300"}}}, author=author
        )
    assert "negative" in negative.value.message
    assert "Gold" in disorder.value.message
    draft.refresh_from_db()
    assert draft.snapshot["rules"][str(coffee.pk)]["multiplier"] == "2.00"


def test_a_published_revision_never_changes(program, coffee, author):
    draft = draft_with(program, author, rules={coffee.pk: {"multiplier": "3"}})
    services.rule_revision_publish(revision=draft, actor=author)
    with pytest.raises(DomainError):
        services.rule_revision_draft_update(
            revision=draft, values={"rules": {coffee.pk: {"multiplier": "5"}}}, author=author
        )
    with pytest.raises(DomainError):
        services.rule_revision_publish(revision=draft, actor=author)


def test_publishing_keeps_a_live_edit_made_since_the_draft(program, coffee, author):
    draft = draft_with(program, author, rules={coffee.pk: {"multiplier": "3"}})
    EarningRule.objects.filter(pk=coffee.pk).update(priority=7)  # edited live meanwhile
    draft = services.rule_revision_publish(revision=draft, actor=author)
    coffee.refresh_from_db()
    assert (coffee.multiplier, coffee.priority) == (Decimal("3"), 7)
    assert draft.snapshot["rules"][str(coffee.pk)]["priority"] == 7


def test_capture_records_nothing_when_nothing_changed(program, coffee, author):
    assert services.rule_revision_capture(program=program, author=author) is not None
    assert services.rule_revision_capture(program=program, author=author) is None
    coffee.multiplier = Decimal("5")
    coffee.save()
    again = services.rule_revision_capture(program=program, author=author)
    assert again.number == 2 and again.based_on.number == 1


def test_scheduling_needs_a_future_date(program, author):
    draft = services.rule_revision_draft_create(program=program, author=author)
    with pytest.raises(DomainError) as error:
        services.rule_revision_schedule(revision=draft, effective_at=timezone.now(), actor=author)
    assert error.value.code == "invalid_date"


def test_the_partner_reads_the_revision_of_a_transaction(api, program, member, coffee, author):
    revision = services.rule_revision_capture(program=program, author=author)
    body = {
        "member": member.number,
        "external_id": "ORD-REV",
        "amount": "10.00",
        "currency": "EUR",
        "items": basket("10.00"),
    }
    created = api.post("/api/v1/transactions", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["rule_revision"] == revision.number
    listed = api.get("/api/v1/transactions", {"external_id": "ORD-REV"}).json()["results"]
    assert [row["rule_revision"] for row in listed] == [revision.number]


def test_naming_the_revision_costs_an_earn_no_statement(api, program, member, author):
    def statements(external_id: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.post("/api/v1/transactions", {**body, "external_id": external_id}, format="json")
        assert response.status_code == 201
        return len(queries.captured_queries)

    body = {"member": member.number, "amount": "10.00", "currency": "EUR"}
    statements("warm-1")  # the rules are cached from here on
    without = statements("plain")
    revision = services.rule_revision_capture(program=program, author=author)
    statements("warm-2")  # the rules cache moved to the revision
    assert statements("named") == without
    assert LedgerEntry.objects.get(purchase__external_id="named").rule_revision_id == revision.pk
