"""What rewards holds about a member, for their data export (members.exports)."""

from members.exports import export_rows, export_section
from members.models import Member
from rewards.models import BurnHold, ChallengeProgress, MemberBadge, Redemption, Voucher


@export_section("rewards")
def rewards_export(member: Member) -> dict:
    return {
        "redemptions": export_rows(
            Redemption.objects.filter(member=member).order_by("created_at", "id"),
            "created_at",
            "reward__title",
            "source",
            "status",
            "points",
            "value",
            "message",
            "partner__name",
            "cancelled_at",
        ),
        "vouchers": export_rows(
            Voucher.objects.filter(member=member).order_by("issued_at", "id"),
            "code",
            "reward__title",
            "status",
            "issued_at",
            "expires_at",
            "consumed_at",
            "consumed_by__name",
            "order_reference",
            "order_total",
        ),
        "checkout_holds": export_rows(
            BurnHold.objects.filter(member=member).order_by("created_at", "id"),
            "created_at",
            "partner__name",
            "status",
            "points",
            "amount",
            "order_total",
            "order_reference",
            "settled_at",
        ),
        "badges": export_rows(
            MemberBadge.objects.filter(member=member).order_by("awarded_at", "id"), "badge__name", "awarded_at"
        ),
        "challenges": export_rows(
            ChallengeProgress.objects.filter(member=member).order_by("challenge_id"),
            "challenge__title",
            "value",
            "completed_at",
        ),
    }
