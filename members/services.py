"""Writes for members: enrollment, profile, the points ledger, purchases, tiers, plans.

Every balance change runs in one transaction holding the member row lock; the cached balances
on Member always equal the ledger sum and the lots' remainders (see `ledger_check`).
"""

import calendar
import secrets
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, Sum
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from members import fraud
from members.earning import Quote, earn_quote
from members.events import (
    EngagementRecorded,
    MemberEnrolled,
    MemberErased,
    PlanExpired,
    PlanRenewed,
    PlanSubscribed,
    PointsEarned,
    PointsExpired,
    PointsExpiring,
    PointsReversed,
    PurchaseRecorded,
    TierChanged,
    TierExpiring,
)
from members.models import (
    AuditEntry,
    EarningRule,
    EngagementAction,
    Event,
    LedgerEntry,
    Member,
    MembershipPlan,
    Partner,
    PointLot,
    Program,
    Purchase,
    Subscription,
    Tier,
    TierChange,
)
from members.outbox import event_build, event_record, events_record_bulk
from members.selectors import CREDIT_KINDS, add_months, program_rules, tier_qualified, tiers_qualified

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


# --- helpers -------------------------------------------------------------------------------


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def _new_member_number() -> str:
    """12 digits with a Luhn check digit, so a mistyped card number is caught at the till."""
    while True:
        body = str(secrets.randbelow(9 * 10**10) + 10**10)
        number = body + _luhn_digit(body)
        if not Member.objects.filter(number=number).exists():
            return number


def new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _new_referral_code() -> str:
    while True:
        code = new_code(8)
        if not Member.objects.filter(referral_code=code).exists():
            return code


def lock_members(*member_ids: int) -> dict[int, Member]:
    """Lock member rows in id order (a fixed order, so two transactions never deadlock)."""
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer join to tier.
    rows = (
        Member.objects.select_for_update(of=("self",))
        .select_related("program", "tier", "tier_floor")
        .filter(pk__in=member_ids)
        .order_by("pk")
    )
    return {m.pk: m for m in rows}


def _lock_buyer(member: Member | str, partner: Partner | None) -> tuple[Member, Member | None]:
    """Lock a purchase's member and, while a referral waits for its first qualifying purchase, the
    referrer too: one statement, rows locked in id order like lock_members. `member` may be a
    membership number in the partner's program (the API's hot path: no separate lookup)."""
    if isinstance(member, str):
        if partner is None:
            raise NotFound("Member not found.")
        this = Q(program_id=partner.program_id, number=member)
    else:
        this = Q(pk=member.pk)
    # A UNION of two index lookups: "this OR id IN (referrer)" would scan the whole table.
    buyer_ids = Member.objects.filter(this).order_by().values("pk")
    referrer_ids = Member.objects.filter(this, referral_rewarded_at__isnull=True).order_by().values("referred_by_id")
    rows = list(
        Member.objects.select_for_update(of=("self",))
        .select_related("program", "tier", "tier_floor")
        .filter(pk__in=buyer_ids.union(referrer_ids, all=True))
        .order_by("pk")
    )
    if isinstance(member, str):
        buyer = next((m for m in rows if m.number == member and m.program_id == partner.program_id), None)
    else:
        buyer = next((m for m in rows if m.pk == member.pk), None)
    if buyer is None:
        raise NotFound("Member not found.")
    return buyer, next((m for m in rows if m.pk == buyer.referred_by_id), None)


def _lock(member: Member) -> Member:
    return lock_members(member.pk)[member.pk]


def _require_active(member: Member) -> None:
    if member.status != Member.Status.ACTIVE:
        raise DomainError(
            "member_inactive", f"Member {member.number} is {member.get_status_display().lower()}.", status=409
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _validate_profile(*, email: str | None = None, language: str | None = None) -> None:
    if email is not None:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError(
                "invalid_email", "This is not a valid email address.", fields={"email": ["Enter a valid email."]}
            ) from exc
    if language is not None and language not in dict(settings.LANGUAGES):
        raise DomainError(
            "invalid_language",
            f"Language must be one of {', '.join(dict(settings.LANGUAGES))}.",
            fields={"language": ["Unknown language."]},
        )


# --- enrollment and profile --------------------------------------------------------------


PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "birth_date", "language", "external_id")


@transaction.atomic
def member_enroll(
    *,
    program: Program,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    birth_date: date | None = None,
    language: str = "en",
    external_id: str = "",
    consent_email: bool = False,
    consent_sms: bool = False,
    referral_code: str = "",
    user=None,
    device: str = "",
) -> Member:
    email = normalize_email(email)
    _validate_profile(email=email, language=language)
    if Member.objects.filter(program=program, email=email).exists():
        raise Conflict(
            "email_taken",
            "A member with this email already exists in the program.",
            fields={"email": ["Already enrolled."]},
        )
    if external_id and Member.objects.filter(program=program, external_id=external_id).exists():
        raise Conflict(
            "external_id_taken",
            "A member with this external id already exists.",
            fields={"external_id": ["Already used."]},
        )
    referrer = None
    if referral_code:
        referrer = Member.objects.filter(program=program, referral_code=referral_code.strip().upper()).first()
        if referrer is None:
            raise DomainError(
                "invalid_referral_code",
                "This referral code does not exist.",
                fields={"referral_code": ["Unknown code."]},
                status=404,  # like an unknown member number in a request body: the thing named is not found
            )
    now = timezone.now()
    try:
        with transaction.atomic():
            member = Member.objects.create(
                program=program,
                email=email,
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                birth_date=birth_date,
                language=language,
                external_id=external_id,
                consent_email=consent_email,
                consent_email_at=now if consent_email else None,
                consent_sms=consent_sms,
                consent_sms_at=now if consent_sms else None,
                number=_new_member_number(),
                referral_code=_new_referral_code(),
                referred_by=referrer,
                tier=program.tiers.filter(level=0).first(),
                last_activity_at=now,
                user=user,
            )
    except IntegrityError as exc:
        raise Conflict("email_taken", "A member with this email already exists in the program.") from exc
    if member.tier_id:
        TierChange.objects.create(member=member, to_tier=member.tier, reason=TierChange.Reason.ENROLL)
    if program.welcome_bonus:
        member = _lock(member)
        _credit(member, kind=LedgerEntry.Kind.WELCOME, points=program.welcome_bonus, reason="Welcome gift", now=now)
    if referrer is not None:
        fraud.referral_check(member=member, referrer=referrer, device=device)
    event_record(
        MemberEnrolled(member=member.number, referred_by=referrer.number if referrer else None),
        program=program,
        member=member,
    )
    return member


