"""Points, money and counts in changelists and on the dashboard are grouped in the reader's language
(12,345 in English, 12.345 in Italian), while ids in links stay plain (no global USE_THOUSAND_SEPARATOR)."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User

from members.models import Member
from tests.campaigns.conftest import CampaignFactory
from tests.conftest import ProgramFactory, at, buy, enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    client.force_login(user)
    return client


@pytest.fixture
def program():
    return ProgramFactory(name="Corner Market")


@pytest.fixture
def rich(program):
    # An id past 1,000 (written as it is: enrolling does not choose ids), so a grouped one would show.
    Member.objects.create(
        program=program,
        pk=23456,
        number="R23456",
        referral_code="R23456",
        email="rich@example.com",
        first_name="Rich",
        points_available=12345,
        points_pending=1234,
    )
    buyer = enroll(program, at(2026, 3, 1), first_name="Buyer")
    buy(buyer, at(2026, 3, 2), "12345.67")
    return buyer


def _page(client, url: str, language: str) -> str:
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("language", "points", "pending"), [("en", "12,345", "1,234"), ("it", "12.345", "1.234")])
def test_member_changelist_groups_points_but_not_the_ids_in_its_links(staff_client, rich, language, points, pending):
    html = _page(staff_client, "/admin/members/member/", language)
    row = re.search(r"<tr>.*?/admin/members/member/23456/change/.*?</tr>", html, re.S).group(0)
    assert f'<td class="field-points_available">{points}</td>' in row
    assert f'<td class="field-points_pending">{pending}</td>' in row
    assert 'value="23456"' in row  # the action checkbox
    assert "23,456" not in html and "23.456" not in html


@pytest.mark.parametrize(("language", "amount"), [("en", "12,345.67"), ("it", "12.345,67"), ("ru", "12\xa0345,67")])
def test_money_in_changelists_keeps_its_decimals_grouped(staff_client, rich, language, amount):
    html = _page(staff_client, "/admin/members/purchase/", language)
    assert f'<td class="field-amount">{amount}</td>' in html


def test_a_sorted_grouped_column_orders_by_the_number(staff_client, program, rich):
    html = _page(staff_client, "/admin/members/member/", "en")
    header = re.search(r'<th scope="col" class="sortable column-points_available.*?</th>', html, re.S).group(0)
    ascending = re.search(r'href="(\?o=[^"]+)"', header).group(1).replace("&amp;", "&")
    shown = re.findall(
        r'field-points_available">([^<]+)<', _page(staff_client, "/admin/members/member/" + ascending, "en")
    )
    assert len(shown) == 2 and shown[-1] == "12,345"  # 12,345 after the buyer's points, not before as text would


def test_counts_computed_by_a_column_are_grouped(staff_client, program):
    campaign = CampaignFactory(program=program, name="Spring")
    html = _page(staff_client, "/admin/campaigns/campaign/", "it")
    assert f"/admin/campaigns/campaign/{campaign.pk}/change/" in html
    assert '<td class="field-sent">0</td>' in html


def test_dashboard_figures_are_grouped_in_the_readers_language(staff_client, program, rich):
    query = f"/admin/?program={program.pk}&period=custom&start=2026-03-01&end=2026-03-31"
    english, italian = _page(staff_client, query, "en"), _page(staff_client, query, "it")
    assert "12,345.67" in english and "12.345,67" in italian
    assert f"program={program.pk}" in italian  # ids in its links stay plain
    assert Decimal("12345.67") == rich.purchases.get().amount
