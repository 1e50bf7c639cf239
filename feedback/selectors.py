"""Reads for feedback: survey pages, member tickets, and the metrics (one aggregate query per figure set).

Scoring directions are documented in feedback.scoring: NPS, CSAT and CES higher is better; CLI lower is better.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from feedback import scoring
from feedback.models import Answer, Invitation, Question, Response, Survey, Ticket, TicketMessage
from members.models import Member, Partner, Program, Tier
from members.selectors import add_months

CONTACT_WITHIN = timedelta(hours=48)

# How each breakdown reaches its dimension from a response and from an invitation.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "program": ("survey__program__name", "survey__program__name"),
    "tier": ("member__tier__name", "member__tier__name"),
    "loyalty_type": ("member__loyalty_type", "member__loyalty_type"),
    "partner": ("invitation__partner__name", "partner__name"),
}


# --- survey pages ------------------------------------------------------------------------------


def response_for_invitation(*, invitation: Invitation) -> Response | None:
    return Response.objects.filter(invitation=invitation).first()


def answers_by_question(*, response: Response | None) -> dict[int, Answer]:
    if response is None:
        return {}
    return {a.question_id: a for a in response.answers.all()}


def score_questions(*, survey: Survey) -> list[Question]:
    return list(survey.questions.filter(kind=Question.Kind.SCORE))


def members_to_survey(
    *, program: Program, tier: Tier | None = None, loyalty_type: str | None = None, numbers: list[str] = ()
) -> list[int]:
    """Active members for a manual send: in the tier, of the loyalty type, or listed by number or email."""
    chosen = Q(pk__in=[])
    if tier is not None:
        chosen |= Q(tier=tier)
    if loyalty_type:
        chosen |= Q(loyalty_type=loyalty_type)
    if numbers:
        chosen |= Q(number__in=numbers) | Q(email__in=[n.lower() for n in numbers])
    return list(
        Member.objects.filter(chosen, program=program, status=Member.Status.ACTIVE).values_list("pk", flat=True)
    )


def follow_ups_for(*, survey: Survey, score: Decimal | None) -> list[Question]:
    """Follow-up questions that apply to the score (all of them with no bounds)."""
    if score is None:
        return []
    return [
        q
        for q in survey.questions.exclude(kind=Question.Kind.SCORE)
        if (q.min_score is None or score >= q.min_score) and (q.max_score is None or score <= q.max_score)
    ]


RESPONSE_COLUMNS = ["survey", "kind", "member", "score", "category", "language", "completed_at", "comments"]


def response_rows(*, responses: QuerySet[Response]) -> list[list]:
    """Answers for a spreadsheet: one row per response, the follow-up texts joined (two queries in all)."""
    rows = []
    for r in responses.select_related("survey", "member").prefetch_related("answers__question").order_by("pk"):
        comments = " | ".join(f"{a.question.text}: {a.text}" for a in r.answers.all() if a.text)
        rows.append(
            [r.survey.name, r.survey.kind, r.member.number, r.score, r.category, r.language, r.completed_at, comments]
        )
    return rows


# --- member tickets ----------------------------------------------------------------------------


def member_pending_surveys(*, member: Member, now: datetime | None = None) -> QuerySet[Invitation]:
    """Surveys sent to the member and not yet answered, whose link still works (partial answers included)."""
    now = now or timezone.now()
    return (
        Invitation.objects.filter(member=member, status=Invitation.Status.SENT)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("survey")
        .order_by("-sent_at")
    )


def member_tickets(*, member: Member) -> QuerySet[Ticket]:
    return Ticket.objects.filter(member=member).select_related("response__survey").order_by("-created_at")


def ticket_public_messages(*, ticket: Ticket) -> QuerySet[TicketMessage]:
    """What the member sees: their own messages and staff replies, never internal notes or the log."""
    return ticket.messages.filter(kind__in=TicketMessage.PUBLIC_KINDS).select_related("author")


# --- survey metrics ----------------------------------------------------------------------------


def _filters(
    prefix: str,
    *,
    program: Program | None,
    tier: Tier | None,
    loyalty_type: str | None,
    partner: Partner | None,
    member_ids,
) -> Q:
    """Breakdown filters shared by responses and invitations (prefix '' or 'invitation__' for the partner)."""
    q = Q()
    if program is not None:
        q &= Q(survey__program=program)
    if tier is not None:
        q &= Q(member__tier=tier)
    if loyalty_type is not None:
        q &= Q(member__loyalty_type=loyalty_type)
    if partner is not None:
        q &= Q(**{f"{prefix}partner": partner})
    if member_ids is not None:
        q &= Q(member_id__in=member_ids)
    return q


def _score_aggregates() -> dict:
    nps = Q(survey__kind=Survey.Kind.NPS)
    csat = Q(survey__kind=Survey.Kind.CSAT)
    return {
        "responses": Count("pk"),
        "nps_responses": Count("pk", filter=nps),
        "promoters": Count("pk", filter=nps & Q(category=Response.Category.PROMOTER)),
        "passives": Count("pk", filter=nps & Q(category=Response.Category.PASSIVE)),
        "detractors": Count("pk", filter=nps & Q(category=Response.Category.DETRACTOR)),
        "csat_responses": Count("pk", filter=csat),
        "csat_satisfied": Count("pk", filter=csat & Q(score__gte=scoring.CSAT_SATISFIED_MIN)),
        "ces": Avg("score", filter=Q(survey__kind=Survey.Kind.CES)),
        "cli": Avg("score", filter=Q(survey__kind=Survey.Kind.CLI)),
    }


def _invitation_aggregates() -> dict:
    return {"invited": Count("pk"), "answered": Count("pk", filter=Q(status=Invitation.Status.ANSWERED))}


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def _mean(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _finish(row: dict) -> dict:
    """Turn counts into the published figures; None where there was nothing to measure (not zero)."""
    row = {**row}
    for key in ("responses", "nps_responses", "promoters", "passives", "detractors", "csat_responses"):
        row[key] = row.get(key) or 0
    row["csat_satisfied"] = row.get("csat_satisfied") or 0
    row["invited"] = row.get("invited") or 0
    row["answered"] = row.get("answered") or 0
    n = row["nps_responses"]
    row["nps"] = _percent(row["promoters"] - row["detractors"], n) if n else None
    row["csat"] = _percent(row["csat_satisfied"], row["csat_responses"])
    row["ces"] = _mean(row.get("ces"))
    row["cli"] = _mean(row.get("cli"))
    row["response_rate"] = _percent(row["answered"], row["invited"])
    return row


def _between(field: str, start: datetime | None, end: datetime | None) -> Q:
    """field set, and within [start, end) where given."""
    q = Q(**{f"{field}__isnull": False})
    if start is not None:
        q &= Q(**{f"{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{field}__lt": end})
    return q


def feedback_scores(
    *,
    program: Program | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    tier: Tier | None = None,
    loyalty_type: str | None = None,
    partner: Partner | None = None,
    member_ids=None,
) -> dict:
    """NPS, CSAT, CES, CLI and response rate over [start, end), optionally for a tier, loyalty type, partner
    or segment (member_ids: ids or a values_list queryset). Responses count when completed, invitations when
    sent."""
    breakdown = {"program": program, "tier": tier, "loyalty_type": loyalty_type, "partner": partner}
    responses = Response.objects.filter(
        _between("completed_at", start, end), _filters("invitation__", member_ids=member_ids, **breakdown)
    ).aggregate(**_score_aggregates())
    invitations = Invitation.objects.filter(
        _between("sent_at", start, end), _filters("", member_ids=member_ids, **breakdown)
    ).aggregate(**_invitation_aggregates())
    return _finish({**responses, **invitations})


def feedback_scores_by(
    *,
    dimension: str,
    program: Program | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    member_ids=None,
) -> list[dict]:
    """The same figures per program, tier, loyalty type or partner (key None: no tier / no partner);
    each row's `label` is what staff read (a loyalty type's name, not its stored value)."""
    response_path, invitation_path = DIMENSIONS[dimension]
    base = {"tier": None, "loyalty_type": None, "partner": None, "program": program, "member_ids": member_ids}
    rows: dict = {}
    for row in (
        Response.objects.filter(_between("completed_at", start, end), _filters("invitation__", **base))
        .values(key=F(response_path))
        .annotate(**_score_aggregates())
        .order_by()
    ):
        rows[row["key"]] = row
    for row in (
        Invitation.objects.filter(_between("sent_at", start, end), _filters("", **base))
        .values(key=F(invitation_path))
        .annotate(**_invitation_aggregates())
        .order_by()
    ):
        rows.setdefault(row["key"], {"key": row["key"]}).update(row)
    labels = dict(Member.LoyaltyType.choices) if dimension == "loyalty_type" else {}
    return [
        {**_finish(rows[key]), "label": labels.get(key, key)} for key in sorted(rows, key=lambda k: (k is None, str(k)))
    ]


def month_start(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def trend_start(*, months: int, now: datetime | None = None) -> datetime:
    """The first day of the month `months - 1` months ago: a trend of 12 months ends with the current one."""
    return add_months(month_start(now or timezone.now()), -(months - 1))


def feedback_trend(
    *, program: Program | None = None, months: int = 12, now: datetime | None = None, member_ids=None
) -> list[dict]:
    """One row per month (oldest first, the current month last), months without answers included."""
    first = trend_start(months=months, now=now)
    base = {"tier": None, "loyalty_type": None, "partner": None, "program": program, "member_ids": member_ids}
    by_month: dict = {}
    for row in (
        Response.objects.filter(_between("completed_at", first, None), _filters("invitation__", **base))
        .annotate(month=TruncMonth("completed_at"))
        .values("month")
        .annotate(**_score_aggregates())
        .order_by()
    ):
        by_month[row["month"].date() if isinstance(row["month"], datetime) else row["month"]] = row
    for row in (
        Invitation.objects.filter(_between("sent_at", first, None), _filters("", **base))
        .annotate(month=TruncMonth("sent_at"))
        .values("month")
        .annotate(**_invitation_aggregates())
        .order_by()
    ):
        key = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        by_month.setdefault(key, {}).update(row)
    trend = []
    for i in range(months):
        month = add_months(first, i).date()
        trend.append(_finish({**by_month.get(month, {}), "month": month}))
    return trend


# --- tickets and closing the loop -------------------------------------------------------------


def tickets_open(*, program: Program | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    return qs.filter(program=program) if program is not None else qs


def overdue_q(now: datetime) -> Q:
    """An open ticket is overdue when its target date passed, when it was escalated and nobody acted
    since (escalation moves the target date, but the ticket was late and stays so until someone
    replies, moves its status or assigns it), or when nobody acknowledged it in time."""
    return Q(status__in=Ticket.OPEN_STATUSES) & (
        Q(due_at__lt=now) | Q(overdue_since__isnull=False) | Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
    )


def tickets_overdue(*, program: Program | None = None, now: datetime | None = None) -> QuerySet[Ticket]:
    return tickets_open(program=program).filter(overdue_q(now or timezone.now()))


def _median_duration(qs: QuerySet, start_field: str, end_field: str) -> timedelta | None:
    """The median of end - start, computed in the database (sorted, then the middle one or two rows)."""
    durations = (
        qs.filter(**{f"{end_field}__isnull": False})
        .annotate(took=ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField()))
        .order_by("took")
        .values_list("took", flat=True)
    )
    n = durations.count()
    if not n:
        return None
    middle = list(durations[(n - 1) // 2 : n // 2 + 1])
    return sum(middle, timedelta()) / len(middle)


def ticket_figures(
    *,
    program: Program | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """Open and overdue tickets now; median time to acknowledge and to resolve for tickets opened in [start, end)."""
    opened = Ticket.objects.all() if program is None else Ticket.objects.filter(program=program)
    if start is not None:
        opened = opened.filter(created_at__gte=start)
    if end is not None:
        opened = opened.filter(created_at__lt=end)
    return {
        "open": tickets_open(program=program).count(),
        "overdue": tickets_overdue(program=program, now=now).count(),
        "opened": opened.count(),
        "median_acknowledge": _median_duration(opened, "created_at", "acknowledged_at"),
        "median_resolve": _median_duration(opened, "created_at", "resolved_at"),
    }


def detractors_contacted(
    *, program: Program | None = None, start: datetime | None = None, end: datetime | None = None
) -> dict:
    """Closing the loop: NPS detractors answered in [start, end) and how many staff replied to within 48 h."""
    detractors = Response.objects.filter(_between("completed_at", start, end), category=Response.Category.DETRACTOR)
    if program is not None:
        detractors = detractors.filter(survey__program=program)
    row = detractors.aggregate(
        detractors=Count("pk"),
        contacted=Count("pk", filter=Q(ticket__first_contact_at__lte=F("completed_at") + CONTACT_WITHIN)),
    )
    return {**row, "share": _percent(row["contacted"], row["detractors"])}


@dataclass
class MemberFeedback:
    """One member's survey answers and tickets, and the latest NPS answer, for staff pages."""

    responses: list[Response]
    tickets: list[Ticket]
    latest_nps: Response | None


def member_feedback_overview(
    *, member: Member, limit: int = 10, exclude_ticket: Ticket | None = None
) -> MemberFeedback:
    """`exclude_ticket`: on a ticket's own page, its previous tickets are the others."""
    responses = list(
        Response.objects.filter(member=member, completed_at__isnull=False)
        .select_related("survey", "ticket")
        .order_by("-completed_at")[:limit]
    )
    tickets = Ticket.objects.filter(member=member)
    if exclude_ticket is not None:
        tickets = tickets.exclude(pk=exclude_ticket.pk)
    latest_nps = next((r for r in responses if r.survey.kind == Survey.Kind.NPS), None)
    if latest_nps is None and len(responses) == limit:  # older than the rows at hand
        latest_nps = (
            Response.objects.filter(member=member, completed_at__isnull=False, survey__kind=Survey.Kind.NPS)
            .order_by("-completed_at")
            .first()
        )
    return MemberFeedback(
        responses=responses, tickets=list(tickets.select_related("assignee")[:limit]), latest_nps=latest_nps
    )
