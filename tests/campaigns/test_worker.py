"""A real Celery worker on Redis and PostgreSQL processes a campaign end to end."""

import time

import pytest

from campaigns import services, tasks
from campaigns.models import Campaign, Delivery, OfferGrant
from tests.campaigns.conftest import CampaignFactory, OfferFactory, VariantFactory
from tests.conftest import MemberFactory, ProgramFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def wait_until(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


def finished(campaign: Campaign, expected: int) -> bool:
    deliveries = Delivery.objects.filter(campaign=campaign)
    return (
        deliveries.count() == expected
        and not deliveries.filter(status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]).exists()
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_an_ab_campaign_once(celery_worker):
    program = ProgramFactory()
    members = [MemberFactory(program=program, consent_email=True) for _ in range(25)]
    campaign = CampaignFactory(program=program, offer=OfferFactory(program=program), holdout_percent=20, variant=False)
    VariantFactory(campaign=campaign, name="A")
    VariantFactory(campaign=campaign, name="B")

    services.campaign_launch(campaign=campaign)  # commits; the fan-out task goes to Redis

    assert wait_until(lambda: finished(campaign, len(members))), list(Delivery.objects.values_list("status", flat=True))
    sent = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT)
    held_out = Delivery.objects.filter(campaign=campaign, holdout=True)
    assert sent.count() + held_out.count() == len(members)
    assert all(d.provider_id and d.sent_at for d in sent)
    assert OfferGrant.objects.filter(campaign=campaign).count() == sent.count()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT

    tasks.campaign_fan_out.delay(campaign.pk, "")  # the same run delivered twice to the worker
    # The solo worker takes tasks in order: once a campaign launched after the duplicate has finished,
    # the duplicate and its chunks have run too.
    marker = CampaignFactory(program=program)
    services.campaign_launch(campaign=marker)
    assert wait_until(lambda: finished(marker, len(members)))
    assert Delivery.objects.filter(campaign=campaign).count() == len(members)
    assert OfferGrant.objects.filter(campaign=campaign).count() == sent.count()
