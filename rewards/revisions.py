"""Catalog prices are part of every rule revision (members.services.revisions): a draft may change
a reward's price in points, and publishing it writes the new prices through the service below.
Registered from RewardsConfig.ready, since members cannot import rewards."""

from django.utils.translation import gettext_lazy as _

from members import services as members_services
from rewards.models import Reward
from rewards.services import reward_prices_apply


def register() -> None:
    members_services.revision_part_register(
        members_services.RevisionPart(
            key="prices",
            label=_("Catalog prices"),
            model=Reward,
            rows=lambda program_id: Reward.objects.filter(program_id=program_id).order_by("pk"),
            fields=("title", "points_cost", "is_active"),
            editable=("points_cost",),
            apply=reward_prices_apply,
            title="title",
        )
    )
