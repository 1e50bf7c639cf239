"""Self-referral at enrolment: same phone, same mailbox after normalisation, or the referrer's own
browser (device cookie) hold the referral for review: no referral points until staff approve."""

import pytest
from django.test import Client
from django.urls import reverse

from members import auth, checks, review, services
from members.models import LedgerEntry, Member, MemberDevice, ReviewCase
from tests.conftest import MemberFactory

from .conftest import assert_ledger_consistent, buy

pytestmark = pytest.mark.django_db


def _referral_points(*members) -> int:
    return sum(
        LedgerEntry.objects.filter(member__in=members, kind=LedgerEntry.Kind.REFERRAL).values_list("points", flat=True)
    )


def test_same_phone_holds_the_referral(program):
    ana = MemberFactory(program=program, phone="+40 721 000 111")
    alias = MemberFactory(program=program, phone="0721000111", referral_code=ana.referral_code)
    assert alias.referral_held and alias.referred_by == ana
    case = ReviewCase.objects.get(member=alias)
    assert (case.kind, case.status, case.details["signals"]) == ("self_referral", "open", ["phone"])
    assert case.points == 100 + 150  # what the referral would pay
    buy(alias, 50)
    assert _referral_points(ana, alias) == 0  # held: not credited
    assert Member.objects.get(pk=alias.pk).referral_rewarded_at is None


@pytest.mark.parametrize(
    ("referrer_email", "referee_email"),
    [
        ("ana.popescu@gmail.com", "anapopescu@gmail.com"),
        ("ana.popescu@gmail.com", "AnaPopescu+promo@googlemail.com"),
        ("ana@example.com", "ana+second@example.com"),
    ],
)
def test_same_mailbox_after_normalisation_holds_the_referral(program, referrer_email, referee_email):
    ana = MemberFactory(program=program, email=referrer_email)
    alias = MemberFactory(program=program, email=referee_email, referral_code=ana.referral_code)
    assert ReviewCase.objects.get(member=alias).details["signals"] == ["email"]


def test_different_people_are_not_held(program):
    ana = MemberFactory(program=program, email="ana.pop@example.com", phone="+40721000111")
    # Dots matter outside gmail; another phone number.
    friend = MemberFactory(
        program=program, email="anapop@example.com", phone="+40722999888", referral_code=ana.referral_code
    )
    assert not friend.referral_held and not ReviewCase.objects.exists()
    buy(friend, 50)
    assert _referral_points(ana, friend) == 250


def test_email_keys():
    assert checks.email_key(" A.B.C+x@GoogleMail.com ") == "abc@gmail.com"
    assert checks.email_key("a.b+x@outlook.com") == "a.b@outlook.com"


def test_one_phone_however_it_is_typed_holds_the_referral(program):
    ana = MemberFactory(program=program, phone="+40 (721) 000-111")
    alias = MemberFactory(program=program, phone="0040 721 000 111", referral_code=ana.referral_code)
    assert (ana.phone, alias.phone) == ("+40721000111", "+40721000111")
    assert ReviewCase.objects.get(member=alias).details["signals"] == ["phone"]


def test_the_same_local_digits_in_two_countries_are_two_phones(program):
    """The last nine digits used to be compared: a Romanian and an Italian number collided."""
    ana = MemberFactory(program=program, phone="+40 721 000 111")
    stranger = MemberFactory(program=program, phone="+39 0721 000111", referral_code=ana.referral_code)
    assert stranger.phone == "+390721000111"
    assert not stranger.referral_held and not ReviewCase.objects.exists()


def test_approving_before_the_first_purchase_lets_the_referral_pay_as_usual(program, admin_user):
    ana = MemberFactory(program=program, phone="0721000111")
    alias = MemberFactory(program=program, phone="0721000111", referral_code=ana.referral_code)
    review.review_approve(case=ReviewCase.objects.get(member=alias), decided_by=admin_user, note="Twins, checked")
    assert _referral_points(ana, alias) == 0  # not qualified yet
    buy(alias, 50)
    assert _referral_points(ana) == 150 and _referral_points(alias) == 100


