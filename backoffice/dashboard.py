"""The program dashboard on the admin index: a filter form, KPI cards, and tables with their charts.

Every number comes from the apps' metric selectors (members/metrics.py, rewards/metrics.py,
feedback/selectors.py, campaigns/metrics.py). Each table is built on its own, so the CSV export
of one table runs only that table's queries, and the page and the CSV share the same rows.
Charts are plain SVG geometry computed here and drawn by templates/admin/dashboard/chart.html,
so they need no JavaScript and every chart has its table next to it.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.metrics import campaign_metrics
from feedback.selectors import detractors_contacted, feedback_scores, feedback_trend, ticket_figures
from members import metrics
from members.metrics import Scope, month_start, months_between
from members.models import Member, Partner, Program, Tier
from members.selectors import add_months
from rewards.metrics import charity_by_cause, redemptions_by_kind

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#f59e0b", "#7c3aed", "#0891b2", "#db2777", "#6b7280"]
MAX_DAYS = 3660  # a custom period spans at most about ten years
UNKNOWN_TYPE = "unknown"  # the form's value for members whose loyalty type is not known yet ("")


# --- the filter form ---------------------------------------------------------------------------


class Period:
    LAST_30 = "30d"
    THIS_MONTH = "month"
    LAST_MONTH = "last-month"
    LAST_90 = "90d"
    LAST_12_MONTHS = "12m"
    THIS_YEAR = "ytd"
    CUSTOM = "custom"
    CHOICES = [
        (LAST_30, _("Last 30 days")),
        (THIS_MONTH, _("This month")),
        (LAST_MONTH, _("Last month")),
        (LAST_90, _("Last 90 days")),
        (LAST_12_MONTHS, _("Last 12 months")),
        (THIS_YEAR, _("This year")),
        (CUSTOM, _("From - to")),
    ]


def period_bounds(period: str, now: datetime, start: date | None = None, end: date | None = None):
    """[start, end) of a preset period; the custom one runs from `start` to the end of `end`."""
    today = timezone.localtime(now).date()
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    if period == Period.THIS_MONTH:
        return month_start(today), now
    if period == Period.LAST_MONTH:
        this_month = month_start(today)
        return month_start(add_months(this_month, -1).date()), this_month
    if period == Period.LAST_90:
        return midnight - timedelta(days=89), now
    if period == Period.LAST_12_MONTHS:
        return month_start(add_months(midnight, -11).date()), now
    if period == Period.THIS_YEAR:
        return timezone.make_aware(datetime(today.year, 1, 1)), now
    if period == Period.CUSTOM:
        return (
            timezone.make_aware(datetime.combine(start, time.min)),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
        )
    return midnight - timedelta(days=29), now


class DashboardForm(forms.Form):
    program = forms.ModelChoiceField(Program.objects.all(), empty_label=None, label=_("Program"))
    period = forms.ChoiceField(choices=Period.CHOICES, label=_("Period"))
    start = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    tier = forms.ModelChoiceField(
        Tier.objects.select_related("program"), required=False, empty_label=_("All tiers"), label=_("Tier")
    )
    partner = forms.ModelChoiceField(
        Partner.objects.select_related("program"), required=False, empty_label=_("All partners"), label=_("Partner")
    )
    loyalty_type = forms.ChoiceField(required=False, label=_("Loyalty type"))

    def __init__(self, data=None, **kwargs):
        default = Program.objects.filter(is_default=True).first() or Program.objects.order_by("name").first()
        initial = {"program": default.pk if default else None, "period": Period.LAST_30}
        super().__init__({**initial, **(data.dict() if hasattr(data, "dict") else data or {})}, **kwargs)
        self.fields["loyalty_type"].choices = [
            ("", _("All types")),
            (UNKNOWN_TYPE, _("Not yet known")),
            *[(value, label) for value, label in Member.LoyaltyType.choices if value],
        ]

    def clean(self):
        data = super().clean()
        program = data.get("program")
        for name in ("tier", "partner"):
            if program and data.get(name) and data[name].program_id != program.pk:
                self.add_error(name, _("Choose one of the program's own."))
        if data.get("period") == Period.CUSTOM:
            if not data.get("start") or not data.get("end"):
                self.add_error("start", _("A custom period needs both dates."))
            elif data["start"] > data["end"]:
                self.add_error("end", _("The end is before the start."))
            elif data["start"].year < 2000 or data["end"].year > 2100 or (data["end"] - data["start"]).days > MAX_DAYS:
                # The comparison period runs as long again before the start: keep both inside real dates.
                self.add_error("start", _("Choose dates between 2000 and 2100, at most ten years apart."))
        return data

    def scope(self, now: datetime) -> Scope:
        data = self.cleaned_data
        start, end = period_bounds(data["period"], now, data.get("start"), data.get("end"))
        loyalty = data.get("loyalty_type")
        return Scope(
            program=data["program"],
            start=start,
            end=end,
            tier=data.get("tier"),
            partner=data.get("partner"),
            loyalty_type=None if not loyalty else ("" if loyalty == UNKNOWN_TYPE else loyalty),
        )


# --- tables ------------------------------------------------------------------------------------


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    link: str | None = None
    chart: dict | None = None
    note: str = ""

    @property
    def cells(self) -> list[list[tuple[str, bool]]]:
        """(text, is a number) per cell: numbers are right-aligned on the page."""
        return [[(text(v), v is None or isinstance(v, int | float | Decimal)) for v in row] for row in self.rows]


@dataclass
class Card:
    label: str
    value: object
    unit: str = ""
    link: str | None = None


@dataclass
class Dashboard:
    scope: Scope
    trend_start: datetime
    tables: list[Table]
    cards: list[Card] = field(default_factory=list)


def text(value) -> str:
    """How a cell reads, on the page and in the CSV alike ("" for a ratio without a denominator)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    return str(value)


