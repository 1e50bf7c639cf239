"""Loyalty cards: numbers with a Luhn check digit, several per member, block and replace keeping
the balance, earning by card number, and the admin's card actions."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.codes import luhn_digit, luhn_valid
from core.errors import DomainError
from members import services
from members.models import AuditEntry, Card, Event, Member, Purchase
from tests.conftest import run_action

from .conftest import buy, fresh

pytestmark = pytest.mark.django_db

PRINTED = "60351100000000007"


def test_a_virtual_card_gets_a_generated_sixteen_digit_number_with_its_check_digit(member):
    card = services.card_issue(member=member)
    assert card.kind == Card.Kind.VIRTUAL and card.status == Card.Status.ACTIVE
    assert len(card.number) == 16 and card.number.startswith("9") and luhn_valid(card.number)
    assert Event.objects.filter(type="card.issued", member=member).count() == 1


def test_a_printed_number_is_checked_and_stored_without_spaces(member):
    card = services.card_issue(member=member, number="6035 1100-0000 0000 7")
    assert (card.number, card.kind) == (PRINTED, Card.Kind.PRINTED)
    with pytest.raises(DomainError) as typo:
        services.card_issue(member=member, number="60351100000000008")
    assert typo.value.code == "invalid_card_number" and "check digit" in typo.value.message
    with pytest.raises(DomainError) as short:
        services.card_issue(member=member, number="1234567")
    assert short.value.code == "invalid_card_number"


def test_a_number_belongs_to_one_member_of_a_program(member, program):
    services.card_issue(member=member, number=PRINTED)
    other = services.member_enroll(program=program, email="other@example.com")
    with pytest.raises(DomainError) as taken:
        services.card_issue(member=other, number=PRINTED)
    assert (taken.value.code, taken.value.status) == ("card_number_taken", 409)


def test_a_member_may_hold_several_cards_and_each_finds_them(member):
    first, second = services.card_issue(member=member), services.card_issue(member=member, number=PRINTED)
    for card in (first, second):
        assert services.card_active(program=member.program, number=card.number).member == member


def test_replacing_a_lost_card_keeps_the_balance_and_refuses_the_old_card(member):
    old = services.card_issue(member=member)
    buy(member, 100, card=old.number)
    before = fresh(member).points_available
    new = services.card_replace(card=old, reason="Lost")
    old.refresh_from_db()
    assert (old.status, old.replaced_by) == (Card.Status.REPLACED, new)
    assert new.status == Card.Status.ACTIVE and new.number != old.number
    assert fresh(member).points_available == before == 100
    with pytest.raises(DomainError) as refused:
        services.card_active(program=member.program, number=old.number)
    assert (refused.value.code, refused.value.status) == ("card_replaced", 409)
    buy(member, 10, card=new.number)
    assert fresh(member).points_available == 110
    with pytest.raises(DomainError) as again:
        services.card_replace(card=old, reason="Lost again")
    assert again.value.code == "card_not_active"


def test_a_blocked_card_earns_nothing_and_can_still_be_replaced(member):
    card = services.card_issue(member=member)
    services.card_block(card=card, reason="Stolen")
    with pytest.raises(DomainError) as refused:
        buy(member, 50, card=card.number)
    assert refused.value.code == "card_blocked"
    assert not Purchase.objects.exists()
    new = services.card_replace(card=Card.objects.get(pk=card.pk), reason="Stolen")
    assert Card.objects.get(pk=card.pk).status == Card.Status.REPLACED and new.status == Card.Status.ACTIVE


def test_a_purchase_by_card_earns_for_its_holder_and_keeps_the_card(member, partner):
    card = services.card_issue(member=member)
    purchase, _ = services.purchase_record(
        member=None, card=card.number, partner=partner, external_id="C-1", amount=Decimal("20"), currency="EUR"
    )
    assert (purchase.member, purchase.card, purchase.points) == (member, card, 20)


def test_a_card_of_another_member_does_not_earn_for_the_member_named(member, program):
    other = services.member_enroll(program=program, email="someone@example.com")
    card = services.card_issue(member=other)
    with pytest.raises(DomainError) as refused:
        buy(member, 10, card=card.number)
    assert refused.value.code == "card_mismatch"


def test_a_suspended_member_gets_no_new_card(member):
    services.member_set_status(member=member, status=Member.Status.SUSPENDED)
    with pytest.raises(DomainError) as refused:
        services.card_issue(member=fresh(member))
    assert refused.value.code == "member_inactive"


def test_the_check_digit_matches_the_published_algorithm():
    # The ISO/IEC 7812 sample: 7992739871 has the check digit 3.
    assert luhn_digit("7992739871") == "3" and luhn_valid("79927398713") and not luhn_valid("79927398710")


# --- admin and member page ---------------------------------------------------------------------


def test_staff_issue_block_and_replace_cards_from_the_admin_with_an_audit_line(admin_client, member):
    response = run_action(admin_client, "members_member", "issue_card", [member], apply="1", number=PRINTED)
    assert response.status_code == 302
    card = Card.objects.get(member=member)
    assert card.number == PRINTED and card.created_by is not None
    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert PRINTED in page.content.decode()
    found = admin_client.get(reverse("admin:members_member_changelist"), {"q": PRINTED})
    assert member.number in found.content.decode()

    run_action(admin_client, "members_card", "block", [card], apply="1", reason="Lost at the shop")
    card.refresh_from_db()
    assert (card.status, card.block_reason) == (Card.Status.BLOCKED, "Lost at the shop")
    run_action(admin_client, "members_card", "replace", [card], apply="1", reason="Lost at the shop")
    card.refresh_from_db()
    assert card.status == Card.Status.REPLACED and card.replaced_by.status == Card.Status.ACTIVE
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {"card.issued", "card.blocked", "card.replaced"}


def test_the_admin_refuses_a_mistyped_printed_number_on_the_form(admin_client, member):
    response = run_action(admin_client, "members_member", "issue_card", [member], apply="1", number="60351100000000008")
    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    assert not Card.objects.exists()
