"""Versions of a program's rules (members.models.RuleRevision): the earn rate, earning rules, tier
thresholds and catalog prices as one immutable snapshot.

- Every edit of the live rules in admin records a published revision (`rule_revision_capture`), so
  the history says who changed what and when; the current revision's id rides in the rules cache
  (members.selectors.program_rules) and every earn entry names it, at no extra query.
- Staff prepare a draft (a copy of the current revision, `rule_revision_draft_create`), change its
  values (`rule_revision_draft_update`), simulate it against the last 30 days of purchases
  (`rule_revision_simulate`: the earning and tier code run with the draft in place of the live
  rules), then publish it now or schedule it; a beat job publishes the due ones
  (`rule_revisions_publish_due`). Publishing writes what the draft changed onto the live rows in
  one transaction, with an audit line, and records the result as the new current revision.

What a revision holds comes from its parts (`revision_parts`): members registers the program's earn
rate, its earning rules and tiers below; rewards registers its catalog prices from its AppConfig
(members cannot import rewards). A part names the rows of a program, the fields a snapshot keeps,
the ones a draft may change, and the service that writes them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from members.invalidation import rules_changed
from members.models import EarningRule, Member, Program, Purchase, RuleRevision, Tier
from members.selectors import ProgramRules, program_rules, program_rules_override, tiers_qualified
from members.services.audit import audit_record
from members.services.purchases import purchase_quote

SIMULATION_DAYS = 30
# Members read per query when comparing tiers (two grouped queries per tier metric each time).
TIER_CHUNK = 2000
# Rows of each list a simulation keeps (the counts cover everyone).
SIMULATION_LIST = 50


@dataclass(frozen=True)
class RevisionPart:
    key: str  # its key in a snapshot: "rules"
    label: str  # what staff read: "Earning rules"
    model: type[models.Model]
    rows: Callable[[int], QuerySet]  # program id -> its rows
    fields: tuple[str, ...]  # what a snapshot keeps of each row (shown in the history)
    editable: tuple[str, ...]  # what a draft may change (a subset of fields)
    apply: Callable[[int, dict[int, dict]], None]  # program id, {row id: {field: value}} -> writes them
    title: str = "name"  # the field naming a row


_PARTS: dict[str, RevisionPart] = {}


def revision_part_register(part: RevisionPart) -> None:
    """Add a part to every revision (called at import or from an AppConfig.ready)."""
    _PARTS[part.key] = part


def revision_parts() -> list[RevisionPart]:
    return list(_PARTS.values())


def _rows_update(model: type[models.Model]) -> Callable[[int, dict[int, dict]], None]:
    def apply(program_id: int, changes: dict[int, dict]) -> None:
        for pk, values in changes.items():
            model.objects.filter(pk=pk, program_id=program_id).update(**values)

    return apply


def _program_update(program_id: int, changes: dict[int, dict]) -> None:
    for values in changes.values():
        Program.objects.filter(pk=program_id).update(**values)


revision_part_register(
    RevisionPart(
        key="program",
        label=_("Program"),
        model=Program,
        rows=lambda program_id: Program.objects.filter(pk=program_id),
        fields=("earn_rate",),
        editable=("earn_rate",),
        apply=_program_update,
    )
)
revision_part_register(
    RevisionPart(
        key="rules",
        label=_("Earning rules"),
        model=EarningRule,
        rows=lambda program_id: EarningRule.objects.filter(program_id=program_id).order_by("kind", "pk"),
        fields=(
            "name",
            "kind",
            "category",
            "sku",
            "partner",
            "action",
            "multiplier",
            "points",
            "min_amount",
            "starts_at",
            "ends_at",
            "weekdays",
            "priority",
            "stackable",
            "is_active",
        ),
        editable=("multiplier", "points", "min_amount", "priority", "stackable", "is_active"),
        apply=_rows_update(EarningRule),
    )
)
revision_part_register(
    RevisionPart(
        key="tiers",
        label=_("Tiers"),
        model=Tier,
        rows=lambda program_id: Tier.objects.filter(program_id=program_id).order_by("level"),
        fields=("name", "level", "metric", "window", "threshold", "earn_multiplier", "invitation_only"),
        editable=("threshold", "earn_multiplier"),
        apply=_rows_update(Tier),
    )
)


# --- snapshots and their differences ---------------------------------------------------------


def _stored(model_field: models.Field, value):
    """A field's value as a snapshot keeps it (JSON; decimals at the column's places, so a value read
    back from either database compares equal)."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal(1).scaleb(-model_field.decimal_places)))
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _field(part: RevisionPart, name: str) -> models.Field:
    return part.model._meta.get_field(name)


