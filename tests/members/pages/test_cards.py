"""The member's profile lists the loyalty cards they can show at a till."""

import pytest

from members import services

pytestmark = pytest.mark.django_db


def test_the_profile_lists_active_cards_only(member_client, member):
    active = services.card_issue(member=member)
    lost = services.card_issue(member=member, number="60351100000000007")
    services.card_block(card=lost, reason="Lost")
    text = member_client.get("/profile/").text
    assert active.number in text
    assert lost.number not in text


def test_without_a_card_the_profile_gives_the_membership_number(member_client, member):
    text = member_client.get("/profile/").text
    assert "No card yet" in text and member.number in text
