"""Keeps members.selectors.program_rules fresh: any saved or deleted earning rule, tier or plan
bumps its program's rules_version in the same transaction, so the cache entry every process reads
(keyed by that version) is replaced as soon as the change commits.

A signal and not a service call because rules, tiers and plans are edited in many places (admin,
imports, demo data, tests) and a missed call would serve stale rules for minutes; this is cache
bookkeeping, not business flow. Bulk writes that skip signals call rules_changed themselves.
"""

from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from members.models import EarningRule, MembershipPlan, Program, Tier


def rules_changed(program_id: int, program: Program | None = None) -> None:
    Program.objects.filter(pk=program_id).update(rules_version=F("rules_version") + 1)
    if program is not None:
        # The caller's in-memory program (a form or factory passed it) reads the new version too.
        program.rules_version += 1


@receiver(post_save, sender=EarningRule)
@receiver(post_save, sender=Tier)
@receiver(post_save, sender=MembershipPlan)
@receiver(post_delete, sender=EarningRule)
@receiver(post_delete, sender=Tier)
@receiver(post_delete, sender=MembershipPlan)
def _rules_saved(sender, instance, **kwargs) -> None:
    loaded = instance._state.fields_cache.get("program")
    rules_changed(instance.program_id, loaded)


@receiver(pre_save, sender=Program)
def _program_saving(sender, instance: Program, **kwargs) -> None:
    # A full save writes every column: a program loaded before a rule changed (an admin form left
    # open) must not put its older rules_version back, or the cache entry of that version, with
    # the old rules, would be served again.
    if instance.pk is not None:
        current = Program.objects.filter(pk=instance.pk).values_list("rules_version", flat=True).first()
        if current is not None:
            instance.rules_version = current
