"""Member accounts: enrollment (with the welcome gift and the referral it may hold), profile and
consents, email changes (verified by the new address, told to the old one), status, GDPR erasure,
and the NPS answer feedback hands over."""

import secrets
from datetime import date

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.codes import luhn_digit
from core.errors import Conflict, DomainError
from members.checks import referral_check
from members.events import MemberEnrolled, MemberErased
from members.links import EMAIL_CONFIRM_MAX_AGE, email_change_url
from members.locks import lock_member
from members.models import EmailChange, LedgerEntry, Member, Partner, Program, TierChange
from members.outbox import event_record
from members.phones import PhoneInvalid, phone_e164
from members.services.ledger import ledger_credit
from members.zones import zone_names

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def _new_member_number() -> str:
    """12 digits with a Luhn check digit, so a mistyped card number is caught at the till."""
    while True:
        body = str(secrets.randbelow(9 * 10**10) + 10**10)
        number = body + luhn_digit(body)
        if not Member.objects.filter(number=number).exists():
            return number


def new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _new_referral_code() -> str:
    while True:
        code = new_code(8)
        if not Member.objects.filter(referral_code=code).exists():
            return code


def normalize_email(email: str) -> str:
    return email.strip().lower()


# A birthday earns a gift once a year: a date in the future or before anyone now alive is a typo.
OLDEST_MEMBER_YEARS = 120


def _validate_profile(
    *,
    email: str | None = None,
    language: str | None = None,
    birth_date: date | None = None,
    time_zone: str | None = None,
) -> None:
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
    if time_zone and time_zone not in zone_names():
        raise DomainError(
            "invalid_time_zone",
            f"Unknown time zone {time_zone[:64]!r}: use an IANA name such as Europe/Bucharest.",
            fields={"time_zone": ["Unknown time zone."]},
        )
    if birth_date is not None:
        today = timezone.localdate()
        if not today.replace(year=today.year - OLDEST_MEMBER_YEARS, day=min(today.day, 28)) <= birth_date <= today:
            raise DomainError(
                "invalid_birth_date",
                f"A birth date must lie within the last {OLDEST_MEMBER_YEARS} years and not in the future.",
                fields={"birth_date": [_("Enter your real date of birth.")]},
            )


def phone_normalize(phone: str | None, *, program: Program) -> str:
    """The E.164 form of `phone`, read in the program's default region (members/phones.py); a
    DomainError naming the field when it is not a valid number."""
    try:
        return phone_e164(phone or "", region=program.default_region)
    except PhoneInvalid as exc:
        hint = (
            f"Enter a valid {program.default_region} number, or any number with + and its country code."
            if program.default_region
            else "Enter the number with + and its country code, e.g. +40 721 000 111."
        )
        raise DomainError("invalid_phone", "This is not a valid phone number.", fields={"phone": [hint]}) from exc


PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "birth_date", "language", "external_id", "time_zone")


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
    time_zone: str = "",
    consent_email: bool = False,
    consent_sms: bool = False,
    referral_code: str = "",
    user=None,
    device: str = "",
    welcome_gift: bool = True,
) -> Member:
    """`welcome_gift`: False for a member moving from another platform (opening balances)."""
    email = normalize_email(email)
    _validate_profile(email=email, language=language, birth_date=birth_date, time_zone=time_zone)
    phone = phone_normalize(phone, program=program)
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
                time_zone=time_zone,
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
    if program.welcome_bonus and welcome_gift:
        member = lock_member(member)
        ledger_credit(
            member,
            kind=LedgerEntry.Kind.WELCOME,
            points=program.welcome_bonus,
            reason=gettext_noop("Welcome gift"),
            reason_params={},
            now=now,
        )
    if referrer is not None:
        referral_check(member=member, referrer=referrer, device=device)
    event_record(
        MemberEnrolled(member=member.number, referred_by=referrer.number if referrer else None),
        program=program,
        member=member,
    )
    return member


