"""Two surveys sent to one member at the same moment: the member row lock lets only one through."""

import threading

import pytest
from django.db import connection

from feedback import services
from feedback.models import Invitation
from tests.conftest import MemberFactory, ProgramFactory
from tests.feedback.conftest import SurveyFactory

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_respect_the_quarantine():
    program = ProgramFactory()
    member = MemberFactory(program=program, consent_email=True)
    invitations = [
        services.invitation_schedule(
            survey=SurveyFactory(program=program), member=member, trigger="manual", reference=r
        )
        for r in ("a", "b")
    ]
    barrier = threading.Barrier(2)

    def send(invitation):
        try:
            barrier.wait()
            services.invitation_send(invitation=invitation)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in invitations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(Invitation.objects.values_list("status", "skip_reason"))
    assert statuses == [("sent", ""), ("skipped", "quarantine")]