def trend_scope(scope: Scope) -> Scope:
    """Charts show the 12 calendar months that end with the period's last month."""
    last = months_between(scope.start, scope.end)[-1]
    return replace(scope, start=month_start(add_months(month_start(last), -11).date()))


def changelist(model: str, **params) -> str | None:
    """The admin changelist of `app.model` with filters, or None when that model has no admin."""
    app_label, model_name = model.split(".")
    return admin_url(f"admin:{app_label}_{model_name}_changelist", **params)


def admin_url(name: str, **params) -> str | None:
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    query = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items() if v is not None}
    return f"{url}?{urlencode(query)}" if query else url


def _dates(field_name: str, scope: Scope) -> dict:
    return {f"{field_name}__gte": scope.start, f"{field_name}__lt": scope.end}


def _members_link(scope: Scope) -> str | None:
    return changelist(
        "members.member",
        program__id__exact=scope.program.pk,
        tier__id__exact=scope.tier.pk if scope.tier else None,
        loyalty_type__exact=scope.loyalty_type,
    )


def table_members(scope: Scope) -> Table:
    m = metrics.member_metrics(scope=scope)
    currency = scope.program.currency
    rows = [
        ["enrolled", _("Members enrolled (at the end of the period)"), m.enrolled],
        ["new", _("New members (enrolled in the period)"), m.new],
        ["active", _("Active members E (bought in the period)"), m.active],
        ["previous_active", _("Active in the previous period S"), m.previous_active],
        ["new_or_returning", _("New or returning buyers N"), m.reactivated_or_new],
        ["crr", _("Customer retention rate CRR = (E - N) / S x 100 (%)"), m.crr],
        ["churn", _("Churn rate (%)"), m.churn],
        ["repeat_purchase_rate", _("Repeat purchase rate (%)"), m.repeat_purchase_rate],
        ["orders", _("Orders"), m.orders],
        ["revenue", _("Net revenue (%s)") % currency, m.revenue],
        ["aov", _("Average order value (%s)") % currency, m.average_order_value],
        ["purchase_frequency", _("Purchase frequency (orders per active member)"), m.purchase_frequency],
        ["lifetime_periods", _("Average lifetime (periods = 1 / churn)"), m.average_lifetime_periods],
        ["lifetime_days", _("Average lifetime (days)"), m.average_lifetime_days],
        ["clv", _("Customer lifetime value (%s)") % currency, m.clv],
        ["multi_category", _("Members who bought 2+ categories"), m.multi_category],
        ["single_category", _("Members who bought 1 category"), m.single_category],
        ["upsell_ratio", _("Upsell ratio (2+ categories / 1 category)"), m.upsell_ratio],
    ]
    return Table(
        "members",
        _("Members and purchases"),
        [_("Key"), _("Metric"), _("Value")],
        rows,
        link=_members_link(scope),
    )


