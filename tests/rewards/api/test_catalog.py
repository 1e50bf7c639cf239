"""The public catalog (GET /catalog): the program's rewards without a member, paginated."""

from datetime import timedelta

from django.utils import timezone

from members.models import Tier
from tests.rewards.conftest import RewardFactory


def test_the_catalog_lists_active_rewards_not_yet_over(api, program):
    silver = Tier.objects.create(program=program, name="Silver", level=1)
    featured = RewardFactory(program=program, title="Mug", points_cost=500, is_featured=True)
    cheap = RewardFactory(program=program, title="Coffee", points_cost=100)
    cheap.tiers.add(silver)
    RewardFactory(program=program, title="Old", ends_at=timezone.now() - timedelta(days=1))
    RewardFactory(program=program, title="Hidden", is_active=False)

    body = api.get("/api/v1/catalog").json()
    assert [r["title"] for r in body["results"]] == ["Mug", "Coffee"]
    assert body["results"][1]["tiers"] == ["Silver"]
    assert body["results"][0]["id"] == featured.pk
    first = api.get("/api/v1/catalog?page_size=1").json()
    second = api.get(first["next"]).json()
    assert [r["title"] for r in first["results"] + second["results"]] == ["Mug", "Coffee"]
    assert second["next"] is None
    assert api.get("/api/v1/catalog?page_size=0").status_code == 400


def test_another_programs_rewards_are_not_listed(foreign_api, program):
    RewardFactory(program=program)
    assert foreign_api.get("/api/v1/catalog").json()["results"] == []
