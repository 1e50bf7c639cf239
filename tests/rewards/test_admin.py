"""Admin: catalog with counts, code import, surprise grants, cancel action, searches, charity totals."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.models import Member
from rewards import services
from rewards.models import (
    Badge,
    BurnHold,
    Cause,
    Challenge,
    ChallengeProgress,
    MemberBadge,
    Redemption,
    Reward,
    SurpriseRule,
    Voucher,
)
from tests.conftest import MemberFactory
from tests.rewards.conftest import (
    BadgeFactory,
    CauseFactory,
    ChallengeFactory,
    RewardFactory,
    SurpriseRuleFactory,
    fresh,
    give,
)

WRITTEN_BY_SERVICES = {Redemption, Voucher, BurnHold, ChallengeProgress, MemberBadge}


@pytest.fixture
def catalog(program, member):
    give(member, 5000)
    cause = CauseFactory(program=program, name="Food Bank")
    donation = RewardFactory(
        program=program, kind=Reward.Kind.CHARITY, cause=cause, points_cost=100, value=Decimal("1")
    )
    mug = RewardFactory(program=program, title="Mug", points_cost=300, stock=10)
    services.reward_redeem(member=member, reward=mug)
    services.reward_redeem(member=member, reward=donation)
    services.reward_redeem(member=member, reward=donation)
    SurpriseRuleFactory(reward=mug)
    ChallengeFactory(program=program, badge=BadgeFactory(program=program))
    return {"mug": mug, "donation": donation, "cause": cause}


@pytest.mark.parametrize(
    "model",
    [Reward, Redemption, Voucher, Cause, BurnHold, SurpriseRule, Badge, Challenge, ChallengeProgress, MemberBadge],
)
def test_every_list_and_add_page_opens(admin_client, catalog, model):
    info = model._meta.app_label, model._meta.model_name
    assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    add = admin_client.get(reverse("admin:{}_{}_add".format(*info)))
    # Redemptions, vouchers, holds, progress and held badges are made by services only.
    assert add.status_code == (403 if model in WRITTEN_BY_SERVICES else 200)


def test_catalog_shows_stock_and_redemption_counts(admin_client, catalog):
    response = admin_client.get(reverse("admin:rewards_reward_changelist"))
    rows = {r.pk: r for r in response.context["cl"].result_list}
    assert (rows[catalog["mug"].pk].stock, rows[catalog["mug"].pk].redeemed) == (9, 1)
    assert rows[catalog["donation"].pk].redeemed == 2
    change = admin_client.get(reverse("admin:rewards_reward_change", args=[catalog["mug"].pk]))
    assert change.status_code == 200
    assert catalog["mug"].vouchers.get().code in change.content.decode()


def test_charity_totals_per_cause(admin_client, catalog):
    response = admin_client.get(reverse("admin:rewards_cause_changelist"))
    [cause] = response.context["cl"].result_list
    assert (cause.donations, cause.donated_points, cause.donated_value) == (2, 200, Decimal("2.00"))


def test_import_codes_from_the_admin(admin_client, catalog):
    mug = catalog["mug"]
    url = reverse("admin:rewards_import", args=[mug.pk])
    assert admin_client.get(url).status_code == 200
    upload = SimpleUploadedFile("codes.csv", b"code\nMUG-0001\nMUG-0002\nMUG-0002\n", content_type="text/csv")

    response = admin_client.post(url, {"file": upload}, follow=True)

    assert response.status_code == 200
    assert "2 codes added, 1 already known, 0 bad lines skipped." in response.content.decode()
    assert set(mug.vouchers.filter(status="available").values_list("code", flat=True)) == {"MUG0001", "MUG0002"}


def test_the_import_action_needs_exactly_one_reward(admin_client, catalog):
    url = reverse("admin:rewards_reward_changelist")
    one = admin_client.post(url, {"action": "import_codes", "_selected_action": [catalog["mug"].pk]})
    assert one.status_code == 302 and one.url == reverse("admin:rewards_import", args=[catalog["mug"].pk])
    two = admin_client.post(
        url, {"action": "import_codes", "_selected_action": [catalog["mug"].pk, catalog["donation"].pk]}, follow=True
    )
    assert "Choose exactly one reward." in two.content.decode()


def test_grant_a_surprise_to_named_members(admin_client, catalog, program, admin_user):
    lucky = MemberFactory(program=program)
    url = reverse("admin:rewards_grant", args=[catalog["mug"].pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"numbers": f"{lucky.number}\n", "message": "Surprise!"}, follow=True)

    assert "Granted to 1 member." in response.content.decode()
    grant = Redemption.objects.get(member=lucky)
    assert (grant.source, grant.points, grant.message, grant.created_by) == ("surprise", 0, "Surprise!", admin_user)


def test_grant_form_needs_a_target(admin_client, catalog):
    url = reverse("admin:rewards_grant", args=[catalog["mug"].pk])
    response = admin_client.post(url, {"message": "Hi"})
    assert response.status_code == 200
    assert not Redemption.objects.filter(source="surprise").exists()
    assert "Name members, or choose filters" in response.content.decode()


def test_cancel_action_refunds(admin_client, catalog, member):
    redemption = Redemption.objects.get(reward=catalog["mug"])
    before = fresh(member).points_available
    admin_client.post(
        reverse("admin:rewards_redemption_changelist"),
        {"action": "cancel_redemptions", "_selected_action": [redemption.pk]},
    )
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED
    assert Member.objects.get(pk=member.pk).points_available == before + 300


def test_search_vouchers_and_redemptions_by_code_as_printed(admin_client, catalog, member):
    voucher = catalog["mug"].vouchers.get()
    printed = services.voucher_code_display(voucher.code)
    found = admin_client.get(reverse("admin:rewards_voucher_changelist"), {"q": printed})
    assert list(found.context["cl"].result_list) == [voucher]
    by_member = admin_client.get(reverse("admin:rewards_redemption_changelist"), {"q": member.number})
    assert len(by_member.context["cl"].result_list) == 3


def test_an_incomplete_reward_is_refused_with_a_message_not_an_error(admin_client, program):
    response = admin_client.post(
        reverse("admin:rewards_reward_add"),
        {
            "program": program.pk,
            "kind": Reward.Kind.CHARITY,
            "title_en": "Donate",
            "points_cost": 100,
            "value": "1",
            "min_order_value": "0",
            "limit_period": "month",
            "code_source": "generated",
            "voucher_valid_days": 30,
            "vouchers-TOTAL_FORMS": 0,
            "vouchers-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "A charity donation needs a cause." in response.content.decode()
    assert not Reward.objects.filter(title_en="Donate").exists()


def test_grant_form_can_be_prefilled_with_member_numbers(admin_client, catalog, program):
    a, b = MemberFactory(program=program), MemberFactory(program=program)
    url = reverse("admin:rewards_grant", args=[catalog["mug"].pk])
    response = admin_client.get(url, {"numbers": f"{a.number},{b.number}"})
    assert response.context["form"].initial["numbers"] == f"{a.number}\n{b.number}"