def member_enroll_once(*, program: Program, external_id: str, email: str, **fields) -> tuple[Member, bool]:
    """Enroll by the caller's own customer id, idempotently (batches and imports): a member of the
    program already holding `external_id` with the same email is returned with False; with another
    email it is a 409 `external_id_taken`. A retried line, or a line of a file imported twice,
    never enrolls twice."""
    if not external_id:
        message = "Each line needs your external_id: it is what makes the line safe to send again."
        raise DomainError("external_id_required", message, fields={"external_id": [message]})
    existing = Member.objects.select_related("tier").filter(program=program, external_id=external_id).first()
    if existing is None:
        try:
            return member_enroll(program=program, external_id=external_id, email=email, **fields), True
        except Conflict as exc:
            if exc.code not in ("external_id_taken", "email_taken"):
                raise
            # A concurrent line with the same id won the race: answer as a repeat would.
            existing = Member.objects.select_related("tier").filter(program=program, external_id=external_id).first()
            if existing is None:
                raise
    if existing.email != normalize_email(email):
        raise Conflict(
            "external_id_taken",
            "A member with this external id already exists, with another email.",
            fields={"external_id": ["Already used."]},
        )
    return existing, False


@transaction.atomic
def member_update(*, member: Member, **fields) -> Member:
    """Profile and consent fields only; balances, tier and status are never written here."""
    unknown = set(fields) - set(PROFILE_FIELDS) - {"consent_email", "consent_sms"}
    if unknown:
        raise DomainError("not_writable", f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    member = lock_member(member)
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
    _validate_profile(
        email=fields.get("email"),
        language=fields.get("language"),
        birth_date=fields.get("birth_date"),
        time_zone=fields.get("time_zone"),
    )
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], program=member.program)
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


def _email_free(member: Member, email: str) -> None:
    if Member.objects.filter(program_id=member.program_id, email=email).exclude(pk=member.pk).exists():
        raise Conflict("email_taken", "Another member uses this email.", fields={"email": ["Already used."]})


@transaction.atomic
def member_profile_change(
    *, member: Member, requested_by: str, partner: Partner | None = None, **fields
) -> tuple[Member, EmailChange | None]:
    """A profile change asked for by the member or a partner: every field but the email is written
    at once; a new email (the address sign-in uses) becomes a pending EmailChange instead. Returns
    the member and the change waiting for confirmation, if any."""
    change = None
    if "email" in fields and normalize_email(fields["email"]) == member.email:
        fields.pop("email")  # unchanged: a pending change (if any) stays pending
    if "email" in fields:
        change = email_change_request(
            member=member, new_email=fields.pop("email"), requested_by=requested_by, partner=partner
        )
    member = member_update(member=member, **fields) if fields else lock_member(member)
    return member, change


@transaction.atomic
def email_change_request(
    *, member: Member, new_email: str, requested_by: str, partner: Partner | None = None
) -> EmailChange | None:
    """Ask for the member's email to become `new_email`. Nothing changes until the member opens the
    link mailed to the new address; the old address is told, with a link to report it. A newer
    request replaces a pending one; asking for the current address withdraws it (returns None)."""
    new_email = normalize_email(new_email)
    _validate_profile(email=new_email)
    member = lock_member(member)
    now = timezone.now()
    EmailChange.objects.filter(member=member, status=EmailChange.Status.PENDING).update(
        status=EmailChange.Status.CANCELLED, decided_at=now
    )
    if new_email == member.email:
        return None
    _email_free(member, new_email)
    change = EmailChange.objects.create(
        member=member,
        old_email=member.email,
        new_email=new_email,
        requested_by=requested_by[:80],
        partner=partner,
    )
    transaction.on_commit(lambda: _email_change_send(change), robust=True)
    return change


