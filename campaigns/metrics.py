"""Campaign metrics for the dashboard: messages sent and offers redeemed in the period, and the
lift of each campaign (buyers among treated members against the holdout group)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from campaigns.models import Campaign, Delivery, OfferGrant
from campaigns.selectors import campaign_results, campaign_results_stored, two_proportion_lift
from members.metrics import Scope, member_filter, rounded


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: int
    name: str
    sent: int
    redeemed: int
    treated_conversion: Decimal | None  # % of treated members who bought in the attribution window
    holdout_conversion: Decimal | None
    lift_points: Decimal | None  # treated - holdout, percentage points
    lift_relative: Decimal | None  # (treated - holdout) / holdout, %


def campaign_metrics(*, scope: Scope) -> list[CampaignRow]:
    """Campaigns that sent or had an offer redeemed in the period, newest first. Sent and redeemed
    follow the scope's filters; the lift is the campaign's own experiment (all its members and its
    attribution window), which a filter would bias, so it is never filtered."""
    sent = dict(
        Delivery.objects.filter(
            member_filter(scope, "member__"),
            status=Delivery.Status.SENT,
            sent_at__gte=scope.start,
            sent_at__lt=scope.end,
        )
        .values_list("campaign")
        .annotate(n=Count("id"))
        .order_by()
    )
    redeemed = dict(
        OfferGrant.objects.filter(
            member_filter(scope, "member__"),
            status=OfferGrant.Status.REDEEMED,
            redeemed_at__gte=scope.start,
            redeemed_at__lt=scope.end,
        )
        .values_list("campaign")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    campaigns = list(Campaign.objects.filter(pk__in=set(sent) | set(redeemed)).order_by("-created_at", "-id"))
    # The periodic job's rows (campaigns.services.results); a campaign it has not reached yet is
    # computed here.
    stored = campaign_results_stored(campaign_ids=[campaign.pk for campaign in campaigns])
    for campaign in campaigns:
        treated_conversion = holdout_conversion = lift_points = lift_relative = None
        groups = stored[campaign.pk][0] if campaign.pk in stored else campaign_results(campaign=campaign)
        holdout = next((g for g in groups if g.label == "Holdout" and g.variant_id is None), None)
        treated = [g for g in groups if g is not holdout]
        treated_n, treated_buyers = sum(g.members for g in treated), sum(g.buyers for g in treated)
        if treated_n:
            treated_conversion = rounded(Decimal(treated_buyers * 100) / treated_n)
        if holdout is not None and holdout.members:
            holdout_conversion = rounded(Decimal(holdout.buyers * 100) / holdout.members)
            if treated_n:
                lift = two_proportion_lift(
                    treated=treated_buyers, treated_n=treated_n, control=holdout.buyers, control_n=holdout.members
                )
                lift_points = rounded(Decimal(str(lift.difference)) * 100)
                lift_relative = None if lift.relative is None else rounded(Decimal(str(lift.relative)) * 100)
        rows.append(
            CampaignRow(
                campaign_id=campaign.pk,
                name=campaign.name,
                sent=sent.get(campaign.pk, 0),
                redeemed=redeemed.get(campaign.pk, 0),
                treated_conversion=treated_conversion,
                holdout_conversion=holdout_conversion,
                lift_points=lift_points,
                lift_relative=lift_relative,
            )
        )
    return rows
