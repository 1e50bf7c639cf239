"""The survey trigger end to end on a real worker: purchase -> event -> handler -> invitation -> sent."""

import time
from decimal import Decimal

import pytest

from feedback import tasks
from feedback.models import Invitation, Survey
from members import services as member_services
from tests.conftest import MemberFactory, ProgramFactory
from tests.feedback.conftest import SurveyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _wait_for(check, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    return check()


@pytest.mark.django_db(transaction=True)
def test_a_purchase_invites_the_member_through_the_worker(celery_worker):
    program = ProgramFactory()
    SurveyFactory(program=program, kind=Survey.Kind.CSAT, trigger=Survey.Trigger.PURCHASE, delay_hours=0)
    member = MemberFactory(program=program, consent_email=True)
    member_services.purchase_record(
        member=member, partner=None, external_id="W-1", amount=Decimal("12"), currency="EUR"
    )
    invitation = _wait_for(lambda: Invitation.objects.filter(member=member).first())
    assert invitation is not None, "the worker never ran the purchase.recorded handler"
    tasks.invitations_send_due.delay()
    assert _wait_for(lambda: Invitation.objects.filter(pk=invitation.pk, status="sent").exists())
