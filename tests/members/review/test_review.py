"""Staff decide review cases: approving credits the held points once through the ledger, rejecting
credits nothing; both need a note. The admin queue shows open cases first."""

from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from core.errors import DomainError
from members import review, services
from members.models import LedgerEntry, Program, ReviewCase
from tests.conftest import MemberFactory

from .conftest import assert_ledger_consistent, limits, record

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:members_reviewcase_changelist"


@pytest.fixture
def held(program, member, clock):
    """A purchase of 80 held by a zero-purchase daily limit, and its open case."""
    limits(program, member_daily_earns=0)
    purchase = record(member, 80, external_id="ORD-80")
    return ReviewCase.objects.get(purchase=purchase)


def test_approving_credits_the_held_points_through_the_ledger(held, member, admin_user):
    review.review_approve(case=held, decided_by=admin_user, note="Customer called, genuine")
    entry = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.EARN)
    assert (entry.points, entry.purchase_id, entry.created_by) == (80, held.purchase_id, admin_user)
    held.refresh_from_db()
    assert (held.status, held.decided_by, held.note) == ("approved", admin_user, "Customer called, genuine")
    assert held.decided_at is not None
    assert assert_ledger_consistent(member).points_available == 80
    assert held.purchase.points == 80


def test_approving_twice_credits_once(held, member, admin_user):
    review.review_approve(case=held, decided_by=admin_user, note="ok")
    with pytest.raises(DomainError) as refused:
        review.review_approve(case=held, decided_by=admin_user, note="ok again")
    assert refused.value.code == "case_decided"
    with pytest.raises(DomainError):
        review.review_reject(case=held, decided_by=admin_user, note="changed my mind")
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).count() == 1
    assert assert_ledger_consistent(member).points_available == 80


def test_rejecting_credits_nothing(held, member, admin_user):
    review.review_reject(case=held, decided_by=admin_user, note="Stolen card")
    held.refresh_from_db()
    assert (held.status, held.note) == ("rejected", "Stolen card")
    assert not LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).exists()
    assert assert_ledger_consistent(member).points_available == 0


def test_a_decision_needs_a_note(held, admin_user):
    for decide in (review.review_approve, review.review_reject):
        with pytest.raises(DomainError) as refused:
            decide(case=held, decided_by=admin_user, note="  ")
        assert refused.value.code == "note_required"
    held.refresh_from_db()
    assert held.status == "open"


def test_a_refund_while_held_takes_nothing_and_approval_credits_only_the_rest(held, member, admin_user):
    nothing = services.purchase_reverse(purchase=held.purchase, amount=Decimal("20"))  # nothing credited yet
    assert (nothing.points, nothing.debt, nothing.entries) == (0, 0, [])
    review.review_approve(case=held, decided_by=admin_user, note="ok")
    assert assert_ledger_consistent(member).points_available == 60  # 80 held, a quarter refunded
    services.purchase_reverse(purchase=held.purchase)  # the rest, later: takes back exactly the 60
    member = assert_ledger_consistent(member)
    assert (member.points_available, member.points_debt) == (0, 0)


def test_approval_respects_the_return_window(program, member, admin_user, clock):
    Program.objects.filter(pk=program.pk).update(pending_days=14)
    limits(program, member_daily_earns=0)
    case = ReviewCase.objects.get(purchase=record(member, 30, external_id="P"))
    review.review_approve(case=case, decided_by=admin_user, note="ok")
    member = assert_ledger_consistent(member)
    assert (member.points_available, member.points_pending) == (0, 30)


# --- admin ----------------------------------------------------------------------------------------


def test_the_queue_shows_open_cases_by_default(admin_client, held, program, admin_user):
    other = MemberFactory(program=program)
    done = ReviewCase.objects.get(purchase=record(other, 10, external_id="X"))
    review.review_reject(case=done, decided_by=admin_user, note="no")
    page = admin_client.get(reverse(CHANGELIST))
    assert [c.pk for c in page.context["cl"].result_list] == [held.pk]
    everything = admin_client.get(reverse(CHANGELIST), {"status": "all"})
    assert {c.pk for c in everything.context["cl"].result_list} == {held.pk, done.pk}


def _action(client, action, cases, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [c.pk for c in cases], **data},
    )


def test_approve_action_asks_for_a_note_then_credits(admin_client, held, member):
    form = _action(admin_client, "approve", [held])
    assert form.status_code == 200 and b"Note" in form.content  # the intermediate page
    empty = _action(admin_client, "approve", [held], apply="1", note="")
    assert empty.status_code == 200  # the form again, with its error
    held.refresh_from_db()
    assert held.status == "open"
    _action(admin_client, "approve", [held], apply="1", note="Checked the receipt")
    held.refresh_from_db()
    assert (held.status, held.note) == ("approved", "Checked the receipt")
    assert assert_ledger_consistent(member).points_available == 80


def test_reject_action(admin_client, held, member):
    _action(admin_client, "reject", [held], apply="1", note="Bulk fake receipts")
    held.refresh_from_db()
    assert held.status == "rejected"
    assert assert_ledger_consistent(member).points_available == 0


def test_the_case_page_has_approve_and_reject_buttons(admin_client, held, member):
    url = reverse("admin:members_reviewcase_change", args=[held.pk])
    page = admin_client.get(url)
    assert b'name="_approve"' in page.content and b'name="_reject"' in page.content
    assert b'name="_save"' not in page.content
    no_note = admin_client.post(url, {"_approve": "1", "note": ""}, follow=True)
    assert "needs a note" in no_note.text
    held.refresh_from_db()
    assert held.status == "open"
    admin_client.post(url, {"_approve": "1", "note": "Fine"})
    admin_client.post(url, {"_approve": "1", "note": "Fine again"})  # a double click credits once
    held.refresh_from_db()
    assert (held.status, held.note) == ("approved", "Fine")
    assert assert_ledger_consistent(member).points_available == 80
    assert b'name="_approve"' not in admin_client.get(url).content  # decided: no buttons


def test_the_program_admin_has_the_abuse_controls(admin_client, program):
    page = admin_client.get(reverse("admin:members_program_change", args=[program.pk]))
    assert "Abuse controls" in page.text and "member_daily_earns" in page.text
