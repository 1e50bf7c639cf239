"""Verify the ledger: for every member, cached balance == ledger sum == sum of lot remainders."""

from django.core.management.base import BaseCommand, CommandError

from members.selectors import ledger_mismatches


class Command(BaseCommand):
    help = "Check every member's cached balances against the ledger and the lots; exit 1 on any mismatch."

    def handle(self, *args, **options):
        mismatches = ledger_mismatches()
        for m in mismatches:
            self.stderr.write(
                f"member {m.number} (id {m.member_id}): cached {m.cached}, ledger {m.ledger}, lots {m.lots}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} member(s) do not match their ledger.")
        self.stdout.write("Ledger OK: every cached balance equals its ledger and lots.")
