"""Households: members of a program who pool their points to redeem together.

- A member founds one (household_create), invites others by member number or email
  (household_invite); the invited member accepts or declines. The program sets the size
  (Program.household_max_members; 0 turns households off) and whether the household's combined
  metric qualifies its members for tiers (Program.household_tier_mode, members.households).
- Earning never changes: each member's points are on their own ledger. A pooled redemption
  (household_points_spend) takes the redeemer's own points first (soonest expiry first, as any
  spend), then the other members' oldest lots first (by when they became available); each member
  it draws on gets their own REDEEM entry naming the household and the redeemer.
- Leaving keeps what the member earned; what a pooled redemption already took from them stays spent
  (a cancelled redemption returns each member what it took: household_points_refund).

Membership changes and pooled redemptions take the household row lock first, then its members in
one statement by id (members.locks.lock_household): concurrent redemptions of two members queue
instead of overdrawing or deadlocking.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.enqueue import enqueue_on_commit
from core.errors import Conflict, DomainError, NotFound
from members.checks import member_require_active
from members.events import HouseholdJoined, HouseholdLeft
from members.households import household_pool_of
from members.locks import lock_household, lock_member, lock_members
from members.models import Household, HouseholdInvitation, LedgerEntry, Member, Partner, PointLot, Program
from members.outbox import event_record
from members.services.accounts import normalize_email
from members.services.ledger import ledger_credit, ledger_debit
from members.services.tiers import tier_evaluate
from members.texts import ledger_reason

NAME_MAX = 80


def _require_enabled(program: Program) -> None:
    if program.household_max_members < 1:
        raise Conflict("households_off", _("This program does not offer households."))


def _require_room(household: Household, members: int) -> None:
    most = household.program.household_max_members
    if members >= most:
        raise Conflict(
            "household_full",
            _("A household may have at most %(most)s members.") % {"most": most},
        )


def _join(member: Member, household: Household, now: datetime, invited_by: Member | None, members: int) -> None:
    member.household, member.household_joined_at = household, now
    member.save(update_fields=["household", "household_joined_at"])
    event_record(
        HouseholdJoined(
            member=member.number,
            household=household.pk,
            name=household.name,
            invited_by=invited_by.number if invited_by else None,
            members=members,
        ),
        program=household.program,
        member=member,
    )
    if household.program.household_tier_mode == Program.HouseholdTierMode.HOUSEHOLD:
        enqueue_on_commit("members.tasks.household_tiers_evaluate", household.pk)


@transaction.atomic
def household_create(*, member: Member, name: str = "") -> Household:
    """Found a household with the member as its first member."""
    member = lock_member(member)
    member_require_active(member)
    _require_enabled(member.program)
    if member.household_id is not None:
        raise Conflict("already_in_household", _("You already belong to a household. Leave it first."))
    name = " ".join(name.split())[:NAME_MAX] or _("%(name)s's household") % {"name": member.first_name or member.number}
    now = timezone.now()
    household = Household.objects.create(program=member.program, name=name, created_by=member, created_at=now)
    _join(member, household, now, None, 1)
    return household


def _invitee(program: Program, who: str) -> Member:
    who = who.strip()
    found = None
    if "@" in who:
        found = Member.objects.filter(program=program, email=normalize_email(who)).first()
    elif who.isdigit():
        found = Member.objects.filter(program=program, number=who).first()
    if found is None:
        raise NotFound(_("No member of the program has this member number or email."), code="member_not_found")
    return found


@transaction.atomic
def household_invite(*, member: Member, invitee: str) -> HouseholdInvitation:
    """Invite a member of the program (by member number or email) into the member's household."""
    _require_enabled(member.program)
    household, locked = lock_household(member)
    member = locked[member.pk]
    if household is None:
        raise Conflict("no_household", _("You do not belong to a household."))
    member_require_active(member)
    other = _invitee(member.program, invitee)
    if other.pk == member.pk or other.household_id == household.pk:
        raise Conflict("already_member", _("This member already belongs to your household."))
    if other.status != Member.Status.ACTIVE:
        raise Conflict("member_inactive", _("This membership is not active."))
    _require_room(household, sum(1 for m in locked.values() if m.household_id == household.pk))
    pending = HouseholdInvitation.objects.filter(
        household=household, member=other, status=HouseholdInvitation.Status.PENDING
    ).first()
    if pending is not None:
        return pending
    return HouseholdInvitation.objects.create(
        household=household, member=other, invited_by=member, created_at=timezone.now()
    )