def table_points(scope: Scope) -> Table:
    p = metrics.points_metrics(scope=scope)
    rows = [
        ["issued", _("Points issued"), p.issued],
        ["redeemed", _("Points redeemed (net of returns)"), p.redeemed],
        ["expired", _("Points expired"), p.expired],
        ["adjusted", _("Points adjusted by staff (net)"), p.adjusted],
        ["reversed", _("Points taken back by purchase refunds"), p.reversed],
        ["redemption_rate", _("Redemption rate (redeemed / issued, %)"), p.redemption_rate],
        ["breakage", _("Breakage (expired / issued, %)"), p.breakage],
        ["liability_points", _("Outstanding liability (points, end of period)"), p.liability_points],
        ["liability_value", _("Outstanding liability (%s at the burn rate)") % p.currency, p.liability_value],
    ]
    link = changelist(
        "members.ledgerentry",
        program__id__exact=scope.program.pk,
        partner__id__exact=scope.partner.pk if scope.partner else None,
        **_dates("created_at", scope),
    )
    return Table("points", _("Points"), [_("Key"), _("Metric"), _("Value")], rows, link=link)


def table_activity(scope: Scope) -> Table:
    trend = trend_scope(scope)
    activity = metrics.monthly_activity(scope=trend)
    nps = {row["month"]: row["nps"] for row in _feedback_trend(scope)}
    rows = [[a.month, a.active, a.new, a.orders, a.revenue, nps.get(a.month)] for a in activity]
    months = [text(a.month) for a in activity]
    chart = line_chart(
        months,
        [
            {"name": _("Active members"), "values": [a.active for a in activity], "axis": "left"},
            {"name": _("NPS"), "values": [nps.get(a.month) for a in activity], "axis": "right", "range": (-100, 100)},
        ],
    )
    link = changelist(
        "members.purchase",
        program__id__exact=scope.program.pk,
        partner__id__exact=scope.partner.pk if scope.partner else None,
        **_dates("occurred_at", trend),
    )
    return Table(
        "activity",
        _("Active members and NPS by month"),
        [_("Month"), _("Active members"), _("New members"), _("Orders"), _("Net revenue"), _("NPS")],
        rows,
        link=link,
        chart=chart,
    )


def table_points_monthly(scope: Scope) -> Table:
    trend = trend_scope(scope)
    rows = metrics.monthly_points(scope=trend)
    chart = bar_chart(
        [text(r.month) for r in rows],
        [
            {"name": _("Issued"), "values": [r.issued for r in rows]},
            {"name": _("Redeemed"), "values": [r.redeemed for r in rows]},
            {"name": _("Expired"), "values": [r.expired for r in rows]},
        ],
    )
    link = changelist(
        "members.ledgerentry",
        program__id__exact=scope.program.pk,
        partner__id__exact=scope.partner.pk if scope.partner else None,
        **_dates("created_at", trend),
    )
    return Table(
        "points-monthly",
        _("Points issued, redeemed and expired by month"),
        [_("Month"), _("Issued"), _("Redeemed"), _("Expired"), _("Adjusted")],
        [[r.month, r.issued, r.redeemed, r.expired, r.adjusted] for r in rows],
        link=link,
        chart=chart,
    )


