"""The segment builder: rules stacked one per block, and a live count and sample of the rules being
edited, before anything is saved (staff-only preview endpoint on the campaigns segment selectors)."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from campaigns.models import Segment
from members import services as member_services
from tests.conftest import MemberFactory, TierFactory

pytestmark = pytest.mark.django_db

PREVIEW = "admin:campaigns_segment_preview"


def _form(program, *rules, initial: int = 0) -> dict:
    data = {
        "name": "Draft",
        "program": program.pk,
        "kind": Segment.Kind.DYNAMIC,
        "combine": Segment.Combine.ANY_GROUP,
        "rules-TOTAL_FORMS": len(rules),
        "rules-INITIAL_FORMS": initial,
        "rules-MIN_NUM_FORMS": 0,
        "rules-MAX_NUM_FORMS": 1000,
    }
    for i, rule in enumerate(rules):
        data |= {f"rules-{i}-{key}": value for key, value in {"group": 1, **rule}.items()}
    return data


@pytest.fixture
def gold_members(program):
    gold = TierFactory(program=program, name="Gold", level=3)
    members = [MemberFactory(program=program) for _ in range(3)]
    for member in members[:2]:
        member_services.tier_assign(member=member, tier=gold, until=None, created_by=None)
    return gold


def test_the_count_and_sample_follow_the_unsaved_rules(admin_client, program, gold_members):
    url = reverse(PREVIEW)

    everyone = admin_client.post(url, _form(program)).json()
    gold = admin_client.post(url, _form(program, {"kind": "tier", "tier": gold_members.pk})).json()
    not_gold = admin_client.post(url, _form(program, {"kind": "tier", "tier": gold_members.pk, "negate": "on"})).json()

    assert (everyone["count"], gold["count"], not_gold["count"]) == (3, 2, 1)
    assert gold["sample"].count("<tr>") == 2 + 1  # header and two members
    assert Segment.objects.count() == 0  # nothing saved


def test_an_incomplete_rule_is_named_and_left_out(admin_client, program, gold_members):
    answer = admin_client.post(
        reverse(PREVIEW), _form(program, {"kind": "tier", "tier": gold_members.pk}, {"kind": "tier"})
    ).json()

    assert answer["count"] == 2 and answer["invalid"] == [2]
    assert "2" in answer["status"]


def test_bad_requests_get_a_clear_4xx(admin_client, program):
    url = reverse(PREVIEW)
    assert admin_client.get(url).status_code == 405
    assert admin_client.post(url, {"program": program.pk}).status_code == 400  # no management form
    assert admin_client.post(url, {**_form(program), "program": "x"}).status_code == 400
    assert admin_client.post(url, {**_form(program), "combine": "maybe"}).status_code == 400


def test_only_staff_who_may_see_segments_get_counts(client, program):
    client.force_login(User.objects.create_user("clerk", "c@example.com", "pw", is_staff=True))
    assert client.post(reverse(PREVIEW), _form(program)).status_code == 403
    client.force_login(User.objects.create_user("member", "m@example.com", "pw"))
    assert client.post(reverse(PREVIEW), _form(program)).status_code == 302  # to the admin login


def test_the_rule_editor_stacks_rules_and_loads_the_builder(admin_client, program):
    page = admin_client.get(reverse("admin:campaigns_segment_add")).content.decode()

    assert 'id="segment-live"' in page and "js/segment-builder.js" in page
    assert "tabular" not in page.split('id="rules-group"', 1)[1][:400]


def test_a_saved_segments_page_counts_its_saved_rules_as_edited(admin_client, program, gold_members):
    """On a saved segment's page the form carries its rules' ids: they are the segment's own rules, edited
    (a form for a rule of no segment would be invalid and left out)."""
    segment = Segment.objects.create(program=program, name="Gold")
    rule = segment.rules.create(kind="tier", tier=gold_members)
    page = admin_client.get(reverse("admin:campaigns_segment_change", args=[segment.pk])).content.decode()
    url = f"{reverse(PREVIEW)}?segment={segment.pk}"
    assert f'data-url="{url}"' in page
    saved = {"id": rule.pk, "segment": segment.pk, "kind": "tier", "tier": gold_members.pk}

    as_saved = admin_client.post(url, _form(program, saved, initial=1)).json()
    negated = admin_client.post(url, _form(program, saved | {"negate": "on"}, initial=1)).json()
    removed = admin_client.post(url, _form(program, saved | {"DELETE": "on"}, initial=1)).json()

    assert (as_saved["count"], as_saved["invalid"]) == (2, [])
    assert (negated["count"], removed["count"]) == (1, 3)
    rule.refresh_from_db()
    assert not rule.negate  # nothing saved
    assert admin_client.post(f"{reverse(PREVIEW)}?segment=x", _form(program)).status_code == 400


def test_a_rule_keeps_only_the_values_its_kind_reads(admin_client, program, gold_members):
    """A value typed for another kind (the builder hides it, a browser without JS shows it) is emptied on save."""
    data = _form(
        program, {"kind": "balance", "minimum": "10", "days": "30", "values": "email", "tier": gold_members.pk}
    )
    data["name"] = "Balance"
    assert admin_client.post(reverse("admin:campaigns_segment_add"), data).status_code == 302
    rule = Segment.objects.get(name="Balance").rules.get()
    assert (rule.minimum, rule.days, rule.values, rule.tier) == (10, None, "", None)
