"""Program metadata for partners: settings, tiers and earning rules in words, in the caller's
language, scoped to the partner's own program."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from members.models import EarningRule, Program, Tier
from tests.conftest import PartnerFactory, client_for


@pytest.fixture
def configured(program, partner):
    Program.objects.filter(pk=program.pk).update(
        points_name="stars", expiry_policy=Program.Expiry.FIXED, expiry_months=12, welcome_bonus=200
    )
    program.refresh_from_db()
    Tier.objects.create(program=program, name="Insider", level=0)
    Tier.objects.create(
        program=program,
        name="Silver",
        level=1,
        threshold=Decimal("500"),
        earn_multiplier=Decimal("1.25"),
        benefits="Free shipping",
    )
    EarningRule.objects.create(
        program=program,
        name="Coffee x3",
        kind=EarningRule.Kind.CATEGORY,
        category="coffee",
        multiplier=Decimal("3"),
        min_amount=Decimal("10"),
        weekdays="6,7",
    )
    EarningRule.objects.create(
        program=program,
        name="Review",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.REVIEW,
        points=50,
        daily_cap=1,
    )
    EarningRule.objects.create(
        program=program,
        name="Ended",
        kind=EarningRule.Kind.PROMOTION,
        multiplier=2,
        ends_at=timezone.now() - timedelta(days=1),
    )
    EarningRule.objects.create(
        program=program, name="Off", kind=EarningRule.Kind.PROMOTION, multiplier=2, is_active=False
    )
    return program


def test_program_settings_and_expiry_in_words(api, configured):
    body = api.get("/api/v1/program").json()
    assert (body["currency"], body["points_name"], body["welcome_bonus"]) == ("EUR", "stars", 200)
    assert body["earning"] == "1 stars per 1 EUR spent"
    assert body["expiry"] == {
        "policy": "fixed",
        "months": 12,
        "notice_days": configured.expiry_notice_days,
        "description": "Points expire 12 months after they are earned, oldest first.",
    }


def test_tiers_with_thresholds_benefits_and_qualification(api, configured):
    tiers = api.get("/api/v1/tiers").json()["results"]
    assert [(t["level"], t["name"], t["threshold"]) for t in tiers] == [(0, "Insider", "0.00"), (1, "Silver", "500.00")]
    assert tiers[1]["benefits"] == "Free shipping"
    assert tiers[1]["qualification"] == "Spend 500.00 EUR in the last 12 months."


def test_earning_rules_in_words_in_the_callers_language(api, configured):
    rules = api.get("/api/v1/earning-rules").json()["results"]
    assert [r["name"] for r in rules] == ["Coffee x3", "Review"]  # not the ended or inactive ones
    assert rules[0]["description"] == "3 times the stars on the category coffee, from 10.00 EUR, on Saturday, Sunday."
    assert rules[0]["weekdays"] == [6, 7]
    assert rules[1]["description"] == "50 stars for: Product review, at most 1 time a day."
    romanian = api.get("/api/v1/earning-rules", HTTP_ACCEPT_LANGUAGE="ro").json()["results"]
    assert romanian[0]["description"] != rules[0]["description"]
    assert "sâmbătă" in romanian[0]["description"].lower()


def test_another_partners_own_multiplier_is_not_shown(api, configured, program):
    other = PartnerFactory(program=program)
    with translation.override("en"):  # the name is stored per language (an earlier request may leave "ro" on)
        EarningRule.objects.create(
            program=program, name="Theirs", kind=EarningRule.Kind.PARTNER, partner=other, multiplier=2
        )
    assert "Theirs" not in [r["name"] for r in api.get("/api/v1/earning-rules").json()["results"]]
    assert "Theirs" in [r["name"] for r in client_for(other).get("/api/v1/earning-rules").json()["results"]]


def test_another_programs_partner_sees_its_own_program_only(configured, foreign_api):
    assert foreign_api.get("/api/v1/program").json()["points_name"] == "points"
    assert foreign_api.get("/api/v1/tiers").json()["results"] == []
    assert foreign_api.get("/api/v1/earning-rules").json()["results"] == []


def test_a_key_is_needed(client, configured):
    assert client.get("/api/v1/program").status_code == 401
