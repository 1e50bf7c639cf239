"""Static segments: freezing a dynamic segment's members into a list, importing a list from CSV."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Segment, SegmentMember
from campaigns.selectors import segment_members
from core.csvfiles import ImportMode, ImportRejected, ImportReport, RowError, csv_rows, rows_settle
from core.errors import DomainError
from members.models import Member

CHUNK = 1000


@transaction.atomic
def segment_freeze(*, segment: Segment, name: str = "") -> Segment:
    """Copy today's members of a segment into a new static list."""
    now = timezone.now()
    frozen = Segment.objects.create(
        name=name or f"{segment.name} ({timezone.localdate(now):%Y-%m-%d})",
        program=segment.program,
        kind=Segment.Kind.STATIC,
        description=segment.description,
        frozen_from=segment,
    )
    ids = segment_members(segment=segment, now=now).order_by("pk").values_list("pk", flat=True)
    last = 0
    while True:
        chunk = list(ids.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return frozen
        SegmentMember.objects.bulk_create([SegmentMember(segment=frozen, member_id=i) for i in chunk])
        last = chunk[-1]


@transaction.atomic
def segment_import_csv(*, segment: Segment, data: str, mode: str = ImportMode.ALL_OR_NOTHING) -> ImportReport:
    """Add members to a static segment from CSV with a `number` or `email` column (or one bare column).
    A line naming no active member of the segment's program is a bad line: `mode` says whether it
    refuses the file or is skipped. Members already in the list count as unchanged."""
    if segment.kind != Segment.Kind.STATIC:
        raise DomainError("not_static", _("Only a static segment takes an imported list."))
    rows = list(csv_rows(data))
    if not rows:
        raise ImportRejected([RowError(1, _("The file has no lines."))])
    header = [h.strip().lower() for h in rows[0][1]]
    column = next((header.index(c) for c in ("number", "email") if c in header), None)
    if column is None and len(header) > 1:
        # Several columns and none we know: guessing one would add the wrong members.
        raise ImportRejected([RowError(rows[0][0], _("The header line needs a 'number' or an 'email' column."))])
    body = rows[1:] if column is not None else rows
    column = column or 0
    values = {line: r[column].strip() if len(r) > column else "" for line, r in body}
    members = Member.objects.filter(status=Member.Status.ACTIVE)
    if segment.program_id:
        members = members.filter(program_id=segment.program_id)
    wanted = {v for v in values.values() if v}
    by_number = dict(members.filter(number__in=wanted).values_list("number", "pk"))
    by_email = dict(members.filter(email__in={v.lower() for v in wanted - set(by_number)}).values_list("email", "pk"))
    found, errors = {}, []
    for line, value in values.items():
        pk = by_number.get(value) or by_email.get(value.lower())
        if pk:
            found[line] = pk
        elif not value:
            errors.append(RowError(line, _("The member number or email is empty.")))
        else:
            errors.append(RowError(line, _("'%(value)s' is no active member of this program.") % {"value": value[:80]}))
    skipped = rows_settle(errors, mode)
    ids = set(found.values())
    before = segment.entries.count()
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, member_id=i) for i in ids], ignore_conflicts=True, batch_size=CHUNK
    )
    added = segment.entries.count() - before
    return ImportReport(added=added, unchanged=len(found) - added, skipped=skipped)
