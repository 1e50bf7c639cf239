"""Spot checks of the admin forms staff use for bulk work (adjust points, assign a tier, subscribe, the
rule simulator, grant a reward, send a survey, build a segment): bad values give form errors, never a
500, and change nothing."""

import pytest
from django.apps import apps
from django.contrib.admin import helpers
from django.urls import reverse

from campaigns.models import Segment
from members.models import MembershipPlan
from tests.conftest import MemberFactory
from tests.feedback.conftest import SurveyFactory
from tests.rewards.conftest import RewardFactory

BAD = ["", " ", "abc", "1.5", "1e309", "NaN", "99999999999999999999", "2026-02-30", "\x00", "x" * 5000, "ø例"]


def _counts() -> dict[str, int]:
    labels = ("members", "rewards", "feedback", "campaigns")
    return {m._meta.label: m.objects.count() for label in labels for m in apps.get_app_config(label).get_models()}


def _refused(response) -> None:
    assert response.status_code == 200
    forms = [v for ctx in response.context for v in ctx.flatten().values() if hasattr(v, "errors")]
    errors = [f for f in forms if getattr(f, "is_bound", False) and f.errors]
    errors += [f for f in forms if hasattr(f, "total_error_count") and f.total_error_count()]
    assert errors or "errornote" in response.content.decode(), response.content.decode()[:2000]


def _action(client, action: str, member, **data):
    return client.post(
        reverse("admin:members_member_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [member.pk], "apply": "1", **data},
    )


@pytest.mark.parametrize("bad", BAD)
def test_member_actions_refuse_bad_values(admin_client, program, bad):
    member = MemberFactory(program=program)
    MembershipPlan.objects.create(program=program, name="Club", fee="10.00")
    before = _counts()
    _refused(_action(admin_client, "adjust_points", member, points=bad, reason="Goodwill"))
    _refused(_action(admin_client, "adjust_points", member, points="0", reason=bad))
    _refused(_action(admin_client, "assign_tier", member, tier=bad, until=bad))
    _refused(_action(admin_client, "subscribe", member, plan=bad))
    simulator = reverse("admin:members_earningrule_simulate")
    _refused(admin_client.post(simulator, {"program": program.pk, "amount": bad, "basket": bad, "member": bad}))
    assert _counts() == before


@pytest.mark.parametrize("bad", BAD)
def test_grant_and_send_refuse_bad_values(admin_client, program, bad):
    reward = RewardFactory(program=program)
    survey = SurveyFactory(program=program)
    before = _counts()
    grant = reverse("admin:rewards_grant", args=[reward.pk])
    _refused(admin_client.post(grant, {"numbers": "", "min_points": bad, "tiers": [bad], "message": "Hi"}))
    _refused(admin_client.post(grant, {"numbers": "1", "loyalty_types": [bad], "message": bad.strip() and ""}))
    send = reverse("admin:feedback_survey_send", args=[survey.pk])
    _refused(admin_client.post(send, {"tier": bad or "0", "loyalty_type": bad or "zzz", "numbers": bad}))
    assert _counts() == before


@pytest.mark.parametrize("bad", BAD)
def test_segment_builder_refuses_bad_rules(admin_client, program, bad):
    before = _counts()
    add = reverse("admin:campaigns_segment_add")
    prefix = admin_client.get(add).context["inline_admin_formsets"][0].formset.prefix
    data = {
        "name": "Bad rules",
        "program": program.pk,
        "kind": Segment.Kind.DYNAMIC,
        "combine": "all",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-group": bad or "x",
        f"{prefix}-0-kind": "balance",
        f"{prefix}-0-minimum": bad or "x",
        f"{prefix}-0-days": bad or "x",
        f"{prefix}-0-date_from": bad or "x",
    }
    _refused(admin_client.post(add, data))
    assert _counts() == before
