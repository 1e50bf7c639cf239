"""What campaigns holds about a member, for their data export (members.exports): messages sent or
skipped, personal offers and their codes, static segments the member is listed in."""

from campaigns.models import Delivery, OfferGrant, RewardInterest, SegmentMember
from members.exports import export_rows, export_section
from members.models import Member


@export_section("campaigns")
def campaigns_export(member: Member) -> dict:
    return {
        "deliveries": export_rows(
            Delivery.objects.filter(member=member).order_by("created_at", "id"),
            "campaign__name",
            "variant__subject",
            "channel",
            "status",
            "reason",
            "created_at",
            "sent_at",
        ),
        "offers": export_rows(
            OfferGrant.objects.filter(member=member).order_by("created_at", "id"),
            "offer__title",
            "code",
            "status",
            "valid_until",
            "points",
            "created_at",
            "redeemed_at",
        ),
        "segments": sorted(SegmentMember.objects.filter(member=member).values_list("segment__name", flat=True)),
        "reward_interests": export_rows(
            RewardInterest.objects.filter(member=member).order_by("created_at", "id"),
            "reward_id",
            "points_needed",
            "created_at",
            "fulfilled_at",
        ),
    }