@transaction.atomic
def member_update(*, member: Member, **fields) -> Member:
    """Profile and consent fields only; balances, tier and status are never written here."""
    unknown = set(fields) - set(PROFILE_FIELDS) - {"consent_email", "consent_sms"}
    if unknown:
        raise DomainError("not_writable", f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    member = _lock(member)
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
    _validate_profile(email=fields.get("email"), language=fields.get("language"))
    if (
        "email" in fields
        and Member.objects.filter(program_id=member.program_id, email=fields["email"]).exclude(pk=member.pk).exists()
    ):
        raise Conflict("email_taken", "Another member uses this email.", fields={"email": ["Already used."]})
    if (
        fields.get("external_id")
        and Member.objects.filter(program_id=member.program_id, external_id=fields["external_id"])
        .exclude(pk=member.pk)
        .exists()
    ):
        raise Conflict(
            "external_id_taken", "Another member uses this external id.", fields={"external_id": ["Already used."]}
        )
    changed = []
    for channel in ("email", "sms"):
        key = f"consent_{channel}"
        if key in fields:
            changed += _set_consent(member, channel, bool(fields.pop(key)))
    for name, value in fields.items():
        setattr(member, name, value)
        changed.append(name)
    if changed:
        member.last_activity_at = timezone.now()
        member.save(update_fields=[*changed, "last_activity_at"])
    return member


def _set_consent(member: Member, channel: str, granted: bool) -> list[str]:
    if getattr(member, f"consent_{channel}") == granted:
        return []
    setattr(member, f"consent_{channel}", granted)
    setattr(member, f"consent_{channel}_at", timezone.now())
    return [f"consent_{channel}", f"consent_{channel}_at"]


@transaction.atomic
def member_consent_set(*, member: Member, channel: str, granted: bool) -> Member:
    if channel not in ("email", "sms"):
        raise DomainError("invalid_channel", "Channel must be email or sms.")
    member = _lock(member)
    changed = _set_consent(member, channel, granted)
    if changed:
        member.save(update_fields=changed)
    return member


@transaction.atomic
def member_set_status(*, member: Member, status: str) -> Member:
    if status not in (Member.Status.ACTIVE, Member.Status.SUSPENDED):
        raise DomainError("invalid_status", "Status must be active or suspended.")
    member = _lock(member)
    if member.status == Member.Status.ANONYMIZED:
        raise DomainError("member_anonymized", "An anonymized member cannot change status.", status=409)
    member.status = status
    member.save(update_fields=["status"])
    return member


@transaction.atomic
def member_anonymize(*, member: Member) -> Member:
    """GDPR erasure, from staff or the member's own request: personal data goes, ledger amounts stay
    (they are the program's accounts)."""
    member = _lock(member)
    member.email = f"erased-{member.pk}@invalid"
    member.phone = member.first_name = member.last_name = member.external_id = ""
    member.birth_date = None
    member.consent_email = member.consent_sms = False
    member.status = Member.Status.ANONYMIZED
    member.save(
        update_fields=[
            "email",
            "phone",
            "first_name",
            "last_name",
            "external_id",
            "birth_date",
            "consent_email",
            "consent_sms",
            "status",
        ]
    )
    member.devices.all().delete()  # the device hashes are identifiers too
    if member.user_id:
        user = member.user
        user.is_active = False
        user.email = user.first_name = user.last_name = ""
        user.username = f"erased-{member.pk}"
        user.set_unusable_password()
        user.save()
    # The admin log names a row by str(member) (number and full name): keep only the number there.
    # The audit trail needs nothing: it never held personal data (audit_repr, audit_changes).
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Member), object_id=str(member.pk)).update(
        object_repr=f"member {member.number}"
    )
    # Other apps erase what they hold of the member's own words (survey comments, ticket texts).
    event_record(MemberErased(member=member.number), program=member.program, member=member)
    return member


# --- the audit trail -------------------------------------------------------------------------

NOT_RECORDED = "(changed, not recorded)"
_SECRET_WORDS = ("password", "secret", "token", "key")
# Field kinds whose values say nothing about a person: kept even for models that describe one.
_NEUTRAL_FIELDS = (
    models.BooleanField,
    models.IntegerField,
    models.DecimalField,
    models.FloatField,
    models.ForeignKey,
    models.ManyToManyField,
    models.DateTimeField,
)


def _describes_person(model) -> bool:
    """A member, a user account, or a row about one (a ticket, a response, a ticket's message)."""
    if model is Member or model is get_user_model():
        return True
    parents = [f.related_model for f in model._meta.concrete_fields if f.many_to_one]
    return Member in parents or any(
        f.many_to_one and f.related_model is Member for p in parents if p is not None for f in p._meta.concrete_fields
    )


