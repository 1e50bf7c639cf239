"""Rewards, redemptions, vouchers and checkout burn through the API."""

from decimal import Decimal

import pytest

from members import services as members_services
from members.models import Program
from rewards import services as rewards_services
from rewards.models import BurnHold, Redemption, Voucher
from tests.conftest import PartnerFactory, ProgramFactory, client_for
from tests.rewards.conftest import RewardFactory


@pytest.fixture
def rich_member(member):
    members_services.points_grant(member=member, points=1500, reason="test")
    return member


@pytest.fixture
def reward(program):
    return RewardFactory(program=program, points_cost=1000, value=Decimal("10.00"), min_order_value=Decimal("30"))


def _redeem(api, member, reward):
    return api.post("/api/v1/redemptions", {"member": member.number, "reward": reward.pk}, format="json")


def test_rewards_list_says_what_the_member_can_redeem_and_why_not(api, rich_member, program, reward):
    RewardFactory(program=program, points_cost=5000, title="Workshop")
    RewardFactory(program=ProgramFactory(), title="Elsewhere")
    response = api.get(f"/api/v1/rewards?member={rich_member.number}")
    assert response.status_code == 200
    offers = {o["title"]: o for o in response.json()["results"]}
    assert set(offers) == {reward.title, "Workshop"}
    assert offers[reward.title]["can_redeem"] is True
    assert offers["Workshop"]["reason"] == "insufficient_points"
    assert offers["Workshop"]["points_missing"] == 3500


def test_rewards_list_needs_a_member_of_the_program(api, foreign_member):
    assert api.get("/api/v1/rewards").status_code == 400
    assert api.get(f"/api/v1/rewards?member={foreign_member.number}").status_code == 404


def test_redeem_spends_points_and_returns_a_voucher(api, rich_member, reward):
    response = _redeem(api, rich_member, reward)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["points"] == 1000
    assert body["balance"]["available"] == 500
    assert body["voucher"]["status"] == "issued"
    assert Voucher.objects.get(redemption_id=body["id"]).code == body["voucher"]["code"].replace("-", "")


def test_redeem_without_enough_points_is_a_conflict(api, member, reward):
    response = _redeem(api, member, reward)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    assert not Redemption.objects.exists()


def test_a_reward_of_another_program_looks_missing(api, rich_member):
    foreign_reward = RewardFactory(program=ProgramFactory(), points_cost=1)
    response = _redeem(api, rich_member, foreign_reward)
    assert response.status_code == 404


