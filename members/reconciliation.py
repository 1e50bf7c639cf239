"""Nightly reconciliation: run every registered consistency check, record the run, email staff on a mismatch.

members owns the run record and the ledger check; other apps add their own checks the way they
register event handlers (rewards: vouchers and stock, in RewardsConfig.ready()), so members never
imports them. A check returns its mismatches as dicts {"object": ..., "detail": ...}; it reads only.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from members.models import ReconciliationRun
from members.selectors import ledger_mismatches

logger = logging.getLogger(__name__)

Check = Callable[[], list[dict]]
_checks: dict[str, Check] = {}
AUDITOR_GROUP = "auditor"
EMAIL_LIST_LIMIT = 200  # an email listing a million rows helps nobody; the run record keeps them all


def reconciliation_check(name: str) -> Callable[[Check], Check]:
    def register(func: Check) -> Check:
        _checks[name] = func
        return func

    return register


def reconciliation_checks() -> dict[str, Check]:
    return dict(_checks)


@reconciliation_check("ledger")
def ledger_check() -> list[dict]:
    return [
        {
            "object": f"member {m.number}",
            "detail": f"cached balance {m.cached}, ledger sum {m.ledger}, lot remainders {m.lots}",
        }
        for m in ledger_mismatches()
    ]


def reconciliation_run() -> ReconciliationRun:
    """Run every check, store the result, email staff when anything is off. A check that crashes
    counts as a mismatch (a silent nightly check is worse than a noisy one)."""
    run = ReconciliationRun.objects.create(started_at=timezone.now())
    counts: dict[str, int] = {}
    mismatches: list[dict] = []
    for name, check in sorted(_checks.items()):
        try:
            found = [{"check": name, **row} for row in check()]
        except Exception as exc:
            logger.exception("reconciliation check %s failed", name)
            found = [{"check": name, "object": "-", "detail": f"the check itself failed: {type(exc).__name__}"}]
        counts[name] = len(found)
        mismatches += found
    run.counts, run.mismatches, run.ok = counts, mismatches, not mismatches
    run.finished_at = timezone.now()
    if mismatches:
        run.alerted = _alert(run)
    run.save(update_fields=["counts", "mismatches", "ok", "finished_at", "alerted"])
    return run


def alert_recipients() -> list[str]:
    """Superusers and auditors with an email address, plus RECONCILIATION_EMAILS."""
    users = (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=AUDITOR_GROUP), is_active=True)
        .exclude(email="")
    )
    found = {e.lower(): e for e in users.values_list("email", flat=True)}
    for address in settings.RECONCILIATION_EMAILS:
        found.setdefault(address.lower(), address)
    return sorted(found.values())


def _alert(run: ReconciliationRun) -> list[str]:
    recipients = alert_recipients()
    if not recipients:
        logger.error("reconciliation found %d mismatches and nobody to email", len(run.mismatches))
        return []
    context = {
        "run": run,
        "shown": run.mismatches[:EMAIL_LIST_LIMIT],
        "hidden": max(0, len(run.mismatches) - EMAIL_LIST_LIMIT),
        "site_url": settings.SITE_URL,
    }
    try:
        send_mail(
            subject=f"[Fidelis] Reconciliation: {len(run.mismatches)} mismatch(es)",
            message=render_to_string("members/emails/reconciliation.txt", context),
            from_email=None,
            recipient_list=recipients,
        )
    except OSError:
        # The run is recorded either way; staff see it in admin even when mail is down.
        logger.exception("reconciliation alert not sent")
        return []
    return recipients
