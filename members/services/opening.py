"""Opening balances: a program moving from another platform brings its members' points, as one
audited import job (members.models.ImportJob, kind opening_balances) with a dry run and a per-line
report. Each line is a lot of points of one member (several lines may name the same member: past
entries, each with its own expiry); the member is enrolled when the program does not know them yet
(without the welcome gift: they are not new to the program).

Idempotent: each line's key (its `reference`, else its content and how often that content came
before in the file) is written on the ledger entry, so importing the same file twice adds nothing."""

import hashlib
from collections import Counter
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.errors import DomainError
from members.locks import lock_member
from members.models import ImportJob, LedgerEntry, Member, Program
from members.services.accounts import member_enroll, normalize_email
from members.services.ledger import ledger_credit

COLUMNS = ("email", "external_id", "first_name", "last_name", "points", "expires_at", "earned_at", "reference")
REQUIRED = ("email", "points")
MAX_POINTS = 100_000_000
MAX_REPORT = 5000  # lines reported one by one; a bigger file reports its first ones


def _error(code: str, message: str, field: str) -> DomainError:
    return DomainError(code, message, fields={field: [message]})


def _date(row: dict, field: str) -> date | None:
    value = (row.get(field) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _error("invalid_date", f"{field} is a date written 2026-12-31.", field) from None


def _points(row: dict) -> int:
    value = (row.get("points") or "").strip()
    if not value.isdigit() or not 0 < int(value) <= MAX_POINTS:
        raise _error("invalid_points", f"points is a whole number from 1 to {MAX_POINTS}.", "points")
    return int(value)


def line_keys(rows: list[dict]) -> list[str]:
    """Each line's idempotency key: its reference, else a digest of what it says and how many
    identical lines came before it (two equal lots of one member stay two lots, once)."""
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:
        if (row.get("reference") or "").strip():
            keys.append(row["reference"].strip()[:100])
            continue
        content = "|".join(
            [
                normalize_email(row.get("email") or ""),
                *((row.get(f) or "").strip() for f in ("points", "expires_at", "earned_at")),
            ]
        )
        seen[content] += 1
        keys.append(hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()[:32])
    return keys


def _member(program: Program, row: dict) -> tuple[Member, bool]:
    email = normalize_email(row.get("email") or "")
    try:
        validate_email(email)
    except ValidationError:
        raise _error("invalid_email", "This is not a valid email address.", "email") from None
    member = Member.objects.filter(program=program, email=email).first()
    if member is not None:
        return member, False
    fields = {f: (row.get(f) or "").strip() for f in ("first_name", "last_name", "external_id")}
    return member_enroll(program=program, email=email, welcome_gift=False, **fields), True


def opening_line(*, job: ImportJob, row: dict, key: str) -> dict:
    """One line: its report entry ({status, member, points, message}); refused lines raise DomainError.
    In a dry run the caller rolls the line's savepoint back."""
    points = _points(row)
    expires_on, earned_on = _date(row, "expires_at"), _date(row, "earned_at")
    today = timezone.localdate()
    if expires_on is not None and expires_on <= today:
        raise _error("already_expired", "These points expired already: leave the line out.", "expires_at")
    if earned_on is not None and earned_on > today:
        raise _error("invalid_date", "earned_at is in the future.", "earned_at")
    member, enrolled = _member(job.program, row)
    member = lock_member(member)
    reference = f"opening:{key}"
    if LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.OPENING, reference=reference).exists():
        return {"status": 200, "member": member.number, "points": 0, "message": "Already imported."}
    expires_by = None
    if expires_on is not None:
        expires_by = timezone.make_aware(datetime.combine(expires_on, time.max))
    ledger_credit(
        member,
        kind=LedgerEntry.Kind.OPENING,
        points=points,
        now=timezone.now(),
        expires_by=expires_by,
        reference=reference,
        reason=gettext_noop("Points brought from the previous program (earned %(earned)s)")
        if earned_on
        else gettext_noop("Points brought from the previous program"),
        reason_params={"earned": earned_on.isoformat()} if earned_on else {},
        created_by=job.created_by,
    )
    verb = "Would import" if job.dry_run else "Imported"
    who = "a new member" if enrolled else "the member"
    return {"status": 201, "member": member.number, "points": points, "message": f"{verb} {points} points for {who}."}


def opening_chunk(*, job: ImportJob, rows: list[dict], start: int, stop: int) -> list[dict]:
    """Lines start..stop (0-based) of the file, each in its own savepoint (rolled back in a dry
    run): their report entries, refused ones with their error code."""
    keys = line_keys(rows[:stop])
    report = []
    for index in range(start, stop):
        entry = {"line": index + 1}
        try:
            with transaction.atomic():
                entry |= opening_line(job=job, row=rows[index], key=keys[index])
                if job.dry_run:
                    transaction.set_rollback(True)
        except DomainError as refused:
            entry |= {
                "status": refused.status,
                "member": "",
                "points": 0,
                "message": refused.message,
                "code": refused.code,
                "fields": refused.fields,
            }
        report.append(entry)
    return report
