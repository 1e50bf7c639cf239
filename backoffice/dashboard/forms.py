"""The dashboard's filter form: a program, a period (a preset or from-to), and optional tier,
partner and loyalty type, cleaned into the members.metrics.Scope every table reads."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.metrics import Scope, month_start
from members.models import Member, Partner, Program, Tier
from members.selectors import add_months
from members.zones import program_clock

MAX_DAYS = 3660  # a custom period spans at most about ten years
UNKNOWN_TYPE = "unknown"  # the form's value for members whose loyalty type is not known yet ("")


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
        with program_clock(data["program"]):  # "today", "this month": the program's local days
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
