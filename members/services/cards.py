"""Loyalty cards: issuing one (a generated virtual number, or a printed card's number staff or a
partner register), blocking a lost one, replacing it, and finding the member behind a number.

A card only names its member: points live on the member, so blocking or replacing a card never
moves a point. A card that is not active is refused wherever it is shown (409 `card_blocked`,
`card_replaced`), with the reason in words. Lock order (members.locks): the card row, then members.
"""

import re
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.codes import luhn_digit, luhn_valid
from core.errors import Conflict, DomainError, NotFound
from members.checks import member_require_active
from members.events import CardBlocked, CardIssued
from members.models import Card, Member, Program
from members.outbox import event_record
from members.services.audit import audit_record

# Generated numbers: 16 digits like a payment card, starting with 9 (ISO/IEC 7812 "national use"),
# so they never look like a bank card; the last digit is the Luhn check digit.
GENERATED_PREFIX = "9"
GENERATED_LENGTH = 16
NUMBER_MIN, NUMBER_MAX = 8, 19
_SEPARATORS = re.compile(r"[\s-]")


def card_number_normalize(number: str) -> str:
    """A card number as typed or scanned (spaces and hyphens allowed), checked: 8 to 19 digits with
    a valid Luhn check digit, else a 400 `invalid_card_number` saying why."""
    digits = _SEPARATORS.sub("", number or "")
    if not digits.isdigit() or not NUMBER_MIN <= len(digits) <= NUMBER_MAX:
        message = f"A card number has {NUMBER_MIN} to {NUMBER_MAX} digits."
    elif not luhn_valid(digits):
        message = "This card number's check digit is wrong: check it for a typo."
    else:
        return digits
    raise DomainError("invalid_card_number", message, fields={"number": [message]})


def _new_card_number(program_id: int) -> str:
    while True:
        body = GENERATED_PREFIX + "".join(secrets.choice("0123456789") for _ in range(GENERATED_LENGTH - 2))
        number = body + luhn_digit(body)
        if not Card.objects.filter(program_id=program_id, number=number).exists():
            return number


def _card_create(*, member: Member, number: str, actor, replaces: str | None = None) -> Card:
    kind = Card.Kind.PRINTED if number else Card.Kind.VIRTUAL
    number = card_number_normalize(number) if number else _new_card_number(member.program_id)
    try:
        with transaction.atomic():
            card = Card.objects.create(
                program_id=member.program_id,
                member=member,
                number=number,
                kind=kind,
                issued_at=timezone.now(),
                created_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        raise Conflict(
            "card_number_taken",
            "This card number already belongs to a member of the program.",
            fields={"number": ["Already issued."]},
        ) from None
    event_record(
        CardIssued(member=member.number, card=card.number, kind=card.kind, replaces=replaces),
        program=member.program,
        member=member,
    )
    return card


@transaction.atomic
def card_issue(*, member: Member, number: str = "", actor=None, source: str = "") -> Card:
    """Give an active member a card: `number` registers a printed card (checked, unique in the
    program); without it a virtual number is generated. `actor` (staff) is written to the audit trail."""
    member_require_active(member)
    card = _card_create(member=member, number=number, actor=actor)
    if actor is not None:
        audit_record(actor=actor, action="card.issued", target=member, changes={"card": [None, card.pk]}, reason=source)
    return card


def _card_lock(card: Card) -> Card:
    return Card.objects.select_for_update(of=("self",)).select_related("member__program").get(pk=card.pk)


def _card_block(card: Card, *, status: str, reason: str, actor) -> None:
    if card.status != Card.Status.ACTIVE:
        raise Conflict("card_not_active", f"Card {card.number} is already {card.get_status_display().lower()}.")
    card.status, card.blocked_at, card.block_reason = status, timezone.now(), reason.strip()[:200]
    card.save(update_fields=["status", "blocked_at", "block_reason"])
    event_record(
        CardBlocked(member=card.member.number, card=card.number, reason=card.block_reason),
        program=card.member.program,
        member=card.member,
    )
    if actor is not None:
        audit_record(
            actor=actor,
            action="card.blocked",
            target=card.member,
            changes={"card": [card.pk, card.pk], "status": [Card.Status.ACTIVE, status]},
            reason=reason,
        )


@transaction.atomic
def card_block(*, card: Card, reason: str, actor=None) -> Card:
    """Block a lost or stolen card: it is refused from now on; the member's points stay theirs."""
    if not reason.strip():
        raise DomainError("reason_required", "Say why the card is blocked.", fields={"reason": ["Required."]})
    card = _card_lock(card)
    _card_block(card, status=Card.Status.BLOCKED, reason=reason, actor=actor)
    return card


@transaction.atomic
def card_replace(*, card: Card, reason: str, number: str = "", actor=None) -> Card:
    """Replace a card (lost, damaged, or blocked earlier): the old one is refused from now on, the
    new one (printed `number`, else a virtual one) is active at once; the balance never moves."""
    if not reason.strip():
        raise DomainError("reason_required", "Say why the card is replaced.", fields={"reason": ["Required."]})
    card = _card_lock(card)
    if card.status == Card.Status.REPLACED:
        raise Conflict("card_not_active", f"Card {card.number} was already replaced.")
    if card.status == Card.Status.ACTIVE:
        _card_block(card, status=Card.Status.REPLACED, reason=reason, actor=actor)
    else:
        card.status = Card.Status.REPLACED
    member_require_active(card.member)
    new = _card_create(member=card.member, number=number, actor=actor, replaces=card.number)
    card.replaced_by = new
    card.save(update_fields=["status", "replaced_by"])
    if actor is not None:
        audit_record(
            actor=actor,
            action="card.replaced",
            target=card.member,
            changes={"card": [card.pk, new.pk]},
            reason=reason,
        )
    return new


def card_refuse_inactive(card: Card) -> None:
    """A blocked or replaced card is refused with a 409 that says what to do instead."""
    if card.status == Card.Status.BLOCKED:
        raise Conflict("card_blocked", f"Card {card.number} is blocked; ask the member for another card.")
    if card.status == Card.Status.REPLACED:
        raise Conflict("card_replaced", f"Card {card.number} was replaced by a newer card; ask the member for it.")


def card_active(*, program: Program | int, number: str) -> Card:
    """The active card with this number in the program, with its member: 400 for a mistyped number,
    404 for an unknown one, 409 for a blocked or replaced one."""
    number = card_number_normalize(number)
    program_id = program if isinstance(program, int) else program.pk
    card = Card.objects.select_related("member__program", "member__tier").filter(program_id=program_id, number=number)
    card = card.first()
    if card is None:
        raise NotFound("Card not found.")
    card_refuse_inactive(card)
    return card


def card_shown(*, program_id: int, number: str, member: Member | str | None = None) -> Card:
    """The active card a partner names (card_active); with a member (or membership number) too,
    the two must agree: a 400 `card_mismatch` otherwise."""
    card = card_active(program=program_id, number=number)
    if member is not None and member != card.member and member != card.member.number:
        raise DomainError(
            "card_mismatch", "This card belongs to another member.", fields={"card": ["Not this member's card."]}
        )
    return card
