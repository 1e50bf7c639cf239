"""What the members admin modules share, and campaigns' read-only admins too: an action's
intermediate form page, applying a service to each selected object, and the read-only admin."""

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.shortcuts import render

from core.errors import DomainError


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


def apply_each(model_admin, request, objects: Iterable, call: Callable, done_message: str) -> None:
    """Call `call(obj)` (a service) for each object; one success message with the count, and one error
    message per refusal naming the object, so a refused member does not stop the others."""
    done = 0
    for obj in objects:
        try:
            call(obj)
            done += 1
        except DomainError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if done:
        model_admin.message_user(request, done_message % {"n": done}, messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
