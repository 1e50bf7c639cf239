"""Data subject requests through the partner API: export and erase a member of the partner's
program, audit-logged, erasing twice is a no-op, other programs' members are not found."""

from members.models import AuditEntry, Member
from tests.conftest import purchase_body


def test_export_gives_the_members_own_document_and_is_audited(api, partner, member):
    assert api.post("/api/v1/transactions", purchase_body(member), format="json").status_code == 201
    response = api.get(f"/api/v1/members/{member.number}/export")
    assert response.status_code == 200
    data = response.json()
    assert (data["number"], data["email"]) == (member.number, member.email)
    entry = AuditEntry.objects.get(action="member.export")
    assert (entry.target_repr, entry.changes) == (f"member {member.number}", {"partner": partner.pk})
    assert member.email not in str(entry.changes) + entry.reason


def test_erase_anonymises_once_and_a_retry_is_a_no_op(api, partner, member):
    email = member.email
    first = api.post(f"/api/v1/members/{member.number}/erase")
    assert first.status_code == 200
    assert first.json() == {"number": member.number, "status": "anonymized", "erased": True}
    member.refresh_from_db()
    assert (member.status, member.first_name) == (Member.Status.ANONYMIZED, "")
    assert email not in member.email
    again = api.post(f"/api/v1/members/{member.number}/erase")
    assert (again.status_code, again.json()["erased"]) == (200, False)
    assert AuditEntry.objects.filter(action="member.erase").count() == 1
    assert api.get(f"/api/v1/members/{member.number}/export").json()["email"] != email


def test_another_programs_member_is_not_found(foreign_api, member):
    assert foreign_api.get(f"/api/v1/members/{member.number}/export").status_code == 404
    assert foreign_api.post(f"/api/v1/members/{member.number}/erase").status_code == 404
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert not AuditEntry.objects.filter(action__in=["member.export", "member.erase"]).exists()
