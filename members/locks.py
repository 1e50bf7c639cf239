"""Row locks on members, and the one order every transaction takes locks in.

Points, tiers and referrals change only under the member row lock (SELECT ... FOR UPDATE), taken
in the service's transaction before it reads what it will change. Two transactions that lock the
same rows in the same order queue instead of deadlocking, so every writer locks:

1. first, the row a decision or a stock is about: a review case (members.review), a reward with
   stock or imported codes, a redemption and its voucher (rewards), then a household (its
   membership and pooled balance: `lock_household`);
2. then members, by primary key, all of them in one statement (`lock_members`, `lock_buyer`);
3. then rows that belong to the locked members: their purchases, point lots (soonest expiry
   first, members.services.ledger), subscriptions, invitations.

Writers that lock only rows of step 3 without a member (a subscription renewed or cancelled, the
periodic subscription job) take no member lock after them, so they never close a cycle.
"""

from django.db.models import Q, QuerySet

from core.errors import Conflict, NotFound
from core.prepared import STAND_IN_ID, STAND_IN_TEXT, Prepared
from members.models import Household, Member, Partner

# Periodic jobs work through CHUNK rows per transaction: a bounded number of rows locked at once,
# and a constant number of queries per chunk.
CHUNK = 2000


def member_qs_select_for_update() -> QuerySet[Member]:
    """Members locked in primary-key order, with the program and tiers every ledger write reads."""
    # order_by("pk") is intentional: a consistent primary-key order prevents deadlocks.
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer join to tier.
    return Member.objects.select_for_update(of=("self",)).select_related("program", "tier", "tier_floor").order_by("pk")


def lock_members(*member_ids: int) -> dict[int, Member]:
    """Lock member rows in id order (a fixed order, so two transactions never deadlock)."""
    return {m.pk: m for m in member_qs_select_for_update().filter(pk__in=member_ids)}


def lock_member_ids(member_ids: list[int]) -> list[int]:
    """Lock the members among `member_ids` in id order without loading them (a periodic job's chunk:
    its set-based statements need the ids only). Returns their ids."""
    return list(
        Member.objects.select_for_update().filter(pk__in=member_ids).order_by("pk").values_list("pk", flat=True)
    )


def lock_member(member: Member) -> Member:
    """The member's row, locked and read again: what it holds now, not what the caller loaded."""
    return lock_members(member.pk)[member.pk]


def _buyer_and_referrer(this: Q) -> QuerySet[Member]:
    # A UNION of two index lookups: "this OR id IN (referrer)" would scan the whole table.
    buyer_ids = Member.objects.filter(this).order_by().values("pk")
    referrer_ids = Member.objects.filter(this, referral_rewarded_at__isnull=True).order_by().values("referred_by_id")
    return member_qs_select_for_update().filter(pk__in=buyer_ids.union(referrer_ids, all=True))


# The earn's first statement, compiled once per process (core.prepared): compiling its 150 columns
# and the UNION was a third of an earn request's CPU.
_LOCK_BUYER_BY_NUMBER = Prepared(
    lambda program_id, number: _buyer_and_referrer(Q(program_id=program_id, number=number)),
    program_id=STAND_IN_ID,
    number=STAND_IN_TEXT,
)
_LOCK_BUYER_BY_ID = Prepared(lambda pk: _buyer_and_referrer(Q(pk=pk)), pk=STAND_IN_ID)


def lock_buyer(member: Member | str, partner: Partner | None) -> tuple[Member, Member | None]:
    """Lock a purchase's member and, while a referral waits for its first qualifying purchase, the
    referrer too: one statement, rows locked in id order like lock_members. `member` may be a
    membership number in the partner's program (the API's hot path: no separate lookup)."""
    if isinstance(member, str):
        if partner is None:
            raise NotFound("Member not found.")
        rows = _LOCK_BUYER_BY_NUMBER(program_id=partner.program_id, number=member)
        buyer = next((m for m in rows if m.number == member and m.program_id == partner.program_id), None)
    else:
        rows = _LOCK_BUYER_BY_ID(pk=member.pk)
        buyer = next((m for m in rows if m.pk == member.pk), None)
    if buyer is None:
        raise NotFound("Member not found.")
    return buyer, next((m for m in rows if m.pk == buyer.referred_by_id), None)


def lock_household(member: Member, *others: int) -> tuple[Household | None, dict[int, Member]]:
    """Lock the member's household row, then the member, every member of that household and
    `others` (member ids) in one statement, in id order. Who belongs to a household changes only
    under its row lock, so what is locked is the whole household as it stands. Without a household:
    (None, the member and `others` locked)."""
    household_id = Member.objects.filter(pk=member.pk).values_list("household_id", flat=True).first()
    if household_id is None:
        return None, lock_members(member.pk, *others)
    household = Household.objects.select_for_update().get(pk=household_id)
    locked = {
        m.pk: m
        for m in member_qs_select_for_update().filter(Q(household_id=household_id) | Q(pk__in=[member.pk, *others]))
    }
    now_in = locked[member.pk].household_id
    if now_in is None:  # left between the two reads (the extra locks are harmless until commit)
        return None, {pk: m for pk, m in locked.items() if pk in {member.pk, *others}}
    if now_in != household_id:  # left and joined another meanwhile: taking that one's lock now could deadlock
        raise Conflict("household_changed", "The member's household changed meanwhile; try again.")
    return household, locked