def table_tiers(scope: Scope) -> Table:
    trend = trend_scope(scope)
    tiers = metrics.program_tiers(program=scope.program)
    months = metrics.tier_distribution_monthly(scope=trend)
    movements = {m.month: m for m in metrics.tier_movements_monthly(scope=trend)}
    keys = [t.pk for t in tiers] + [None]
    rows = [
        [month, *[dist.get(k, 0) for k in keys], movements[month].up, movements[month].down] for month, dist in months
    ]
    chart = stacked_chart(
        [text(month) for month, _dist in months],
        [
            {"name": t.name if t else _("No tier"), "values": [dist.get(k, 0) for _m, dist in months], "color": c}
            for t, k, c in zip([*tiers, None], keys, [*[t.color for t in tiers], "#d1d5db"], strict=True)
        ],
    )
    return Table(
        "tiers",
        _("Tier distribution at each month end, and movements"),
        [_("Month"), *[t.name for t in tiers], _("No tier"), _("Upgrades"), _("Downgrades")],
        rows,
        link=changelist("members.member", program__id__exact=scope.program.pk),
        chart=chart,
        note=_("Members per tier from the tier history; upgrades and downgrades compare tier levels."),
    )


def table_loyalty(scope: Scope) -> Table:
    counts = metrics.loyalty_distribution(scope=scope)
    labels = dict(Member.LoyaltyType.choices)
    total = sum(counts.values())
    moves = metrics.loyalty_reassigned_monthly(scope=scope)
    rows = [
        [labels[value], n, metrics.ratio(n, total, 100), sum(month[value] for _m, month in moves)]
        for value, n in counts.items()
    ]
    chart = donut_chart(
        [(str(labels[value]), n) for value, n in counts.items()],
        center=str(total),
        links=[
            changelist("members.member", program__id__exact=scope.program.pk, loyalty_type__exact=value)
            for value in counts
        ],
    )
    return Table(
        "loyalty",
        _("Loyalty types"),
        [_("Loyalty type"), _("Members"), _("Share (%)"), _("Assigned in the period")],
        rows,
        link=changelist("members.member", program__id__exact=scope.program.pk),
        chart=chart,
        note=_("Current loyalty type of members enrolled by the end of the period."),
    )


def table_loyalty_monthly(scope: Scope) -> Table:
    values = [value for value, _label in Member.LoyaltyType.choices]
    rows = [
        [month, *([None] * len(values) if counts is None else [counts.get(v, 0) for v in values])]
        for month, counts in metrics.loyalty_distribution_monthly(scope=trend_scope(scope))
    ]
    return Table(
        "loyalty-monthly",
        _("Loyalty types at each month end"),
        [_("Month"), *[label for _value, label in Member.LoyaltyType.choices]],
        rows,
        link=changelist("members.member", program__id__exact=scope.program.pk),
        note=_("Types have no history: past months come from the monthly snapshot taken when the month closed."),
    )


def table_rewards(scope: Scope) -> Table:
    rows = redemptions_by_kind(scope=scope)
    link = changelist(
        "rewards.redemption",
        program__id__exact=scope.program.pk,
        status__exact="completed",
        **_dates("created_at", scope),
    )
    return Table(
        "rewards",
        _("Redemptions by reward kind"),
        [_("Reward kind"), _("Redeemed with points"), _("Surprises"), _("Points"), _("Value")],
        [[r.label, r.redeemed, r.surprises, r.points, r.value] for r in rows],
        link=link,
    )


