# ruff: noqa: RUF001 - Russian test data
"""Stored content (tier names, rule names, ledger reasons) reads in the member's language, and every
history line says why."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from members import services
from members.models import EarningRule, LedgerEntry, Tier
from members.texts import points_label
from tests.members.conftest import buy
from tests.members.pages.conftest import signup

pytestmark = pytest.mark.django_db


def _in(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_history_reads_in_the_members_language_whatever_language_wrote_it(member_client, member, program):
    EarningRule.objects.create(
        program=program,
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.REVIEW,
        points=50,
        name_en="Product review",
        name_ru="Отзыв о товаре",
    )
    EarningRule.objects.create(
        program=program,
        kind=EarningRule.Kind.CATEGORY,
        category="coffee",
        multiplier=Decimal("2"),
        name_en="Coffee week",
        name_ru="Кофейная неделя",
    )
    services.points_engage(member=member, action=EarningRule.Action.REVIEW, reference="r1")
    buy(member, "10.00", items=[{"sku": "C1", "category": "coffee", "quantity": 1, "unit_price": "10.00"}])

    page = _in(member_client, "ru").get(reverse("members:history")).text

    assert "Отзыв о товаре" in page and "Кофейная неделя" in page
    assert "Product review" not in page and "Coffee week" not in page
    english = _in(member_client, "en").get(reverse("members:history")).text
    assert "Product review" in english and "Coffee week" in english


def test_every_history_line_says_why(member_client, member, program):
    friend = signup(program, email="friend@example.com", referral_code=member.referral_code)
    buy(friend, "30.00")
    response = member_client.get(reverse("members:history"))

    entries = response.context["page"].object_list
    assert {e.kind for e in entries} >= {LedgerEntry.Kind.WELCOME, LedgerEntry.Kind.REFERRAL}
    assert all(e.why_items or e.why for e in entries)
    assert "A welcome gift for joining the program." in response.text
    assert "A friend you invited made their first purchase (friend no. 1)." in response.text
    assert '<span class="muted">—</span>' not in response.text


def test_a_ledger_reason_is_translated_when_read_not_when_written(member, program):
    friend = signup(program, email="friend@example.com", referral_code=member.referral_code)
    with translation.override("it"):  # a partner's request in Italian must not freeze the text in Italian
        buy(friend, "30.00")
    entry = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.REFERRAL)
    assert (entry.reason, entry.reason_params) == ("Referral #1", {"msg": "Referral #%(nth)s", "nth": 1})
    with translation.override("ro"):
        assert entry.member_reason != "Referral #1" and "1" in entry.member_reason
    with translation.override("en"):
        assert entry.member_reason == "Referral #1"


def test_tier_name_and_benefits_follow_the_language(member_client, program):
    Tier.objects.filter(program=program, level=1).update(name_it="Argento", benefits_it="Spedizione gratuita")
    page = _in(member_client, "it").get(reverse("members:home")).text
    assert "Argento" in page and "Silver" not in page


def test_points_name_takes_the_plural_form_of_the_language(program):
    program.points_name_en, program.points_forms_en = "stars", "star|stars"
    program.points_name_ru, program.points_forms_ru = "звёзд", "звезда|звезды|звёзд"
    with translation.override("en"):
        assert [points_label(program, n) for n in (1, 2)] == ["star", "stars"]
    with translation.override("ru"):
        assert [points_label(program, n) for n in (1, 3, 5, 21)] == ["звезда", "звезды", "звёзд", "звезда"]
        assert points_label(program) == "звёзд"


def test_admin_warns_about_missing_translations(client, program):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(admin)
    tier = Tier.objects.get(program=program, level=1)
    response = client.get(reverse("admin:members_tier_change", args=[tier.pk]))
    warnings = [str(m) for m in response.context["messages"]]
    assert any("Missing translations" in w and "Romanian" in w for w in warnings)
    Tier.objects.filter(pk=tier.pk).update(
        name_ro="Argint", name_it="Argento", name_ru="Серебро", benefits_ro="a", benefits_it="b", benefits_ru="c"
    )
    response = client.get(reverse("admin:members_tier_change", args=[tier.pk]))
    assert not [m for m in response.context["messages"] if "Missing translations" in str(m)]
