"""Writes for rewards: redemption, vouchers, code import, checkout burn, surprises, challenges.

Public signatures used by the partner API and the member pages:

- `reward_redeem(*, member, reward, partner=None) -> Redemption`
- `redemption_cancel(*, redemption, reason="", created_by=None) -> Redemption`
- `voucher_validate(*, code, partner, order_total=None) -> Voucher`
- `voucher_consume(*, code, partner, order_reference, order_total) -> Voucher`
- `burn_quote(*, member, partner, order_total, points=None, order_reference="") -> BurnHold`
- `burn_confirm(*, token, partner, order_reference="") -> BurnHold`
- `burn_cancel(*, token, partner) -> BurnHold`
- `surprise_grant(*, member, reward, message, created_by=None) -> Redemption`

Every refusal is a `DomainError` with a stable code. Points move only through `members.services`.
Lock order, everywhere: reward row (when it is locked), then member row.
"""

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.csvfiles import ImportMode, ImportReport, RowError, csv_rows, rows_settle
from core.enqueue import enqueue_on_commit
from core.errors import DomainError, NotFound
from members import services as members_services
from members.models import Member, Partner, Program, Purchase
from members.outbox import event_record
from rewards.events import ChallengeCompleted, PointsBurned, RewardRedeemed, RewardViewed, VoucherConsumed
from rewards.models import (
    BurnHold,
    Challenge,
    ChallengeProgress,
    MemberBadge,
    Redemption,
    Reward,
    SurpriseRule,
    Voucher,
)
from rewards.selectors import RewardUsage, redeem_refusal, refusal, reward_usage

VOUCHER_CODE_LENGTH = 12  # 31 symbols ** 12 ~ 2 ** 59: not guessable, even with millions issued
BURN_HOLD_MINUTES = 5
_CODE_CLEAN = re.compile(r"[\s\-]+")
_IMPORTED_CODE = re.compile(r"^[A-Z0-9]{4,64}$")
_CSV_HEADERS = {"code", "codes", "voucher", "voucher_code", "voucher code", "gift card"}


# --- codes --------------------------------------------------------------------------------------


def voucher_code_new() -> str:
    """A random code from the unambiguous alphabet (no 0/O, 1/I/L)."""
    return members_services.new_code(VOUCHER_CODE_LENGTH)


def voucher_code_normalize(code: str) -> str:
    """What members type or read aloud: spaces, dashes and case do not matter."""
    return _CODE_CLEAN.sub("", code or "").upper()


def voucher_code_display(code: str) -> str:
    """Generated codes are shown in groups of four (ABCD-EFGH-JKMN); imported ones as given."""
    if len(code) == VOUCHER_CODE_LENGTH:
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    return code


# --- redemption -----------------------------------------------------------------------------


def _lock_reward(reward: Reward) -> Reward:
    return Reward.objects.select_for_update().get(pk=reward.pk)


def _reward_for_redeem(reward: Reward) -> Reward:
    """The reward row, locked only when redemptions compete for something on it (stock, imported
    codes). An unlimited reward stays unlocked, so members redeeming it at once do not queue behind
    one another (bench/RESULTS.md: random members); the member row lock taken next serializes what
    one member may do (limits, balance)."""
    reward = Reward.objects.get(pk=reward.pk)
    if reward.stock is not None or reward.code_source == Reward.CodeSource.IMPORTED:
        reward = _lock_reward(reward)
    return reward


def _take_unit(reward: Reward) -> None:
    """One unit of stock, on a locked reward row (the CHECK on stock >= 0 is the last guard)."""
    if reward.stock is not None:
        reward.stock -= 1
        reward.save(update_fields=["stock"])


def _issue_voucher(redemption: Redemption, reward: Reward, now: datetime) -> Voucher | None:
    if not reward.issues_voucher:
        return None
    expires_at = now + timedelta(days=reward.voucher_valid_days) if reward.voucher_valid_days else None
    if reward.event_at and (expires_at is None or expires_at > reward.event_at + timedelta(days=1)):
        expires_at = reward.event_at + timedelta(days=1)  # an event ticket is useless after the event
    fields = {
        "member_id": redemption.member_id,
        "redemption": redemption,
        "partner_id": redemption.partner_id,
        "status": Voucher.Status.ISSUED,
        "issued_at": now,
        "expires_at": expires_at,
    }
    if reward.code_source == Reward.CodeSource.IMPORTED:
        # Callers hold the reward row lock, so two redemptions never pick the same code.
        voucher = reward.vouchers.select_for_update().filter(status=Voucher.Status.AVAILABLE).order_by("id").first()
        if voucher is None:
            raise refusal("out_of_stock", _("This reward is out of stock."))
        for name, value in fields.items():
            setattr(voucher, name, value)
        voucher.save(update_fields=[*fields.keys()])
        return voucher
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Voucher.objects.create(
                    program_id=reward.program_id, reward=reward, code=voucher_code_new(), **fields
                )
        except IntegrityError:
            continue  # a collision is ~impossible at 59 bits; retry with a fresh code anyway
    raise RuntimeError("could not generate a unique voucher code")