def table_charity(scope: Scope) -> Table:
    rows = charity_by_cause(scope=scope)
    link = changelist(
        "rewards.redemption",
        program__id__exact=scope.program.pk,
        status__exact="completed",
        reward__kind__exact="charity",
        **_dates("created_at", scope),
    )
    return Table(
        "charity",
        _("Donations per cause"),
        [_("Cause"), _("Donations"), _("Points"), _("Value")],
        [[r.name, r.donations, r.points, r.value] for r in rows],
        link=link,
    )


def table_feedback(scope: Scope) -> Table:
    scores = feedback_scores(
        program=scope.program,
        start=scope.start,
        end=scope.end,
        tier=scope.tier,
        loyalty_type=scope.loyalty_type,
        partner=scope.partner,
    )
    tickets = ticket_figures(program=scope.program, start=scope.start, end=scope.end)
    loop = detractors_contacted(program=scope.program, start=scope.start, end=scope.end)
    rows = [
        ["nps", _("NPS (promoters % - detractors %)"), scores["nps"]],
        ["nps_responses", _("NPS answers"), scores["nps_responses"]],
        ["csat", _("CSAT (% satisfied)"), scores["csat"]],
        ["ces", _("CES (mean)"), scores["ces"]],
        ["cli", _("CLI (mean)"), scores["cli"]],
        ["response_rate", _("Survey response rate (%)"), scores["response_rate"]],
        ["tickets_open", _("Tickets open now"), tickets["open"]],
        ["tickets_overdue", _("Tickets overdue now"), tickets["overdue"]],
        ["tickets_opened", _("Tickets opened in the period"), tickets["opened"]],
        ["detractors", _("Detractors in the period"), loop["detractors"]],
        ["detractors_contacted", _("Detractors contacted within 48 h"), loop["contacted"]],
        ["detractors_contacted_share", _("Detractors contacted within 48 h (%)"), loop["share"]],
    ]
    return Table(
        "feedback",
        _("Feedback"),
        [_("Key"), _("Metric"), _("Value")],
        rows,
        link=changelist("feedback.ticket", program__id__exact=scope.program.pk),
    )


def _feedback_trend(scope: Scope) -> list[dict]:
    """feedback.selectors.feedback_trend over the chart months; tier and loyalty type through member ids."""
    trend = trend_scope(scope)
    return feedback_trend(
        program=scope.program,
        months=len(months_between(trend.start, trend.end)),
        now=scope.end - timedelta(microseconds=1),
        member_ids=None
        if scope.tier is None and scope.loyalty_type is None
        else metrics.scope_members(scope).values("id"),
    )


def table_feedback_monthly(scope: Scope) -> Table:
    rows = _feedback_trend(scope)
    return Table(
        "feedback-monthly",
        _("NPS, CSAT, CES and CLI by month"),
        [_("Month"), _("NPS"), _("NPS answers"), _("CSAT (%)"), _("CES"), _("CLI"), _("Response rate (%)")],
        [[r["month"], r["nps"], r["nps_responses"], r["csat"], r["ces"], r["cli"], r["response_rate"]] for r in rows],
        link=admin_url("admin:feedback_metrics", program=scope.program.pk),
    )


def table_campaigns(scope: Scope) -> Table:
    rows = campaign_metrics(scope=scope)
    return Table(
        "campaigns",
        _("Campaigns"),
        [
            _("Campaign"),
            _("Sent"),
            _("Offers redeemed"),
            _("Buyers, treated (%)"),
            _("Buyers, holdout (%)"),
            _("Lift (points)"),
            _("Lift (%)"),
        ],
        [
            [r.name, r.sent, r.redeemed, r.treated_conversion, r.holdout_conversion, r.lift_points, r.lift_relative]
            for r in rows
        ],
        link=changelist("campaigns.campaign", program__id__exact=scope.program.pk),
        note=_("Campaigns that sent or had an offer redeemed in the period; lift over the whole experiment."),
    )