def test_cancel_returns_the_points(api, rich_member, reward):
    redemption = _redeem(api, rich_member, reward).json()
    response = api.post(f"/api/v1/redemptions/{redemption['id']}/cancel", {"reason": "changed mind"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["balance"]["available"] == 1500
    again = api.post(f"/api/v1/redemptions/{redemption['id']}/cancel", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_cancelled"


def test_another_partners_redemption_cannot_be_cancelled(api, other_api, rich_member, reward):
    redemption = _redeem(other_api, rich_member, reward).json()
    response = api.post(f"/api/v1/redemptions/{redemption['id']}/cancel", {}, format="json")
    assert response.status_code == 404
    assert Redemption.objects.get(pk=redemption["id"]).status == "completed"


def test_validate_then_consume_a_voucher(api, other_api, rich_member, reward):
    code = _redeem(api, rich_member, reward).json()["voucher"]["code"]
    valid = other_api.get(f"/api/v1/vouchers/{code.lower()}?order_total=50")
    assert valid.status_code == 200
    assert valid.json()["min_order_value"] == "30.00"
    below = other_api.get(f"/api/v1/vouchers/{code}?order_total=10")
    assert below.status_code == 400
    assert below.json()["error"]["code"] == "order_below_minimum"

    consume = other_api.post(
        f"/api/v1/vouchers/{code}/consume", {"order_reference": "ORD-9", "order_total": "50.00"}, format="json"
    )
    assert consume.status_code == 200, consume.content
    assert consume.json()["status"] == "consumed"
    retry = other_api.post(
        f"/api/v1/vouchers/{code}/consume", {"order_reference": "ORD-9", "order_total": "50.00"}, format="json"
    )
    assert retry.status_code == 200
    used = api.get(f"/api/v1/vouchers/{code}")
    assert used.status_code == 409
    assert used.json()["error"]["code"] == "voucher_consumed"


def test_voucher_codes_of_another_program_look_missing(rich_member, reward):
    api = client_for(PartnerFactory(program=rich_member.program))
    code = _redeem(api, rich_member, reward).json()["voucher"]["code"]
    foreign = client_for(PartnerFactory(program=ProgramFactory()))
    assert foreign.get(f"/api/v1/vouchers/{code}").status_code == 404
    response = foreign.post(
        f"/api/v1/vouchers/{code}/consume", {"order_reference": "X", "order_total": "99.00"}, format="json"
    )
    assert response.status_code == 404
    assert Voucher.objects.get().status == "issued"


@pytest.fixture
def burn_program(program):
    Program.objects.filter(pk=program.pk).update(burn_rate=Decimal("0.01"), burn_min_order=Decimal("20"))
    return Program.objects.get(pk=program.pk)


def test_burn_quote_then_confirm(api, burn_program, rich_member):
    quote = api.post(
        "/api/v1/burn/quote", {"member": rich_member.number, "order_total": "64.90", "points": 500}, format="json"
    )
    assert quote.status_code == 201, quote.content
    hold = quote.json()
    assert (hold["points"], hold["amount"], hold["status"]) == (500, "5.00", "held")
    assert hold["balance"]["available"] == 1000
    confirm = api.post(f"/api/v1/burn/{hold['id']}/confirm", {"order_reference": "ORD-1"}, format="json")
    assert confirm.status_code == 200
    assert confirm.json()["status"] == "confirmed"
    assert BurnHold.objects.get().order_reference == "ORD-1"


def test_burn_cancel_gives_the_points_back(api, burn_program, rich_member):
    hold = api.post("/api/v1/burn/quote", {"member": rich_member.number, "order_total": "64.90"}, format="json").json()
    assert hold["points"] == 1500
    response = api.post(f"/api/v1/burn/{hold['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["balance"]["available"] == 1500


def test_burn_below_the_minimum_order_is_refused(api, burn_program, rich_member):
    response = api.post("/api/v1/burn/quote", {"member": rich_member.number, "order_total": "10.00"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "order_below_minimum"


def test_another_partners_hold_cannot_be_confirmed(api, other_api, burn_program, rich_member):
    hold = api.post("/api/v1/burn/quote", {"member": rich_member.number, "order_total": "64.90"}, format="json").json()
    assert other_api.post(f"/api/v1/burn/{hold['id']}/confirm", {}, format="json").status_code == 404
    assert other_api.post(f"/api/v1/burn/{hold['id']}/cancel").status_code == 404
    assert BurnHold.objects.get().status == "held"


# --- read back (issue 19) ---------------------------------------------------------------------------


def test_a_redemption_reads_back_with_its_vouchers_status(api, other_api, rich_member, reward):
    redeemed = _redeem(api, rich_member, reward).json()
    assert api.get(f"/api/v1/redemptions/{redeemed['id']}").json() == redeemed
    code = redeemed["voucher"]["code"]
    api.post(f"/api/v1/vouchers/{code}/consume", {"order_reference": "ORD-9", "order_total": "50.00"}, format="json")
    read = api.get(f"/api/v1/redemptions/{redeemed['id']}").json()
    assert read["voucher"]["status"] == "consumed" and read["voucher"]["order_reference"] == "ORD-9"

    theirs, unknown = (
        other_api.get(f"/api/v1/redemptions/{redeemed['id']}"),
        other_api.get("/api/v1/redemptions/999999"),
    )
    assert theirs.status_code == unknown.status_code == 404 and theirs.json() == unknown.json()


def test_a_members_vouchers_are_those_the_partner_may_see(api, other_api, rich_member, program, reward):
    members_services.points_grant(member=rich_member, points=3000, reason="test")
    mine = _redeem(api, rich_member, reward).json()["voucher"]["code"]
    theirs = _redeem(other_api, rich_member, reward).json()["voucher"]["code"]
    program_code = rewards_services.reward_redeem(member=rich_member, reward=reward).voucher.code  # member pages
    listed = api.get(f"/api/v1/members/{rich_member.number}/vouchers").json()["results"]
    # Newest first; never another partner's code.
    assert [v["code"].replace("-", "") for v in listed] == [program_code, mine.replace("-", "")]
    assert theirs not in [v["code"] for v in listed]
    program_code = listed[0]["code"]

    # A program voucher used at another partner's till disappears from this partner's list.
    other_api.post(
        f"/api/v1/vouchers/{program_code}/consume", {"order_reference": "T", "order_total": "50.00"}, format="json"
    )
    assert [v["code"] for v in api.get(f"/api/v1/members/{rich_member.number}/vouchers").json()["results"]] == [mine]
    issued = api.get(f"/api/v1/members/{rich_member.number}/vouchers", {"status": "consumed"}).json()["results"]
    assert issued == []


def test_rewards_list_pages_with_a_cursor(api, rich_member, program):
    for n in range(3):
        RewardFactory(program=program, title=f"R{n}")
    page = api.get("/api/v1/rewards", {"member": rich_member.number, "page_size": 2}).json()
    assert [o["title"] for o in page["results"]] == ["R2", "R1"]
    rest = api.get(page["next"]).json()
    assert [o["title"] for o in rest["results"]] == ["R0"] and rest["next"] is None


def test_a_burn_hold_reads_back_and_another_partners_is_missing(api, other_api, burn_program, rich_member):
    held = api.post(
        "/api/v1/burn/quote", {"member": rich_member.number, "order_total": "64.90", "points": 500}, format="json"
    ).json()
    assert api.get(f"/api/v1/burn/{held['id']}").json() == held
    api.post(f"/api/v1/burn/{held['id']}/confirm", {}, format="json")
    assert api.get(f"/api/v1/burn/{held['id']}").json()["status"] == "confirmed"
    theirs, unknown = other_api.get(f"/api/v1/burn/{held['id']}"), other_api.get("/api/v1/burn/nothing-here")
    assert theirs.status_code == unknown.status_code == 404 and theirs.json() == unknown.json()