def snapshot_capture(program_id: int) -> dict:
    """The program's live rules as a snapshot: {part: {row id: {field: value}}}."""
    snapshot = {}
    for part in revision_parts():
        model_fields = [_field(part, name) for name in part.fields]
        snapshot[part.key] = {
            str(row.pk): {f.name: _stored(f, getattr(row, f.attname)) for f in model_fields}
            for row in part.rows(program_id)
        }
    return snapshot


@dataclass(frozen=True)
class FieldChange:
    part: str  # the part's label
    row: str  # the row's name
    field: str  # the field's verbose name
    before: object
    after: object


def snapshot_diff(before: dict, after: dict) -> list[FieldChange]:
    """Every field that differs between two snapshots (a row present on one side only: its fields
    against nothing), part by part, in the parts' order."""
    changes = []
    for part in revision_parts():
        old, new = before.get(part.key, {}), after.get(part.key, {})
        for key in sorted(set(old) | set(new), key=int):
            row_old, row_new = old.get(key, {}), new.get(key, {})
            name = str((row_new or row_old).get(part.title, key))
            for name_field in part.fields:
                if row_old.get(name_field) != row_new.get(name_field):
                    changes.append(
                        FieldChange(
                            part=str(part.label),
                            row=name,
                            field=str(_field(part, name_field).verbose_name),
                            before=row_old.get(name_field),
                            after=row_new.get(name_field),
                        )
                    )
    return changes


def _audit_diff(changes: list[FieldChange]) -> dict:
    return {f"{c.part}: {c.row}: {c.field}": [c.before, c.after] for c in changes}


def revision_previous(revision: RuleRevision) -> RuleRevision | None:
    """What a revision is compared with: the published revision before it, or a draft's base."""
    if revision.status != RuleRevision.Status.PUBLISHED:
        return revision.based_on
    return (
        RuleRevision.objects.filter(
            program_id=revision.program_id,
            status=RuleRevision.Status.PUBLISHED,
            published_at__lt=revision.published_at,
        )
        .order_by("-published_at")
        .first()
    )


def revision_changes(revision: RuleRevision) -> list[FieldChange]:
    """What the revision changed compared with the one before it (revision_previous)."""
    previous = revision_previous(revision)
    return snapshot_diff(previous.snapshot if previous else {}, revision.snapshot)


def revision_current(program_id: int) -> RuleRevision | None:
    """The revision in force: the last published (a draft keeps the number it was given when
    copied, so publishing order, not numbers, says which)."""
    return (
        RuleRevision.objects.filter(program_id=program_id, status=RuleRevision.Status.PUBLISHED)
        .order_by("-published_at")
        .first()
    )


def _draft_changes(revision: RuleRevision) -> dict[str, dict[int, dict]]:
    """What the draft changes, as values to write: {part: {row id: {field: value}}}, only the
    editable fields whose value differs from the draft's base. Applied to the live rows, so an edit
    made live since the draft was copied stays unless the draft changed the same field."""
    base = revision.based_on.snapshot if revision.based_on_id else {}
    changes: dict[str, dict[int, dict]] = {}
    for part in revision_parts():
        old = base.get(part.key, {})
        for key, row in revision.snapshot.get(part.key, {}).items():
            values = {
                name: _field(part, name).to_python(row[name])
                for name in part.editable
                if name in row and row[name] != old.get(key, {}).get(name)
            }
            if values:
                changes.setdefault(part.key, {})[int(key)] = values
    return changes


# --- writes ------------------------------------------------------------------------------------


def _next_number(program_id: int) -> int:
    # Called with the program row locked: two revisions of one program never get the same number.
    return (RuleRevision.objects.filter(program_id=program_id).aggregate(n=Max("number"))["n"] or 0) + 1


def _program_lock(program_id: int) -> Program:
    return Program.objects.select_for_update().get(pk=program_id)


