"""Operator-defined events: configured in admin, reported by partners, earning by their rule within
their daily cap, once per reference."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from core.errors import DomainError
from members import services
from members.models import CustomEvent, CustomEventType, Event, LedgerEntry
from members.why import entries_explain

from .conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(program):
    return CustomEventType.objects.create(
        program=program,
        key="run_completed",
        name="Run completed",
        attributes=[{"name": "km", "type": "number", "required": True}, {"name": "city", "type": "string"}],
        points=10,
        points_attribute="km",
        points_per_unit=Decimal("3"),
        max_points=100,
        daily_cap=2,
    )


def test_an_event_earns_fixed_points_plus_its_points_per_unit(member, run):
    event, created = services.custom_event_record(
        member=member, key="run_completed", reference="R-1", attributes={"km": 7.5}
    )
    assert created and event.points == 10 + 22  # 7.5 km x 3, rounded down
    entry = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.ENGAGEMENT)
    assert (entry.points, entry.reason) == (32, "Run completed")
    assert Event.objects.filter(type="custom_event.recorded").count() == 1
    assert assert_ledger_consistent(member).points_available == 32


def test_members_read_the_event_name_in_their_language(member, run):
    run.name_ro = "Alergare terminată"
    run.save()
    services.custom_event_record(member=member, key="run_completed", reference="R-1", attributes={"km": 1})
    entry = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.ENGAGEMENT)
    assert entry.reason == "Run completed"  # staff and raw readers: English
    with translation.override("ro"):
        [explained] = entries_explain([entry], member.program)
        assert entry.member_reason == "Alergare terminată"
        assert [item["label"] for item in explained.why_items] == ["Alergare terminată"]


def test_an_event_never_earns_more_than_its_type_allows(member, run):
    event, _ = services.custom_event_record(member=member, key="run_completed", reference="R-1", attributes={"km": 1e9})
    assert event.points == 100


def test_the_same_reference_earns_once_and_the_daily_cap_holds(member, run, clock):
    first, _ = services.custom_event_record(member=member, key="run_completed", reference="R-1", attributes={"km": 1})
    again, created = services.custom_event_record(
        member=member, key="run_completed", reference="R-1", attributes={"km": 1}
    )
    assert (again, created) == (first, False)
    services.custom_event_record(member=member, key="run_completed", reference="R-2", attributes={"km": 1})
    capped, _ = services.custom_event_record(member=member, key="run_completed", reference="R-3", attributes={"km": 1})
    assert capped.points == 0 and capped.entry is None
    clock.shift(timedelta(days=1))
    next_day, _ = services.custom_event_record(
        member=member, key="run_completed", reference="R-4", attributes={"km": 1}
    )
    assert next_day.points == 13
    assert assert_ledger_consistent(member).points_available == 13 * 3


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({}, "km"),
        ({"km": "seven"}, "km"),
        ({"km": True}, "km"),
        ({"km": 1, "pace": 5}, "pace"),
        ({"km": 1, "city": 3}, "city"),
    ],
)
def test_attributes_that_do_not_match_the_type_are_refused(member, run, attributes, problem):
    with pytest.raises(DomainError) as refused:
        services.custom_event_record(member=member, key="run_completed", reference="R-1", attributes=attributes)
    assert refused.value.code == "invalid_attributes" and problem in refused.value.fields["attributes"]
    assert not CustomEvent.objects.exists()


def test_an_unknown_or_inactive_type_is_not_found(member, run):
    CustomEventType.objects.filter(pk=run.pk).update(is_active=False)
    with pytest.raises(DomainError) as refused:
        services.custom_event_record(member=member, key="run_completed", reference="R-1", attributes={"km": 1})
    assert (refused.value.code, refused.value.status) == ("unknown_event_type", 404)


def test_staff_configure_event_types_and_a_bad_attribute_list_is_a_form_error(admin_client, program):
    url = reverse("admin:members_customeventtype_add")
    base = {
        "program": program.pk,
        "key": "class_attended",
        "name_en": "Class",
        "points": "20",
        "points_per_unit": "0",
        "max_points": "100",
        "is_active": "on",
    }
    bad = admin_client.post(url, {**base, "attributes": '[{"name": "x", "type": "date"}]'})
    assert bad.status_code == 200 and not CustomEventType.objects.exists()
    wrong_unit = admin_client.post(url, {**base, "attributes": "[]", "points_attribute": "minutes"})
    assert wrong_unit.status_code == 200 and not CustomEventType.objects.exists()
    good = admin_client.post(url, {**base, "attributes": '[{"name": "minutes", "type": "number"}]'})
    assert good.status_code == 302
    assert CustomEventType.objects.get().key == "class_attended"
