"""The checks members' services make as they write: policy, below the services, never crediting points.

- The member must be active to earn or spend: `member_require_active`.

Abuse controls (OWASP API6, unrestricted access to sensitive business flows): points are value, so
earning attracts fraud. What looks wrong is neither refused nor silently dropped: it is recorded,
its points are held, and a `ReviewCase` waits in the admin queue, where staff approve or reject it
(members.review, which credits what was held through the services).

- Velocity limits per member and per partner (earning purchases and points per day, set on the
  program): `earn_limit_check` before a purchase is written, `earn_hold` after.
- Self-referral at enrolment (same phone number, both stored in E.164 by the services so the country
  code counts, same mailbox once the address is normalised, or the
  referrer's device cookie on the referee's sign-up): `referral_check`.
- A refund after the points were spent leaves a debt: `debt_case_open` puts it in front of staff.

The earn hot path (members.services.purchase_record) calls `earn_limit_check`: with no limit set it
only reads the program row already loaded with the locked member, so it costs no query; with limits
it costs one indexed aggregate per dimension (member, partner).
"""

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac

from core.errors import DomainError
from members.earning import referral_points_for
from members.events import PointsHeld
from members.models import LedgerEntry, Member, MemberDevice, Partner, Program, Purchase, ReviewCase
from members.outbox import event_record
from members.zones import program_day_start


def member_require_active(member: Member) -> None:
    """Refuse (409 member_inactive) when the member is suspended or anonymized: such a member
    neither earns, spends, engages nor subscribes."""
    if member.status != Member.Status.ACTIVE:
        raise DomainError(
            "member_inactive", f"Member {member.number} is {member.get_status_display().lower()}.", status=409
        )


# --- velocity limits ---------------------------------------------------------------------------


HOLD_REASONS = ("member_daily_earns", "member_daily_points", "partner_daily_earns", "partner_daily_points")


@dataclass(frozen=True)
class EarnHold:
    """Why a purchase's points are held: which limit, its value and what was already used today."""

    reason: str  # one of HOLD_REASONS
    limit: int
    used: int
    message: str


def _member_earned_today(member: Member, now: datetime) -> tuple[int, int]:
    """The member's earning entries and their points since midnight: one query on the (member,
    created_at) index, over a few rows (held purchases have no entry)."""
    row = LedgerEntry.objects.filter(
        member=member, kind=LedgerEntry.Kind.EARN, created_at__gte=program_day_start(member.program, now)
    ).aggregate(n=Count("pk"), points=Coalesce(Sum("points"), 0))
    return row["n"], row["points"]


# Entries are written with the `now` their transaction took after its locks, and such a transaction
# commits within milliseconds: entries older than this are all committed and can be summed once.
SETTLED_AFTER = timedelta(seconds=10)


def _partner_earned_today(partner: Partner, program: Program, now: datetime) -> tuple[int, int]:
    """The same for a partner, which may record tens of thousands of purchases a day: the day's
    settled part is kept in the cache (totals up to a moment at least SETTLED_AFTER ago), so the one
    query reads only the entries since then, on the (partner, created_at) index. Without the cache
    entry (evicted, another process's local cache) the query simply starts at midnight."""
    start = program_day_start(program, now)
    key = f"fraud:partner-day:{partner.pk}:{start.isoformat()}"
    since, n, points = cache.get(key) or (start, 0, 0)
    settled = max(since, now - SETTLED_AFTER)
    before = Q(created_at__lt=settled)
    row = LedgerEntry.objects.filter(partner=partner, kind=LedgerEntry.Kind.EARN, created_at__gte=since).aggregate(
        new_n=Count("pk"),
        new_points=Coalesce(Sum("points"), 0),
        settled_n=Count("pk", filter=before),
        settled_points=Coalesce(Sum("points", filter=before), 0),
    )
    if row["settled_n"]:
        cache.set(key, (settled, n + row["settled_n"], points + row["settled_points"]), timeout=2 * 86400)
    return n + row["new_n"], points + row["new_points"]


def _over(who: str, used: tuple[int, int], earns: int | None, points_limit: int | None, points: int) -> EarnHold | None:
    n, earned = used
    if earns is not None and n + 1 > earns:
        return EarnHold(
            f"{who}_daily_earns", earns, n, f"The {who}'s limit of {earns} earning purchases a day is reached."
        )
    if points_limit is not None and earned + points > points_limit:
        return EarnHold(
            f"{who}_daily_points",
            points_limit,
            earned,
            f"These points would take the {who} past the limit of {points_limit} points a day.",
        )
    return None