@transaction.atomic
def rule_revision_capture(*, program: Program, author=None, note: str = "") -> RuleRevision | None:
    """Record the live rules as a published revision if they differ from the current one (an edit
    in admin calls this after saving). None when nothing changed."""
    _program_lock(program.pk)
    snapshot = snapshot_capture(program.pk)
    current = revision_current(program.pk)
    if current is not None and current.snapshot == snapshot:
        return None
    now = timezone.now()
    revision = RuleRevision.objects.create(
        program_id=program.pk,
        number=_next_number(program.pk),
        status=RuleRevision.Status.PUBLISHED,
        snapshot=snapshot,
        based_on=current,
        note=note,
        author=author if author is not None and author.is_authenticated else None,
        published_at=now,
        published_by=author if author is not None and author.is_authenticated else None,
    )
    audit_record(
        actor=author,
        action="rules.revision.capture",
        target=revision,
        changes=_audit_diff(snapshot_diff(current.snapshot if current else {}, snapshot)),
        reason=note,
    )
    # The rules cache names the current revision: the next earn reads the new one.
    rules_changed(program.pk, program)
    return revision


@transaction.atomic
def rule_revision_draft_create(*, program: Program, author, note: str = "") -> RuleRevision:
    """A draft copied from the live rules (recorded first as a revision if they changed since the
    current one, so the draft's base is exactly what is live)."""
    current = rule_revision_capture(program=program, note=str(_("Live rules changed outside a revision")))
    current = current or revision_current(program.pk)
    revision = RuleRevision.objects.create(
        program_id=program.pk,
        number=_next_number(program.pk),
        snapshot=current.snapshot,
        based_on=current,
        note=note,
        author=author if author is not None and author.is_authenticated else None,
    )
    audit_record(actor=author, action="rules.revision.draft", target=revision, reason=note)
    return revision


def _draft_require(revision: RuleRevision) -> None:
    if revision.status != RuleRevision.Status.DRAFT:
        raise DomainError(
            "revision_not_draft",
            str(
                _("Only a draft can be changed; this revision is %(status)s.")
                % {"status": revision.get_status_display()}
            ),
        )


def _draft_check(program: Program, snapshot: dict) -> None:
    """Refuse values the live rows would refuse (each row's field validators and constraints), and
    tier thresholds out of order within one metric and window."""
    errors: list[str] = []
    for part in revision_parts():
        rows = snapshot.get(part.key, {})
        for row in part.rows(program.pk).filter(pk__in=[int(k) for k in rows]):
            values = rows[str(row.pk)]
            for name in part.editable:
                if name in values:
                    setattr(row, _field(part, name).attname, _field(part, name).to_python(values[name]))
            try:
                row.clean_fields(exclude=[f.name for f in part.model._meta.fields if f.name not in part.editable])
                row.validate_constraints()
            except ValidationError as exc:
                title = getattr(row, part.title, row.pk)
                errors += [f"{part.label} {title}: {message}" for message in exc.messages]
    tiers = sorted(snapshot.get("tiers", {}).values(), key=lambda t: t["level"])
    for lower in tiers:
        for higher in tiers:
            same_ladder = (lower["metric"], lower["window"]) == (higher["metric"], higher["window"])
            if (
                same_ladder
                and lower["level"] < higher["level"]
                and Decimal(lower["threshold"]) > Decimal(higher["threshold"])
            ):
                errors.append(
                    str(
                        _("Tier %(higher)s needs less than the lower tier %(lower)s; raise its threshold.")
                        % {"higher": higher["name"], "lower": lower["name"]}
                    )
                )
    if errors:
        raise DomainError("invalid_revision", " ".join(errors), fields={"__all__": errors})


@transaction.atomic
def rule_revision_draft_update(
    *, revision: RuleRevision, values: dict, author, note: str | None = None
) -> RuleRevision:
    """Change a draft: `values` is {part: {row id: {field: value}}} for editable fields (others are
    ignored). Checked as the live rows would check them."""
    revision = RuleRevision.objects.select_for_update().get(pk=revision.pk)
    _draft_require(revision)
    snapshot = {key: {row: dict(fields) for row, fields in rows.items()} for key, rows in revision.snapshot.items()}
    for part in revision_parts():
        for key, fields in values.get(part.key, {}).items():
            row = snapshot.get(part.key, {}).get(str(key))
            if row is None:
                continue
            for name in part.editable:
                if name in fields:
                    row[name] = _stored(_field(part, name), _field(part, name).to_python(fields[name]))
    _draft_check(revision.program, snapshot)
    before = revision.snapshot
    revision.snapshot = snapshot
    if note is not None:
        revision.note = note
    revision.save(update_fields=["snapshot", "note"])
    audit_record(
        actor=author,
        action="rules.revision.edit",
        target=revision,
        changes=_audit_diff(snapshot_diff(before, snapshot)),
    )
    return revision


