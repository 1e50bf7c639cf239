"""The dashboard's tables: one builder per table, registered in TABLES by the key its CSV export uses.

Every number comes from the apps' metric selectors (members/metrics/, rewards/metrics.py,
feedback/selectors.py, campaigns/metrics.py). Each table is built on its own, so the CSV export
of one table runs only that table's queries, and the page and the CSV share the same rows.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from backoffice.dashboard.charts import bar_chart, donut_chart, line_chart, stacked_chart
from campaigns.metrics import campaign_metrics
from core.formatting import number
from feedback.selectors import detractors_contacted, feedback_scores, feedback_trend, ticket_figures
from members import metrics
from members.metrics import Scope, month_start, months_between
from members.models import Member
from members.selectors import add_months
from rewards.metrics import charity_by_cause, redemptions_by_kind


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    link: str | None = None
    chart: dict | None = None
    note: str = ""
    # Keyed tables (one figure per row): each row starts with a stable key that the CSV keeps as its
    # first column and the page keeps out of sight (a row's data-key), so staff read words only.
    keyed: bool = False

    @property
    def lines(self) -> list[tuple[str, list[tuple[str, bool]]]]:
        """(key, [(text, is a number), ...]) per row as the page shows it: numbers right-aligned and in
        the reader's locale (grouped, local decimal separator)."""
        return [
            (row[0] if self.keyed else "", [(shown(v), _is_number(v)) for v in (row[1:] if self.keyed else row)])
            for row in self.rows
        ]

    @property
    def csv_columns(self) -> list[str]:
        return [_("Key"), *self.columns] if self.keyed else self.columns


def _is_number(value) -> bool:
    return value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool))


def text(value) -> str:
    """How a cell reads in the CSV: plain machine numbers ("" for a ratio without a denominator)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    return str(value)


def shown(value) -> str:
    """How a cell reads on the page: the CSV's text, numbers in the reader's locale."""
    if _is_number(value) and value is not None:
        return number(value)
    return text(value)


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


def member_rows(m: metrics.MemberMetrics, currency: str) -> list[list]:
    """[key, label, value] per figure of the "Members and purchases" table."""
    return [
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


def table_members(scope: Scope) -> Table:
    return Table(
        "members",
        _("Members and purchases"),
        [_("Metric"), _("Value")],
        member_rows(metrics.member_metrics(scope=scope), scope.program.currency),
        link=_members_link(scope),
        keyed=True,
    )


def points_rows(p: metrics.PointsMetrics) -> list[list]:
    """[key, label, value] per figure of the "Points" table."""
    return [
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


def table_points(scope: Scope) -> Table:
    link = changelist(
        "members.ledgerentry",
        program__id__exact=scope.program.pk,
        partner__id__exact=scope.partner.pk if scope.partner else None,
        **_dates("created_at", scope),
    )
    rows = points_rows(metrics.points_metrics(scope=scope))
    return Table("points", _("Points"), [_("Metric"), _("Value")], rows, link=link, keyed=True)


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


def scope_feedback_scores(scope: Scope) -> dict:
    return feedback_scores(
        program=scope.program,
        start=scope.start,
        end=scope.end,
        tier=scope.tier,
        loyalty_type=scope.loyalty_type,
        partner=scope.partner,
    )


def table_feedback(scope: Scope) -> Table:
    scores = scope_feedback_scores(scope)
    tickets = ticket_figures(program=scope.program, start=scope.start, end=scope.end)
    loop = detractors_contacted(program=scope.program, start=scope.start, end=scope.end)
    rows = [
        ["nps", _("NPS (promoters % - detractors %)"), scores["nps"]],
        ["nps_responses", _("NPS answers"), scores["nps_responses"]],
        # xgettext:no-python-format
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
        [_("Metric"), _("Value")],
        rows,
        link=changelist("feedback.ticket", program__id__exact=scope.program.pk),
        keyed=True,
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
        note=_(
            "Campaigns that sent or had an offer redeemed in the period; lift over the whole experiment, "
            "refreshed every 10 minutes while its attribution window is open, then final."
        ),
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