def earn_limit_check(*, member: Member, partner: Partner | None, points: int, now: datetime) -> EarnHold | None:
    """Would crediting `points` for a purchase break one of the program's daily limits?

    Call it with the member row locked (purchase_record does): two purchases of one member then
    never both see room for one, so the member limit is exact. The partner limit is read without a
    lock: concurrent purchases of *different* members through one partner may each see the last
    free slot, so it can be passed by at most the number of that partner's purchases in flight at
    that moment (and each of those is still a real, recorded purchase).
    """
    program = member.program
    if points <= 0:
        return None
    hold = None
    if program.member_daily_earns is not None or program.member_daily_points is not None:
        used = _member_earned_today(member, now)
        hold = _over("member", used, program.member_daily_earns, program.member_daily_points, points)
    partner_limited = program.partner_daily_earns is not None or program.partner_daily_points is not None
    if hold is None and partner is not None and partner_limited:
        used = _partner_earned_today(partner, program, now)
        hold = _over("partner", used, program.partner_daily_earns, program.partner_daily_points, points)
    return hold


def earn_hold(
    *, purchase: Purchase, points: int, breakdown: list[dict], hold: EarnHold, revision: int | None = None
) -> ReviewCase:
    """Open the review case of a purchase recorded without its points (in purchase_record's transaction).
    `revision`: the rule revision the points were quoted under, named by the earn entry if approved."""
    case = ReviewCase.objects.create(
        kind=ReviewCase.Kind.EARN_LIMIT,
        program_id=purchase.program_id,
        member_id=purchase.member_id,
        points=points,
        purchase=purchase,
        reference=f"purchase:{purchase.external_id}",
        details={**asdict(hold), "partner": purchase.partner_id, "breakdown": breakdown, "revision": revision},
    )
    event_record(
        PointsHeld(
            member=purchase.member.number, purchase=purchase.pk, points=points, reason=hold.reason, case=case.pk
        ),
        program=purchase.member.program,
        member=purchase.member,
    )
    return case


# --- self-referral --------------------------------------------------------------------------

# Providers that deliver a.b.c@ and abc@ to the same mailbox; the key is the canonical domain.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def email_key(email: str) -> str:
    """The mailbox an address reaches: lower case, without a +tag (gmail, outlook, icloud, fastmail
    and most mail servers ignore it), and without dots for providers that ignore them."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


# The device cookie: long-lived, random, httponly, set by the member pages (members.views).
DEVICE_COOKIE = "fidelis_device"
DEVICE_COOKIE_AGE = timedelta(days=730)
_DEVICE_SALT = "members.device"


def device_new() -> str:
    return secrets.token_urlsafe(24)


def device_valid(value: str) -> bool:
    return 16 <= len(value) <= 64 and all(ch.isalnum() or ch in "-_" for ch in value)


def device_hash(value: str) -> str:
    """Keyed with SECRET_KEY: the stored hash cannot be turned back into a cookie, nor linked
    across installations."""
    return salted_hmac(_DEVICE_SALT, value, algorithm="sha256").hexdigest()


def device_remember(*, member: Member, device: str) -> None:
    """Note that the member used this browser (only a hash of its cookie is kept)."""
    if device_valid(device):
        MemberDevice.objects.bulk_create(
            [MemberDevice(member=member, device_hash=device_hash(device))], ignore_conflicts=True
        )


def referral_check(*, member: Member, referrer: Member, device: str = "") -> ReviewCase | None:
    """At enrolment with a referral code (inside member_enroll's transaction): hold the referral for
    review when referrer and new member look like one person. The referral then gives no points
    (purchase_record skips it while `referral_held`) until staff approve the case."""
    signals = []
    # The whole E.164 number (members/phones.py): the same local digits in two countries are two phones.
    if member.phone and member.phone == referrer.phone:
        signals.append("phone")
    if email_key(member.email) == email_key(referrer.email):
        signals.append("email")
    if device_valid(device):
        if MemberDevice.objects.filter(member=referrer, device_hash=device_hash(device)).exists():
            signals.append("device")
        device_remember(member=member, device=device)
    if not signals:
        return None
    program = member.program
    nth = Member.objects.filter(referred_by=referrer, referral_rewarded_at__isnull=False).count() + 1
    Member.objects.filter(pk=member.pk).update(referral_held=True)
    member.referral_held = True
    return ReviewCase.objects.create(
        kind=ReviewCase.Kind.SELF_REFERRAL,
        program=program,
        member=member,
        # What the referral would pay today; approval pays what the program gives when it qualifies.
        points=program.referral_referee_points + referral_points_for(program, nth),
        reference=f"members.member:{referrer.pk}",
        details={"signals": signals, "referrer": referrer.number, "referee": member.number},
    )


# --- debt after redemption -------------------------------------------------------------------


def debt_case_open(*, entry: LedgerEntry, debt: int) -> ReviewCase:
    """A refund took back points the member had already spent (purchase_reverse, same transaction):
    the debt is repaid from future earnings, but buying, redeeming and refunding is also a known
    way to turn points into goods, so staff see each case."""
    return ReviewCase.objects.create(
        kind=ReviewCase.Kind.DEBT,
        program_id=entry.program_id,
        member_id=entry.member_id,
        purchase_id=entry.purchase_id,
        reference=f"members.ledgerentry:{entry.pk}",
        details={"debt": debt, "refunded": str(entry.amount), "points_taken": -entry.points},
    )
