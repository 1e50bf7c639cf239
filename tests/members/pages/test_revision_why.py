"""The member's history says which version of the program's rules an earn was computed under."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from members import services
from members.models import EarningRule

pytestmark = pytest.mark.django_db


def test_history_names_the_rules_version_of_an_earn(member_client, member, program):
    rule = EarningRule.objects.create(
        program=program, name="Coffee week", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=Decimal("2")
    )
    services.rule_revision_capture(program=program, note="Launch")
    draft = services.rule_revision_draft_create(program=program, author=None)
    services.rule_revision_draft_update(revision=draft, values={"rules": {rule.pk: {"multiplier": "3"}}}, author=None)
    services.rule_revision_publish(revision=draft)
    services.purchase_record(
        member=member,
        partner=None,
        external_id="R-1",
        amount=Decimal("10"),
        currency="EUR",
        items=[{"sku": "ESP", "category": "coffee", "unit_price": "10", "quantity": 1}],
    )
    with translation.override("en"):
        text = member_client.get(reverse("members:history")).text
    assert f"By the program's rules, version {draft.number}" in text
    assert "+20" in text  # coffee x3: 10 base + 20