@transaction.atomic
def rule_revision_schedule(*, revision: RuleRevision, effective_at: datetime, actor) -> RuleRevision:
    """Publish the draft at `effective_at` (the beat job does it; see rule_revisions_publish_due)."""
    revision = RuleRevision.objects.select_for_update().get(pk=revision.pk)
    _draft_require(revision)
    if effective_at <= timezone.now():
        raise DomainError(
            "invalid_date",
            str(_("The date is past: publish the draft now instead.")),
            fields={"effective_at": [str(_("Must be in the future."))]},
        )
    revision.status, revision.effective_at = RuleRevision.Status.SCHEDULED, effective_at
    revision.save(update_fields=["status", "effective_at"])
    audit_record(actor=actor, action="rules.revision.schedule", target=revision, changes={"effective_at": effective_at})
    return revision


@transaction.atomic
def rule_revision_unschedule(*, revision: RuleRevision, actor) -> RuleRevision:
    """Back to a draft (to change it, or drop it)."""
    revision = RuleRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.status != RuleRevision.Status.SCHEDULED:
        raise DomainError("revision_not_scheduled", str(_("This revision is not scheduled.")))
    revision.status, revision.effective_at = RuleRevision.Status.DRAFT, None
    revision.save(update_fields=["status", "effective_at"])
    audit_record(actor=actor, action="rules.revision.unschedule", target=revision)
    return revision


@transaction.atomic
def rule_revision_publish(*, revision: RuleRevision, actor=None) -> RuleRevision:
    """Make a draft or scheduled revision the live rules, in one transaction: what it changed is
    written onto the live rows (rows deleted since are skipped), the result is recorded as its
    snapshot (exactly what is in force from now), the rules cache moves to it, and the audit trail
    says who published what. `actor` None: the beat job, at its scheduled time."""
    program = _program_lock(revision.program_id)
    revision = RuleRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.status == RuleRevision.Status.PUBLISHED:
        raise DomainError("revision_published", str(_("This revision is already published.")))
    previous = revision_current(program.pk)
    for key, changes in _draft_changes(revision).items():
        _PARTS[key].apply(program.pk, changes)
    now = timezone.now()
    revision.snapshot = snapshot_capture(program.pk)
    revision.status, revision.published_at = RuleRevision.Status.PUBLISHED, now
    revision.published_by = actor if actor is not None and actor.is_authenticated else None
    revision.save(update_fields=["snapshot", "status", "published_at", "published_by"])
    audit_record(
        actor=actor,
        action="rules.revision.publish",
        target=revision,
        changes=_audit_diff(snapshot_diff(previous.snapshot if previous else {}, revision.snapshot)),
        reason=revision.note,
    )
    rules_changed(program.pk)
    return revision


def rule_revisions_publish_due(*, now: datetime | None = None) -> int:
    """Publish every scheduled revision whose time has come, oldest first (beat, every minute).
    Each in its own transaction: one refused never holds back the others' programs."""
    now = now or timezone.now()
    due = list(
        RuleRevision.objects.filter(status=RuleRevision.Status.SCHEDULED, effective_at__lte=now).order_by(
            "effective_at", "number"
        )
    )
    published = 0
    for revision in due:
        try:
            rule_revision_publish(revision=revision)
        except DomainError:
            continue  # published meanwhile by staff
        published += 1
    return published


# --- simulation ------------------------------------------------------------------------------


def revision_rules(revision: RuleRevision) -> Program:
    """The program as the revision would make it: a copy whose earn rate, earning rules and tiers are
    the live ones with the revision's changes (program_rules_override), for the earning and tier code."""
    program = Program.objects.get(pk=revision.program_id)
    changes = _draft_changes(revision)
    rules = list(EarningRule.objects.filter(program_id=program.pk).exclude(kind=EarningRule.Kind.ENGAGEMENT))
    tiers = list(Tier.objects.filter(program_id=program.pk).order_by("level"))
    for key, rows in (("rules", rules), ("tiers", tiers)):
        for row in rows:
            for name, value in changes.get(key, {}).get(row.pk, {}).items():
                setattr(row, name, value)
    live = program_rules(program)
    draft = program_rules_override(
        program,
        ProgramRules(
            rules=[r for r in rules if r.is_active],
            tiers=tiers,
            has_plans=live.has_plans,
            revision_id=revision.pk,
            revision_numbers=live.revision_numbers,
        ),
    )
    for values in changes.get("program", {}).values():
        for name, value in values.items():
            setattr(draft, name, value)
    return draft