def _audit_value(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set, models.QuerySet)):
        return [_audit_value(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _audit_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def audit_changes(model, pairs: dict) -> dict:
    """{field: [before, after]} as JSON, without personal data or secrets: for models that describe a
    person, free text and plain dates (names, email, phone, birth date, messages) and form-only fields
    are recorded as changed, never copied, so erasing a member leaves nothing of them in the
    append-only trail; passwords, keys and secrets are never copied, whatever the model."""
    person = model is None or _describes_person(model)
    result = {}
    for name, (before, after) in pairs.items():
        try:
            field = model._meta.get_field(name)
        except Exception:  # a form-only field (a password pair, a referral code): nothing says it is harmless
            field = None
        neutral = field is not None and (field.choices or isinstance(field, _NEUTRAL_FIELDS))
        secret = any(word in name for word in _SECRET_WORDS)
        if secret or (person and not neutral):
            result[name] = [NOT_RECORDED, NOT_RECORDED]
        else:
            result[name] = [_audit_value(before), _audit_value(after)]
    return result


def audit_repr(obj: models.Model) -> str:
    """How the trail names a row: a member by number, other rows about a person by number or id."""
    if isinstance(obj, Member):
        return f"member {obj.number}"
    if _describes_person(type(obj)):
        return f"{obj._meta.verbose_name} {getattr(obj, 'number', '') or obj.pk}"
    return str(obj)[:200]


def audit_record(
    *, actor, action: str, target: models.Model | None = None, changes=None, reason: str = ""
) -> AuditEntry:
    """Append one line to the audit trail. Called by the admin (every add/change/delete) and by every
    service staff run, inside their transaction: the line exists exactly when the change does.
    `changes` is stored as given: callers pass counts, ids and states, or go through audit_changes."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=audit_repr(target) if target is not None else "",
        changes=_audit_value(changes or {}),
        reason=str(reason or ""),
    )


# --- the ledger ------------------------------------------------------------------------------


def _expiry_for(program: Program, earned_at: datetime) -> datetime | None:
    if program.expiry_policy == Program.Expiry.FIXED:
        return add_months(earned_at, program.expiry_months)
    return None


def _credit(
    member: Member,
    *,
    kind: str,
    points: int,
    now: datetime,
    available_at: datetime | None = None,
    also_save: tuple[str, ...] = (),
    **entry_fields,
) -> LedgerEntry:
    """Add points to a locked member: an entry, a lot, and the cached balances. Debt is repaid first.
    `also_save`: other member fields the caller changed, written in the same UPDATE."""
    if points <= 0:
        raise DomainError("invalid_points", "Points must be a positive whole number.")
    entry = LedgerEntry.objects.create(
        program_id=member.program_id,
        member=member,
        kind=kind,
        points=points,
        created_at=now,
        **entry_fields,
    )
    repaid = min(member.points_debt, points)
    if repaid:
        LedgerEntry.objects.create(
            program_id=member.program_id,
            member=member,
            kind=LedgerEntry.Kind.DEBT,
            points=-repaid,
            reason="Repays points taken back by an earlier refund",
            reference=f"members.ledgerentry:{entry.pk}",
            created_at=now,
        )
        member.points_debt -= repaid
    net = points - repaid
    available_at = available_at or now
    pending = available_at > now
    if net:
        PointLot.objects.create(
            member=member,
            entry=entry,
            points=net,
            remaining=net,
            pending=pending,
            available_at=available_at,
            expires_at=_expiry_for(member.program, now),
        )
    if pending:
        member.points_pending += net
    else:
        member.points_available += net
    if kind in CREDIT_KINDS:
        member.points_lifetime += points
    member.last_activity_at = now
    member.save(
        update_fields=[
            "points_available",
            "points_pending",
            "points_lifetime",
            "points_debt",
            "last_activity_at",
            *also_save,
        ]
    )
    return entry


def _consume(member: Member, points: int, lots=None) -> tuple[int, list[dict]]:
    """Take up to `points` from lots (default: available lots, soonest expiry first). Returns taken and a breakdown."""
    if lots is None:
        lots = (
            PointLot.objects.select_for_update()
            .filter(member=member, pending=False, remaining__gt=0)
            .order_by(F("expires_at").asc(nulls_last=True), "id")
        )
    taken, touched, detail = 0, [], []
    for lot in lots:
        if taken >= points:
            break
        use = min(lot.remaining, points - taken)
        lot.remaining -= use
        taken += use
        touched.append(lot)
        detail.append({"lot": lot.pk, "points": use})
        if lot.pending:
            member.points_pending -= use
        else:
            member.points_available -= use
    PointLot.objects.bulk_update(touched, ["remaining"])
    return taken, detail


@transaction.atomic
def points_spend(
    *,
    member: Member,
    points: int,
    reason: str,
    reference: str = "",
    kind: str = LedgerEntry.Kind.REDEEM,
    partner: Partner | None = None,
    created_by=None,
) -> LedgerEntry:
    """Spend available points (soonest-expiring lots first). Never overdraws."""
    if points <= 0:
        raise DomainError("invalid_points", "Points must be a positive whole number.")
    member = _lock(member)
    _require_active(member)
    if member.points_available < points:
        missing = points - member.points_available
        raise DomainError(
            "insufficient_points",
            f"Not enough points: {missing} more needed.",
            fields={"points": [f"Available {member.points_available}, needed {points}."]},
            status=409,
        )
    now = timezone.now()
    _, detail = _consume(member, points)
    member.last_activity_at = now
    member.save(update_fields=["points_available", "points_pending", "last_activity_at"])
    return LedgerEntry.objects.create(
        program_id=member.program_id,
        member=member,
        kind=kind,
        points=-points,
        reason=reason,
        reference=reference,
        partner=partner,
        breakdown=detail,
        created_by=created_by,
        created_at=now,
    )


@transaction.atomic
def points_grant(
    *,
    member: Member,
    points: int,
    reason: str,
    reference: str = "",
    kind: str = LedgerEntry.Kind.GRANT,
    created_by=None,
) -> LedgerEntry:
    """Give points that are available at once (surprises, challenges, survey rewards)."""
    member = _lock(member)
    _require_active(member)
    now = timezone.now()
    entry = _credit(
        member, kind=kind, points=points, now=now, reason=reason, reference=reference, created_by=created_by
    )
    event_record(
        PointsEarned(member=member.number, points=points, kind=kind, entry=entry.pk),
        program=member.program,
        member=member,
    )
    tier_evaluate(member=member, now=now)
    return entry


@transaction.atomic
def points_refund(*, member: Member, points: int, reason: str, reference: str = "", created_by=None) -> LedgerEntry:
    """Return spent points (a cancelled redemption or an unconfirmed checkout hold)."""
    member = _lock(member)
    return _credit(
        member,
        kind=LedgerEntry.Kind.REFUND,
        points=points,
        now=timezone.now(),
        reason=reason,
        reference=reference,
        created_by=created_by,
    )


def points_adjust_limit(*, program: Program, user) -> int | None:
    """The largest adjustment `user` may make at once in `program`; None: no limit."""
    if user is not None and user.has_perm("members.adjust_points_unlimited"):
        return None
    return program.adjust_limit if program.adjust_limit is not None else settings.POINTS_ADJUST_LIMIT


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, created_by) -> LedgerEntry:
    """A staff correction, up or down, always with a reason, within the staff user's limit."""
    if not reason.strip():
        raise DomainError("reason_required", "An adjustment needs a reason.", fields={"reason": ["Required."]})
    if points == 0:
        raise DomainError("invalid_points", "An adjustment must change the balance.")
    limit = points_adjust_limit(program=member.program, user=created_by)
    if limit is not None and abs(points) > limit:
        raise DomainError(
            "over_adjust_limit",
            f"Adjustments are limited to {limit} points at once; ask a program manager for more.",
            fields={"points": [f"At most {limit} up or down."]},
            status=403,
        )
    member = _lock(member)
    before = member.points_available
    now = timezone.now()
    if points > 0:
        entry = _credit(
            member, kind=LedgerEntry.Kind.ADJUST, points=points, now=now, reason=reason, created_by=created_by
        )
    else:
        if member.points_available < -points:
            raise DomainError(
                "insufficient_points", f"Only {member.points_available} points are available to remove.", status=409
            )
        _, detail = _consume(member, -points)
        member.save(update_fields=["points_available", "points_pending"])
        entry = LedgerEntry.objects.create(
            program_id=member.program_id,
            member=member,
            kind=LedgerEntry.Kind.ADJUST,
            points=points,
            reason=reason,
            breakdown=detail,
            created_by=created_by,
            created_at=now,
        )
    audit_record(
        actor=created_by,
        action="points.adjust",
        target=member,
        changes={"points_available": [before, member.points_available], "ledger_entry": [None, entry.pk]},
        reason=reason,
    )
    return entry


# --- purchases -------------------------------------------------------------------------------


def active_plan(member: Member, at: datetime | None = None) -> MembershipPlan | None:
    if not program_rules(member.program).has_plans:
        return None  # most programs sell no plans: skip the lookup on every purchase
    at = at or timezone.now()
    sub = (
        Subscription.objects.select_related("plan")
        .filter(member=member, expires_at__gt=at)
        .exclude(status=Subscription.Status.EXPIRED)
        .first()
    )
    return sub.plan if sub else None


def purchase_quote(
    *,
    member: Member,
    partner: Partner | None,
    amount: Decimal,
    items: list[dict] | None = None,
    paid_with_points: Decimal = Decimal("0"),
    at: datetime | None = None,
) -> Quote:
    """What a purchase would earn (the simulate endpoint and the admin simulator)."""
    return earn_quote(
        program=member.program,
        amount=amount,
        at=at or timezone.now(),
        items=items,
        paid_with_points=paid_with_points,
        tier=member.tier,
        partner=partner,
        plan=active_plan(member, at),
    )


# Tills and e-shops clocks drift a little; a purchase further in the future is a mistake.
CLOCK_SKEW = timedelta(minutes=10)


def _validate_purchase(
    member: Member,
    partner: Partner | None,
    amount: Decimal,
    currency: str,
    paid_with_points: Decimal,
    discount_amount: Decimal = Decimal("0"),
    occurred_at: datetime | None = None,
) -> None:
    if occurred_at is not None and occurred_at > timezone.now() + CLOCK_SKEW:
        raise DomainError(
            "invalid_date", "The purchase date is in the future.", fields={"occurred_at": ["In the future."]}
        )
    if discount_amount < 0:
        raise DomainError(
            "invalid_amount", "The discount cannot be negative.", fields={"discount_amount": ["Must be zero or more."]}
        )
    if amount <= 0:
        raise DomainError(
            "invalid_amount", "The amount must be positive.", fields={"amount": ["Must be greater than zero."]}
        )
    if paid_with_points < 0 or paid_with_points > amount:
        raise DomainError(
            "invalid_amount",
            "The part paid with points must be between zero and the amount.",
            fields={"paid_with_points": ["Out of range."]},
        )
    if currency.upper() != member.program.currency:
        raise DomainError(
            "currency_mismatch",
            f"This program works in {member.program.currency}.",
            fields={"currency": [f"Expected {member.program.currency}."]},
        )
    if partner is not None and (partner.program_id != member.program_id or not partner.is_active):
        raise NotFound("Member not found.")


@transaction.atomic
def purchase_record(
    *,
    member: Member | str,
    partner: Partner | None,
    external_id: str,
    amount: Decimal,
    currency: str,
    occurred_at: datetime | None = None,
    items: list[dict] | None = None,
    paid_with_points: Decimal = Decimal("0"),
    discount_amount: Decimal = Decimal("0"),
    created_by=None,
) -> tuple[Purchase, bool]:
    """Record a purchase and earn its points. The same (partner, external_id) never earns twice:
    a repeat returns the first purchase and False. `member` may be a membership number of the
    partner's program (404 if there is none). The purchase carries its earn entry as
    `purchase.earn_entry` (None without points) so callers need not read it back."""
    member, referrer = _lock_buyer(member, partner)
    _validate_purchase(member, partner, amount, currency, paid_with_points, discount_amount, occurred_at)
    _require_active(member)
    if member.referral_rewarded_at is not None or member.referral_held:
        # A concurrent purchase qualified the referral while we waited for the lock, or it is held
        # as a suspected self-referral (members.fraud) until staff approve it.
        referrer = None
    existing = Purchase.objects.filter(program_id=member.program_id, partner=partner, external_id=external_id).first()
    if existing is not None:
        if existing.member_id != member.pk or existing.amount != amount:
            raise Conflict(
                "duplicate_external_id",
                "This external id was already used for another purchase.",
                fields={"external_id": ["Already used."]},
            )
        return existing, False

    now = timezone.now()
    occurred_at = occurred_at or now
    items = items or []
    quote = purchase_quote(
        member=member, partner=partner, amount=amount, items=items, paid_with_points=paid_with_points, at=occurred_at
    )
    hold = fraud.earn_limit_check(member=member, partner=partner, points=max(quote.points, 0), now=now)
    purchase = Purchase.objects.create(
        program_id=member.program_id,
        member=member,
        partner=partner,
        external_id=external_id,
        amount=amount,
        paid_with_points=paid_with_points,
        discount_amount=discount_amount,
        currency=currency.upper(),
        items=items,
        categories=len({i.get("category") for i in items if i.get("category")}),
        occurred_at=occurred_at,
        points=0 if hold else max(quote.points, 0),
    )
    if hold:
        fraud.earn_hold(purchase=purchase, points=quote.points, breakdown=quote.breakdown, hold=hold)
    member.last_purchase_at = max(filter(None, [member.last_purchase_at, occurred_at]))
    member.last_activity_at = now
    entry = None
    if purchase.points:
        entry = purchase_credit(
            member=member,
            purchase=purchase,
            points=purchase.points,
            breakdown=quote.breakdown,
            now=now,
            created_by=created_by,
            also_save=("last_purchase_at",),
        )
    else:
        member.save(update_fields=["last_purchase_at", "last_activity_at"])
    if referrer and amount >= member.program.referral_min_purchase:
        _referral_reward(member, referrer, now)
    events = [
        event_build(
            PurchaseRecorded(
                member=member.number,
                purchase=purchase.pk,
                amount=str(purchase.amount),
                points=purchase.points,
                partner=purchase.partner_id,
            ),
            program=member.program,
            member=member,
        )
    ]
    if entry is not None:
        events.append(purchase_earned_event(purchase=purchase, entry=entry))
    # One INSERT and one dispatch task for both events.
    events_record_bulk(events)
    tier_evaluate(member=member, now=now)
    purchase.earn_entry = entry
    return purchase, True


def purchase_credit(
    *,
    member: Member,
    purchase: Purchase,
    points: int,
    breakdown: list[dict],
    now: datetime,
    created_by=None,
    reason: str = "",
    also_save: tuple[str, ...] = (),
) -> LedgerEntry:
    """The earn entry of a purchase (at recording, or when a held purchase is approved), pending for
    the program's return window from when it was bought."""
    return _credit(
        member,
        kind=LedgerEntry.Kind.EARN,
        points=points,
        now=now,
        available_at=purchase.occurred_at + timedelta(days=member.program.pending_days),
        amount=purchase.amount,
        currency=purchase.currency,
        partner_id=purchase.partner_id,
        purchase=purchase,
        reference=f"purchase:{purchase.external_id}",
        reason=reason,
        breakdown=breakdown,
        created_by=created_by,
        also_save=also_save,
    )


def purchase_earned_event(*, purchase: Purchase, entry: LedgerEntry, case: int | None = None) -> Event:
    """The `points.earned` event of a purchase's earn entry (unsaved: callers record it with the
    other events of their transaction). One builder, so partners' webhooks see one payload shape."""
    return event_build(
        PointsEarned(
            member=purchase.member.number,
            purchase=purchase.pk,
            amount=str(purchase.amount),
            partner=purchase.partner_id,
            points=entry.points,
            kind="earn",
            entry=entry.pk,
            pending=entry.lot.pending if hasattr(entry, "lot") else False,
            case=case,
        ),
        program=purchase.member.program,
        member=purchase.member,
    )


def points_reversed_share(purchase: Purchase, points: int) -> int:
    """The part of a purchase's `points` its refunds so far take back: all of them once it is fully
    refunded, else in proportion to the refunded amount, rounded down."""
    if purchase.refunded_amount == purchase.amount:
        return points
    return int((Decimal(points) * purchase.refunded_amount / purchase.amount).to_integral_value(ROUND_FLOOR))


def referral_points_for(program: Program, nth: int) -> int:
    """Points the referrer gets for their nth successful referral."""
    if program.referral_mode == Program.Referral.SINGLE:
        return program.referral_referrer_points
    if program.referral_mode == Program.Referral.STEPPED:
        points = 0
        for from_count, step_points in sorted(program.referral_steps or []):
            if nth >= from_count:
                points = step_points
        return points
    return 0


def _referral_reward(referee: Member, referrer: Member | None, now: datetime) -> None:
    program = referee.program
    referee.referral_rewarded_at = now
    referee.save(update_fields=["referral_rewarded_at"])
    if program.referral_mode == Program.Referral.OFF:
        return
    if program.referral_referee_points:
        _credit(
            referee,
            kind=LedgerEntry.Kind.REFERRAL,
            points=program.referral_referee_points,
            now=now,
            reason="Joined through a referral",
            reference=f"members.member:{referrer.pk if referrer else ''}",
        )
    if referrer is None or referrer.status != Member.Status.ACTIVE:
        return
    nth = Member.objects.filter(referred_by=referrer, referral_rewarded_at__isnull=False).count()
    points = referral_points_for(program, nth)
    if points:
        _credit(
            referrer,
            kind=LedgerEntry.Kind.REFERRAL,
            points=points,
            now=now,
            reason=f"Referral #{nth}",
            reference=f"members.member:{referee.pk}",
        )
        event_record(
            PointsEarned(member=referrer.number, points=points, kind="referral"), program=program, member=referrer
        )
    tier_evaluate(member=referrer, now=now)


@transaction.atomic
def purchase_reverse(
    *, purchase: Purchase, amount: Decimal | None = None, reason: str = "Refund", created_by=None
) -> LedgerEntry | None:
    """Take back the points of a refunded amount, proportionally. Points already spent become debt."""
    member = _lock(purchase.member)
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    refundable = purchase.amount - purchase.refunded_amount
    amount = refundable if amount is None else amount
    if amount <= 0 or amount > refundable:
        raise DomainError(
            "invalid_amount",
            f"The refund must be between 0 and {refundable}.",
            fields={"amount": [f"At most {refundable}."]},
        )
    purchase.refunded_amount += amount
    target = points_reversed_share(purchase, purchase.points)
    to_take = target - purchase.points_reversed
    purchase.points_reversed = target
    purchase.save(update_fields=["refunded_amount", "points_reversed"])
    now = timezone.now()
    if to_take <= 0:
        return None
    own_lot = PointLot.objects.select_for_update().filter(
        entry__purchase=purchase, entry__kind=LedgerEntry.Kind.EARN, remaining__gt=0
    )
    other_pending = (
        PointLot.objects.select_for_update()
        .filter(member=member, pending=True, remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "id")
    )
    # The purchase's own points first, then spendable points, then other points still pending;
    # only what none of them cover becomes debt.
    taken, detail = 0, []
    for lots in (own_lot, None, other_pending):
        if taken < to_take:
            more, more_detail = _consume(member, to_take - taken, lots)
            taken += more
            detail += more_detail
    shortfall = to_take - taken
    member.points_debt += shortfall
    member.points_lifetime = max(0, member.points_lifetime - to_take)
    member.save(update_fields=["points_available", "points_pending", "points_debt", "points_lifetime"])
    if shortfall:
        detail.append({"debt": shortfall})
    entry = LedgerEntry.objects.create(
        program_id=member.program_id,
        member=member,
        kind=LedgerEntry.Kind.REVERSE,
        points=-taken,
        amount=amount,
        currency=purchase.currency,
        partner=purchase.partner,
        purchase=purchase,
        reason=reason,
        reference=f"purchase:{purchase.external_id}",
        breakdown=detail,
        created_by=created_by,
        created_at=now,
    )
    if shortfall:
        fraud.debt_case_open(entry=entry, debt=shortfall)
    event_record(
        PointsReversed(member=member.number, purchase=purchase.pk, amount=str(amount), points=to_take, debt=shortfall),
        program=member.program,
        member=member,
    )
    return entry


# --- engagement -----------------------------------------------------------------------------


@transaction.atomic
def points_engage(*, member: Member, action: str, reference: str) -> LedgerEntry | None:
    """Award an engagement action within its caps. The same (action, reference) earns once;
    past a cap the action is recorded without points (returns None)."""
    if action not in EarningRule.Action.values:
        raise DomainError(
            "invalid_action",
            f"Unknown action '{action}'.",
            fields={"type": [f"One of {', '.join(EarningRule.Action.values)}."]},
        )
    member = _lock(member)
    _require_active(member)
    now = timezone.now()
    existing = EngagementAction.objects.filter(member=member, action=action, reference=reference).first()
    if existing is not None:
        return existing.entry
    rule = (
        EarningRule.objects.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=now),
            Q(ends_at__isnull=True) | Q(ends_at__gte=now),
            program_id=member.program_id,
            kind=EarningRule.Kind.ENGAGEMENT,
            action=action,
            is_active=True,
        )
        .order_by("-priority", "id")
        .first()
    )
    done = EngagementAction.objects.filter(member=member, action=action, entry__isnull=False)
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    capped = (
        rule is None
        or not rule.points
        or (
            (rule.lifetime_cap is not None and done.count() >= rule.lifetime_cap)
            or (rule.daily_cap is not None and done.filter(created_at__gte=start_of_day).count() >= rule.daily_cap)
        )
    )
    entry = None
    if not capped:
        entry = _credit(
            member,
            kind=LedgerEntry.Kind.ENGAGEMENT,
            points=rule.points,
            now=now,
            reason=rule.name,
            reference=reference,
            breakdown=[{"kind": "engagement", "label": rule.name, "points": rule.points, "rule": rule.pk}],
        )
        event_record(
            PointsEarned(member=member.number, points=rule.points, kind="engagement", action=action),
            program=member.program,
            member=member,
        )
        tier_evaluate(member=member, now=now)
    EngagementAction.objects.create(member=member, action=action, reference=reference, entry=entry)
    event_record(
        EngagementRecorded(
            member=member.number, action=action, reference=reference, points=entry.points if entry else 0
        ),
        program=member.program,
        member=member,
    )
    return entry