def _redemption_event(redemption: Redemption, voucher: Voucher | None) -> None:
    event_record(
        RewardRedeemed(
            member=redemption.member.number,
            redemption=redemption.pk,
            reward=redemption.reward_id,
            kind=redemption.reward.kind,
            source=redemption.source,
            points=redemption.points,
            value=str(redemption.value),
            voucher=voucher.code if voucher else None,
            partner=redemption.partner_id,
        ),
        program=redemption.member.program,
        member=redemption.member,
    )


@transaction.atomic
def reward_redeem(*, member: Member, reward: Reward, partner: Partner | None = None) -> Redemption:
    """Spend points on a reward: checks status, window, tier, plan, stock (under the reward row lock),
    per-member limits and balance; issues a voucher (or records a donation)."""
    if partner is not None and partner.program_id != member.program_id:
        raise NotFound(_("Member not found."))
    now = timezone.now()
    reward = _reward_for_redeem(reward)
    # Locked before the checks: one member's concurrent redemptions see each other's limits and balance.
    member = members_services.lock_members(member.pk)[member.pk]
    refused = redeem_refusal(
        member=member,
        reward=reward,
        now=now,
        plan_active=members_services.active_plan(member, now) is not None,
        usage=reward_usage(member=member, rewards=[reward], now=now).get(reward.pk, RewardUsage()),
    )
    if refused is not None:
        raise refused
    _take_unit(reward)
    redemption = Redemption.objects.create(
        program_id=member.program_id,
        member=member,
        reward=reward,
        partner=partner,
        points=reward.points_cost,
        value=reward.value,
        created_at=now,
    )
    if reward.points_cost:
        members_services.points_spend(
            member=member,
            points=reward.points_cost,
            reason=str(reward.title),
            reference=f"rewards.redemption:{redemption.pk}",
            partner=partner,
        )
    voucher = _issue_voucher(redemption, reward, now)
    _redemption_event(redemption, voucher)
    return redemption


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, reason: str = "", created_by=None) -> Redemption:
    """Undo a redemption whose voucher was not used: the voucher is cancelled, the unit goes back
    to stock and the points are returned through the ledger, exactly."""
    reward = _lock_reward(redemption.reward)
    redemption = Redemption.objects.select_for_update().select_related("member").get(pk=redemption.pk)
    if redemption.status == Redemption.Status.CANCELLED:
        raise refusal("already_cancelled", _("This redemption was already cancelled."))
    voucher = Voucher.objects.select_for_update().filter(redemption=redemption).first()
    if voucher is not None and voucher.status == Voucher.Status.CONSUMED:
        raise refusal("voucher_consumed", _("The voucher was already used; the redemption cannot be cancelled."))
    now = timezone.now()
    if voucher is not None:
        voucher.status = Voucher.Status.CANCELLED
        voucher.save(update_fields=["status"])
    if reward.stock is not None:
        reward.stock = F("stock") + 1
        reward.save(update_fields=["stock"])
    redemption.status = Redemption.Status.CANCELLED
    redemption.cancelled_at = now
    redemption.cancel_reason = reason
    redemption.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    if redemption.points:
        members_services.points_refund(
            member=redemption.member,
            points=redemption.points,
            reason=reason or _("Redemption cancelled"),
            reference=f"rewards.redemption:{redemption.pk}",
            created_by=created_by,
        )
    if created_by is not None:
        members_services.audit_record(
            actor=created_by,
            action="redemption.cancel",
            target=redemption,
            changes={
                "status": [Redemption.Status.COMPLETED, Redemption.Status.CANCELLED],
                "voucher": [voucher.status if voucher else None, Voucher.Status.CANCELLED if voucher else None],
                "points_returned": [0, redemption.points],
            },
            reason=str(reason),
        )
    return redemption


