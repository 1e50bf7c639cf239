"""Feedback by saved segment (/admin/feedback/segments/): the NPS, CSAT, CES and CLI trend of the
members of any campaign segment, next to the whole program's, by month. Feedback knows no segments
(campaigns sits above it), so this page lives here: campaigns' segment selector names the members,
feedback's trend selector measures them."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from backoffice.dashboard.charts import line_chart
from campaigns.models import Segment
from campaigns.selectors import segment_members
from feedback.selectors import feedback_trend

MONTHS = [(3, "3"), (6, "6"), (12, "12"), (24, "24")]


class SegmentFeedbackForm(forms.Form):
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.select_related("program").order_by("program__name", "name"), label=_("Segment")
    )
    months = forms.TypedChoiceField(choices=MONTHS, coerce=int, initial=12, label=_("Months"))


def segment_feedback(*, segment: Segment, months: int) -> dict:
    """Both trends (one row per month) and the chart: NPS of the segment and of its program, CSAT of the segment."""
    segment_rows = feedback_trend(
        program=segment.program, months=months, member_ids=segment_members(segment=segment).values("id")
    )
    program_rows = feedback_trend(program=segment.program, months=months)
    labels = [row["month"].strftime("%Y-%m") for row in segment_rows]
    chart = line_chart(
        labels,
        [
            {"name": _("CSAT (%)"), "values": [r["csat"] for r in segment_rows], "axis": "left"},
            {
                "name": _("NPS of the segment"),
                "values": [r["nps"] for r in segment_rows],
                "axis": "right",
                "range": (-100, 100),
            },
            {
                "name": _("NPS of the whole program"),
                "values": [r["nps"] for r in program_rows],
                "axis": "right",
                "range": (-100, 100),
            },
        ],
    )
    return {
        "rows": list(zip(segment_rows, program_rows, strict=True)),
        "chart": chart,
        "chart_table": {"title": _("NPS and CSAT by month")},
    }


def feedback_by_segment_view(request: HttpRequest, *, admin_site, permission: str) -> TemplateResponse:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    form = SegmentFeedbackForm(request.GET or None)
    context = {
        **admin_site.each_context(request),
        "title": _("Feedback by segment"),
        "form": form,
    }
    if form.is_valid():
        context["segment"] = form.cleaned_data["segment"]
        context |= segment_feedback(segment=form.cleaned_data["segment"], months=form.cleaned_data["months"])
    return TemplateResponse(request, "admin/backoffice/feedback_by_segment.html", context)
