"""seed_demo adds campaigns with results, every journey live, and is idempotent."""

import pytest

from campaigns import demo
from campaigns.models import Campaign, Delivery
from campaigns.selectors import campaign_results
from members import demo as members_demo


@pytest.mark.django_db
def test_demo_has_an_ab_test_with_results_and_live_journeys(on_commit):
    with on_commit():
        members_demo.seed()
    with on_commit():
        lines = demo.seed()
    assert any("journeys live" in line for line in lines)

    ab = Campaign.objects.get(name=demo.AB_TEST)
    assert ab.status == Campaign.Status.SENT
    groups = {g.label: g for g in campaign_results(campaign=ab)}
    assert set(groups) == {"A", "B", "Holdout"}
    assert groups["A"].delivered and groups["B"].delivered and groups["Holdout"].delivered == 0
    assert groups["A"].buyers and groups["Holdout"].buyers
    assert groups["A"].lift is not None and groups["A"].redeemed
    active = set(Campaign.objects.filter(status=Campaign.Status.ACTIVE).values_list("trigger", flat=True))
    assert active == {t for t in Campaign.Trigger.values if t}
    assert Campaign.objects.get(name="Weekly newsletter").status == Campaign.Status.SCHEDULED
    draft = Campaign.objects.get(name=demo.DRAFT)  # to try the preview and the confirmation on
    assert draft.status == Campaign.Status.DRAFT and draft.offer and draft.budget_offers and draft.holdout_percent
    assert not Delivery.objects.filter(campaign=draft).exists()

    before = Delivery.objects.count()
    assert demo.seed() == [f"Campaigns already present ({Campaign.objects.count()} campaigns and journeys)."]
    assert Delivery.objects.count() == before
