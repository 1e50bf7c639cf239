"""The E.164 migration: existing phones are normalised in their program's region; what does not parse
is blanked and recorded (by member number, without the old text) in the audit trail."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader


def _phone_migration() -> tuple[tuple[str, str], tuple[str, str]]:
    """(the migration, the members migration before it), by name, so renumbering at merge keeps this test."""
    loader = MigrationLoader(connection)
    target = next(key for key in loader.disk_migrations if key[0] == "members" and key[1].endswith("_phone_e164"))
    before = next(dep for dep in loader.disk_migrations[target].dependencies if dep[0] == "members")
    return target, before


@pytest.mark.django_db(transaction=True)
def test_existing_phones_become_e164_and_unparseable_ones_are_blanked_and_recorded(settings):
    settings.PHONE_DEFAULT_REGION = "RO"  # what existing programs get when the region field is added
    target, before = _phone_migration()
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        Program, Member = old.get_model("members", "Program"), old.get_model("members", "Member")
        program = Program.objects.create(name="Shop", slug="shop")
        typed = {"1": "0721 000 111", "2": "+39 06 1234 5678", "3": "call me after 6", "4": "", "5": "0040722999888"}
        for number, phone in typed.items():
            Member.objects.create(
                program=program, number=number, referral_code=f"R{number}", email=f"m{number}@example.com", phone=phone
            )

        executor = MigrationExecutor(connection)
        executor.migrate([target])

        new = executor.loader.project_state([target]).apps
        Member, AuditEntry = new.get_model("members", "Member"), new.get_model("members", "AuditEntry")
        assert new.get_model("members", "Program").objects.get().default_region == "RO"
        assert dict(Member.objects.values_list("number", "phone")) == {
            "1": "+40721000111",
            "2": "+390612345678",
            "3": "",
            "4": "",
            "5": "+40722999888",
        }
        cleared = AuditEntry.objects.get(action="member.phone_cleared")
        assert cleared.target_repr == "member 3"
        assert "call me" not in str(cleared.changes) + cleared.reason
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
