"""Opening balances: a dry run reports and writes nothing, the import credits lots with their own
expiry, enrolls unknown members without the welcome gift, and the same file twice adds nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import AuditEntry, ImportJob, LedgerEntry, Member, OpeningBalanceImport, PointLot, Program, Purchase
from tests.conftest import MemberFactory, run_action


@pytest.fixture
def csv_text(program):
    MemberFactory(program=program, email="known@example.com")
    soon = (timezone.localdate() + timedelta(days=30)).isoformat()
    later = (timezone.localdate() + timedelta(days=400)).isoformat()
    return (
        "email,first_name,points,expires_at,earned_at\n"
        f"known@example.com,,300,{soon},2025-03-01\n"
        f"known@example.com,,300,{soon},2025-03-01\n"  # a second, equal lot: two lots, once each
        f"New@Example.com,Ion,1200,{later},\n"
        "bad@example.com,,-5,,\n"
        "expired@example.com,,10,2020-01-01,\n"
    )


def _import(api, on_commit, csv: str, dry_run: bool = False) -> dict:
    with on_commit():
        queued = api.post(
            "/api/v1/imports", {"kind": "opening_balances", "csv": csv, "dry_run": dry_run}, format="json"
        )
    assert queued.status_code == 202, queued.content
    return api.get(f"/api/v1/imports/{queued.json()['id']}").json()


def test_a_dry_run_reports_every_line_and_writes_nothing(api, program, on_commit, csv_text):
    Program.objects.filter(pk=program.pk).update(welcome_bonus=50)
    job = _import(api, on_commit, csv_text, dry_run=True)
    assert (job["status"], job["succeeded"], job["failed"]) == ("done", 3, 2)
    assert [(line["line"], line["status"]) for line in job["report"]] == [
        (1, 201),
        (2, 201),
        (3, 201),
        (4, 400),
        (5, 400),
    ]
    assert [e["code"] for e in job["errors"]] == ["invalid_points", "already_expired"]
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OPENING).exists()
    assert not Member.objects.filter(email="new@example.com").exists()


def test_the_import_credits_lots_with_their_expiry_once(api, program, on_commit, csv_text):
    Program.objects.filter(pk=program.pk).update(welcome_bonus=50, expiry_policy="never")
    job = _import(api, on_commit, csv_text)
    assert (job["succeeded"], job["failed"]) == (3, 2)
    known = Member.objects.get(email="known@example.com")
    new = Member.objects.get(email="new@example.com")
    assert known.points_available == 600  # two lots (enrolled before the program gave a welcome gift)
    assert new.points_available == 1200  # no welcome gift: not new to the program
    lot = PointLot.objects.get(entry__member=new, entry__kind=LedgerEntry.Kind.OPENING)
    assert timezone.localtime(lot.expires_at).date() == timezone.localdate() + timedelta(days=400)
    assert AuditEntry.objects.filter(action="opening_balances_import").count() == 1
    again = _import(api, on_commit, csv_text)
    assert [line["status"] for line in again["report"][:3]] == [200, 200, 200]
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OPENING).count() == 3


def test_a_dry_run_of_purchases_checks_every_line_and_records_nothing(api, member, on_commit):
    csv = f"member,external_id,amount,currency\n{member.number},D-1,10.00,EUR\n000000000000,D-2,10.00,EUR\n"
    with on_commit():
        queued = api.post("/api/v1/imports", {"kind": "transactions", "csv": csv, "dry_run": True}, format="json")
    job = api.get(f"/api/v1/imports/{queued.json()['id']}").json()
    assert (job["dry_run"], job["succeeded"], job["failed"]) == (True, 1, 1)
    assert not Purchase.objects.exists()


def test_a_file_without_the_required_columns_is_refused(api):
    response = api.post("/api/v1/imports", {"kind": "opening_balances", "csv": "email\na@example.com\n"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_file")


def test_staff_upload_a_dry_run_read_its_report_and_confirm_it(admin_client, program, on_commit, csv_text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("opening.csv", csv_text.encode(), content_type="text/csv")
    with on_commit():
        response = admin_client.post(
            reverse("admin:members_openingbalanceimport_add"), {"program": program.pk, "file": upload, "dry_run": "on"}
        )
    assert response.status_code == 302, response.content
    dry = OpeningBalanceImport.objects.get()
    page = admin_client.get(reverse("admin:members_openingbalanceimport_change", args=[dry.pk]))
    assert "Would import 1200 points for a new member." in page.content.decode()
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OPENING).exists()
    with on_commit():
        run_action(admin_client, "members_openingbalanceimport", "confirm", [dry])
    real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert (real.dry_run, real.status, real.succeeded) == (False, "done", 3)
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OPENING).count() == 3
