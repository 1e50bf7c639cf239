"""Read back and reconcile (issue 19): a partner's purchases by id and by period, the one list
envelope with cursors, ETag/If-None-Match, RateLimit headers, and the event feed."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members.models import Member, WebhookDelivery, WebhookEndpoint
from members.outbox import webhook_event_types
from members.partners.services import partner_key_create
from tests.conftest import MemberFactory, client_for, purchase_body

pytestmark = pytest.mark.django_db


def _earn(api, member, external_id, **overrides):
    response = api.post(
        "/api/v1/transactions", purchase_body(member, external_id=external_id, **overrides), format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _walk(api, url, **params):
    """Every row of a list, following `next`; the pages' sizes."""
    rows, sizes = [], []
    response = api.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        sizes.append(len(body["results"]))
        if body["next"] is None:
            return rows, sizes
        response = api.get(body["next"])


# --- purchases read back ---------------------------------------------------------------------------


def test_a_purchase_reads_back_as_recorded_and_another_partners_is_missing(api, other_api, member):
    recorded = _earn(api, member, "ORD-1")
    read = api.get(f"/api/v1/transactions/{recorded['id']}")
    assert read.status_code == 200
    assert read.json() == recorded

    api.post(f"/api/v1/transactions/{recorded['id']}/reverse", {"amount": "40.00"}, format="json")
    after = api.get(f"/api/v1/transactions/{recorded['id']}").json()
    assert after["refunded_amount"] == "40.00" and after["points_reversed"] == 40

    theirs = other_api.get(f"/api/v1/transactions/{recorded['id']}")
    unknown = other_api.get("/api/v1/transactions/999999")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()


def test_the_purchase_list_is_the_partners_own_newest_first_by_order_id_and_period(api, other_api, member):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        old = _earn(api, member, "OLD")
    first = _earn(api, member, "ORD-1")
    second = _earn(api, member, "ORD-2")
    other_api.post("/api/v1/transactions", purchase_body(member, external_id="ORD-1"), format="json")

    rows, _ = _walk(api, "/api/v1/transactions")
    assert [r["id"] for r in rows] == [second["id"], first["id"], old["id"]]
    # Each row as POST /transactions answered it, with the member's balance of now (the other partner's
    # purchase came after).
    assert {**rows[0], "balance": None} == {**second, "balance": None}

    by_order = api.get("/api/v1/transactions", {"external_id": "ORD-1"}).json()["results"]
    assert [r["id"] for r in by_order] == [first["id"]]

    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = api.get("/api/v1/transactions", {"since": since}).json()["results"]
    assert {r["external_id"] for r in recent} == {"ORD-1", "ORD-2"}
    until = api.get("/api/v1/transactions", {"until": since}).json()["results"]
    assert [r["external_id"] for r in until] == ["OLD"]


def test_purchase_pages_cost_the_same_queries_whatever_their_size(api, member):
    for n in range(6):
        _earn(api, member, f"ORD-{n}")
    counts = []
    for size in (1, 6):
        api.get("/api/v1/transactions", {"page_size": 1})  # key and throttle caches warm
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get("/api/v1/transactions", {"page_size": size}).json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- one list envelope, cursors ----------------------------------------------------------------------


def test_every_list_has_one_envelope(api, member):
    _earn(api, member, "ORD-1")
    for url, params in (
        ("/api/v1/members", {"email": member.email}),
        (f"/api/v1/members/{member.number}/transactions", {}),
        (f"/api/v1/members/{member.number}/subscriptions", {}),
        (f"/api/v1/members/{member.number}/vouchers", {}),
        ("/api/v1/rewards", {"member": member.number}),
        ("/api/v1/transactions", {}),
        ("/api/v1/events", {}),
    ):
        response = api.get(url, {**params, "page_size": 1})
        assert response.status_code == 200, (url, response.content)
        body = response.json()
        assert {"next", "previous", "results"} <= set(body), url
        assert isinstance(body["results"], list) and len(body["results"]) <= 1, url


def test_a_cursor_walk_is_stable_while_rows_are_added(api, member):
    ids = [_earn(api, member, f"ORD-{n}")["id"] for n in range(5)]
    first = api.get("/api/v1/transactions", {"page_size": 2}).json()
    _earn(api, member, "ORD-NEW")  # lands before the cursor: neither repeated nor shifting the walk
    rows = first["results"]
    response = api.get(first["next"])
    while True:
        body = response.json()
        rows += body["results"]
        if body["next"] is None:
            break
        response = api.get(body["next"])
    assert [r["id"] for r in rows] == ids[::-1]