def _email_change_send(change: EmailChange) -> None:
    """The link to the new address and the notice to the old one, in the member's language. Sent
    after commit: a rolled-back request mails nothing."""
    member = change.member
    with translation.override(member.language):
        context = {
            "member": member,
            "change": change,
            "by_partner": change.partner.name if change.partner_id else "",
            "confirm_url": email_change_url(change, "confirm"),
            "report_url": email_change_url(change, "report"),
            "hours": EMAIL_CONFIRM_MAX_AGE // 3600,
        }
        for template, to in (("email_change_confirm", change.new_email), ("email_change_notice", change.old_email)):
            subject = render_to_string(f"members/emails/{template}_subject.txt", context).strip()
            send_mail(subject, render_to_string(f"members/emails/{template}.txt", context), None, [to])


@transaction.atomic
def email_change_confirm(*, change: EmailChange) -> EmailChange:
    """The new address proved itself: it becomes the member's email (and the sign-in user's)."""
    member = lock_member(change.member)
    change = EmailChange.objects.select_for_update().get(pk=change.pk)
    if change.status != EmailChange.Status.PENDING:
        raise DomainError("not_pending", "This change was already confirmed, replaced or reported.", status=409)
    if member.email != change.old_email:  # changed meanwhile by staff: this request is stale
        change.status, change.decided_at = EmailChange.Status.CANCELLED, timezone.now()
        change.save(update_fields=["status", "decided_at"])
        raise DomainError("not_pending", "The email was changed meanwhile; ask again.", status=409)
    _email_free(member, change.new_email)
    member_update(member=member, email=change.new_email)
    if member.user_id:
        type(member.user).objects.filter(pk=member.user_id).update(email=change.new_email)
    change.status, change.decided_at = EmailChange.Status.CONFIRMED, timezone.now()
    change.save(update_fields=["status", "decided_at"])
    return change


@transaction.atomic
def email_change_report(*, change: EmailChange) -> EmailChange:
    """The old address says it did not ask for this. A pending change is cancelled; a confirmed one
    is undone (the old address comes back) and the account's password is cleared, which also signs
    out every session, so whoever took it over is out; the member signs in again by link."""
    member = lock_member(change.member)
    change = EmailChange.objects.select_for_update().get(pk=change.pk)
    if change.status in (EmailChange.Status.CANCELLED, EmailChange.Status.REPORTED):
        return change
    if change.status == EmailChange.Status.CONFIRMED:
        if member.email != change.new_email:
            raise DomainError("not_current", "This address is no longer the member's email.", status=409)
        _email_free(member, change.old_email)
        member_update(member=member, email=change.old_email)
        if member.user_id:
            user = member.user
            user.email = change.old_email
            user.set_unusable_password()
            user.save(update_fields=["email", "password"])
    change.status, change.decided_at = EmailChange.Status.REPORTED, timezone.now()
    change.save(update_fields=["status", "decided_at"])
    return change


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
    member = lock_member(member)
    changed = _set_consent(member, channel, granted)
    if changed:
        member.save(update_fields=changed)
    return member


@transaction.atomic
def member_set_status(*, member: Member, status: str) -> Member:
    if status not in (Member.Status.ACTIVE, Member.Status.SUSPENDED):
        raise DomainError("invalid_status", "Status must be active or suspended.")
    member = lock_member(member)
    if member.status == Member.Status.ANONYMIZED:
        raise DomainError("member_anonymized", "An anonymized member cannot change status.", status=409)
    member.status = status
    member.save(update_fields=["status"])
    return member


@transaction.atomic
def member_anonymize(*, member: Member) -> Member:
    """GDPR erasure, from staff or the member's own request: personal data goes, ledger amounts stay
    (they are the program's accounts)."""
    member = lock_member(member)
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
    member.email_changes.all().delete()  # they hold old and new addresses
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


def member_nps_set(*, member: Member, score: int) -> None:
    """Feedback reports the latest NPS answer; loyalty typing and segments read it."""
    Member.objects.filter(pk=member.pk).update(last_nps=score)
