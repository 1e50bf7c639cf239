"""Every ModelAdmin on the Fidelis site is audited: its add/change/delete logging also appends to
the audit trail (members.AuditEntry, through members.services.audit_record) with the changed
fields' before/after. FidelisAdminSite.register (backoffice/site.py) adds the mixin to each one."""

from members import services


def _form_changes(form, formsets, add: bool) -> dict:
    """{field: [before, after]} of a saved admin form, and of its inline rows as "model pk": {...}."""
    # Not every admin form is a model form (the password change form is not): its values are never copied.
    model = getattr(getattr(form, "_meta", None), "model", None)
    pairs = {name: [None if add else form.initial.get(name), form.cleaned_data.get(name)] for name in form.changed_data}
    changes = services.audit_changes(model, pairs)
    for formset in formsets or []:
        inline_model = formset.model
        for inline_form in formset.forms:
            key = f"{inline_model._meta.model_name} {inline_form.instance.pk or 'new'}"
            if formset.can_delete and formset._should_delete_form(inline_form):
                changes[key] = "deleted"
            elif inline_form.has_changed():
                changes[key] = services.audit_changes(
                    inline_model,
                    {
                        name: [inline_form.initial.get(name), inline_form.cleaned_data.get(name)]
                        for name in inline_form.changed_data
                    },
                )
    return changes


def _row_values(obj) -> dict:
    return services.audit_changes(
        type(obj), {f.name: [getattr(obj, f.attname), None] for f in obj._meta.concrete_fields if not f.primary_key}
    )


class AuditedAdminMixin:
    """The admin's own logging (LogEntry) is where every add/change/delete through the admin passes,
    for every model: each one also goes to the audit trail, with before/after of the changed fields.
    Added to every ModelAdmin by FidelisAdminSite.register, so no app has to remember it."""

    def construct_change_message(self, request, form, formsets, add=False):
        # Called right before log_addition/log_change, while the form still knows the old values.
        request._audit_changes = _form_changes(form, formsets, add)
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        services.audit_record(
            actor=request.user, action="admin.add", target=obj, changes=getattr(request, "_audit_changes", {})
        )
        request._audit_changes = {}
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        services.audit_record(
            actor=request.user, action="admin.change", target=obj, changes=getattr(request, "_audit_changes", {})
        )
        request._audit_changes = {}
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            services.audit_record(actor=request.user, action="admin.delete", target=obj, changes=_row_values(obj))
        return entries
