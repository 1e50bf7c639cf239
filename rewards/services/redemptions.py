"""Redemptions: spending points on a reward, giving one for free (surprises, campaign offers),
cancelling one. Every redemption is made here: the unit of stock, the voucher (vouchers.voucher_issue,
which also knows the kinds done without one) and the `reward.redeemed` event.

Lock order, everywhere: reward row (when it is locked), then, for a redemption from a household's
pooled points, the household row, then the member rows (members.locks).
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.enqueue import enqueue_on_commit
from core.errors import NotFound
from members import services as members_services
from members.households import household_pool_of
from members.models import Member, Partner
from members.outbox import event_record
from members.perks import member_perks
from members.texts import stored_all, stored_reason
from rewards.events import RewardRedeemed, RewardViewed
from rewards.models import Redemption, Reward, SurpriseRule, Voucher
from rewards.selectors import RewardUsage, early_access_pending, redeem_refusal, refusal, reward_usage
from rewards.services.vouchers import voucher_issue


@transaction.atomic
def reward_prices_apply(program_id: int, prices: dict[int, dict]) -> None:
    """New prices in points of the program's rewards ({reward id: {"points_cost": n}}), as a rule
    revision publishes them (members.services.revisions, in its transaction)."""
    for reward_id, values in prices.items():
        Reward.objects.filter(pk=reward_id, program_id=program_id).update(points_cost=values["points_cost"])


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
def reward_redeem(
    *, member: Member, reward: Reward, partner: Partner | None = None, from_household: bool | None = None
) -> Redemption:
    """Spend points on a reward: checks status, window, tier, plan, stock (under the reward row lock),
    per-member limits and balance; issues a voucher (or records a donation). `from_household`: a
    household member may draw on the household's pooled points (members.services.households); None:
    the program's default (Program.household_pool_default)."""
    if partner is not None and partner.program_id != member.program_id:
        raise NotFound(_("Member not found."))
    now = timezone.now()
    reward = _reward_for_redeem(reward)
    if member.household_id is not None and from_household is None:
        from_household = member.program.household_pool_default
    # Locked before the checks: one member's (or household's) concurrent redemptions see each other's
    # limits and balance.
    if from_household and member.household_id is not None:
        household, locked = members_services.lock_household(member)
    else:
        household, locked = None, members_services.lock_members(member.pk)
    member = locked[member.pk]
    refused = redeem_refusal(
        member=member,
        reward=reward,
        now=now,
        plan_active=members_services.active_plan(member, now) is not None,
        usage=reward_usage(member=member, rewards=[reward], now=now).get(reward.pk, RewardUsage()),
        available=household_pool_of(household=household, members=locked) if household else None,
        early_access=early_access_pending(reward, now) and member_perks(member, now).early_access,
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
        household=household,
        value=reward.value,
        created_at=now,
    )
    reference = f"rewards.redemption:{redemption.pk}"
    if reward.points_cost and household is not None:
        members_services.household_points_spend(
            household=household,
            members=locked,
            redeemer=member,
            points=reward.points_cost,
            what=stored_all(reward, "title"),
            reference=reference,
            partner=partner,
        )
    elif reward.points_cost:
        members_services.points_spend(
            member=member,
            points=reward.points_cost,
            **stored_reason(reward, "title"),
            reference=reference,
            partner=partner,
        )
    voucher = voucher_issue(redemption, reward, now)
    _redemption_event(redemption, voucher)
    return redemption


@transaction.atomic
def redemption_cancel(
    *, redemption: Redemption, reason: str = "", reason_params: dict | None = None, created_by=None
) -> Redemption:
    """Undo a redemption whose voucher was not used: the voucher is cancelled, the unit goes back
    to stock and the points are returned through the ledger, exactly. `reason_params` ({} or the
    parameters): `reason` is a gettext_noop message id, shown in the member's language."""
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
    if redemption.points and redemption.household_id is not None:
        # A pooled redemption: each member drawn on gets back what it took from them.
        members_services.household_points_refund(
            program_id=redemption.program_id,
            reference=f"rewards.redemption:{redemption.pk}",
            reason=str(reason) or gettext_noop("Redemption cancelled"),
            reason_params=reason_params if reason else {},
            created_by=created_by,
        )
    elif redemption.points:
        members_services.points_refund(
            member=redemption.member,
            points=redemption.points,
            reason=str(reason) or gettext_noop("Redemption cancelled"),
            # A staff member's or partner's own words stay as written; ours read in the member's language.
            reason_params=reason_params if reason else {},
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


def reward_grant(
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
    """A redemption of no points: the reward given by staff or a rule (`source`, and the rule's
    `occasion`). Checks the member is active and the stock (under the reward row lock); issues the
    voucher; `notify` emails the member about it once this transaction commits. Callers hold the
    transaction."""
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
    voucher = voucher_issue(redemption, reward, now)
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


def reward_viewed(*, member: Member, reward: Reward) -> None:
    """A member looked at a reward they cannot afford yet: the abandoned-redemption journey waits for
    them to earn enough."""
    event_record(RewardViewed(reward=reward.pk, points=reward.points_cost), program=member.program, member=member)
