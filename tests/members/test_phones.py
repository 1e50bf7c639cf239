"""Phone numbers are stored in E.164, read in the program's default region, and refused with a clear
error wherever they come in: the services, sign-up and profile pages, the partner API, the admin and
the CSV import. A refused phone never changes what is stored."""

import pytest
from django.urls import reverse

from core.csvfiles import ImportMode, ImportRejected
from core.errors import DomainError
from members import services
from members.models import Member
from members.resources import members_import
from tests.conftest import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ro_program(db):
    return ProgramFactory(default_region="RO", is_default=True)


# --- services ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+40 721 000 111", "0040 (721) 000-111", "0721 000 111", "0721.000.111"])
def test_enrol_stores_one_spelling_however_the_phone_is_typed(ro_program, typed):
    assert MemberFactory(program=ro_program, phone=typed).phone == "+40721000111"


def test_without_a_region_only_international_numbers_are_accepted(program):
    assert program.default_region == ""
    assert MemberFactory(program=program, phone="+39 06 1234 5678").phone == "+390612345678"
    with pytest.raises(DomainError) as refused:
        MemberFactory(program=program, phone="0721 000 111")
    assert refused.value.code == "invalid_phone" and "country code" in refused.value.fields["phone"][0]


@pytest.mark.parametrize("bad", ["12", "+40 12", "not a phone", "+999 123 456 789", "0721 000 111 222 333 444"])
def test_an_invalid_phone_is_refused_and_nothing_changes(ro_program, bad):
    before = Member.objects.count()
    with pytest.raises(DomainError) as refused:
        MemberFactory(program=ro_program, phone=bad)
    assert refused.value.code == "invalid_phone"
    assert Member.objects.count() == before
    member = MemberFactory(program=ro_program, phone="0721000111")
    with pytest.raises(DomainError):
        services.member_update(member=member, phone=bad)
    member.refresh_from_db()
    assert member.phone == "+40721000111"


def test_a_free_text_phone_cannot_be_stored_past_the_services(ro_program):
    from django.db import IntegrityError, transaction

    member = MemberFactory(program=ro_program)
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(phone="0721 000 111")


# --- member pages --------------------------------------------------------------------------------


def _signup_data(**extra) -> dict:
    return {"first_name": "Ana", "email": "ana@example.com", "accept_terms": "on", **extra}


def test_sign_up_takes_a_phone_and_stores_it_normalised(client, ro_program):
    response = client.post(reverse("members:signup"), _signup_data(phone="0721 000 111", consent_sms="on"))
    assert response.status_code == 302
    assert Member.objects.get(email="ana@example.com").phone == "+40721000111"


def test_sign_up_with_an_invalid_phone_shows_the_error_and_enrols_nobody(client, ro_program):
    response = client.post(reverse("members:signup"), _signup_data(phone="12345"))
    assert response.status_code == 200
    assert "This is not a valid phone number." in response.content.decode()
    assert response.context["form"].errors["phone"]
    assert not Member.objects.filter(email="ana@example.com").exists()


def test_profile_with_an_invalid_phone_shows_the_error_and_keeps_the_old_one(client, ro_program):
    client.post(reverse("members:signup"), _signup_data(phone="+40721000111"))
    profile = {"first_name": "Ana", "email": "ana@example.com", "language": "en"}
    refused = client.post(reverse("members:profile"), {**profile, "phone": "+40 12"})
    assert refused.status_code == 400
    assert refused.context["profile_form"].errors["phone"] == [
        "This is not a valid phone number. Enter it with + and the country code, e.g. +40 721 000 111."
    ]
    assert Member.objects.get(email="ana@example.com").phone == "+40721000111"
    assert client.post(reverse("members:profile"), {**profile, "phone": "0722 999 888"}).status_code == 302
    assert Member.objects.get(email="ana@example.com").phone == "+40722999888"


# --- partner API ---------------------------------------------------------------------------------


@pytest.fixture
def ro_api(ro_program):
    from tests.conftest import PartnerFactory, client_for

    return client_for(PartnerFactory(program=ro_program))


def test_api_enrol_normalises_and_refuses_an_invalid_phone_with_400(ro_api):
    good = ro_api.post("/api/v1/members", {"email": "a@example.com", "phone": "0721 000 111"}, format="json")
    assert good.status_code == 201, good.content
    assert good.json()["phone"] == "+40721000111"
    bad = ro_api.post("/api/v1/members", {"email": "b@example.com", "phone": "0721 000"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_phone"
    assert "phone" in bad.json()["error"]["fields"]
    assert not Member.objects.filter(email="b@example.com").exists()


def test_api_patch_refuses_an_invalid_phone_and_keeps_the_old_one(ro_api, ro_program):
    member = MemberFactory(program=ro_program, phone="+40721000111")
    bad = ro_api.patch(f"/api/v1/members/{member.number}", {"phone": "+1 555"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_phone"
    member.refresh_from_db()
    assert member.phone == "+40721000111"


def test_api_lookup_finds_the_member_however_the_phone_is_typed(ro_api, ro_program):
    member = MemberFactory(program=ro_program, phone="+40721000111")
    for typed in ("0721000111", "%2B40 721 000 111", "0040721000111"):
        found = ro_api.get(f"/api/v1/members?phone={typed}")
        assert found.status_code == 200
        assert [m["number"] for m in found.json()["results"]] == [member.number], typed
    assert ro_api.get("/api/v1/members?phone=12").json()["count"] == 0


# --- admin and CSV import ------------------------------------------------------------------------


def test_admin_member_form_normalises_and_refuses_an_invalid_phone(admin_client, ro_program):
    from tests.backoffice.test_audit import inline_management

    member = MemberFactory(program=ro_program, phone="+40721000111")
    url = reverse("admin:members_member_change", args=[member.pk])
    data = {
        "program": ro_program.pk,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "language": "en",
        "phone": "+40 12",
        **inline_management(),
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert "Not a valid phone number." in refused.content.decode()
    member.refresh_from_db()
    assert member.phone == "+40721000111"
    assert admin_client.post(url, {**data, "phone": "0722 999 888"}).status_code == 302
    member.refresh_from_db()
    assert member.phone == "+40722999888"


def test_admin_sets_a_programs_phone_region_and_refuses_an_unknown_one(admin_client, program):
    from tests.backoffice.test_roles import program_post

    url = reverse("admin:members_program_change", args=[program.pk])
    refused = admin_client.post(url, program_post(program, default_region="XX"))
    assert refused.status_code == 200 and refused.context["adminform"].form.errors["default_region"]
    assert admin_client.post(url, program_post(program, default_region="IT")).status_code == 302
    program.refresh_from_db()
    assert program.default_region == "IT"


def test_csv_import_normalises_phones_and_reports_an_invalid_one_by_line(ro_program):
    csv_text = (
        "program,email,first_name,phone\n"
        f"{ro_program.slug},good@example.com,Ana,0721 000 111\n"
        f"{ro_program.slug},bad@example.com,Ion,0721 000\n"
    )
    with pytest.raises(ImportRejected) as refused:
        members_import(data=csv_text)
    assert [str(e) for e in refused.value.errors] == [
        "Line 3: phone: This is not a valid phone number. Enter a valid RO number, or any number with + and its "
        "country code."
    ]
    assert not Member.objects.exists()
    report = members_import(data=csv_text, mode=ImportMode.VALID_ONLY)
    assert (report.added, report.skipped_lines) == (1, [3])
    assert Member.objects.get(email="good@example.com").phone == "+40721000111"