# --- periodic ledger work (chunked by member id range; a constant number of queries per chunk) --


CHUNK = 2000


def _member_chunks(lot_filter: Q):
    """Yield sorted lists of member ids that have lots matching the filter, CHUNK at a time."""
    last = 0
    while True:
        ids = list(
            PointLot.objects.filter(lot_filter, member_id__gt=last)
            .order_by("member_id")
            .values_list("member_id", flat=True)
            .distinct()[:CHUNK]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def points_release_pending(*, now: datetime | None = None) -> int:
    """Make pending points spendable once their return window has passed. Returns points released."""
    now = now or timezone.now()
    due = Q(pending=True, available_at__lte=now)
    released = 0
    for ids in _member_chunks(due):
        with transaction.atomic():
            members = lock_members(*ids)
            sums = dict(
                PointLot.objects.filter(due, member_id__in=ids).values_list("member_id").annotate(s=Sum("remaining"))
            )
            PointLot.objects.filter(due, member_id__in=ids).update(pending=False)
            for member_id, points in sums.items():
                m = members[member_id]
                m.points_pending -= points
                m.points_available += points
                released += points
            Member.objects.bulk_update([members[i] for i in sums], ["points_pending", "points_available"])
    return released


def _expire(lot_filter: Q, now: datetime, reason: str) -> int:
    expired = 0
    for ids in _member_chunks(lot_filter):
        with transaction.atomic():
            members = lock_members(*ids)
            lots = list(
                PointLot.objects.filter(lot_filter, member_id__in=ids).values("id", "member_id", "remaining", "pending")
            )
            per_member: dict[int, list[dict]] = {}
            for lot in lots:
                per_member.setdefault(lot["member_id"], []).append(lot)
            entries = []
            for member_id, member_lots in per_member.items():
                m = members[member_id]
                total = sum(lot["remaining"] for lot in member_lots)
                m.points_pending -= sum(lot["remaining"] for lot in member_lots if lot["pending"])
                m.points_available -= sum(lot["remaining"] for lot in member_lots if not lot["pending"])
                entries.append(
                    LedgerEntry(
                        program_id=m.program_id,
                        member_id=member_id,
                        kind=LedgerEntry.Kind.EXPIRE,
                        points=-total,
                        reason=reason,
                        breakdown=[{"lot": lot["id"], "points": lot["remaining"]} for lot in member_lots],
                        created_at=now,
                    )
                )
                expired += total
            PointLot.objects.filter(id__in=[lot["id"] for lot in lots]).update(remaining=0)
            Member.objects.bulk_update([members[i] for i in per_member], ["points_pending", "points_available"])
            LedgerEntry.objects.bulk_create(entries)
            events_record_bulk(
                [
                    event_build(
                        PointsExpired(member=members[entry.member_id].number, points=-entry.points),
                        program_id=entry.program_id,
                        member_id=entry.member_id,
                    )
                    for entry in entries
                ]
            )
    return expired


def points_expire_due(*, now: datetime | None = None) -> int:
    """Expire lots past their date (fixed policy) and balances of inactive members (inactivity policy)."""
    now = now or timezone.now()
    total = _expire(Q(remaining__gt=0, expires_at__lte=now), now, "Points reached their expiry date")
    for program in Program.objects.filter(expiry_policy=Program.Expiry.INACTIVITY):
        cutoff = add_months(now, -program.expiry_months)
        inactive = Q(remaining__gt=0, member__program=program, member__last_activity_at__lt=cutoff)
        total += _expire(inactive, now, f"No activity for {program.expiry_months} months")
    return total


def _expiring_event(program: Program, member_id: int, number: str, points: int, expires_at: datetime) -> Event:
    return event_build(
        PointsExpiring(member=number, points=points, expires_at=expires_at.isoformat()),
        program=program,
        member_id=member_id,
    )


def points_expiry_notify(*, now: datetime | None = None) -> int:
    """Daily: a `points.expiring` event for each member with points that expire within the
    program's notice period. Fixed expiry: once per lot (lots expiring together share one event).
    Inactivity expiry: once per period of inactivity (any activity re-arms it). Returns events."""
    now = now or timezone.now()
    sent = 0
    for program in Program.objects.filter(expiry_policy=Program.Expiry.FIXED):
        horizon = now + timedelta(days=program.expiry_notice_days)
        due = Q(
            member__program=program,
            member__status=Member.Status.ACTIVE,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=horizon,
            expiry_notified_at__isnull=True,
        )
        for ids in _member_chunks(due):
            with transaction.atomic():
                rows = list(
                    PointLot.objects.filter(due, member_id__in=ids)
                    .values("member_id", "member__number")
                    .annotate(points=Sum("remaining"), first=Min("expires_at"))
                )
                events_record_bulk(
                    [
                        _expiring_event(program, row["member_id"], row["member__number"], row["points"], row["first"])
                        for row in rows
                    ]
                )
                PointLot.objects.filter(due, member_id__in=ids).update(expiry_notified_at=now)
                sent += len(rows)
    for program in Program.objects.filter(expiry_policy=Program.Expiry.INACTIVITY):
        cutoff = add_months(now, -program.expiry_months)
        due = Q(
            program=program,
            status=Member.Status.ACTIVE,
            last_activity_at__gte=cutoff,
            last_activity_at__lte=add_months(now + timedelta(days=program.expiry_notice_days), -program.expiry_months),
        ) & (Q(points_available__gt=0) | Q(points_pending__gt=0))
        not_warned = Q(points_expiry_warned_at__isnull=True) | Q(points_expiry_warned_at__lte=F("last_activity_at"))
        last = 0
        while True:
            with transaction.atomic():
                rows = list(
                    Member.objects.filter(due, not_warned, pk__gt=last)
                    .order_by("pk")
                    .values("pk", "number", "points_available", "points_pending", "last_activity_at")[:CHUNK]
                )
                if not rows:
                    break
                last = rows[-1]["pk"]
                events_record_bulk(
                    [
                        _expiring_event(
                            program,
                            row["pk"],
                            row["number"],
                            row["points_available"] + row["points_pending"],
                            add_months(row["last_activity_at"], program.expiry_months),
                        )
                        for row in rows
                    ]
                )
                Member.objects.filter(pk__in=[row["pk"] for row in rows]).update(points_expiry_warned_at=now)
                sent += len(rows)
    return sent


def birthdays_award(*, today: date | None = None) -> int:
    """Daily: the birthday engagement award for members born on this day (29 February birthdays
    are celebrated on the 28th in other years). Once per member and year, within the rule's caps;
    programs without an active birthday rule are skipped. Returns the awards made."""
    today = today or timezone.localdate()
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and calendar.monthrange(today.year, 2)[1] == 28:
        days.append((2, 29))
    born_today = Q()
    for month, day in days:
        born_today |= Q(birth_date__month=month, birth_date__day=day)
    programs = EarningRule.objects.filter(
        kind=EarningRule.Kind.ENGAGEMENT, action=EarningRule.Action.BIRTHDAY, is_active=True, points__gt=0
    ).values("program_id")
    reference = f"birthday:{today.year}"
    celebrated = EngagementAction.objects.filter(
        member=OuterRef("pk"), action=EarningRule.Action.BIRTHDAY, reference=reference
    )
    members = Member.objects.filter(born_today, ~Exists(celebrated), program__in=programs, status=Member.Status.ACTIVE)
    awarded, last = 0, 0
    while True:
        chunk = list(members.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return awarded
        last = chunk[-1].pk
        # One ledger write per member, each under that member's lock, like every other award.
        for member in chunk:
            if points_engage(member=member, action=EarningRule.Action.BIRTHDAY, reference=reference):
                awarded += 1


# --- tiers ------------------------------------------------------------------------------------


def _tier_change(member: Member, tier: Tier | None, reason: str, note: str = "", created_by=None):
    """Move a locked member to `tier` in memory; returns the history row and event to write."""
    previous = member.tier
    member.tier = tier
    member.tier_downgrade_warned_at = None
    change = TierChange(
        member=member, from_tier=previous, to_tier=tier, reason=reason, note=note, created_by=created_by
    )
    event = event_build(
        TierChanged(
            member=member.number,
            from_=previous.name if previous else None,
            to=tier.name if tier else None,
            reason=reason,
        ),
        program_id=member.program_id,
        member=member,
    )
    return change, event


def _tier_set(member: Member, tier: Tier | None, reason: str, note: str = "", created_by=None) -> None:
    change, event = _tier_change(member, tier, reason, note, created_by)
    member.save(update_fields=["tier", "tier_downgrade_warned_at"])
    change.save()
    events_record_bulk([event])


def tier_evaluate(*, member: Member, now: datetime | None = None) -> Tier | None:
    """Upgrade at once when the (locked) member qualifies for a higher tier; called on every
    qualifying event (purchase, points earned, referral)."""
    now = now or timezone.now()
    current_level = member.tier.level if member.tier else -1
    # Only tiers above the current one matter here (the hot path of every purchase), and the
    # current one when a downgrade warning may be lifted. At the top tier nothing is computed.
    min_level = max(current_level if member.tier_downgrade_warned_at else current_level + 1, 0)
    if not any(t.level >= min_level and not t.invitation_only for t in program_rules(member.program).tiers):
        return member.tier
    qualified = tier_qualified(member, now, min_level=min_level)
    if qualified is not None and qualified.level > current_level:
        _tier_set(member, qualified, TierChange.Reason.UPGRADE)
    elif member.tier_downgrade_warned_at and qualified and qualified.level >= current_level:
        member.tier_downgrade_warned_at = None
        member.save(update_fields=["tier_downgrade_warned_at"])
    return member.tier


@transaction.atomic
def tier_assign(*, member: Member, tier: Tier, until: date | None, created_by, note: str = "") -> Member:
    """Staff set a tier; with `until` it is also a floor: reviews never take the member below it
    before that date. Without `until` the tier is reviewed like any other."""
    if tier.program_id != member.program_id:
        raise DomainError("invalid_tier", "The tier belongs to another program.", fields={"tier": ["Wrong program."]})
    if until is not None and until < timezone.localdate():
        raise DomainError(
            "invalid_date", "The floor date is in the past.", fields={"until": ["Must be in the future."]}
        )
    member = _lock(member)
    before = {"tier": member.tier_id, "tier_floor": member.tier_floor_id, "tier_floor_until": member.tier_floor_until}
    member.tier_floor = tier if until else None
    member.tier_floor_until = until
    member.save(update_fields=["tier_floor", "tier_floor_until"])
    if member.tier_id != tier.pk:
        _tier_set(member, tier, TierChange.Reason.MANUAL, note=note, created_by=created_by)
    after = {"tier": member.tier_id, "tier_floor": member.tier_floor_id, "tier_floor_until": member.tier_floor_until}
    audit_record(
        actor=created_by,
        action="tier.assign",
        target=member,
        changes={name: [before[name], after[name]] for name in before},
        reason=note,
    )
    return member


def tiers_review(*, now: datetime | None = None) -> dict[str, int]:
    """Daily, by chunks of members above the entry tier: upgrade who qualifies for more; warn who no
    longer qualifies (`tier.expiring`); once the program's notice period has passed since the warning,
    downgrade by one level. Never below a floor still in force; a member who qualifies again before
    the downgrade keeps the tier. A constant number of queries per chunk."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"warned": 0, "downgraded": 0, "upgraded": 0}
    candidates = Member.objects.filter(tier__level__gt=0, status=Member.Status.ACTIVE).exclude(
        tier__window=Tier.Window.LIFETIME
    )
    tiers_by_program: dict[int, list[Tier]] = {}
    for tier in Tier.objects.order_by("level"):
        tiers_by_program.setdefault(tier.program_id, []).append(tier)
    last = 0
    while True:
        ids = list(candidates.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return counts
        last = ids[-1]
        with transaction.atomic():
            members = list(lock_members(*ids).values())
            qualified = tiers_qualified(members=members, now=now, previous_year=True)
            changes, events, touched = [], [], []
            for member in members:
                action = _tier_review_action(member, qualified[member.pk], now, today)
                if action is None:
                    continue
                touched.append(member)
                if action == "upgraded":
                    pair = _tier_change(member, qualified[member.pk], TierChange.Reason.UPGRADE)
                elif action == "downgraded":
                    lower = [t for t in tiers_by_program[member.program_id] if t.level < member.tier.level]
                    pair = _tier_change(member, lower[-1] if lower else None, TierChange.Reason.DOWNGRADE)
                elif action == "warned":
                    member.tier_downgrade_warned_at = now
                    pair = (
                        None,
                        event_build(
                            TierExpiring(
                                member=member.number,
                                tier=member.tier.name,
                                downgrade_after=str(today + timedelta(days=member.program.tier_notice_days)),
                            ),
                            program_id=member.program_id,
                            member=member,
                        ),
                    )
                else:  # "cleared": qualifies again or is held by a floor
                    member.tier_downgrade_warned_at = None
                    pair = (None, None)
                if action in counts:
                    counts[action] += 1
                changes += [pair[0]] if pair[0] else []
                events += [pair[1]] if pair[1] else []
            Member.objects.bulk_update(touched, ["tier", "tier_downgrade_warned_at"])
            TierChange.objects.bulk_create(changes)
            events_record_bulk(events)


def _tier_review_action(member: Member, qualified: Tier | None, now: datetime, today: date) -> str | None:
    qualified_level = qualified.level if qualified else -1
    floor_in_force = member.tier_floor_id and member.tier_floor_until and member.tier_floor_until >= today
    floor_level = member.tier_floor.level if floor_in_force else -1
    if qualified_level > member.tier.level:
        return "upgraded"
    if qualified_level >= member.tier.level or floor_level >= member.tier.level:
        return "cleared" if member.tier_downgrade_warned_at else None
    if member.tier_downgrade_warned_at is None:
        return "warned"
    if member.tier_downgrade_warned_at + timedelta(days=member.program.tier_notice_days) <= now:
        return "downgraded"
    return None


# --- paid membership -------------------------------------------------------------------------


@transaction.atomic
def plan_subscribe(*, member: Member, plan: MembershipPlan, paid_by: str) -> Subscription:
    if plan.program_id != member.program_id or not plan.is_active:
        raise NotFound("Plan not found.")
    member = _lock(member)
    _require_active(member)
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
        live.status = Subscription.Status.ACTIVE  # re-subscribing before a cancelled plan runs out
        live.cancelled_at = None
        live.save(update_fields=["status", "cancelled_at"])
        return live
    sub = Subscription.objects.create(
        member=member, plan=plan, started_at=now, expires_at=now + timedelta(days=plan.duration_days), paid_by=paid_by
    )
    event_record(PlanSubscribed(member=member.number, plan=plan.name), program=member.program, member=member)
    return sub


@transaction.atomic
def plan_cancel(*, subscription: Subscription) -> Subscription:
    """Stops renewal; perks last until the end of the paid period."""
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if sub.status != Subscription.Status.ACTIVE:
        raise DomainError("not_active", "This membership is not active.", status=409)
    sub.status = Subscription.Status.CANCELLED
    sub.cancelled_at = timezone.now()
    sub.save(update_fields=["status", "cancelled_at"])
    return sub


@transaction.atomic
def plan_renew(*, subscription: Subscription, paid_by: str) -> Subscription:
    """A new paid period (a one-time plan bought again, or a payment taken early): the period is
    added to the current end, or starts now if the membership has run out."""
    sub = Subscription.objects.select_for_update().select_related("plan", "member").get(pk=subscription.pk)
    _require_active(sub.member)
    if sub.status == Subscription.Status.EXPIRED:
        raise DomainError("expired", "This membership has expired; subscribe again.", status=409)
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


# --- NPS hand-off from feedback -------------------------------------------------------------


def member_nps_set(*, member: Member, score: int) -> None:
    """Feedback reports the latest NPS answer; loyalty typing and segments read it."""
    Member.objects.filter(pk=member.pk).update(last_nps=score)
