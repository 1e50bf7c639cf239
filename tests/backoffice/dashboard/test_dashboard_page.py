"""The admin index is the program dashboard: who sees it, what it shows, CSV exports and links."""

import csv
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.dashboard import TABLES
from backoffice.roles import staff_groups_sync
from feedback import services as feedback_services
from members.models import Member
from tests.conftest import ProgramFactory, TierFactory, at, buy, enroll
from tests.feedback.conftest import SurveyFactory


class Tables(HTMLParser):
    """Collects the text of every <table data-table="key"> on the page, row by row; a row's data-key
    (the figure's key, which the page keeps out of sight and the CSV keeps as its first column) first."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self.current = self.tables.setdefault(attrs["data-table"], [])
        elif tag == "tr" and self.current is not None:
            self.row = [attrs["data-key"]] if "data-key" in attrs else []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def page_tables(response) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


QUERY = "period=custom&start=2026-03-01&end=2026-03-31"


@pytest.fixture
def analyst(db):
    user = User.objects.create_user("ana", "ana@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="analyst"))
    return user


def test_staff_with_the_view_permission_see_the_dashboard(client, demo, db):
    user = User.objects.create_user("op", "op@example.com", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(user)

    response = client.get(f"/admin/?program={demo.pk}&{QUERY}")

    assert response.status_code == 200
    tables = page_tables(response)
    assert set(tables) == set(TABLES)
    members = {row[0]: row[2] for row in tables["members"][1:]}
    assert (members["active"], members["orders"], members["revenue"]) == ("2", "2", "120.00")
    assert b"<svg" in response.content and b"Active members" in response.content


def test_non_staff_are_sent_to_the_login_page(client, demo):
    user = User.objects.create_user("member", "m@example.com", "pw")
    client.force_login(user)

    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/dashboard/members.csv").status_code == 302
    client.logout()
    assert client.get("/admin/").status_code == 302


def test_staff_without_the_permission_get_no_numbers(client, demo):
    client.force_login(User.objects.create_user("clerk", "c@example.com", "pw", is_staff=True))

    response = client.get(f"/admin/?program={demo.pk}&{QUERY}")

    assert response.status_code == 200
    assert page_tables(response) == {}
    assert client.get(f"/admin/dashboard/members.csv?{QUERY}").status_code == 403


def test_the_analyst_sees_dashboards_and_everything_but_cannot_edit(client, demo, analyst):
    client.force_login(analyst)
    member = Member.objects.filter(program=demo).first()

    assert set(page_tables(client.get(f"/admin/?program={demo.pk}&{QUERY}"))) == set(TABLES)
    assert client.get(f"/admin/dashboard/points.csv?program={demo.pk}&{QUERY}").status_code == 200
    assert analyst.has_perm("rewards.view_redemption") and analyst.has_perm("feedback.view_ticket")
    assert not any(analyst.has_perm(f"members.{p}_member") for p in ("add", "change", "delete"))
    user_page = f"/admin/auth/user/{analyst.pk}/change/"
    assert client.get(user_page).status_code == 403  # staff accounts are not business data
    assert client.post(user_page, {"username": "hacked"}).status_code == 403
    assert client.get("/admin/auth/user/add/").status_code == 403
    analyst.refresh_from_db()
    assert analyst.username == "ana" and Member.objects.get(pk=member.pk).email == member.email


@pytest.mark.parametrize("key", list(TABLES))
def test_each_csv_export_matches_the_page(client, demo, superuser, key):
    client.force_login(superuser)
    query = f"program={demo.pk}&{QUERY}"

    page = page_tables(client.get(f"/admin/?{query}"))[key]
    response = client.get(f"/admin/dashboard/{key}.csv?{query}")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported = list(csv.reader(io.StringIO(response.content.decode())))
    on_page = [[("" if cell == "\u2014" else cell) for cell in row] for row in page]
    if len(on_page) == 2 and len(on_page[1]) == 1:  # the "Nothing in this period." row of an empty table
        on_page = on_page[:1]
    assert exported == on_page


def test_every_link_on_the_dashboard_opens(client, demo, superuser):
    client.force_login(superuser)
    partner = demo.partners.first()

    tier = demo.tiers.get(level=0)
    links = set()
    for filters in (f"partner={partner.pk}", f"tier={tier.pk}&loyalty_type=advocate", "loyalty_type=unknown"):
        dashboard = client.get(f"/admin/?program={demo.pk}&{filters}&{QUERY}").context["dashboard"]
        links |= {t.link for t in dashboard.tables if t.link} | {c.link for c in dashboard.cards if c.link}
        links |= {item["link"] for t in dashboard.tables if t.chart for item in t.chart["legend"] if item.get("link")}
    assert len(links) > len(TABLES) + len(Member.LoyaltyType.choices)
    for link in links:
        assert client.get(link).status_code == 200, link


def test_bad_filters_show_errors_not_a_crash(client, demo, superuser):
    client.force_login(superuser)
    other_tier = TierFactory(program=ProgramFactory(), level=0)

    responses = [
        client.get(f"/admin/?program={demo.pk}&period=custom&start=2026-03-10&end=2026-03-01"),
        client.get(f"/admin/?program={demo.pk}&period=custom&start=yesterday"),
        client.get(f"/admin/?program={demo.pk}&period=custom&start=0001-01-01&end=2026-01-01"),
        client.get(f"/admin/?program={demo.pk}&period=custom&start=2001-01-01&end=2026-01-01"),
        client.get(f"/admin/?program={demo.pk}&tier={other_tier.pk}"),
        client.get("/admin/?program=999999"),
    ]

    assert [r.status_code for r in responses] == [200] * 6
    assert all("dashboard" not in r.context and r.context["dashboard_form"].errors for r in responses)
    assert client.get("/admin/dashboard/members.csv?program=999999").status_code == 400
    assert client.get("/admin/dashboard/nothing.csv").status_code == 404


def test_the_filters_reach_the_numbers(client, demo, superuser):
    client.force_login(superuser)
    shop = demo.partners.first()

    everyone = page_tables(client.get(f"/admin/?program={demo.pk}&{QUERY}"))
    at_shop = page_tables(client.get(f"/admin/?program={demo.pk}&partner={shop.pk}&{QUERY}"))
    advocates = page_tables(client.get(f"/admin/?program={demo.pk}&loyalty_type=advocate&{QUERY}"))

    def value(tables, key):
        return {row[0]: row[2] for row in tables["members"][1:]}[key]

    assert (value(everyone, "orders"), value(at_shop, "orders"), value(advocates, "orders")) == ("2", "1", "0")
    assert (value(everyone, "enrolled"), value(advocates, "enrolled")) == ("3", "1")


def test_the_dashboard_runs_the_same_queries_for_3_or_30_members(client, demo, superuser):
    client.force_login(superuser)
    url = f"/admin/?program={demo.pk}&{QUERY}"
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for _ in range(27):  # the same kind of history, ten times the members
        buy(enroll(demo, at(2026, 1, 5)), at(2026, 3, 12), "5", ["toys"])
    with CaptureQueriesContext(connection) as large:
        client.get(url)

    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_fresh_install_without_programs_shows_the_plain_index(client, superuser):
    client.force_login(superuser)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "dashboard_form" not in response.context and page_tables(response) == {}


def test_models_added_later_are_granted_to_the_analyst_after_migrate(analyst):
    group = Group.objects.get(name="analyst")
    group.permissions.remove(Permission.objects.get(codename="view_campaign"))
    assert not User.objects.get(pk=analyst.pk).has_perm("campaigns.view_campaign")

    staff_groups_sync(sender=apps.get_app_config("campaigns"))

    assert User.objects.get(pk=analyst.pk).has_perm("campaigns.view_campaign")
    assert not group.permissions.exclude(codename__startswith="view_").exclude(codename__in=["export_member"]).exists()


def _nps_answer(survey, member, score: int) -> None:
    """The member is invited and answers `score`; a detractor's comment finishes the answer (a ticket)."""
    invitation = feedback_services.invitation_schedule(
        survey=survey, member=member, trigger=survey.trigger, reference=f"test:{member.pk}"
    )
    feedback_services.invitation_send(invitation=invitation)
    score_question = survey.questions.get(kind="score")
    feedback_services.response_score(invitation=invitation, scores={score_question.pk: score}, language="en")
    if score <= 6:
        comment_question = survey.questions.get(kind="text")
        feedback_services.response_finish(
            invitation=invitation, answers={comment_question.pk: "Slow checkout"}, language="en"
        )


