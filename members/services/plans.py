"""Paid membership plans: subscribe, record the payment, cancel, renew, and the periodic renewal and
expiry.

A subscription starts pending: it gives no perks (earning multiplier, plan-only rewards) until its
payment is recorded (`plan_payment_record`: staff in admin, a partner or a payment provider through
the API), which starts the paid period. A pending one nobody pays lapses after PAYMENT_WAIT
(subscriptions_expire). Whoever reads perks filters on Subscription.PERK_STATUSES."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from members.checks import member_require_active
from members.events import PlanExpired, PlanRenewed, PlanSubscribed
from members.locks import CHUNK, lock_member
from members.models import Member, MembershipPlan, Subscription
from members.outbox import event_build, event_record, events_record_bulk
from members.selectors import program_rules

# How long a subscription waits for its payment before it lapses.
PAYMENT_WAIT = timedelta(days=14)


def active_plan(member: Member, at: datetime | None = None) -> MembershipPlan | None:
    """The plan whose perks the member holds at `at` (default: now), or None."""
    if not program_rules(member.program).has_plans:
        return None  # most programs sell no plans: skip the lookup on every purchase
    at = at or timezone.now()
    sub = (
        Subscription.objects.select_related("plan")
        .filter(member=member, expires_at__gt=at, status__in=Subscription.PERK_STATUSES)
        .first()
    )
    return sub.plan if sub else None


@transaction.atomic
def plan_subscribe(
    *, member: Member, plan: MembershipPlan, paid_by: str = "", payment_reference: str = ""
) -> Subscription:
    """A subscription waiting for its payment, or, with `payment_reference` (the fee was taken at
    once, e.g. at the desk), a paid one. `paid_by` says who asked, then who recorded the payment."""
    if plan.program_id != member.program_id or not plan.is_active:
        raise NotFound("Plan not found.")
    member = lock_member(member)
    member_require_active(member)
    now = timezone.now()
    live = (
        Subscription.objects.select_for_update()
        .filter(member=member)
        .exclude(status=Subscription.Status.EXPIRED)
        .first()
    )
    if live is not None:
        if live.plan_id != plan.pk or live.status == Subscription.Status.ACTIVE:
            raise Conflict("already_subscribed", "The member already has a membership plan.")
        if live.status == Subscription.Status.CANCELLED:
            live.status = Subscription.Status.ACTIVE  # re-subscribing before a paid, cancelled plan runs out
            live.cancelled_at = None
            live.save(update_fields=["status", "cancelled_at"])
            return live
        sub = live  # asked again while waiting for payment: the same subscription
    else:
        sub = Subscription.objects.create(
            member=member,
            plan=plan,
            status=Subscription.Status.PENDING,
            started_at=now,
            expires_at=now + PAYMENT_WAIT,
            paid_by=paid_by[:40],
        )
    if payment_reference:
        sub = plan_payment_record(subscription=sub, reference=payment_reference, paid_by=paid_by)
    return sub


@transaction.atomic
def plan_payment_record(*, subscription: Subscription, reference: str, paid_by: str) -> Subscription:
    """The fee of a pending subscription is paid: the paid period and its perks start now.
    Idempotent: the same reference again returns the subscription unchanged (a payment provider
    retrying its webhook); another reference for a subscription already paid is a conflict."""
    reference = reference.strip()
    if not reference:
        raise DomainError("reference_required", "A payment reference is required.", fields={"reference": ["Required."]})
    member = lock_member(subscription.member)
    sub = Subscription.objects.select_for_update().select_related("plan").get(pk=subscription.pk)
    if sub.payment_reference == reference and sub.status != Subscription.Status.PENDING:
        return sub
    if sub.status == Subscription.Status.EXPIRED:
        raise DomainError("expired", "This subscription has lapsed; subscribe again.", status=409)
    if sub.status != Subscription.Status.PENDING:
        raise Conflict("already_paid", "This subscription's payment is already recorded with another reference.")
    member_require_active(member)
    now = timezone.now()
    sub.status = Subscription.Status.ACTIVE
    sub.started_at = sub.paid_at = now
    sub.expires_at = now + timedelta(days=sub.plan.duration_days)
    sub.payment_reference = reference[:100]
    sub.paid_by = paid_by[:40]
    sub.save(update_fields=["status", "started_at", "paid_at", "expires_at", "payment_reference", "paid_by"])
    # The plan starts (and its perks with it) when it is paid, not when it was asked for.
    event_record(PlanSubscribed(member=member.number, plan=sub.plan.name), program=member.program, member=member)
    return sub


@transaction.atomic
def plan_cancel(*, subscription: Subscription) -> Subscription:
    """Stops renewal; perks last until the end of the paid period. A subscription not yet paid is
    simply withdrawn."""
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    now = timezone.now()
    if sub.status == Subscription.Status.PENDING:
        sub.status = Subscription.Status.EXPIRED
        sub.cancelled_at = sub.expires_at = now
        sub.save(update_fields=["status", "cancelled_at", "expires_at"])
        return sub
    if sub.status != Subscription.Status.ACTIVE:
        raise DomainError("not_active", "This membership is not active.", status=409)
    sub.status = Subscription.Status.CANCELLED
    sub.cancelled_at = now
    sub.save(update_fields=["status", "cancelled_at"])
    return sub


@transaction.atomic
def plan_renew(*, subscription: Subscription, paid_by: str) -> Subscription:
    """A new paid period (a one-time plan bought again, or a payment taken early): the period is
    added to the current end, or starts now if the membership has run out."""
    sub = Subscription.objects.select_for_update().select_related("plan", "member").get(pk=subscription.pk)
    member_require_active(sub.member)
    if sub.status == Subscription.Status.EXPIRED:
        raise DomainError("expired", "This membership has expired; subscribe again.", status=409)
    if sub.status == Subscription.Status.PENDING:
        raise DomainError("payment_pending", "The first payment is not recorded yet.", status=409)
    now = timezone.now()
    sub.expires_at = max(sub.expires_at, now) + timedelta(days=sub.plan.duration_days)
    sub.status = Subscription.Status.ACTIVE
    sub.cancelled_at = None
    sub.paid_by = paid_by
    sub.save(update_fields=["expires_at", "status", "cancelled_at", "paid_by"])
    event_record(
        PlanRenewed(member=sub.member.number, plan=sub.plan.name, fee=str(sub.plan.fee), paid_by=paid_by),
        program=sub.member.program,
        member=sub.member,
    )
    return sub


def subscriptions_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic: renew recurring plans that are due (a `plan.renewed` event carries the fee to
    charge the same payer) and expire cancelled and one-time ones, and those of members who are no
    longer active (`plan.expired`). Chunked by subscription id."""
    now = now or timezone.now()
    due = Subscription.objects.filter(expires_at__lte=now).exclude(status=Subscription.Status.EXPIRED)
    counts = {"renewed": 0, "expired": 0}
    while True:
        with transaction.atomic():
            subs = list(due.select_related("plan", "member").select_for_update(of=("self",)).order_by("pk")[:CHUNK])
            if not subs:
                return counts
            renewing = [
                sub
                for sub in subs
                if sub.status == Subscription.Status.ACTIVE
                and sub.plan.recurring
                and sub.member.status == Member.Status.ACTIVE
            ]
            for sub in renewing:
                while sub.expires_at <= now:
                    sub.expires_at += timedelta(days=sub.plan.duration_days)
            ending = [sub for sub in subs if sub not in renewing]
            for sub in ending:
                sub.status = Subscription.Status.EXPIRED
            Subscription.objects.bulk_update(renewing, ["expires_at"])
            Subscription.objects.bulk_update(ending, ["status"])
            events_record_bulk(
                [
                    event_build(
                        (PlanRenewed if sub in renewing else PlanExpired)(
                            member=sub.member.number,
                            plan=sub.plan.name,
                            fee=str(sub.plan.fee),
                            paid_by=sub.paid_by,
                            expires_at=sub.expires_at.isoformat(),
                        ),
                        program_id=sub.member.program_id,
                        member_id=sub.member_id,
                    )
                    for sub in subs
                ]
            )
            counts["renewed"] += len(renewing)
            counts["expired"] += len(ending)
