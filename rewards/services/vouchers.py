"""Vouchers: their codes, issuing one for a redemption, checking and consuming it at a partner's
checkout, expiry, and importing codes generated elsewhere."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.csvfiles import ImportMode, ImportReport, RowError, csv_rows, rows_settle
from core.errors import DomainError, NotFound
from members import services as members_services
from members.models import Partner
from members.outbox import event_record
from rewards.events import VoucherConsumed
from rewards.models import Redemption, Reward, Voucher
from rewards.selectors import refusal

VOUCHER_CODE_LENGTH = 12  # 31 symbols ** 12 ~ 2 ** 59: not guessable, even with millions issued
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


# --- a voucher's life: issued, checked, consumed, expired -------------------------------------


def voucher_issue(redemption: Redemption, reward: Reward, now: datetime) -> Voucher | None:
    """The voucher of a new redemption, valid `voucher_valid_days` (an event's ticket: until the day
    after the event): the next imported code, or a fresh generated one. None for kinds done without a
    voucher (Reward.issues_voucher). Callers hold the reward row lock when codes are imported."""
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


# --- imported codes -----------------------------------------------------------------------------


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
