"""Admin of rule revisions (members.services.revisions): the history (who changed what, when, the
fields changed), a new draft, its values, its simulation against the last 30 days, and scheduling
or publishing it. The admins that edit live rules (earning rules, tiers, programs, rewards) record a
revision after each save through RulesRevisedAdminMixin."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from members import services
from members.models import Program, RuleRevision
from members.services.revisions import revision_parts


class RulesRevisedAdminMixin:
    """After every save or delete in this admin, the live rules of the object's program are recorded
    as a new revision (none when nothing a revision holds changed), authored by the staff member."""

    def _rules_revised(self, request, obj) -> None:
        program = obj if isinstance(obj, Program) else obj.program
        services.rule_revision_capture(
            program=program, author=request.user, note=str(_("Edited in admin: %(what)s") % {"what": obj})
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._rules_revised(request, form.instance)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._rules_revised(request, obj)

    def delete_queryset(self, request, queryset):
        objects = list(queryset)
        super().delete_queryset(request, queryset)
        for obj in {(o if isinstance(o, Program) else o.program).pk: o for o in objects}.values():
            self._rules_revised(request, obj)


class DraftNewForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.all(), label=_("Program"))
    note = forms.CharField(
        label=_("Note"), max_length=255, required=False, help_text=_("What this version changes, and why.")
    )


class DraftForm(forms.Form):
    """One field per value a draft may change (a rule's multiplier, a tier's threshold, a reward's
    price...), labelled by its part and row, filled from the draft."""

    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args, revision: RuleRevision, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].initial = revision.note
        self.rows: dict[str, tuple[str, str, str]] = {}
        for part in revision_parts():
            for key, row in revision.snapshot.get(part.key, {}).items():
                for name in part.editable:
                    model_field = part.model._meta.get_field(name)
                    field = model_field.formfield(required=not isinstance(model_field, models.BooleanField))
                    field.label = f"{part.label} · {row.get(part.title, key)} · {model_field.verbose_name}"
                    field.help_text = ""
                    field.initial = model_field.to_python(row.get(name))
                    self.fields[f"{part.key}-{key}-{name}"] = field
                    self.rows[f"{part.key}-{key}-{name}"] = (part.key, key, name)

    def values(self) -> dict:
        values: dict = {}
        for field_name in self.changed_data:
            if field_name in self.rows:
                part, key, name = self.rows[field_name]
                values.setdefault(part, {}).setdefault(key, {})[name] = self.cleaned_data[field_name]
        return values


class ScheduleForm(forms.Form):
    effective_at = forms.DateTimeField(
        label=_("Takes effect at"),
        help_text=_("The revision is published at this time (within a minute)."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


@admin.register(RuleRevision)
class RuleRevisionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "note", "author", "created_at", "effective_at", "published_at", "published_by")
    list_filter = ("program", "status")
    list_select_related = ("program", "author", "published_by")
    search_fields = ("note",)
    ordering = ("program", "-number")
    change_list_template = "admin/members/rulerevision/change_list.html"
    readonly_fields = (
        "program",
        "number",
        "status",
        "note",
        "author",
        "created_at",
        "effective_at",
        "published_at",
        "published_by",
        "based_on",
        "next_steps",
        "changes",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False  # a draft starts from the live rules: "New draft" on the list

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a draft changes through its own page; a published revision never changes

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the history stays; a draft no one publishes does nothing

    def _may_edit(self, request) -> bool:
        return request.user.has_perm("members.change_rulerevision")

    @admin.display(description=_("What changed (compared with the revision before it, or the draft's base)"))
    def changes(self, revision: RuleRevision) -> str:
        rows = services.revision_changes(revision)
        if not rows:
            return _("Nothing.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Part"),
            _("Row"),
            _("Field"),
            _("Before"),
            _("After"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((c.part, c.row, c.field, "" if c.before is None else c.before, c.after) for c in rows),
            ),
        )

    @admin.display(description=_("Next steps"))
    def next_steps(self, revision: RuleRevision) -> str:
        if revision.status == RuleRevision.Status.PUBLISHED:
            return "-"
        links = [(reverse("admin:members_rulerevision_simulate", args=[revision.pk]), _("Simulate"))]
        if revision.status == RuleRevision.Status.DRAFT:
            links = [
                (reverse("admin:members_rulerevision_edit", args=[revision.pk]), _("Edit the draft")),
                *links,
                (reverse("admin:members_rulerevision_schedule", args=[revision.pk]), _("Schedule")),
                (reverse("admin:members_rulerevision_publish", args=[revision.pk]), _("Publish now")),
            ]
        elif revision.status == RuleRevision.Status.SCHEDULED:
            links += [
                (reverse("admin:members_rulerevision_unschedule", args=[revision.pk]), _("Back to draft")),
                (reverse("admin:members_rulerevision_publish", args=[revision.pk]), _("Publish now")),
            ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("draft/", view(self.draft_new_view), name="members_rulerevision_draft"),
            path("<int:pk>/edit/", view(self.edit_view), name="members_rulerevision_edit"),
            path("<int:pk>/simulate/", view(self.simulate_view), name="members_rulerevision_simulate"),
            path("<int:pk>/schedule/", view(self.schedule_view), name="members_rulerevision_schedule"),
            path("<int:pk>/unschedule/", view(self.unschedule_view), name="members_rulerevision_unschedule"),
            path("<int:pk>/publish/", view(self.publish_view), name="members_rulerevision_publish"),
            *super().get_urls(),
        ]

    def _page(self, request, revision, form, title, intro, submit_label):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": revision,
            "form": form,
            "intro": intro,
            "submit_label": submit_label,
        }
        return TemplateResponse(request, "admin/form_page.html", context)

    def _revision(self, request, pk: int) -> RuleRevision:
        if not self._may_edit(request):
            raise PermissionDenied
        return get_object_or_404(RuleRevision.objects.select_related("program", "based_on"), pk=pk)

    def _done(self, request, revision, message) -> object:
        self.message_user(request, message, messages.SUCCESS)
        return redirect("admin:members_rulerevision_change", revision.pk)

    def draft_new_view(self, request):
        if not self._may_edit(request):
            raise PermissionDenied
        form = DraftNewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            revision = services.rule_revision_draft_create(
                program=form.cleaned_data["program"], author=request.user, note=form.cleaned_data["note"]
            )
            return redirect("admin:members_rulerevision_edit", revision.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("New draft of the rules"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/members/rulerevision/draft_new.html", context)

    def edit_view(self, request, pk: int):
        revision = self._revision(request, pk)
        form = DraftForm(request.POST or None, revision=revision)
        if request.method == "POST" and form.is_valid():
            try:
                services.rule_revision_draft_update(
                    revision=revision, values=form.values(), author=request.user, note=form.cleaned_data["note"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return self._done(request, revision, _("Draft saved. Simulate it before you publish it."))
        return self._page(
            request,
            revision,
            form,
            _("Edit the draft"),
            _(
                "Change the values this version should have. Publishing writes only what you change here onto "
                "the live rules; a rule added since the draft was made keeps its values."
            ),
            _("Save the draft"),
        )

    def simulate_view(self, request, pk: int):
        revision = self._revision(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Simulation of %(revision)s") % {"revision": revision},
            "opts": self.model._meta,
            "original": revision,
            "result": services.rule_revision_simulate(revision=revision),
        }
        return TemplateResponse(request, "admin/members/rulerevision/simulation.html", context)

    def schedule_view(self, request, pk: int):
        revision = self._revision(request, pk)
        form = ScheduleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.rule_revision_schedule(
                    revision=revision, effective_at=form.cleaned_data["effective_at"], actor=request.user
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return self._done(request, revision, _("Scheduled."))
        return self._page(
            request,
            revision,
            form,
            _("Schedule"),
            _("The revision is published at this time; until then you may take it back to a draft."),
            _("Schedule"),
        )

    def _confirm(self, request, pk: int, call, title, intro, done):
        revision = self._revision(request, pk)
        form = forms.Form(request.POST or None)
        if request.method == "POST":
            try:
                revision = call(revision=revision, actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return redirect("admin:members_rulerevision_change", revision.pk)
            return self._done(request, revision, done)
        return self._page(request, revision, form, title, intro, title)

    def publish_view(self, request, pk: int):
        return self._confirm(
            request,
            pk,
            services.rule_revision_publish,
            _("Publish now"),
            _("Its values become the live rules at once; every purchase from now on earns by them."),
            _("Published: these are now the live rules."),
        )

    def unschedule_view(self, request, pk: int):
        return self._confirm(
            request,
            pk,
            services.rule_revision_unschedule,
            _("Back to draft"),
            _("The revision will not be published at its date; you may change it and schedule it again."),
            _("Back to draft."),
        )