def _invitation_for(invitation: HouseholdInvitation, member: Member) -> HouseholdInvitation:
    invitation = (
        HouseholdInvitation.objects.select_for_update(of=("self",)).select_related("invited_by").get(pk=invitation.pk)
    )
    if invitation.member_id != member.pk:  # someone else's invitation looks exactly like none
        raise NotFound(_("Invitation not found."), code="invitation_not_found")
    if invitation.status != HouseholdInvitation.Status.PENDING:
        raise Conflict("invitation_decided", _("This invitation was already answered."))
    return invitation


@transaction.atomic
def household_invitation_accept(*, invitation: HouseholdInvitation, member: Member) -> Household:
    """The invited member joins the household, if it still has room and they belong to no other."""
    # Lock order: the household row, then its members and the invited member, then the invitation.
    household = (
        Household.objects.select_for_update(of=("self",)).select_related("program").get(pk=invitation.household_id)
    )
    # Nobody joins or leaves without the household row lock: the ids read now are its members.
    locked = lock_members(*Member.objects.filter(household=household).values_list("pk", flat=True), member.pk)
    member = locked[member.pk]
    invitation = _invitation_for(invitation, member)
    member_require_active(member)
    _require_enabled(household.program)
    if member.household_id is not None:
        raise Conflict("already_in_household", _("You already belong to a household. Leave it first."))
    size = sum(1 for m in locked.values() if m.household_id == household.pk)
    if size == 0:
        raise Conflict("household_gone", _("Everyone has left this household."))
    _require_room(household, size)
    now = timezone.now()
    invitation.status, invitation.decided_at = HouseholdInvitation.Status.ACCEPTED, now
    invitation.save(update_fields=["status", "decided_at"])
    _join(member, household, now, invitation.invited_by, size + 1)
    return household


@transaction.atomic
def household_invitation_decline(*, invitation: HouseholdInvitation, member: Member) -> HouseholdInvitation:
    invitation = _invitation_for(invitation, member)
    invitation.status, invitation.decided_at = HouseholdInvitation.Status.DECLINED, timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    return invitation


@transaction.atomic
def household_leave(*, member: Member) -> None:
    """The member leaves their household with everything they earned. When the last member leaves,
    its pending invitations are cancelled."""
    household, locked = lock_household(member)
    member = locked[member.pk]
    if household is None:
        raise Conflict("no_household", _("You do not belong to a household."))
    member.household, member.household_joined_at = None, None
    member.save(update_fields=["household", "household_joined_at"])
    remaining = sum(1 for m in locked.values() if m.household_id == household.pk)
    if not remaining:
        HouseholdInvitation.objects.filter(household=household, status=HouseholdInvitation.Status.PENDING).update(
            status=HouseholdInvitation.Status.CANCELLED, decided_at=timezone.now()
        )
    event_record(
        HouseholdLeft(member=member.number, household=household.pk, name=household.name, members=remaining),
        program=member.program,
        member=member,
    )