TABLES: dict[str, Callable[[Scope], Table]] = {
    "members": table_members,
    "points": table_points,
    "activity": table_activity,
    "points-monthly": table_points_monthly,
    "tiers": table_tiers,
    "loyalty": table_loyalty,
    "loyalty-monthly": table_loyalty_monthly,
    "rewards": table_rewards,
    "charity": table_charity,
    "feedback": table_feedback,
    "feedback-monthly": table_feedback_monthly,
    "campaigns": table_campaigns,
}

CARDS = [
    ("members", "active", _("Active members"), ""),
    ("members", "new", _("New members"), ""),
    ("members", "crr", _("Retention (CRR)"), "%"),
    ("members", "churn", _("Churn"), "%"),
    ("members", "aov", _("Average order value"), "currency"),
    ("members", "clv", _("Customer lifetime value"), "currency"),
    ("points", "issued", _("Points issued"), ""),
    ("points", "redemption_rate", _("Redemption rate"), "%"),
    ("points", "liability_value", _("Outstanding liability"), "currency"),
    ("feedback", "nps", _("NPS"), ""),
    ("feedback", "tickets_overdue", _("Overdue tickets"), ""),
]


# The period aggregates group up to one row per active member (60k at 100k members): at
# PostgreSQL's default 4 MB they spill to disk (EXPLAIN ANALYZE in bench/RESULTS.md).
DASHBOARD_WORK_MEM = "32MB"


def dashboard_build(*, scope: Scope) -> Dashboard:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [DASHBOARD_WORK_MEM])
        tables = [build(scope) for build in TABLES.values()]
    by_key = {t.key: t for t in tables}
    cards = []
    for table_key, row_key, label, unit in CARDS:
        table = by_key[table_key]
        value = next(row[2] for row in table.rows if row[0] == row_key)
        cards.append(Card(label, value, scope.program.currency if unit == "currency" else unit, table.link))
    return Dashboard(scope=scope, trend_start=trend_scope(scope).start, tables=tables, cards=cards)


# --- SVG geometry ------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 48, 12, 28


def _nice_top(value: float) -> float:
    """A round top for a y axis of four steps: 4 x the smallest round step (1, 1.5, 2, 2.5, 3, 4, 5, 6,
    8 x 10^n, at least 1: the charts count members and points) that reaches value."""
    quarter = value / 4
    if quarter <= 1:
        return 4
    power = 10 ** math.floor(math.log10(quarter))
    step = next(f * power for f in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if quarter <= f * power)
    return step * 4


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _frame(labels: list[str], top: float, right_range: tuple[float, float] | None = None) -> dict:
    plot_h = HEIGHT - TOP - BOTTOM
    grid = []
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        right = None
        if right_range:
            right = _fmt(right_range[0] + (right_range[1] - right_range[0]) * i / 4)
        grid.append({"y": round(y, 1), "label": _fmt(top * i / 4), "label_right": right})
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    xlabels = [
        {"x": round(LEFT + step * (i + 0.5), 1), "text": label[2:] if len(labels) > 6 else label}
        for i, label in enumerate(labels)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "grid": grid,
        "xlabels": xlabels,
        "step": step,
        "rects": [],
        "lines": [],
        "arcs": [],
        "legend": [],
    }


