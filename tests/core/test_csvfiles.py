"""The three CSV imports (members, voucher codes, static segment lists) report each bad line by its
line number, and either import nothing (the default) or only the valid lines, as the operator chooses."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.models import Segment, SegmentMember
from core import csvfiles
from core.csvfiles import ImportMode, ImportRejected
from members.models import Member
from members.resources import MemberResource, members_import
from rewards import services as reward_services
from rewards.models import Voucher
from tests.campaigns.conftest import SegmentFactory
from tests.conftest import MemberFactory
from tests.rewards.conftest import RewardFactory


def _upload(content: bytes | str, name: str = "file.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content, content_type="text/csv")


# --- members ------------------------------------------------------------------------------------


def _members_csv(program) -> str:
    return (
        "program,email,first_name,language\n"
        f"{program.slug},good@example.com,Ana,ro\n"
        f"{program.slug},not-an-email,Ion,en\n"
        f"{program.slug},fine@example.com,Eva,en\n"
        f"{program.slug},bad-lang@example.com,Eva,xx\n"
    )


def test_members_all_or_nothing_reports_lines_and_writes_nothing(program):
    before = Member.objects.count()
    with pytest.raises(ImportRejected) as refused:
        members_import(data=_members_csv(program))
    assert [e.line for e in refused.value.errors] == [3, 5]
    assert "email" in str(refused.value.errors[0]) and str(refused.value.errors[0]).startswith("Line 3:")
    assert Member.objects.count() == before


def test_members_valid_only_imports_the_good_lines_and_lists_the_skipped(program):
    before = Member.objects.count()
    report = members_import(data=_members_csv(program), mode=ImportMode.VALID_ONLY)
    assert (report.added, report.skipped_lines) == (2, [3, 5])
    assert Member.objects.count() == before + 2
    assert set(
        Member.objects.filter(email__in=["good@example.com", "fine@example.com"]).values_list("first_name", flat=True)
    ) == {"Ana", "Eva"}


def test_members_admin_all_or_nothing_offers_no_confirmation(admin_client, program):
    before = Member.objects.count()
    response = admin_client.post(
        reverse("admin:members_member_import"),
        {"format": "0", "import_file": _upload(_members_csv(program)), "mode": "all"},
    )
    assert response.status_code == 200
    assert sorted(r.number for r in response.context["result"].invalid_rows) == [3, 5]
    assert "confirm_form" not in response.context
    assert Member.objects.count() == before


def test_members_admin_valid_only_confirms_the_good_lines_and_names_the_skipped(admin_client, program):
    before = Member.objects.count()
    preview = admin_client.post(
        reverse("admin:members_member_import"),
        {"format": "0", "import_file": _upload(_members_csv(program)), "mode": "valid"},
    )
    assert Member.objects.count() == before  # the preview writes nothing
    confirm = preview.context["confirm_form"]
    assert confirm.initial["mode"] == "valid"
    response = admin_client.post(reverse("admin:members_member_process_import"), confirm.initial, follow=True)
    assert response.status_code == 200
    assert Member.objects.count() == before + 2
    page = response.content.decode()
    assert "Skipped 2 bad lines: Line 3:" in page and "Line 5: language" in page


def test_members_admin_confirm_rolls_back_a_line_gone_bad_since_the_preview(admin_client, program):
    referrer = MemberFactory(program=program)
    csv_text = (
        "program,email,first_name,referred_by\n"
        f"{program.slug},a@example.com,Ana,\n"
        f"{program.slug},b@example.com,Bob,{referrer.referral_code}\n"
    )
    preview = admin_client.post(
        reverse("admin:members_member_import"), {"format": "0", "import_file": _upload(csv_text)}
    )
    confirm = preview.context["confirm_form"]
    # Between preview and confirmation the referral code of line 3 stops existing.
    Member.objects.filter(pk=referrer.pk).update(referral_code="GONE0000")
    before = Member.objects.count()
    response = admin_client.post(reverse("admin:members_member_process_import"), confirm.initial, follow=True)
    assert response.status_code == 200
    assert Member.objects.count() == before
    page = response.content.decode()
    assert "nothing was imported" in page and "Line 3: referred_by:" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("program,email\nx,caf\xe9@example.com\n".encode("latin-1"), "not UTF-8 text (line 2)"),
        (b"", "The submitted file is empty."),
        (b"  \n\n", "The file is empty."),
        (b"program,email\n\x00\x01\x02", "binary data (line 2)"),
    ],
)
def test_members_admin_refuses_unreadable_files_with_a_reason(admin_client, program, content, message):
    before = Member.objects.count()
    response = admin_client.post(
        reverse("admin:members_member_import"), {"format": "0", "import_file": _upload(content)}
    )
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["import_file"])
    assert Member.objects.count() == before


def test_members_admin_refuses_a_file_without_the_key_columns(admin_client, program):
    response = admin_client.post(
        reverse("admin:members_member_import"),
        {"format": "0", "import_file": _upload("first_name,last_name\nAna,Pop\n")},
    )
    assert response.status_code == 200
    assert "email" in response.content.decode() and "confirm_form" not in response.context


def test_every_import_refuses_a_huge_file(admin_client, program, monkeypatch):
    monkeypatch.setattr(csvfiles, "IMPORT_MAX_BYTES", 1000)
    big = "code\n" + "ABCD1234\n" * 200
    reward = RewardFactory(program=program)
    static = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    pages = [
        (reverse("admin:members_member_import"), {"format": "0", "import_file": _upload(big)}, "import_file"),
        (reverse("admin:rewards_import", args=[reward.pk]), {"file": _upload(big)}, "file"),
        (reverse("admin:campaigns_segment_import", args=[static.pk]), {"file": _upload(big)}, "file"),
    ]
    for url, data, field in pages:
        response = admin_client.post(url, data)
        assert response.status_code == 200
        assert "too large" in str(response.context["form"].errors[field])
    assert not reward.vouchers.exists() and not static.entries.exists()


def test_member_export_disarms_formulas_and_the_file_imports_back_unchanged(admin_client, program):
    MemberFactory(program=program, email="ana@example.com", first_name="=HYPERLINK(1)", last_name="@SUM(A1)")
    columns = MemberResource().get_export_headers()
    response = admin_client.post(
        reverse("admin:members_member_export"), {"format": "0", **{f"memberresource_{c}": "on" for c in columns}}
    )
    body = response.content.decode()
    assert ",'=HYPERLINK(1),'@SUM(A1)," in body
    report = members_import(data=body)
    assert report.skipped == [] and report.added == 0
    member = Member.objects.get(email="ana@example.com")
    assert (member.first_name, member.last_name) == ("=HYPERLINK(1)", "@SUM(A1)")


# --- voucher codes ------------------------------------------------------------------------------

CODES = "code\nGOOD-0001\nbad!code\nGOOD-0002\n\nAB\nGOOD-0003\n"


def test_codes_all_or_nothing_reports_lines_and_writes_nothing(program):
    reward = RewardFactory(program=program)
    before = Voucher.objects.count()
    with pytest.raises(ImportRejected) as refused:
        reward_services.voucher_codes_import(reward=reward, data=CODES)
    assert [e.line for e in refused.value.errors] == [3, 6]
    assert "'bad!code' is not a code" in str(refused.value.errors[0])
    assert Voucher.objects.count() == before


def test_codes_valid_only_imports_the_good_lines(program):
    reward = RewardFactory(program=program)
    report = reward_services.voucher_codes_import(reward=reward, data=CODES, mode=ImportMode.VALID_ONLY)
    assert (report.added, report.skipped_lines) == (3, [3, 6])
    assert set(reward.vouchers.values_list("code", flat=True)) == {"GOOD0001", "GOOD0002", "GOOD0003"}


def test_codes_admin_both_modes(admin_client, program):
    reward = RewardFactory(program=program)
    url = reverse("admin:rewards_import", args=[reward.pk])
    refused = admin_client.post(url, {"file": _upload(CODES), "mode": "all"})
    assert refused.status_code == 200
    errors = str(refused.context["form"].errors)
    assert "2 bad lines: nothing was imported" in errors and "Line 3:" in errors and "Line 6:" in errors
    assert not reward.vouchers.exists()

    done = admin_client.post(url, {"file": _upload(CODES), "mode": "valid"}, follow=True)
    page = done.content.decode()
    assert "3 codes added, 0 already known, 2 bad lines skipped." in page
    assert "Skipped 2 bad lines: Line 3:" in page and "Line 6:" in page
    assert reward.vouchers.count() == 3


def test_codes_admin_refuses_a_file_in_another_encoding(admin_client, program):
    reward = RewardFactory(program=program)
    url = reverse("admin:rewards_import", args=[reward.pk])
    response = admin_client.post(url, {"file": _upload("code\nGOOD0001\nCAFÉ0001\n".encode("cp1252"))})
    assert "not UTF-8 text (line 3)" in str(response.context["form"].errors["file"])
    assert not reward.vouchers.exists()


def test_codes_a_line_beyond_reading_refuses_the_file_with_its_number(program):
    reward = RewardFactory(program=program)
    data = "GOOD0001\n" + "A" * 200_000 + "\nGOOD0002\n"  # one field past the csv module's limit
    with pytest.raises(ImportRejected) as refused:
        reward_services.voucher_codes_import(reward=reward, data=data, mode=ImportMode.VALID_ONLY)
    assert refused.value.errors[0].line == 2 and "not valid CSV" in refused.value.errors[0].message
    assert not reward.vouchers.exists()


# --- static segment lists -----------------------------------------------------------------------


def _segment_csv(ana, bob) -> str:
    return f"number,note\n{ana.number},a\nNOPE,b\n,c\n{bob.email},d\n"


def test_segment_all_or_nothing_reports_lines_and_writes_nothing(program):
    ana, bob = MemberFactory(program=program), MemberFactory(program=program)
    static = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    before = SegmentMember.objects.count()
    with pytest.raises(ImportRejected) as refused:
        campaign_services.segment_import_csv(segment=static, data=_segment_csv(ana, bob))
    assert [e.line for e in refused.value.errors] == [3, 4]
    assert "'NOPE' is no active member" in str(refused.value.errors[0])
    assert "empty" in str(refused.value.errors[1])
    assert SegmentMember.objects.count() == before


def test_segment_valid_only_imports_the_good_lines(program):
    ana, bob = MemberFactory(program=program), MemberFactory(program=program)
    static = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    report = campaign_services.segment_import_csv(segment=static, data=_segment_csv(ana, bob), mode="valid")
    assert (report.added, report.skipped_lines) == (2, [3, 4])
    assert set(static.entries.values_list("member_id", flat=True)) == {ana.pk, bob.pk}


def test_segment_needs_a_known_column_when_there_are_several(program):
    static = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    with pytest.raises(ImportRejected) as refused:
        campaign_services.segment_import_csv(segment=static, data="who,note\n402519876543,x\n", mode="valid")
    assert refused.value.errors[0].line == 1 and "'number' or an 'email' column" in refused.value.errors[0].message


def test_segment_admin_both_modes(admin_client, program):
    ana, bob = MemberFactory(program=program), MemberFactory(program=program)
    static = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    url = reverse("admin:campaigns_segment_import", args=[static.pk])
    refused = admin_client.post(url, {"file": _upload(_segment_csv(ana, bob))})
    errors = str(refused.context["form"].errors)
    assert "nothing was imported" in errors and "Line 3:" in errors and "Line 4:" in errors
    assert not static.entries.exists()

    done = admin_client.post(url, {"file": _upload(_segment_csv(ana, bob)), "mode": "valid"}, follow=True)
    page = done.content.decode()
    assert "Added 2 members" in page and "Skipped 2 bad lines: Line 3:" in page
    assert static.entries.count() == 2

    empty = admin_client.post(url, {"file": _upload(b"\xef\xbb\xbf\n")})
    assert "The file is empty." in str(empty.context["form"].errors["file"])