def test_approving_after_a_qualifying_purchase_pays_at_once(program, admin_user):
    ana = MemberFactory(program=program, phone="0721000111")
    alias = MemberFactory(program=program, phone="0721000111", referral_code=ana.referral_code)
    buy(alias, 50)
    review.review_approve(case=ReviewCase.objects.get(member=alias), decided_by=admin_user, note="ok")
    assert _referral_points(ana) == 150 and _referral_points(alias) == 100
    assert assert_ledger_consistent(ana).points_available == 150
    buy(alias, 50)  # only once
    assert _referral_points(ana, alias) == 250


def test_a_rejected_referral_never_pays(program, admin_user):
    ana = MemberFactory(program=program, phone="0721000111")
    alias = MemberFactory(program=program, phone="0721000111", referral_code=ana.referral_code)
    review.review_reject(case=ReviewCase.objects.get(member=alias), decided_by=admin_user, note="Same person")
    buy(alias, 50)
    buy(alias, 80)
    assert _referral_points(ana, alias) == 0


# --- device cookie on the member pages -----------------------------------------------------------


def _signup(client, program, email, referral_code=""):
    url = reverse("members:signup_program", args=[program.slug])
    client.get(url)  # the page sets the device cookie
    response = client.post(
        url, {"first_name": "Ana", "email": email, "referral_code": referral_code, "accept_terms": "on"}
    )
    assert response.status_code == 302, response.content
    return Member.objects.get(program=program, email=email)


def test_a_referral_signed_up_from_the_referrers_browser_is_held(client, program):
    ana = _signup(client, program, "ana@example.com")
    cookie = client.cookies[checks.DEVICE_COOKIE]
    assert cookie["httponly"] and int(cookie["max-age"]) >= 365 * 86400
    # Only a keyed hash of the cookie is stored with the member.
    device = MemberDevice.objects.get(member=ana)
    assert device.device_hash == checks.device_hash(cookie.value) and cookie.value not in device.device_hash
    client.post(reverse("members:signout"))

    second = _signup(client, program, "totally.different@example.com", referral_code=ana.referral_code)
    assert second.referral_held
    assert ReviewCase.objects.get(member=second).details["signals"] == ["device"]
    buy(second, 50)
    assert _referral_points(ana, second) == 0


def test_a_referral_from_another_browser_is_not_held(client, program):
    ana = _signup(client, program, "ana@example.com")
    friend = _signup(Client(), program, "friend@example.com", referral_code=ana.referral_code)
    assert not friend.referral_held and not ReviewCase.objects.exists()


def test_every_sign_in_puts_the_browser_on_record(client, program):
    """Members enrolled elsewhere (API, admin) get their browsers on record when they sign in."""
    ana = services.member_enroll(program=program, email="ana@example.com")
    auth.member_password_set(member=ana, password="a long enough secret 42")
    client.get(reverse("members:signin"))
    for _ in range(2):
        response = client.post(reverse("members:signin"), {"email": ana.email, "password": "a long enough secret 42"})
        assert response.status_code == 302
    cookie = client.cookies[checks.DEVICE_COOKIE].value
    assert list(MemberDevice.objects.filter(member=ana).values_list("device_hash", flat=True)) == [
        checks.device_hash(cookie)
    ]
    browsing = Client()
    browsing.force_login(ana.user)
    assert browsing.get(reverse("members:history")).cookies[checks.DEVICE_COOKIE]["httponly"]  # set, not recorded
    assert MemberDevice.objects.filter(member=ana).count() == 1


def test_erasure_forgets_the_devices(client, program):
    ana = _signup(client, program, "ana@example.com")
    services.member_anonymize(member=ana)
    assert not MemberDevice.objects.filter(member=ana).exists()
