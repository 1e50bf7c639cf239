"""A refunded purchase takes back the campaign offer points it earned (bonus and multiplier), in
proportion to the refund, and the member's history says which."""

from decimal import Decimal

import pytest

from campaigns import services
from campaigns.models import Offer, OfferGrant
from members import auth
from members import services as member_services
from members.models import LedgerEntry, Member
from tests.campaigns.conftest import CampaignFactory, OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(program, on_commit):
    """A member holding a 150-point bonus offer and a triple-points offer on everything."""
    member = auth.member_signup(program=program, email="ana@example.com", first_name="Ana", consent_email=True)
    bonus = OfferFactory(program=program, kind=Offer.Kind.BONUS, title="150 bonus points", points=150, category="")
    triple = OfferFactory(
        program=program, kind=Offer.Kind.MULTIPLIER, title="Triple points", multiplier=Decimal("3"), category=""
    )
    for offer in (bonus, triple):
        with on_commit():
            services.campaign_launch(campaign=CampaignFactory(program=program, offer=offer))
    assert OfferGrant.objects.filter(member=member).count() == 2
    return member


def _buy(api, member, on_commit, external_id="ORD-1"):
    with on_commit():
        response = api.post(
            "/api/v1/transactions",
            {"member": member.number, "external_id": external_id, "amount": "100.00", "currency": "EUR"},
            format="json",
        )
    assert response.status_code == 201, response.content
    return response.json()


def _balance(member) -> int:
    return Member.objects.get(pk=member.pk).points_available


def test_a_full_refund_takes_back_the_offer_bonus_and_multiplier_points(api, offered, on_commit, client):
    purchase = _buy(api, offered, on_commit)
    assert _balance(offered) == 100 + 150 + 200

    with on_commit():
        refund = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {}, format="json")
    assert refund.status_code == 200, refund.content
    assert (refund.json()["points_reversed"], refund.json()["debt"]) == (450, 0)
    assert refund.json()["balance"]["available"] == 0
    assert _balance(offered) == 0
    taken = LedgerEntry.objects.filter(member=offered, kind=LedgerEntry.Kind.REVERSE).order_by("pk")
    assert [(e.points, e.reason) for e in taken] == [
        (-100, "Refund"),
        (-150, "Campaign offer: 150 bonus points"),
        (-200, "Campaign offer: Triple points"),
    ]
    # The partner's ledger shows the offer points its purchase set off and their reversal: net zero.
    ledger = api.get(f"/api/v1/members/{offered.number}/transactions").json()
    assert ledger["totals"] == {"count": 6, "points_in": 450, "points_out": -450, "net": 0}
    # The one-time bonus is the member's again (still valid), for a purchase they keep.
    bonus = OfferGrant.objects.get(member=offered, offer__kind=Offer.Kind.BONUS)
    assert (bonus.status, bonus.points) == (OfferGrant.Status.ISSUED, 0)
    # The member's history names what each refund line took back.
    client.force_login(offered.user)
    rows = client.get("/history/").content.decode().split("<tr>")[2:]
    refunds = [row for row in rows if "Purchase refunded" in row]
    assert len(refunds) == 3
    assert sum("Campaign offer: 150 bonus points" in row and "-150" in row for row in refunds) == 1
    assert sum("Campaign offer: Triple points" in row and "-200" in row for row in refunds) == 1


def test_a_partial_refund_takes_back_a_share_of_each_and_spent_points_become_debt(api, offered, on_commit):
    purchase = _buy(api, offered, on_commit)
    member_services.points_spend(member=offered, points=400, reason="A big reward")
    assert _balance(offered) == 50

    half = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "50.00"}, format="json").json()
    # Half of 100, of 150 and of 200; only 50 were left, the rest is owed.
    assert (half["points_reversed"], half["debt"]) == (225, 175)
    member = Member.objects.get(pk=offered.pk)
    assert (member.points_available, member.points_debt) == (0, 175)

    rest = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {}, format="json").json()
    assert (rest["points_reversed"], rest["debt"]) == (225, 225)
    member = Member.objects.get(pk=offered.pk)
    assert (member.points_available, member.points_debt) == (0, 400)
    # Each source was taken back exactly once in total, no more.
    taken = LedgerEntry.objects.filter(member=offered, kind=LedgerEntry.Kind.REVERSE)
    assert sum(-e.points + sum(d.get("debt", 0) for d in e.breakdown) for e in taken) == 450
