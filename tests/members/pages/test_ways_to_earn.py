"""The ways-to-earn page, the tier comparison, and what the sign-up page says about an invitation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from members.models import EarningRule, Program

pytestmark = pytest.mark.django_db


@pytest.fixture
def stepped(program):
    Program.objects.filter(pk=program.pk).update(
        referral_mode=Program.Referral.STEPPED,
        referral_steps=[[1, 100], [3, 200], [5, 400]],
        referral_referee_points=50,
        points_name="stars",
        points_forms="star|stars",
        terms_url="https://example.com/terms",
        privacy_url="https://example.com/privacy",
    )
    EarningRule.objects.create(
        program=program, name="Triple on coffee", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )
    EarningRule.objects.create(
        program=program, name="Big basket", kind=EarningRule.Kind.BONUS, points=100, min_amount=Decimal("200")
    )
    EarningRule.objects.create(
        program=program,
        name="Product review",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.REVIEW,
        points=50,
        daily_cap=1,
    )
    EarningRule.objects.create(
        program=program, name="Old promo", kind=EarningRule.Kind.BONUS, points=5, is_active=False
    )
    program.refresh_from_db()
    return program


def test_ways_to_earn_lists_rates_bonuses_actions_referral_steps_and_tiers(member_client, member, stepped):
    response = member_client.get(reverse("members:ways_to_earn"))
    assert response.status_code == 200
    page = response.text
    assert "1\u00a0star for every EUR you spend." in page
    assert "Triple on coffee" in page and "3\u00d7 on coffee" in page
    assert "Big basket" in page and "+100\u00a0stars on orders from 200.00 EUR" in page
    assert "Product review" in page and "+50\u00a0stars" in page and "up to 1 time a day" in page
    assert "Old promo" not in page
    steps = page.split('data-testid="referral-steps"')[1].split("</table>")[0]
    assert "100\u00a0stars" in steps and "200\u00a0stars" in steps and "400\u00a0stars" in steps
    assert "from friend no. 5 on" in steps
    tiers = page.split('data-testid="tier-comparison"')[1].split("</table>")[0]
    assert "Insider" in tiers and "Silver" in tiers and "Spend 500 EUR" in tiers and "Free shipping" in tiers
    assert 'class="is-current"' in tiers  # the member's own tier stands out


def test_visitors_see_the_default_programs_ways_to_earn(client, stepped):
    response = client.get(reverse("members:ways_to_earn"))
    assert response.status_code == 200 and "Triple on coffee" in response.text


def test_sign_up_says_who_invited_you_and_what_both_get_and_links_the_terms(client, member, stepped):
    member.first_name, member.last_name = "Ana", "Popescu"
    member.save(update_fields=["first_name", "last_name"])
    page = client.get(reverse("members:signup"), {"ref": member.referral_code}).text
    invited = page.split('data-testid="invited-by"')[1].split("</div>")[0]
    assert "Ana P. invited you." in invited
    assert "You get 50\u00a0stars with your first purchase." in invited
    assert "Ana gets 100\u00a0stars as a thank-you." in invited
    assert 'href="https://example.com/terms"' in page and 'href="https://example.com/privacy"' in page
    assert "invited-by" not in client.get(reverse("members:signup"), {"ref": "NOSUCHCODE"}).text