@dataclass
class MemberPoints:
    number: str
    purchases: int = 0
    issued: int = 0
    simulated: int = 0

    @property
    def difference(self) -> int:
        return self.simulated - self.issued


@dataclass
class TierMove:
    number: str
    before: Tier | None
    after: Tier | None


@dataclass
class Simulation:
    revision: RuleRevision
    since: datetime
    until: datetime
    purchases: int = 0
    issued: int = 0  # points the purchases earned (0 for one held for review)
    simulated: int = 0  # points they would have earned under the revision
    members_more: int = 0
    members_fewer: int = 0
    biggest: list[MemberPoints] = field(default_factory=list)  # largest differences first
    tiers_gained: list[TierMove] = field(default_factory=list)
    tiers_lost: list[TierMove] = field(default_factory=list)
    tiers_gained_count: int = 0
    tiers_lost_count: int = 0
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def difference(self) -> int:
        return self.simulated - self.issued


def rule_revision_simulate(*, revision: RuleRevision, now: datetime | None = None) -> Simulation:
    """What the revision would have done over the last 30 days: each purchase quoted again by the
    same code that records purchases (purchase_quote: rules, the member's tier, partner and plan),
    with the revision's rules in place of the live ones, against the points it earned; and each
    active member's tier by the tier code under both, when the revision changes tiers. Writes nothing.
    Queries: one per purchase at most (a member's plan, for programs that sell plans), plus two per
    tier metric for every 2,000 members."""
    now = now or timezone.now()
    draft = revision_rules(revision)
    live = Program.objects.get(pk=revision.program_id)
    result = Simulation(
        revision=revision, since=now - timedelta(days=SIMULATION_DAYS), until=now, changes=revision_changes(revision)
    )
    draft_tiers = {t.pk: t for t in program_rules(draft).tiers}
    per_member: dict[int, MemberPoints] = {}
    purchases = (
        Purchase.objects.filter(program_id=live.pk, occurred_at__gte=result.since, occurred_at__lte=now)
        .select_related("member__tier", "partner")
        .order_by("pk")
    )
    for purchase in purchases.iterator(chunk_size=500):
        member = purchase.member
        member.program = draft
        if member.tier_id is not None:
            member.tier = draft_tiers.get(member.tier_id, member.tier)
        quote = purchase_quote(
            member=member,
            partner=purchase.partner,
            amount=purchase.amount,
            items=purchase.items,
            paid_with_points=purchase.paid_with_points,
            at=purchase.occurred_at,
        )
        row = per_member.setdefault(member.pk, MemberPoints(number=member.number))
        row.purchases += 1
        row.issued += purchase.points
        row.simulated += max(quote.points, 0)
    for row in per_member.values():
        result.purchases += row.purchases
        result.issued += row.issued
        result.simulated += row.simulated
        result.members_more += row.difference > 0
        result.members_fewer += row.difference < 0
    result.biggest = sorted(
        (r for r in per_member.values() if r.difference), key=lambda r: (-abs(r.difference), r.number)
    )[:SIMULATION_LIST]
    if "tiers" in _draft_changes(revision):
        _tiers_compare(result, live, draft, now)
    return result


def _tiers_compare(result: Simulation, live: Program, draft: Program, now: datetime) -> None:
    """Who would qualify for a higher or lower tier under the revision's thresholds (the tier code's
    qualification, on today's figures), chunk by chunk of active members."""
    members = Member.objects.filter(program_id=live.pk, status=Member.Status.ACTIVE).order_by("pk")
    last = 0
    while chunk := list(members.filter(pk__gt=last).only("pk", "number", "program_id")[:TIER_CHUNK]):
        last = chunk[-1].pk
        for member in chunk:
            member.program = live
        before = tiers_qualified(members=chunk, now=now)
        for member in chunk:
            member.program = draft
        after = tiers_qualified(members=chunk, now=now)
        for member in chunk:
            old, new = before[member.pk], after[member.pk]
            old_level, new_level = (old.level if old else -1), (new.level if new else -1)
            if new_level > old_level:
                result.tiers_gained_count += 1
                if len(result.tiers_gained) < SIMULATION_LIST:
                    result.tiers_gained.append(TierMove(number=member.number, before=old, after=new))
            elif new_level < old_level:
                result.tiers_lost_count += 1
                if len(result.tiers_lost) < SIMULATION_LIST:
                    result.tiers_lost.append(TierMove(number=member.number, before=old, after=new))
