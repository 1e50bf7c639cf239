"""What the members admin modules share, and campaigns' read-only admins too: an action's
intermediate form page and the read-only admin."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.shortcuts import render


def action_form(model_admin, request, queryset, form_class, title: str, **form_kwargs):
    """An action's intermediate page: the bound, valid form once submitted, else the page to show."""
    form = form_class(request.POST if "apply" in request.POST else None, **form_kwargs)
    if "apply" in request.POST and form.is_valid():
        return form
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        "queryset": queryset,
        "action": request.POST.get("action"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return render(request, "admin/members/action_form.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