# --- vouchers -------------------------------------------------------------------------------


def _voucher_for_partner(code: str, partner: Partner, *, lock: bool) -> Voucher:
    qs = Voucher.objects.select_related("reward", "member").filter(
        code=voucher_code_normalize(code), program_id=partner.program_id
    )
    if lock:
        qs = qs.select_for_update(of=("self",))  # member is a nullable join: lock only the voucher
    voucher = qs.first()
    # A code of another program, or one not yet handed out, does not exist for this partner.
    if voucher is None or voucher.status == Voucher.Status.AVAILABLE or not partner.is_active:
        raise NotFound(_("Voucher not found."), code="voucher_not_found")
    return voucher


def _usable(voucher: Voucher, now: datetime, order_total: Decimal | None) -> None:
    if voucher.status == Voucher.Status.CONSUMED:
        raise refusal("voucher_consumed", _("This voucher was already used."))
    if voucher.status == Voucher.Status.CANCELLED:
        raise refusal("voucher_cancelled", _("This voucher was cancelled."))
    if voucher.status == Voucher.Status.EXPIRED or (voucher.expires_at and voucher.expires_at <= now):
        raise refusal("voucher_expired", _("This voucher has expired."))
    if order_total is not None and order_total < voucher.reward.min_order_value:
        raise refusal(
            "order_below_minimum",
            _("This voucher needs an order of at least %(min)s.") % {"min": voucher.reward.min_order_value},
            status=400,
            order_total=[str(voucher.reward.min_order_value)],
        )


def voucher_validate(*, code: str, partner: Partner, order_total: Decimal | None = None) -> Voucher:
    """The voucher if it can be used now (and on an order of `order_total`); else a refusal."""
    voucher = _voucher_for_partner(code, partner, lock=False)
    _usable(voucher, timezone.now(), order_total)
    return voucher


@transaction.atomic
def voucher_consume(*, code: str, partner: Partner, order_reference: str, order_total: Decimal) -> Voucher:
    """Mark a voucher used on an order. Consuming it again for the same order returns it unchanged,
    so a partner may retry safely."""
    voucher = _voucher_for_partner(code, partner, lock=True)
    if (
        voucher.status == Voucher.Status.CONSUMED
        and voucher.consumed_by_id == partner.pk
        and voucher.order_reference == order_reference
    ):
        return voucher
    now = timezone.now()
    _usable(voucher, now, order_total)
    voucher.status = Voucher.Status.CONSUMED
    voucher.consumed_at = now
    voucher.consumed_by = partner
    voucher.order_reference = order_reference
    voucher.order_total = order_total
    voucher.save(update_fields=["status", "consumed_at", "consumed_by", "order_reference", "order_total"])
    event_record(
        VoucherConsumed(
            member=voucher.member.number,
            voucher=voucher.code,
            reward=voucher.reward_id,
            partner=partner.pk,
            order_reference=order_reference,
            order_total=str(order_total),
        ),
        program=partner.program,
        member=voucher.member,
    )
    return voucher


def vouchers_expire(*, now: datetime | None = None) -> int:
    """Periodic: issued vouchers past their date become expired (one UPDATE). Points are not returned:
    the member had the reward and let it lapse."""
    now = now or timezone.now()
    return Voucher.objects.filter(status=Voucher.Status.ISSUED, expires_at__lte=now).update(
        status=Voucher.Status.EXPIRED
    )


@transaction.atomic
def voucher_codes_import(*, reward: Reward, data: str, mode: str = ImportMode.ALL_OR_NOTHING) -> ImportReport:
    """Attach externally generated codes (first CSV column; a "code" header is skipped) to a reward.
    They are handed out one per redemption. Codes already known anywhere, or twice in the file, are
    counted as unchanged. A malformed code is a bad line: `mode` says whether it refuses the file."""
    if not reward.issues_voucher:
        raise DomainError("codes_not_used", _("Donations do not use voucher codes."))
    codes, errors = [], []
    for line, row in csv_rows(data):
        if line == 1 and row[0].strip().lower() in _CSV_HEADERS:
            continue
        code = voucher_code_normalize(row[0])
        if _IMPORTED_CODE.match(code):
            codes.append(code)
        elif not code:
            errors.append(RowError(line, _("The code (first column) is empty.")))
        else:
            errors.append(
                RowError(
                    line,
                    _("'%(code)s' is not a code: use 4 to 64 letters and digits (spaces and dashes are ignored).")
                    % {"code": row[0][:80]},
                )
            )
    skipped = rows_settle(errors, mode)
    unique = list(dict.fromkeys(codes))
    existing = set()
    for start in range(0, len(unique), 5000):
        chunk = unique[start : start + 5000]
        existing |= set(Voucher.objects.filter(code__in=chunk).values_list("code", flat=True))
    fresh = [c for c in unique if c not in existing]
    Voucher.objects.bulk_create(
        [
            Voucher(program_id=reward.program_id, reward=reward, code=c, status=Voucher.Status.AVAILABLE, imported=True)
            for c in fresh
        ],
        batch_size=2000,
    )
    if fresh and reward.code_source != Reward.CodeSource.IMPORTED:
        Reward.objects.filter(pk=reward.pk).update(code_source=Reward.CodeSource.IMPORTED)
        reward.code_source = Reward.CodeSource.IMPORTED
    return ImportReport(added=len(fresh), unchanged=len(codes) - len(fresh), skipped=skipped)


