"""The dashboard reads summaries: a periodic job stores each preset period's page, the index shows it
and says how fresh it is (and how far behind the replica was), a custom period or a filter is
computed live, and campaign results come from rows refreshed while the attribution window is open
and frozen after."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.dashboard import dashboard_summaries_refresh
from backoffice.models import DashboardSummary
from campaigns import services as campaign_services
from campaigns.metrics import campaign_metrics
from campaigns.models import Campaign, CampaignResult, Delivery
from campaigns.selectors import campaign_results
from core import db
from members.metrics import Scope
from tests.campaigns.conftest import CampaignFactory
from tests.conftest import at, buy, enroll

from .test_dashboard_page import QUERY, page_tables

NOW = at(2026, 3, 20)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_preset_period_shows_the_stored_page_and_says_how_fresh(client, demo, superuser):
    client.force_login(superuser)
    url = f"/admin/?program={demo.pk}&period=month"
    live = client.get(url)
    assert b"Computed for this view in" in live.content

    assert dashboard_summaries_refresh() == 6  # one program, six preset periods
    assert DashboardSummary.objects.filter(program=demo).count() == 6
    assert dashboard_summaries_refresh() == 0  # all just stored: an overlapping run does nothing
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        client.get(url)  # warm caches (content types, sessions)
        with CaptureQueriesContext(connection) as queries:
            stored = client.get(url)

    assert b"Figures as of" in stored.content and b"3\xc2\xa0minutes ago" in stored.content
    assert b"refreshed every 5 minutes" in stored.content
    # The same figures as computed live, read from one row instead of the period's aggregates.
    assert page_tables(stored) == page_tables(live)
    assert len(queries.captured_queries) < 15
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert dashboard_summaries_refresh() == 5  # last month (closed) waits for the hour


def test_a_custom_period_or_a_filter_is_computed_live(client, demo, superuser):
    client.force_login(superuser)
    dashboard_summaries_refresh()
    tier = demo.tiers.get(level=1)
    for url in (f"/admin/?program={demo.pk}&{QUERY}", f"/admin/?program={demo.pk}&period=month&tier={tier.pk}"):
        response = client.get(url)
        assert b"Computed for this view in" in response.content and b"Figures as of" not in response.content


def test_a_summary_the_job_stopped_refreshing_is_not_shown(client, demo, superuser, settings):
    client.force_login(superuser)
    dashboard_summaries_refresh()
    buy(enroll(demo, at(2026, 3, 1)), at(2026, 3, 19), "40", ["toys"])
    with time_machine.travel(NOW + timedelta(seconds=3 * settings.DASHBOARD_SUMMARY_SECONDS + 1), tick=False):
        response = client.get(f"/admin/?program={demo.pk}&period=month")
    assert b"Computed for this view in" in response.content
    assert {row[0]: row[2] for row in page_tables(response)["members"][1:]}["orders"] == "3"


def test_without_a_replica_the_page_says_nothing_about_one(client, demo, superuser):
    client.force_login(superuser)
    response = client.get(f"/admin/?program={demo.pk}&{QUERY}")
    assert response.context["dashboard"].replica == "none"
    assert b"replica" not in response.content.split(b"dashboard-freshness")[1].split(b"</p>")[0]


def test_a_lagging_replica_is_skipped_and_the_page_says_so(client, demo, superuser, monkeypatch, settings):
    # A standby 45 s behind (the real lagging standby is tests/core/test_replica_router.py's, in CI).
    settings.REPLICA_MAX_LAG_SECONDS = 30
    monkeypatch.setattr(db, "replica_configured", lambda: True)
    monkeypatch.setattr(db, "replica_lag", lambda fresh=False: 45.0)
    monkeypatch.setattr("backoffice.dashboard.build.replica_configured", lambda: True)
    monkeypatch.setattr("backoffice.dashboard.build.replica_lag", lambda fresh=False: 45.0)
    client.force_login(superuser)

    response = client.get(f"/admin/?program={demo.pk}&{QUERY}")

    page = response.context["dashboard"]
    assert (page.replica, page.replica_lag, page.from_replica) == ("lagging", 45.0, False)
    assert b"The replica was skipped: it was 45.0 s behind the primary (more than 30 s)" in response.content


def test_an_unreachable_replica_is_named(client, demo, superuser, monkeypatch):
    monkeypatch.setattr(db, "replica_configured", lambda: True)
    monkeypatch.setattr(db, "replica_lag", lambda fresh=False: None)
    monkeypatch.setattr("backoffice.dashboard.build.replica_configured", lambda: True)
    monkeypatch.setattr("backoffice.dashboard.build.replica_lag", lambda fresh=False: None)
    client.force_login(superuser)
    response = client.get(f"/admin/?program={demo.pk}&{QUERY}")
    assert b"The replica could not be reached, so the primary answered." in response.content


def test_campaign_results_are_stored_while_the_window_is_open_then_frozen(demo):
    members = [enroll(demo, at(2026, 3, 1)) for _ in range(4)]
    campaign = CampaignFactory(program=demo, attribution_days=7, status=Campaign.Status.SENT)
    for member in members:
        Delivery.objects.create(campaign=campaign, member=member, status=Delivery.Status.SENT, sent_at=timezone.now())
    buy(members[0], at(2026, 3, 21), "30", ["toys"])

    assert campaign_services.campaign_results_refresh() == 1
    stored = CampaignResult.objects.get(campaign=campaign)
    assert (stored.members, stored.delivered, stored.buyers, stored.final) == (4, 4, 1, False)
    scope = Scope(program=demo, start=at(2026, 3, 1), end=at(2026, 4, 1))
    with CaptureQueriesContext(connection) as queries:
        (row,) = campaign_metrics(scope=scope)
    assert row.treated_conversion == 25 and len(queries.captured_queries) == 4  # sent, redeemed, campaigns, results

    buy(members[1], at(2026, 3, 24), "30", ["toys"])  # inside the 7-day window
    with time_machine.travel(NOW + timedelta(days=7 + 2, minutes=1), tick=False):
        assert campaign_services.campaign_results_refresh() == 1  # the last refresh: the window has closed
    stored = CampaignResult.objects.get(campaign=campaign)
    assert (stored.buyers, stored.final) == (2, True)
    assert campaign_services.campaign_results_refresh() == 0  # frozen: never recomputed
    assert [(g.members, g.buyers) for g in campaign_results(campaign=campaign)] == [(4, 2)]


def test_a_summary_that_no_longer_unpickles_is_computed_live(client, demo, superuser):
    dashboard_summaries_refresh()
    DashboardSummary.objects.filter(program=demo).update(page=b"not a page")
    client.force_login(superuser)
    response = client.get(f"/admin/?program={demo.pk}&period=month")
    assert response.status_code == 200 and b"Computed for this view in" in response.content