def _y(value: float, lo: float, hi: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return round(TOP + plot_h - plot_h * (value - lo) / (hi - lo), 1)


def line_chart(labels: list[str], series: list[dict]) -> dict:
    """Lines over months; a series with axis "right" and a fixed range (NPS) gets the right-hand scale.
    Months without a value break the line."""
    left_max = max([v for s in series if s.get("axis") != "right" for v in s["values"] if v is not None] or [0])
    top = _nice_top(left_max)
    right = next((s["range"] for s in series if s.get("axis") == "right"), None)
    chart = _frame(labels, top, right)
    for n, s in enumerate(series):
        lo, hi = s.get("range", (0, top))
        color = s.get("color", PALETTE[n])
        points = [
            (round(LEFT + chart["step"] * (i + 0.5), 1), _y(float(v), lo, hi), v)
            for i, v in enumerate(s["values"])
            if v is not None
        ]
        segments, current, previous_i = [], [], None
        for i, v in enumerate(s["values"]):
            if v is None:
                previous_i = None
                continue
            if previous_i is None and current:
                segments.append(current)
                current = []
            current.append(f"{round(LEFT + chart['step'] * (i + 0.5), 1)},{_y(float(v), lo, hi)}")
            previous_i = i
        if current:
            segments.append(current)
        chart["lines"].append(
            {
                "color": color,
                "segments": [" ".join(seg) for seg in segments],
                "dots": [{"x": x, "y": y, "title": f"{s['name']}: {v}"} for x, y, v in points],
            }
        )
        chart["legend"].append({"name": s["name"], "color": color})
    return chart


def bar_chart(labels: list[str], series: list[dict]) -> dict:
    """Grouped bars: one bar per series in each month."""
    top = _nice_top(max([max(v, 0) for s in series for v in s["values"]] or [0]))
    chart = _frame(labels, top)
    width = chart["step"] * 0.8 / max(len(series), 1)
    for n, s in enumerate(series):
        color = s.get("color", PALETTE[n])
        for i, v in enumerate(s["values"]):
            y = _y(max(float(v), 0), 0, top)
            chart["rects"].append(
                {
                    "x": round(LEFT + chart["step"] * (i + 0.1) + width * n, 1),
                    "y": y,
                    "w": round(width, 1),
                    "h": round(chart["bottom"] - y, 1),
                    "color": color,
                    "title": f"{labels[i]} {s['name']}: {v}",
                }
            )
        chart["legend"].append({"name": s["name"], "color": color})
    return chart


def stacked_chart(labels: list[str], series: list[dict]) -> dict:
    """Stacked bars: the series of a month sit on top of each other."""
    totals = [sum(s["values"][i] for s in series) for i in range(len(labels))]
    top = _nice_top(max(totals or [0]))
    chart = _frame(labels, top)
    base = [0.0] * len(labels)
    for n, s in enumerate(series):
        color = s.get("color") or PALETTE[n % len(PALETTE)]
        for i, v in enumerate(s["values"]):
            if not v:
                continue
            y_top, y_base = _y(base[i] + v, 0, top), _y(base[i], 0, top)
            chart["rects"].append(
                {
                    "x": round(LEFT + chart["step"] * (i + 0.15), 1),
                    "y": y_top,
                    "w": round(chart["step"] * 0.7, 1),
                    "h": round(y_base - y_top, 1),
                    "color": color,
                    "title": f"{labels[i]} {s['name']}: {v}",
                }
            )
            base[i] += v
        chart["legend"].append({"name": s["name"], "color": color})
    return chart


def donut_chart(slices: list[tuple[str, int]], center: str = "", links: list[str | None] | None = None) -> dict:
    """A ring of arcs drawn as dashed circle strokes, starting at 12 o'clock, clockwise; with
    `links`, each arc and legend entry opens its own list."""
    links = links or [None] * len(slices)
    radius = 70
    circumference = 2 * math.pi * radius
    total = sum(n for _label, n in slices)
    arcs, done = [], 0.0
    for n, (label, count) in enumerate(slices):
        color = PALETTE[n % len(PALETTE)]
        if count and total:
            length = circumference * count / total
            arcs.append(
                {
                    "dash": round(length, 2),
                    "gap": round(circumference - length, 2),
                    "offset": round(circumference / 4 - done, 2),
                    "color": color,
                    "title": f"{label}: {count}",
                    "link": links[n],
                }
            )
            done += length
    return {
        "kind": "donut",
        "width": 200,
        "height": 200,
        "radius": radius,
        "arcs": arcs,
        "center": center,
        "linked": any(links),
        "legend": [
            {"name": label, "color": PALETTE[n % len(PALETTE)], "link": links[n]}
            for n, (label, _c) in enumerate(slices)
        ],
    }
