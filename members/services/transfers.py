"""Points transfers: a member gives points to another member of the same program, within the
program's limits (Program.transfer_min_points, transfer_max_points per transfer, and
transfer_daily_points per sender and day; transfer_max_points 0 turns transfers off).

Both ledgers say why, naming the other member; the points keep the expiry they had (the received
lot expires no later than the soonest lot they came from), so a transfer never extends points'
life. Atomic, under both member locks taken in one statement in id order (members.locks), and
idempotent by the caller's `reference`.
"""

from django.db import transaction
from django.db.models import Min, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import Conflict, DomainError
from members.checks import member_require_active
from members.events import PointsTransferred
from members.locks import lock_members
from members.models import LedgerEntry, Member, Partner, PointLot, PointsTransfer
from members.outbox import event_record
from members.services.audit import audit_record
from members.services.ledger import ledger_credit, ledger_debit
from members.zones import program_day_start


def _limits_check(sender: Member, points: int) -> None:
    program = sender.program
    if not program.transfer_max_points:
        raise Conflict("transfers_off", "This program does not let members transfer points.")
    if not program.transfer_min_points <= points <= program.transfer_max_points:
        message = f"A transfer moves {program.transfer_min_points} to {program.transfer_max_points} points."
        raise DomainError("transfer_out_of_range", message, fields={"points": [message]})


def _sent_today(sender: Member, now) -> int:
    start = program_day_start(sender.program, now)
    return PointsTransfer.objects.filter(sender=sender, created_at__gte=start).aggregate(
        points=Coalesce(Sum("points"), 0)
    )["points"]


def _existing(transfer: PointsTransfer, sender: Member, recipient: Member, points: int) -> PointsTransfer:
    if (transfer.sender_id, transfer.recipient_id, transfer.points) != (sender.pk, recipient.pk, points):
        raise Conflict(
            "duplicate_reference",
            "This reference was already used for another transfer.",
            fields={"reference": ["Already used."]},
        )
    return transfer


@transaction.atomic
def points_transfer(
    *,
    sender: Member,
    recipient: Member,
    points: int,
    reference: str,
    partner: Partner | None = None,
    created_by=None,
) -> tuple[PointsTransfer, bool]:
    """Move `points` of the sender's available points to the recipient. The same `reference` again
    returns the first transfer and False (with other members or points: 409 duplicate_reference)."""
    if sender.pk == recipient.pk:
        raise DomainError(
            "same_member", "A member cannot transfer points to themselves.", fields={"to": ["Same member."]}
        )
    if sender.program_id != recipient.program_id:
        raise DomainError(
            "other_program", "Both members must belong to the same program.", fields={"to": ["Other program."]}
        )
    locked = lock_members(sender.pk, recipient.pk)
    sender, recipient = locked[sender.pk], locked[recipient.pk]
    # Read under the locks: a concurrent transfer with the same reference has committed or waits.
    done = PointsTransfer.objects.filter(program_id=sender.program_id, reference=reference).first()
    if done is not None:
        return _existing(done, sender, recipient, points), False
    _limits_check(sender, points)
    member_require_active(sender)
    member_require_active(recipient)
    now = timezone.now()
    daily = sender.program.transfer_daily_points
    if daily is not None:
        sent = _sent_today(sender, now)
        if sent + points > daily:
            raise Conflict(
                "transfer_daily_limit",
                f"A member may send {daily} points a day; {sent} already sent today.",
                fields={"points": [f"At most {max(0, daily - sent)} more today."]},
            )
    if sender.points_available < points:
        raise Conflict(
            "insufficient_points",
            f"Not enough points: {points - sender.points_available} more needed.",
            fields={"points": [f"Available {sender.points_available}, needed {points}."]},
        )
    entry_ref = f"transfer:{reference}"
    sent_entry = ledger_debit(
        sender,
        kind=LedgerEntry.Kind.TRANSFER_OUT,
        points=points,
        now=now,
        activity=True,
        reason=f"Sent to member {recipient.number}",
        reference=entry_ref,
        partner=partner,
        created_by=created_by,
    )
    soonest = PointLot.objects.filter(pk__in=[line["lot"] for line in sent_entry.breakdown]).aggregate(
        soonest=Min("expires_at")
    )["soonest"]
    received_entry = ledger_credit(
        recipient,
        kind=LedgerEntry.Kind.TRANSFER_IN,
        points=points,
        now=now,
        expires_by=soonest,
        reason=f"Received from member {sender.number}",
        reference=entry_ref,
        partner=partner,
        created_by=created_by,
    )
    transfer = PointsTransfer.objects.create(
        program_id=sender.program_id,
        sender=sender,
        recipient=recipient,
        points=points,
        reference=reference,
        partner=partner,
        sent_entry=sent_entry,
        received_entry=received_entry,
        created_by=created_by,
        created_at=now,
    )
    event_record(
        PointsTransferred(
            sender=sender.number, recipient=recipient.number, points=points, reference=reference, transfer=transfer.pk
        ),
        program=sender.program,
        member=sender,
    )
    if created_by is not None:
        audit_record(
            actor=created_by,
            action="points.transferred",
            target=sender,
            changes={"points": [None, points], "recipient": [None, recipient.pk], "transfer": [None, transfer.pk]},
            reason=reference,
        )
    return transfer, True
