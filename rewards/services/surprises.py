"""Surprise and delight: rewards given for free by staff or by rules (Nth purchase, comeback,
anniversary, enrollment), and the email that tells the member."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from core.barcodes import email_attach_scan_codes
from core.errors import DomainError
from members.models import Member, Purchase
from rewards.models import Redemption, Reward, SurpriseRule
from rewards.services.redemptions import redemption_cancel, reward_grant
from rewards.services.vouchers import voucher_code_display


def surprise_email_send(*, redemption_id: int) -> bool:
    """Tell the member about a surprise, in their language. A message about their own account, so it
    is sent without marketing consent; anonymized members get nothing. True when an email went out."""
    redemption = (
        Redemption.objects.select_related("member", "member__program", "reward", "voucher")
        .filter(pk=redemption_id, status=Redemption.Status.COMPLETED)
        .first()
    )
    if redemption is None or redemption.member.status == Member.Status.ANONYMIZED or not redemption.member.email:
        return False
    member = redemption.member
    voucher = getattr(redemption, "voucher", None)
    with translation.override(member.language):
        context = {
            "member": member,
            "program": member.program,
            "reward": redemption.reward,
            "message": redemption.message,
            "voucher_code": voucher_code_display(voucher.code) if voucher else "",
            "voucher": voucher,
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("rewards/emails/surprise_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject, render_to_string("rewards/emails/surprise.txt", context), None, [member.email]
        )
        if voucher:  # the till scans the email as it scans the voucher page
            context["codes"] = email_attach_scan_codes(message, voucher.code)
        message.attach_alternative(render_to_string("rewards/emails/surprise.html", context), "text/html")
    message.send()
    return True


@transaction.atomic
def surprise_grant(*, member: Member, reward: Reward, message: str, created_by=None, notify: bool = True) -> Redemption:
    """Staff give a reward for free, with a message; the member sees it on their pages and is emailed,
    unless the caller sends its own message (a campaign offer: notify=False, so one email, not two)."""
    return reward_grant(
        member=member,
        reward=reward,
        message=message,
        source=Redemption.Source.SURPRISE,
        created_by=created_by,
        notify=notify,
    )


@dataclass(frozen=True)
class GrantResult:
    granted: int
    refused: dict[str, int]


def surprise_grant_many(
    *, members: QuerySet[Member], reward: Reward, message: str, created_by=None, chunk: int = 500
) -> GrantResult:
    """Grant to a filtered set of members, a chunk per transaction; members who cannot receive it
    (inactive, stock ran out) are counted by refusal code."""
    granted, refused = 0, {}
    last = 0
    ids_qs = members.filter(program_id=reward.program_id).order_by("pk")
    while True:
        batch = list(ids_qs.filter(pk__gt=last).select_related("program")[:chunk])
        if not batch:
            return GrantResult(granted, refused)
        last = batch[-1].pk
        with transaction.atomic():
            for member in batch:
                try:
                    with transaction.atomic():
                        surprise_grant(member=member, reward=reward, message=message, created_by=created_by)
                    granted += 1
                except DomainError as exc:
                    refused[exc.code] = refused.get(exc.code, 0) + 1


def _fire(rule: SurpriseRule, member: Member, occasion: str, purchase: Purchase | None = None) -> Redemption | None:
    """Grant the rule's reward once per (rule, member, occasion); a stock-out or a repeat is skipped.
    `purchase`: the purchase that set it off (Nth purchase, comeback), whose full refund withdraws it."""
    if not rule.repeatable:
        occasion = ""
    if Redemption.objects.filter(rule=rule, member=member, occasion=occasion).exists():
        return None
    try:
        with transaction.atomic():
            redemption = reward_grant(
                member=member,
                reward=rule.reward,
                message=rule.message,
                source=Redemption.Source.RULE,
                rule=rule,
                occasion=occasion,
            )
            if purchase is not None:
                redemption.purchase = purchase
                redemption.save(update_fields=["purchase"])
            return redemption
    except (DomainError, IntegrityError):
        return None


def _years_between(start: datetime, end: datetime) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def surprises_on_purchase(*, purchase: Purchase) -> list[Redemption]:
    """Evaluate the purchase-time rules: Nth purchase, comeback after N days, the anniversary year."""
    member = purchase.member
    rules = SurpriseRule.objects.filter(program_id=member.program_id, is_active=True).select_related("reward")
    earlier = Purchase.objects.filter(member=member).filter(
        Q(occurred_at__lt=purchase.occurred_at) | Q(occurred_at=purchase.occurred_at, pk__lt=purchase.pk)
    )
    fired = []
    for rule in rules:
        occasion, cause = None, None
        if rule.trigger == SurpriseRule.Trigger.NTH_PURCHASE:
            if earlier.count() + 1 == rule.n:
                occasion, cause = f"purchase:{purchase.pk}", purchase
        elif rule.trigger == SurpriseRule.Trigger.COMEBACK:
            previous = earlier.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
            if previous is not None and purchase.occurred_at - previous >= timedelta(days=rule.n):
                occasion, cause = f"purchase:{purchase.pk}", purchase
        elif rule.trigger == SurpriseRule.Trigger.ANNIVERSARY:
            # The anniversary is the member's, not the purchase's: a refund does not withdraw it.
            years = _years_between(member.enrolled_at, purchase.occurred_at)
            if years >= max(rule.n, 1):
                occasion = f"year:{years}"
        if occasion is not None and (redemption := _fire(rule, member, occasion, cause)):
            fired.append(redemption)
    return fired


def surprises_withdraw_for_refund(*, purchase: Purchase) -> list[Redemption]:
    """A purchase was refunded in full: the automatic surprises it set off are withdrawn (their
    vouchers cancelled, the stock returned). One whose voucher was already used stays: it is spent,
    like points already spent, but here no debt is owed."""
    withdrawn = []
    for redemption in Redemption.objects.filter(
        purchase=purchase, source=Redemption.Source.RULE, status=Redemption.Status.COMPLETED
    ).select_related("reward"):
        try:
            with transaction.atomic():
                withdrawn.append(
                    redemption_cancel(
                        redemption=redemption, reason=gettext_noop("The purchase was refunded"), reason_params={}
                    )
                )
        except DomainError:
            continue
    return withdrawn


def surprises_on_enrollment(*, member: Member) -> list[Redemption]:
    """Welcome surprises: every new member, or only the first N of the program."""
    fired = []
    for rule in SurpriseRule.objects.filter(
        program_id=member.program_id, is_active=True, trigger=SurpriseRule.Trigger.ENROLLMENT
    ).select_related("reward"):
        if rule.n and Member.objects.filter(program_id=member.program_id, pk__lte=member.pk).count() > rule.n:
            continue
        if redemption := _fire(rule, member, "enrolled"):
            fired.append(redemption)
    return fired


def surprises_anniversaries(*, now: datetime | None = None, chunk: int = 1000) -> int:
    """Daily: members whose enrollment anniversary is today get the anniversary surprise without
    waiting for their next purchase."""
    today = timezone.localdate(now or timezone.now())
    count = 0
    for rule in SurpriseRule.objects.filter(is_active=True, trigger=SurpriseRule.Trigger.ANNIVERSARY).select_related(
        "reward"
    ):
        last = 0
        while True:
            batch = list(
                Member.objects.filter(
                    program_id=rule.program_id,
                    status=Member.Status.ACTIVE,
                    enrolled_at__month=today.month,
                    enrolled_at__day=today.day,
                    enrolled_at__year__lte=today.year - max(rule.n, 1),
                    pk__gt=last,
                )
                .select_related("program")
                .order_by("pk")[:chunk]
            )
            if not batch:
                break
            last = batch[-1].pk
            for member in batch:
                years = today.year - member.enrolled_at.year
                if _fire(rule, member, f"year:{years}"):
                    count += 1
    return count
