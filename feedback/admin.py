"""Admin for surveys, invitations, answers, tickets and the feedback metrics. Actions and forms call services."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from core.csvfiles import formula_safe
from core.enqueue import enqueue
from core.errors import DomainError
from core.translations import MissingTranslationsAdmin
from feedback import selectors, services, tasks
from feedback.models import Answer, Invitation, Question, Response, SlaPolicy, Survey, Ticket
from members import selectors as member_selectors
from members.models import Member, Program, Tier


class QuestionFormSet(BaseInlineFormSet):
    """An active survey must be answerable with the questions as they will be saved (the survey's own
    clean() cannot see the questions added or removed on the same page)."""

    def clean(self):
        super().clean()
        survey = self.instance
        if not survey.is_active or any(form.errors for form in self.forms):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        scores = sum(1 for f in kept if f.cleaned_data.get("kind") == Question.Kind.SCORE)
        problem = Survey.questions_problem(survey.kind, scores)
        if problem:
            raise forms.ValidationError(
                _("%(problem)s Or leave the survey switched off until it is ready.") % {"problem": problem}
            )


class QuestionInline(TranslationTabularInline):
    model = Question
    formset = QuestionFormSet
    extra = 0
    fields = ("position", "kind", "text", "choices", "required", "min_score", "max_score")


class SendForm(forms.Form):
    tier = forms.ModelChoiceField(Tier.objects.none(), required=False, label=_("Members in tier"))
    loyalty_type = forms.ChoiceField(
        choices=[("", "---------"), *Member.LoyaltyType.choices[1:]], required=False, label=_("Loyalty type")
    )
    numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=_("Or these members"),
        help_text=_("Member numbers or emails, one per line."),
    )

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = program.tiers.all()

    def clean(self):
        data = super().clean()
        if not (data.get("tier") or data.get("loyalty_type") or data.get("numbers", "").strip()):
            raise forms.ValidationError(_("Choose a tier, a loyalty type or list members."))
        return data


@admin.register(Survey)
class SurveyAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("name", "kind", "trigger", "channel", "is_active", "program", "quarantine_days")
    list_filter = ("program", "kind", "trigger", "channel", "is_active")
    search_fields = ("name", "title")
    list_select_related = ("program",)
    inlines = [QuestionInline]
    actions = ["send_to_members"]
    change_list_template = "feedback/admin/survey_changelist.html"
    fieldsets = [
        (None, {"fields": ("program", "name", "kind", "is_active", "title", "intro", "thanks")}),
        (_("Trigger"), {"fields": ("trigger", "channel", "delay_hours", "every_months", "min_tier", "min_spend")}),
        (_("Fatigue, reminder and expiry"), {"fields": ("quarantine_days", "reminder_days", "expiry_days")}),
    ]

    def get_urls(self):
        return [
            path("metrics/", self.admin_site.admin_view(self.metrics_view), name="feedback_metrics"),
            path("<int:pk>/send/", self.admin_site.admin_view(self.send_view), name="feedback_survey_send"),
            *super().get_urls(),
        ]

    @admin.action(description=_("Send to members now…"), permissions=["change"])
    def send_to_members(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one survey."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:feedback_survey_send", args=[queryset.get().pk]))

    def send_view(self, request: HttpRequest, pk: int):
        survey = get_object_or_404(Survey.objects.select_related("program"), pk=pk)
        if not self.has_change_permission(request, survey):
            raise PermissionDenied
        form = SendForm(request.POST or None, program=survey.program)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            member_ids = selectors.members_to_survey(
                program=survey.program,
                tier=data["tier"],
                loyalty_type=data["loyalty_type"] or None,
                numbers=data["numbers"].split(),
            )
            if not survey.is_active:
                form.add_error(None, _("Switch the survey on before sending it."))
            elif problem := survey.answerable_problem():
                form.add_error(None, problem)
            else:
                reference = f"manual:{timezone.now():%Y%m%d%H%M%S}"
                enqueue(tasks.survey_send_manual, survey.pk, member_ids, reference)
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d member queued; fatigue and consent rules apply, see Invitations for the result.",
                        "%(count)d members queued; fatigue and consent rules apply, see Invitations for the result.",
                        len(member_ids),
                    )
                    % {"count": len(member_ids)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:feedback_invitation_changelist") + f"?reference={reference}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": survey,
            "form": form,
            "title": _("Send “%(survey)s”") % {"survey": survey},
            "intro": _(
                "The survey goes out now by %(channel)s. Members invited to any survey in the last %(days)s days, "
                "and members without consent for the channel, are skipped; each skip is recorded with its reason "
                "under Invitations."
            )
            % {"channel": survey.get_channel_display(), "days": survey.quarantine_days},
            "submit_label": _("Send"),
        }
        return TemplateResponse(request, "admin/form_page.html", context)

    def metrics_view(self, request: HttpRequest):
        program = Program.objects.filter(pk=request.GET.get("program") or None).first()
        months = int(request.GET["months"]) if request.GET.get("months") in PERIODS else 12
        trend = selectors.feedback_trend(program=program, months=months)
        if request.GET.get("export") == "csv":
            return _trend_csv(trend)
        start = selectors.trend_start(months=months)
        dimensions = [("tier", _("By tier")), ("loyalty_type", _("By loyalty type")), ("partner", _("By partner"))]
        if program is None:
            dimensions.insert(0, ("program", _("By program")))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Feedback metrics"),
            "programs": Program.objects.all(),
            "program": program,
            "months": months,
            "periods": PERIODS,
            "trend": trend,
            "total": selectors.feedback_scores(program=program, start=start),
            "breakdowns": {
                label: selectors.feedback_scores_by(dimension=dimension, program=program, start=start)
                for dimension, label in dimensions
            },
            "tickets": selectors.ticket_figures(program=program, start=start),
            "loop": selectors.detractors_contacted(program=program, start=start),
        }
        return TemplateResponse(request, "feedback/admin/metrics.html", context)


PERIODS = {"3": 3, "6": 6, "12": 12, "24": 24}

TREND_COLUMNS = [
    "month",
    "responses",
    "nps",
    "promoters",
    "passives",
    "detractors",
    "csat",
    "ces",
    "cli",
    "invited",
    "answered",
    "response_rate",
]


def _csv(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    # Answers hold members' own words: a comment must not run as a spreadsheet formula.
    writer.writerows([formula_safe(v) if isinstance(v, str) else ("" if v is None else v) for v in row] for row in rows)
    return response


def _trend_csv(trend: list[dict]) -> HttpResponse:
    return _csv("feedback-trend.csv", TREND_COLUMNS, ([row[c] for c in TREND_COLUMNS] for row in trend))


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "survey",
        "member",
        "trigger",
        "channel",
        "status",
        "skip_reason",
        "language",
        "send_at",
        "sent_at",
        "reminded_at",
    )
    list_filter = ("status", "skip_reason", "channel", "trigger", "survey")
    search_fields = ("member__number", "member__email", "reference")
    list_select_related = ("survey", "member")
    show_full_result_count = False
    date_hierarchy = "send_at"
    readonly_fields = [f.name for f in Invitation._meta.fields]

    def lookup_allowed(self, lookup, value, request=None):
        # The manual-send page links here with ?reference=... to show that wave's outcome.
        return lookup == "reference" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ("question", "score", "text")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("survey", "member", "score", "category", "language", "completed_at", "ticket")
    list_filter = ("survey__kind", "category", "language", "survey", ("completed_at", admin.EmptyFieldListFilter))
    search_fields = ("member__number", "member__email")
    list_select_related = ("survey", "member", "ticket")
    show_full_result_count = False
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in Response._meta.fields]
    inlines = [AnswerInline]
    actions = ["export_csv"]

    @admin.action(description=_("Export the selected answers as CSV"))
    def export_csv(self, request, queryset):
        return _csv("feedback-answers.csv", selectors.RESPONSE_COLUMNS, selectors.response_rows(responses=queryset))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("program", "priority", "acknowledge_hours", "resolve_hours")
    list_filter = ("program",)


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue now")), ("escalated", _("Escalated at least once"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(selectors.overdue_q(timezone.now()))
        if self.value() == "escalated":
            return queryset.filter(escalations__gt=0)
        return queryset


class TicketAdminForm(forms.ModelForm):
    body = forms.CharField(label=_("Customer's message"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    new_status = forms.ChoiceField(label=_("Move to"), required=False)
    reply = forms.CharField(
        label=_("Reply to the customer"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Emailed to the member and shown on their member page."),
    )
    note = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Visible to the team only."),
    )

    class Meta:
        model = Ticket
        fields = ("member", "subject", "category", "priority", "assignee")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.status if self.instance.pk else None
        allowed = services.TRANSITIONS.get(current, set())
        self.fields["new_status"].choices = [("", "---------")] + [
            (value, label) for value, label in Ticket.Status.choices if value in allowed
        ]
        if not self.instance.pk:
            self.fields["body"].required = True

    def clean_member(self):
        member = self.cleaned_data["member"]
        if member.status == Member.Status.ANONYMIZED:
            raise forms.ValidationError(_("This member was anonymized."))
        return member


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = (
        "__str__",
        "member",
        "category",
        "priority",
        "status",
        "assignee",
        "due_at",
        "overdue",
        "escalations",
        "created_at",
    )
    list_filter = (OverdueFilter, "status", "priority", "category", "channel", "assignee", "program")
    search_fields = ("subject", "member__number", "member__email", "external_id")
    list_select_related = ("member", "assignee")
    autocomplete_fields = ("member", "assignee")
    show_full_result_count = False
    date_hierarchy = "created_at"
    actions = ["assign_to_me", "mark_acknowledged", "mark_in_progress", "mark_resolved", "mark_closed"]
    timeline = (
        "status",
        "channel",
        "partner",
        "external_id",
        "language",
        "created_at",
        "acknowledge_due_at",
        "acknowledged_at",
        "first_contact_at",
        "due_at",
        "resolved_at",
        "closed_at",
        "escalated_at",
        "escalations",
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("member", "subject", "body", "category", "priority", "assignee")})]
        return [
            (None, {"fields": ("member", "subject", "category", "priority", "assignee")}),
            (_("The member"), {"fields": ("member_context",)}),
            (_("Thread"), {"fields": ("thread",)}),
            (_("Answer"), {"fields": ("new_status", "reply", "note")}),
            (_("SLA and history"), {"fields": self.timeline}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return ("member", "subject", "member_context", "thread", *self.timeline) if obj is not None else ()

    @admin.display(description=_("Context"))
    def member_context(self, obj: Ticket) -> str:
        """What staff check before answering: tier, balance, recent purchases, earlier tickets, latest NPS."""
        member = obj.member
        return render_to_string(
            "feedback/admin/ticket_member_context.html",
            {
                "member": member,
                "purchases": member_selectors.purchases_recent(member=member, limit=5),
                "feedback": selectors.member_feedback_overview(member=member, limit=5, exclude_ticket=obj),
            },
        )

    @admin.display(description=_("Messages, notes and log"))
    def thread(self, obj: Ticket):
        """The whole conversation for the team, oldest first; written only by the ticket services."""
        rows = obj.messages.select_related("author")
        return format_html(
            '<table class="ticket-thread">{}</table>',
            format_html_join(
                "",
                '<tr><td class="ticket-thread-meta">{}<br><strong>{}</strong><br>{}</td><td>{}</td></tr>',
                (
                    (
                        date_format(localtime(m.created_at), "SHORT_DATETIME_FORMAT"),
                        m.get_kind_display(),
                        m.author or "",
                        linebreaksbr(m.body),
                    )
                    for m in rows
                ),
            ),
        )

    @admin.display(boolean=True, description=_("Overdue"))
    def overdue(self, obj: Ticket) -> bool:
        return obj.is_overdue(timezone.now())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if not change:
                ticket = services.ticket_open(
                    member=data["member"],
                    subject=data["subject"],
                    body=data["body"],
                    category=data["category"],
                    priority=data["priority"],
                    channel=Ticket.Channel.STAFF,
                    created_by=request.user,
                )
            else:
                ticket = obj
            ticket = services.ticket_update(
                ticket=ticket,
                by=request.user,
                assignee=data["assignee"],
                priority=data["priority"],
                category=data["category"],
            )
            if data.get("note"):
                services.ticket_reply(ticket=ticket, author=request.user, body=data["note"], internal=True)
            if data.get("reply"):
                services.ticket_reply(ticket=ticket, author=request.user, body=data["reply"])
            if data.get("new_status"):
                ticket = services.ticket_transition(ticket=ticket, status=data["new_status"], by=request.user)
        except DomainError as exc:
            if not change:  # the form validated the input, so this is a rule the form cannot know of
                raise
            self.message_user(request, exc.message, messages.ERROR)
            ticket = obj
        # The admin's response and log entry need the saved row.
        obj.__dict__.update(Ticket.objects.get(pk=ticket.pk).__dict__)

    def _bulk(self, request, queryset, apply) -> None:
        done = 0
        for ticket in queryset:
            try:
                apply(ticket)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{ticket.number}: {exc.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", done) % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._bulk(
            request, queryset, lambda t: services.ticket_update(ticket=t, assignee=request.user, by=request.user)
        )

    def _move(self, request, queryset, status):
        self._bulk(request, queryset, lambda t: services.ticket_transition(ticket=t, status=status, by=request.user))

    @admin.action(description=_("Mark acknowledged"), permissions=["change"])
    def mark_acknowledged(self, request, queryset):
        self._move(request, queryset, Ticket.Status.ACKNOWLEDGED)

    @admin.action(description=_("Mark in progress"), permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._move(request, queryset, Ticket.Status.IN_PROGRESS)

    @admin.action(description=_("Mark resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        self._move(request, queryset, Ticket.Status.RESOLVED)

    @admin.action(description=_("Close"), permissions=["change"])
    def mark_closed(self, request, queryset):
        self._move(request, queryset, Ticket.Status.CLOSED)
