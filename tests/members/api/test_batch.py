"""Batches of purchases and enrollments (each line its own answer, idempotent per line) and the
background import of a CSV file with its per-line error report."""

import pytest

from members.models import ImportJob, LedgerEntry, Member, Purchase
from tests.conftest import purchase_body

pytestmark = pytest.mark.django_db


def test_a_batch_of_purchases_answers_each_line_and_a_bad_line_loses_nothing(api, member):
    lines = [
        purchase_body(member, external_id="B-1"),
        purchase_body(member, external_id="B-2", currency="USD"),
        purchase_body(member, external_id="B-3", amount="oops"),
        {"external_id": "B-6"},
        {**purchase_body(member, external_id="B-4"), "member": "000000000000"},
        purchase_body(member, external_id="B-5", amount="20.00"),
    ]
    response = api.post("/api/v1/transactions/batch", {"transactions": lines}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["results"]] == [201, 400, 400, 400, 404, 201]
    assert (body["succeeded"], body["failed"]) == (2, 4)
    assert body["results"][1]["error"]["code"] == "unknown_currency"
    assert (
        body["results"][2]["error"]["code"] == "validation_error" and "amount" in body["results"][2]["error"]["fields"]
    )
    assert body["results"][5]["result"]["points"] == 20
    assert set(Purchase.objects.values_list("external_id", flat=True)) == {"B-1", "B-5"}

    again = api.post("/api/v1/transactions/batch", {"transactions": lines}, format="json").json()
    assert [r["status"] for r in again["results"]] == [200, 400, 400, 400, 404, 200]
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).count() == 2


def test_a_batch_has_a_documented_size(api, member):
    lines = [purchase_body(member, external_id=f"S-{i}") for i in range(101)]
    response = api.post("/api/v1/transactions/batch", {"transactions": lines}, format="json")
    assert response.status_code == 400 and "transactions" in response.json()["error"]["fields"]
    assert api.post("/api/v1/transactions/batch", {"transactions": []}, format="json").status_code == 400
    not_objects = {"transactions": [purchase_body(member), "not an object"]}
    assert api.post("/api/v1/transactions/batch", not_objects, format="json").status_code == 400
    assert not Purchase.objects.exists()


def test_a_batch_of_members_is_idempotent_by_external_id(api, partner):
    lines = [
        {"email": "a@example.com", "first_name": "A", "external_id": "CRM-1"},
        {"email": "b@example.com", "external_id": "CRM-2", "birth_date": "2999-01-01"},
        {"email": "c@example.com"},
    ]
    first = api.post("/api/v1/members/batch", {"members": lines}, format="json").json()
    assert [r["status"] for r in first["results"]] == [201, 400, 400]
    assert first["results"][1]["error"]["code"] == "invalid_birth_date"
    assert "external_id" in first["results"][2]["error"]["fields"]
    again = api.post("/api/v1/members/batch", {"members": lines[:1]}, format="json").json()
    assert again["results"][0]["status"] == 200
    assert again["results"][0]["result"]["number"] == first["results"][0]["result"]["number"]
    other_email = [{"email": "z@example.com", "external_id": "CRM-1"}]
    clash = api.post("/api/v1/members/batch", {"members": other_email}, format="json").json()
    assert (clash["results"][0]["status"], clash["results"][0]["error"]["code"]) == (409, "external_id_taken")
    assert Member.objects.filter(program_id=partner.program_id).count() == 1


def test_a_csv_import_runs_in_the_background_and_reports_each_refused_line(api, member, on_commit):
    csv = (
        "member,external_id,amount,currency\n"
        f"{member.number},IMP-1,10.00,EUR\n"
        "000000000000,IMP-2,10.00,EUR\n"
        f"{member.number},IMP-3,abc,EUR\n"
        f"{member.number},IMP-4,5.00,EUR,extra\n"
        f"{member.number},IMP-5,30.00,EUR\n"
    )
    with on_commit():  # the job starts after its commit; tasks run eagerly in tests
        queued = api.post("/api/v1/imports", {"kind": "transactions", "csv": csv}, format="json")
    assert queued.status_code == 202, queued.content
    job = api.get(f"/api/v1/imports/{queued.json()['id']}").json()
    assert (job["status"], job["total"], job["succeeded"], job["failed"]) == ("done", 5, 2, 3)
    assert [(e["line"], e["code"]) for e in job["errors"]] == [
        (2, "not_found"),
        (3, "validation_error"),
        (4, "invalid_line"),
    ]
    assert set(Purchase.objects.values_list("external_id", flat=True)) == {"IMP-1", "IMP-5"}
    with on_commit():
        again = api.post("/api/v1/imports", {"kind": "transactions", "csv": csv}, format="json").json()
    assert api.get(f"/api/v1/imports/{again['id']}").json()["succeeded"] == 2
    assert Purchase.objects.count() == 2
    assert ImportJob.objects.get(pk=again["id"]).content == ""  # the file is not kept once imported


def test_an_import_is_processed_in_chunks(api, partner, monkeypatch, on_commit):
    from members.api import imports

    monkeypatch.setattr(imports, "CHUNK", 2)
    csv = "email,external_id\n" + "".join(f"m{i}@example.com,CRM-{i}\n" for i in range(5))
    with on_commit():
        job = api.post("/api/v1/imports", {"kind": "members", "csv": csv}, format="json").json()
    assert api.get(f"/api/v1/imports/{job['id']}").json()["succeeded"] == 5
    assert Member.objects.filter(program_id=partner.program_id).count() == 5


def test_an_import_with_an_unknown_column_is_refused_before_it_starts(api, other_api):
    response = api.post("/api/v1/imports", {"kind": "members", "csv": "email,points\nx@example.com,9\n"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_file")
    assert not ImportJob.objects.exists()
    job = api.post(
        "/api/v1/imports", {"kind": "members", "csv": "email,external_id\na@example.com,C-1\n"}, format="json"
    )
    assert other_api.get(f"/api/v1/imports/{job.json()['id']}").status_code == 404
