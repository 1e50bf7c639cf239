"""Campaign results kept as rows (CampaignResult): refreshed by a periodic job while a campaign's
attribution window is open, then frozen, so the dashboard reads a few rows per campaign instead of
probing each delivery for the purchases that followed it."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from campaigns.models import Campaign, CampaignResult, Delivery
from campaigns.selectors import campaign_results

# Purchases are recorded late at times (a till that was offline, a file import): the results are
# refreshed this long after the window closes before they freeze.
RESULTS_GRACE = timedelta(days=2)


def campaign_results_refresh(*, now: datetime | None = None) -> int:
    """Recompute the stored results of every campaign with deliveries whose results are not frozen;
    a campaign that has finished sending and whose last delivery's attribution window (plus the
    grace) has closed is computed one last time and frozen. Returns the campaigns refreshed."""
    now = now or timezone.now()
    campaigns = (
        Campaign.objects.filter(Exists(Delivery.objects.filter(campaign=OuterRef("pk"))))
        .exclude(Exists(CampaignResult.objects.filter(campaign=OuterRef("pk"), final=True)))
        .annotate(last_delivery=Max("deliveries__created_at"))
        .order_by("pk")
    )
    refreshed = 0
    for campaign in campaigns:
        closes = campaign.last_delivery + timedelta(days=campaign.attribution_days) + RESULTS_GRACE
        final = campaign.status == Campaign.Status.SENT and closes <= now
        groups = campaign_results(campaign=campaign)
        with transaction.atomic():
            CampaignResult.objects.filter(campaign=campaign).delete()
            CampaignResult.objects.bulk_create(
                CampaignResult(
                    campaign=campaign,
                    variant_id=group.variant_id,
                    holdout=group.label == "Holdout" and group.variant_id is None,
                    label=group.label,
                    members=group.members,
                    delivered=group.delivered,
                    redeemed=group.redeemed,
                    buyers=group.buyers,
                    purchases=group.purchases,
                    spend=group.spend,
                    refreshed_at=now,
                    final=final,
                )
                for group in groups
            )
        refreshed += 1
    return refreshed
