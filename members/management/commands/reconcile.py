"""Run the nightly reconciliation now (ledger, vouchers, stock): record it, email staff on a mismatch."""

from django.core.management.base import BaseCommand, CommandError

from members.reconciliation import reconciliation_run


class Command(BaseCommand):
    help = "Run every reconciliation check now, record the run and email staff on a mismatch; exit 1 on any."

    def handle(self, *args, **options):
        run = reconciliation_run()
        for m in run.mismatches:
            self.stderr.write(f"[{m['check']}] {m['object']}: {m['detail']}")
        if not run.ok:
            alerted = ", ".join(run.alerted) or "nobody (no staff address)"
            raise CommandError(f"{len(run.mismatches)} mismatch(es) in run #{run.pk}; alerted: {alerted}.")
        checks = ", ".join(f"{name} {count}" for name, count in run.counts.items())
        self.stdout.write(f"Reconciliation OK (run #{run.pk}; mismatches per check: {checks}).")