def test_feedback_figures_on_the_dashboard(client, demo, superuser):
    """Four NPS answers in March: 10 and 9 (promoters), 7 (passive), 3 (detractor, opens a ticket).
    NPS = (2 - 1) / 4 = 25; every invitation answered; nobody called the detractor back yet."""
    survey = SurveyFactory(program=demo)
    for score in (10, 9, 7, 3):
        with time_machine.travel(at(2026, 3, 20), tick=False):
            _nps_answer(survey, enroll(demo, at(2026, 3, 20), consent_email=True), score)
    client.force_login(superuser)

    tables = page_tables(client.get(f"/admin/?program={demo.pk}&{QUERY}"))

    figures = {row[0]: row[2] for row in tables["feedback"][1:]}
    assert (figures["nps"], figures["nps_responses"], figures["response_rate"]) == ("25.0", "4", "100.0")
    assert (figures["tickets_open"], figures["tickets_opened"]) == ("1", "1")
    assert (figures["detractors"], figures["detractors_contacted"], figures["detractors_contacted_share"]) == (
        "1",
        "0",
        "0.0",
    )
    assert figures["csat"] == "\u2014"  # no CSAT survey: no ratio, not zero
    march = next(row for row in tables["feedback-monthly"] if row[0] == "2026-03")
    assert march[1:3] == ["25.0", "4"]
    assert next(row for row in tables["activity"] if row[0] == "2026-03")[5] == "25.0"