def household_points_spend(
    *,
    household: Household,
    members: dict[int, Member],
    redeemer: Member,
    points: int,
    what: str | dict,
    reference: str,
    partner: Partner | None = None,
) -> list[LedgerEntry]:
    """Spend `points` from the household's pool, its members locked by the caller (lock_household):
    the redeemer's own available points first, then the other active members' oldest lots first.
    One REDEEM entry per member drawn on, each naming the household and the redeemer (`what`: what
    was redeemed, stored content in every language or plain text). Refuses what the pool does not
    cover."""
    if points <= 0:
        raise DomainError("invalid_points", "Points must be a positive whole number.")
    mates = {
        pk: m
        for pk, m in members.items()
        if m.household_id == household.pk and m.pk != redeemer.pk and m.status == Member.Status.ACTIVE
    }
    pool = household_pool_of(household=household, members=members)
    if pool < points:
        raise Conflict(
            "insufficient_points",
            _("Not enough points: %(missing)s more needed.") % {"missing": points - pool},
            fields={"points": [f"Household available {pool}, needed {points}."]},
        )
    now = timezone.now()
    reason = ledger_reason(
        gettext_noop("%(what)s (household %(household)s, redeemed by %(redeemer)s)"),
        what=what,
        household=household.name,
        redeemer=redeemer.full_name or redeemer.number,
    )
    fields = {**reason, "reference": reference, "partner": partner}
    entries = []
    own = min(redeemer.points_available, points)
    if own:
        entries.append(
            ledger_debit(redeemer, kind=LedgerEntry.Kind.REDEEM, points=own, now=now, activity=True, **fields)
        )
    if own < points:
        for member_id, (share, lot_ids) in _others_shares(mates, points - own).items():
            lots = PointLot.objects.select_for_update().filter(pk__in=lot_ids).order_by("available_at", "pk")
            entries.append(
                ledger_debit(
                    members[member_id], kind=LedgerEntry.Kind.REDEEM, points=share, now=now, lots=[lots], **fields
                )
            )
    return entries


def _others_shares(mates: dict[int, Member], points: int) -> dict[int, tuple[int, list[int]]]:
    """How much each other member gives, and from which lots: the household's oldest available lots
    first, whoever holds them (by member, in the order their first lot comes)."""
    lots = (
        PointLot.objects.filter(member_id__in=list(mates), pending=False, remaining__gt=0)
        .order_by("available_at", "pk")
        .values_list("pk", "member_id", "remaining")
    )
    shares: dict[int, tuple[int, list[int]]] = {}
    left = points
    for lot_id, member_id, remaining in lots.iterator(chunk_size=500):
        if left <= 0:
            break
        use = min(remaining, left)
        share, ids = shares.get(member_id, (0, []))
        shares[member_id] = (share + use, [*ids, lot_id])
        left -= use
    return shares


@transaction.atomic
def household_points_refund(
    *, program_id: int, reference: str, reason: str, reason_params: dict | None = None, created_by=None
) -> list[LedgerEntry]:
    """Give each member back what the spends under `reference` took from them (a cancelled pooled
    redemption), whether or not they still belong to the household. Members locked in one statement."""
    taken = dict(
        LedgerEntry.objects.filter(program_id=program_id, reference=reference, points__lt=0)
        .order_by()
        .values_list("member_id")
        .annotate(points=-Sum("points"))
    )
    partners = dict(
        LedgerEntry.objects.filter(program_id=program_id, reference=reference, points__lt=0)
        .order_by("pk")
        .values_list("member_id", "partner_id")
    )
    locked = lock_members(*taken)
    now = timezone.now()
    return [
        ledger_credit(
            locked[member_id],
            kind=LedgerEntry.Kind.REFUND,
            points=points,
            now=now,
            reason=reason,
            reason_params=reason_params,
            reference=reference,
            partner_id=partners.get(member_id),
            created_by=created_by,
        )
        for member_id, points in sorted(taken.items())
        if points > 0
    ]


def household_tiers_evaluate(*, household_id: int) -> int:
    """Household tier mode: evaluate each member's tier against the household's combined metric, one
    member per transaction (after a join, or an upgrade of one of them). Returns the members upgraded."""
    upgraded = 0
    for member_id in Member.objects.filter(household_id=household_id).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            member = lock_members(member_id).get(member_id)
            if member is None or member.household_id != household_id or member.status != Member.Status.ACTIVE:
                continue
            before = member.tier_id
            tier_evaluate(member=member)
            upgraded += member.tier_id != before
    return upgraded