# --- checkout burn -----------------------------------------------------------------------------


def burn_value(program: Program, points: int) -> Decimal:
    return (Decimal(points) * program.burn_rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


@transaction.atomic
def burn_quote(
    *,
    member: Member,
    partner: Partner | None,
    order_total: Decimal,
    points: int | None = None,
    order_reference: str = "",
) -> BurnHold:
    """Hold points to pay part of an order: `points` (default: as many as the order and balance
    allow). The points leave the balance now; they come back unless the partner confirms within
    BURN_HOLD_MINUTES."""
    program = member.program
    if partner is not None and (partner.program_id != member.program_id or not partner.is_active):
        raise NotFound(_("Member not found."))
    if order_total <= 0:
        raise DomainError("invalid_amount", _("The order total must be positive."), fields={"order_total": ["> 0"]})
    if order_total < program.burn_min_order:
        raise refusal(
            "order_below_minimum",
            _("Points can pay orders of at least %(min)s.") % {"min": program.burn_min_order},
            status=400,
            order_total=[str(program.burn_min_order)],
        )
    if program.burn_rate <= 0:
        raise refusal("burn_disabled", _("This program does not accept points at checkout."))
    most = int((order_total / program.burn_rate).to_integral_value(rounding=ROUND_DOWN))
    if points is None:
        points = min(most, Member.objects.get(pk=member.pk).points_available)
    if points <= 0:
        raise refusal("insufficient_points", _("There are no points available to pay with."), points=["0"])
    if points > most:
        raise refusal(
            "exceeds_order_total",
            _("At most %(most)s points can pay this order.") % {"most": most},
            status=400,
            points=[str(most)],
        )
    now = timezone.now()
    hold = BurnHold.objects.create(
        program=program,
        member=member,
        partner=partner,
        token=secrets.token_hex(16),
        points=points,
        amount=burn_value(program, points),
        order_total=order_total,
        order_reference=order_reference,
        created_at=now,
        expires_at=now + timedelta(minutes=BURN_HOLD_MINUTES),
    )
    members_services.points_spend(
        member=member,
        points=points,
        reason=_("Paid at checkout"),
        reference=f"rewards.burnhold:{hold.pk}",
        partner=partner,
    )
    return hold


def _hold_for_partner(token: str, partner: Partner | None) -> BurnHold:
    hold = BurnHold.objects.select_for_update().select_related("member").filter(token=token).first()
    if hold is None or hold.partner_id != (partner.pk if partner else None):
        raise NotFound(_("Checkout hold not found."), code="hold_not_found")
    return hold


@transaction.atomic
def burn_confirm(*, token: str, partner: Partner | None, order_reference: str = "") -> BurnHold:
    """The order went through: the held points are spent for good. Confirming twice is harmless."""
    hold = _hold_for_partner(token, partner)
    if hold.status == BurnHold.Status.CONFIRMED:
        return hold
    if hold.status != BurnHold.Status.HELD or hold.expires_at <= timezone.now():
        raise refusal("hold_lapsed", _("The points hold lapsed; ask for a new quote."))
    hold.status = BurnHold.Status.CONFIRMED
    hold.settled_at = timezone.now()
    hold.order_reference = order_reference or hold.order_reference
    hold.save(update_fields=["status", "settled_at", "order_reference"])
    event_record(
        PointsBurned(
            member=hold.member.number,
            points=hold.points,
            amount=str(hold.amount),
            order_reference=hold.order_reference,
            partner=hold.partner_id,
        ),
        program=hold.program,
        member=hold.member,
    )
    return hold


def _release(hold: BurnHold, status: str, reason: str) -> None:
    hold.status = status
    hold.settled_at = timezone.now()
    hold.save(update_fields=["status", "settled_at"])
    members_services.points_refund(
        member=hold.member, points=hold.points, reason=reason, reference=f"rewards.burnhold:{hold.pk}"
    )


@transaction.atomic
def burn_cancel(*, token: str, partner: Partner | None) -> BurnHold:
    """The checkout was abandoned: the points come back at once."""
    hold = _hold_for_partner(token, partner)
    if hold.status != BurnHold.Status.HELD:
        raise refusal("hold_settled", _("This hold is already %(status)s.") % {"status": hold.get_status_display()})
    _release(hold, BurnHold.Status.CANCELLED, _("Checkout cancelled"))
    return hold


def burn_holds_lapse(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Periodic: give back the points of holds nobody confirmed in time. Each hold is settled in its
    own transaction; SKIP LOCKED lets a confirm racing with the sweep win cleanly."""
    now = now or timezone.now()
    lapsed = 0
    while True:
        with transaction.atomic():
            holds = list(
                BurnHold.objects.select_for_update(skip_locked=True)
                .select_related("member")
                .filter(status=BurnHold.Status.HELD, expires_at__lte=now)
                .order_by("id")[:chunk]
            )
            for hold in holds:
                _release(hold, BurnHold.Status.LAPSED, _("Checkout not confirmed in time"))
        lapsed += len(holds)
        if len(holds) < chunk:
            return lapsed


# --- surprise and delight ----------------------------------------------------------------------


def _grant(
    *,
    member: Member,
    reward: Reward,
    message: str,
    source: str,
    rule: SurpriseRule | None = None,
    occasion: str = "",
    created_by=None,
    notify: bool = True,
) -> Redemption:
    if reward.program_id != member.program_id:
        raise NotFound(_("Reward not found."), code="reward_not_found")
    if member.status != Member.Status.ACTIVE:
        raise refusal("member_inactive", _("This membership is not active."))
    reward = _lock_reward(reward)
    if reward.code_source != Reward.CodeSource.IMPORTED and reward.stock is not None and reward.stock <= 0:
        raise refusal("out_of_stock", _("This reward is out of stock."))
    _take_unit(reward)
    now = timezone.now()
    redemption = Redemption.objects.create(
        program_id=member.program_id,
        member=member,
        reward=reward,
        source=source,
        points=0,
        value=reward.value,
        message=message,
        rule=rule,
        occasion=occasion,
        created_by=created_by,
        created_at=now,
    )
    voucher = _issue_voucher(redemption, reward, now)
    _redemption_event(redemption, voucher)
    if created_by is not None:
        # The message is addressed to the member (it may name them): the trail keeps which reward, to whom.
        members_services.audit_record(
            actor=created_by,
            action=f"reward.grant.{source}",
            target=redemption,
            changes={
                "reward": [None, reward.pk],
                "member": [None, member.number],
                "voucher": [None, voucher and voucher.pk],
            },
        )
    if notify:
        enqueue_on_commit("rewards.tasks.surprise_notify", redemption.pk)
    return redemption


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
        text = render_to_string("rewards/emails/surprise.txt", context)
        html = render_to_string("rewards/emails/surprise.html", context)
    send_mail(subject, text, None, [member.email], html_message=html)
    return True


@transaction.atomic
def surprise_grant(*, member: Member, reward: Reward, message: str, created_by=None, notify: bool = True) -> Redemption:
    """Staff give a reward for free, with a message; the member sees it on their pages and is emailed,
    unless the caller sends its own message (a campaign offer: notify=False, so one email, not two)."""
    return _grant(
        member=member,
        reward=reward,
        message=message,
        source=Redemption.Source.SURPRISE,
        created_by=created_by,
        notify=notify,
    )


def reward_viewed(*, member: Member, reward: Reward) -> None:
    """A member looked at a reward they cannot afford yet: the abandoned-redemption journey waits for
    them to earn enough."""
    event_record(RewardViewed(reward=reward.pk, points=reward.points_cost), program=member.program, member=member)


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


def _fire(rule: SurpriseRule, member: Member, occasion: str) -> Redemption | None:
    """Grant the rule's reward once per (rule, member, occasion); a stock-out or a repeat is skipped."""
    if not rule.repeatable:
        occasion = ""
    if Redemption.objects.filter(rule=rule, member=member, occasion=occasion).exists():
        return None
    try:
        with transaction.atomic():
            return _grant(
                member=member,
                reward=rule.reward,
                message=rule.message,
                source=Redemption.Source.RULE,
                rule=rule,
                occasion=occasion,
            )
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
        occasion = None
        if rule.trigger == SurpriseRule.Trigger.NTH_PURCHASE:
            if earlier.count() + 1 == rule.n:
                occasion = f"purchase:{purchase.pk}"
        elif rule.trigger == SurpriseRule.Trigger.COMEBACK:
            previous = earlier.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
            if previous is not None and purchase.occurred_at - previous >= timedelta(days=rule.n):
                occasion = f"purchase:{purchase.pk}"
        elif rule.trigger == SurpriseRule.Trigger.ANNIVERSARY:
            years = _years_between(member.enrolled_at, purchase.occurred_at)
            if years >= max(rule.n, 1):
                occasion = f"year:{years}"
        if occasion is not None and (redemption := _fire(rule, member, occasion)):
            fired.append(redemption)
    return fired


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


# --- challenges and badges --------------------------------------------------------------------


def _open_challenges(member: Member, metrics: Iterable[str], at: datetime) -> QuerySet[Challenge]:
    return Challenge.objects.filter(
        program_id=member.program_id, metric__in=list(metrics), is_active=True, starts_at__lte=at, ends_at__gt=at
    ).select_related("badge")


@transaction.atomic
def challenge_progress_add(
    *, member: Member, metric: str, at: datetime, amount: Decimal = Decimal(1), categories: Iterable[str] = ()
) -> list[ChallengeProgress]:
    """Move the member's open challenges on `metric` forward; completes (once) those that reach their
    target, giving the points and the badge."""
    updated = []
    for challenge in _open_challenges(member, [metric], at):
        progress, _created = ChallengeProgress.objects.get_or_create(challenge=challenge, member=member)
        progress = ChallengeProgress.objects.select_for_update().get(pk=progress.pk)
        if progress.completed_at is not None:
            continue
        if metric == Challenge.Metric.CATEGORIES:
            progress.seen = sorted(set(progress.seen) | {c for c in categories if c})
            progress.value = Decimal(len(progress.seen))
        else:
            progress.value += amount
        fields = ["value", "seen", "updated_at"]
        if progress.value >= challenge.target:
            progress.completed_at = timezone.now()
            fields.append("completed_at")
            _challenge_prize(challenge, member, progress.completed_at)
        progress.save(update_fields=fields)
        updated.append(progress)
    return updated


def _challenge_prize(challenge: Challenge, member: Member, now: datetime) -> None:
    if challenge.points and member.status == Member.Status.ACTIVE:
        members_services.points_grant(
            member=member,
            points=challenge.points,
            reason=_("Challenge completed: %(title)s") % {"title": challenge.title},
            reference=f"rewards.challenge:{challenge.pk}",
        )
    if challenge.badge_id:
        MemberBadge.objects.get_or_create(
            member=member, badge=challenge.badge, defaults={"challenge": challenge, "awarded_at": now}
        )
    event_record(
        ChallengeCompleted(member=member.number, challenge=challenge.pk, points=challenge.points),
        program=member.program,
        member=member,
    )


def challenge_progress_on_purchase(*, purchase: Purchase) -> None:
    member = purchase.member
    at = purchase.occurred_at
    challenge_progress_add(member=member, metric=Challenge.Metric.PURCHASES, at=at)
    challenge_progress_add(member=member, metric=Challenge.Metric.SPEND, at=at, amount=purchase.amount)
    categories = [item.get("category", "") for item in purchase.items or [] if isinstance(item, dict)]
    if categories:
        challenge_progress_add(member=member, metric=Challenge.Metric.CATEGORIES, at=at, categories=categories)


ENGAGEMENT_METRICS = {
    "review": Challenge.Metric.REVIEWS,
    "social_share": Challenge.Metric.SHARES,
    "survey_completed": Challenge.Metric.SURVEYS,
}


def challenge_progress_on_engagement(*, member: Member, action: str, at: datetime) -> None:
    metric = ENGAGEMENT_METRICS.get(action)
    if metric is not None:
        challenge_progress_add(member=member, metric=metric, at=at)


def challenge_progress_on_referral(*, member: Member, at: datetime) -> None:
    challenge_progress_add(member=member, metric=Challenge.Metric.REFERRALS, at=at)