def test_kpi_cards_compare_with_the_previous_period(client, demo, superuser):
    """March (E = 2 buyers) against the 31 days before it (one buyer, on 10 February)."""
    client.force_login(superuser)

    response = client.get(f"/admin/?program={demo.pk}&{QUERY}")

    cards = {str(card.label): card for card in response.context["dashboard"].cards}
    active = cards["Active members"]
    assert (active.value, active.previous, active.change_text, active.trend, active.tone) == (
        2,
        1,
        "+100.0%",
        "up",
        "good",
    )
    assert cards["Outstanding liability"].change is None  # a stock at the period's end: nothing to compare
    assert "previously 1" in response.content.decode()


def test_a_rise_in_churn_reads_as_bad_news_in_points():
    from backoffice.dashboard.build import Card

    churn = Card("Churn", Decimal("25.00"), "%", previous=Decimal("20.00"), compare="pp", rise_is_good=False)
    active = Card("Active", 90, previous=120, compare="%")

    assert (churn.change_text, churn.tone) == ("+5.0 pts", "bad")
    assert (active.change_text, active.trend, active.tone) == ("\u221225.0%", "down", "bad")
    assert Card("New", 3, previous=0, compare="%").change is None  # no relative change from zero


def test_tables_show_words_and_the_csv_keeps_the_keys(client, demo, superuser):
    client.force_login(superuser)
    query = f"program={demo.pk}&{QUERY}"

    page = client.get(f"/admin/?{query}").content.decode()
    exported = client.get(f"/admin/dashboard/members.csv?{query}").content.decode()

    assert ">previous_active<" not in page and ">lifetime_periods<" not in page
    assert '<tr data-key="previous_active"><td>Active in the previous period S</td>' in page
    assert "previous_active,Active in the previous period S,1" in exported


def test_feedback_trend_for_a_saved_segment(client, demo, superuser):
    """Two NPS answers this month: a 10 from a Gold member (the segment), a 0 from another member."""
    from campaigns.models import Segment, SegmentRule

    gold = demo.tiers.get(level=1)
    segment = Segment.objects.create(program=demo, name="Gold members")
    SegmentRule.objects.create(segment=segment, kind=SegmentRule.Kind.TIER, tier=gold)
    survey = SurveyFactory(program=demo)
    for score, tier in ((10, gold), (0, None)):
        member = enroll(demo, at(2026, 1, 5), consent_email=True)
        if tier:
            Member.objects.filter(pk=member.pk).update(tier=tier)
        _nps_answer(survey, member, score)
    client.force_login(superuser)

    response = client.get(f"/admin/feedback/segments/?segment={segment.pk}&months=3")

    assert response.status_code == 200
    this_month = page_tables(response)["segment-feedback"][-1]
    assert (this_month[1], this_month[2], this_month[-1]) == ("100.0", "1", "0.0")  # segment vs whole program
    assert client.get("/admin/feedback/segments/?segment=999999").status_code == 200  # a form error, no crash
    clerk = User.objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(f"/admin/feedback/segments/?segment={segment.pk}").status_code == 403