def test_previous_goes_back_and_a_forged_cursor_is_a_400(api, member):
    for n in range(3):
        _earn(api, member, f"ORD-{n}")
    page1 = api.get("/api/v1/transactions", {"page_size": 2}).json()
    page2 = api.get(page1["next"]).json()
    assert page1["previous"] is None and page2["next"] is None
    assert api.get(page2["previous"]).json()["results"] == page1["results"]

    response = api.get("/api/v1/transactions", {"cursor": "not a cursor!"})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_numbered_pages_still_work_where_they_did(api, member):
    for n in range(3):
        _earn(api, member, f"ORD-{n}")
    body = api.get(f"/api/v1/members/{member.number}/transactions", {"page": 2, "page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 1 and body["previous"] is not None


# --- ETag and RateLimit ----------------------------------------------------------------------------------


def test_a_read_has_an_etag_and_answers_304_while_it_is_current(api, member):
    url = f"/api/v1/members/{member.number}/balance"
    first = api.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')

    unchanged = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag and "RateLimit-Remaining" in unchanged

    _earn(api, member, "ORD-1")
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "ETag" not in api.post("/api/v1/transactions/simulate", purchase_body(member), format="json")


def test_every_answer_to_a_key_carries_its_rate_limit(partner, member):
    api = client_for(partner)
    _, limited_key = partner_key_create(partner=partner, name="till", rate_limit="3/min")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {limited_key}")
    answers = [
        api.get(f"/api/v1/members/{member.number}/balance"),  # 200
        api.post("/api/v1/transactions", {"member": member.number}, format="json"),  # 400
        api.get("/api/v1/transactions/999999"),  # 404
        api.get(f"/api/v1/members/{member.number}/balance"),  # 429
    ]
    assert [a.status_code for a in answers] == [200, 400, 404, 429]
    assert [a["RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(0 < int(a["RateLimit-Reset"]) <= 60 for a in answers)


# --- the event feed -----------------------------------------------------------------------------------


@pytest.fixture
def settled(settings):
    settings.API_EVENTS_SETTLE_SECONDS = 0


def test_the_feed_carries_what_the_webhooks_carry_for_this_partner_only(
    api, other_api, partner, program, on_commit, settled
):
    WebhookEndpoint.objects.create(partner=partner, url="http://127.0.0.1:9/", secret="s", events=webhook_event_types())
    with on_commit():
        enrolled = api.post("/api/v1/members", {"email": "feed@example.com"}, format="json").json()
    member = Member.objects.get(number=enrolled["number"])
    with on_commit():
        _earn(api, member, "MINE")
        other_api.post("/api/v1/transactions", purchase_body(member, external_id="THEIRS"), format="json")

    feed = api.get("/api/v1/events").json()
    assert feed["previous"] is None and feed["next"] is None
    bodies = [
        json.loads(d.body) for d in WebhookDelivery.objects.filter(endpoint__partner=partner).order_by("event_id")
    ]
    assert feed["results"] == bodies  # the same events, the same payloads, in order
    assert [e["type"] for e in feed["results"]] == ["member.enrolled", "points.earned"]
    assert feed["results"][1]["data"]["partner"] == partner.pk
    assert feed["after"] == feed["results"][-1]["id"]

    later = api.get("/api/v1/events", {"after": feed["after"]}).json()
    assert later["results"] == [] and later["after"] == feed["after"]
    their_types = [e["type"] for e in other_api.get("/api/v1/events").json()["results"]]
    assert their_types == ["member.enrolled", "points.earned"]  # theirs, not mine


def test_the_feed_pages_forward_from_an_event_id(api, program, settled):
    for n in range(5):
        MemberFactory(program=program, email=f"m{n}@example.com")
    rows, sizes = _walk(api, "/api/v1/events", page_size=2)
    assert sizes == [2, 2, 1]
    ids = [e["id"] for e in rows]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [e["id"] for e in api.get("/api/v1/events", {"after": ids[2]}).json()["results"]] == ids[3:]


def test_the_feed_waits_for_an_event_to_settle(api, program, settings):
    settings.API_EVENTS_SETTLE_SECONDS = 5
    MemberFactory(program=program)
    assert api.get("/api/v1/events").json()["results"] == []
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert [e["type"] for e in api.get("/api/v1/events").json()["results"]] == ["member.enrolled"]


def test_the_feed_refuses_a_bad_cursor(api):
    for after in ("-1", "x", ""):
        response = api.get("/api/v1/events", {"after": after})
        assert response.status_code == 400, after
        assert "after" in response.json()["error"]["fields"]
