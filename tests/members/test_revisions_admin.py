"""Rule revisions in admin: a draft from the list, its values, the simulation page, scheduling and
publishing, the history; an edit of a live rule in admin records a revision by its author."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import AuditEntry, EarningRule, RuleRevision
from tests.conftest import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coffee(program):
    return EarningRule.objects.create(
        program=program, name="Coffee x2", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=Decimal("2")
    )


def url(name: str, revision: RuleRevision | None = None) -> str:
    return reverse(f"admin:members_rulerevision_{name}", args=[revision.pk] if revision else [])


def test_draft_simulate_schedule_publish(admin_client, admin_user, program, coffee):
    member = MemberFactory(program=program)
    services.purchase_record(
        member=member,
        partner=None,
        external_id="A",
        amount=Decimal("10"),
        currency="EUR",
        items=[{"sku": "B", "category": "coffee", "unit_price": "10"}],
    )
    assert admin_client.get(reverse("admin:members_rulerevision_changelist")).status_code == 200

    response = admin_client.post(url("draft"), {"program": program.pk, "note": "Coffee x3"})
    draft = RuleRevision.objects.get(status=RuleRevision.Status.DRAFT)
    assert response.url == url("edit", draft)
    form = admin_client.get(url("edit", draft)).context["form"]
    # As the browser posts it: an unticked box sends nothing.
    data = {
        name: "on" if field.initial is True else field.initial
        for name, field in form.fields.items()
        if field.initial is not None and field.initial is not False
    }
    refused = admin_client.post(url("edit", draft), {**data, f"rules-{coffee.pk}-multiplier": "-2"})
    assert refused.status_code == 200 and "negative" in refused.content.decode()
    saved = admin_client.post(url("edit", draft), {**data, f"rules-{coffee.pk}-multiplier": "3"})
    assert saved.status_code == 302

    page = admin_client.get(url("simulate", draft))
    assert page.status_code == 200
    result = page.context["result"]
    assert (result.purchases, result.issued, result.simulated) == (1, 20, 30)
    assert "Coffee x2" in page.content.decode()

    past = admin_client.post(url("schedule", draft), {"effective_at": "2020-01-01 10:00"})
    assert "publish the draft now" in past.content.decode()
    when = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert admin_client.post(url("schedule", draft), {"effective_at": when}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == RuleRevision.Status.SCHEDULED

    assert admin_client.post(url("publish", draft)).status_code == 302
    draft.refresh_from_db()
    coffee.refresh_from_db()
    assert (draft.status, draft.published_by, coffee.multiplier) == (RuleRevision.Status.PUBLISHED, admin_user, 3)
    history = admin_client.get(reverse("admin:members_rulerevision_change", args=[draft.pk])).content.decode()
    assert "2.00" in history and "3.00" in history


def test_editing_a_live_rule_in_admin_records_a_revision_by_its_author(admin_client, admin_user, program, coffee):
    change = reverse("admin:members_earningrule_change", args=[coffee.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(multiplier="4", name_en="Coffee x4")
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    revision = RuleRevision.objects.get(program=program)
    assert (revision.status, revision.author) == (RuleRevision.Status.PUBLISHED, admin_user)
    assert revision.snapshot["rules"][str(coffee.pk)]["multiplier"] == "4.00"
    assert AuditEntry.objects.filter(action="rules.revision.capture", actor=admin_user).exists()


def test_program_managers_prepare_revisions_support_agents_do_not(client, staff_user, program):
    client.force_login(staff_user("program manager"))
    assert client.get(reverse("admin:members_rulerevision_changelist")).status_code == 200
    assert client.post(url("draft"), {"program": program.pk}).status_code == 302
    client.force_login(staff_user("support agent"))
    assert client.get(url("draft")).status_code == 403
    assert client.get(url("simulate", RuleRevision.objects.get(status="draft"))).status_code == 403
