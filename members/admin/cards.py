"""Admin for loyalty cards: find a card by number, block a lost one, replace one (each through
members.services); a member's cards show read-only on the member page, where "Issue a card" adds one."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from members import services
from members.admin.base import ReadOnlyInline, action_form, apply_each
from members.admin.forms import CardBlockForm, CardReplaceForm
from members.models import Card


class CardInline(ReadOnlyInline):
    model = Card
    fk_name = "member"
    fields = ("number", "kind", "status", "issued_at", "blocked_at", "block_reason", "replaced_by")
    readonly_fields = fields
    verbose_name_plural = _("Cards (issue one with the action “Issue a card”)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("replaced_by")


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ("number", "member", "program", "kind", "status", "issued_at", "blocked_at", "replaced_by")
    list_filter = ("program", "kind", "status")
    list_select_related = ("member", "program", "replaced_by")
    search_fields = ("=number", "=member__number")
    show_full_result_count = False
    actions = ["block", "replace"]
    readonly_fields = [f.name for f in Card._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # issued from the member ("Issue a card"), or by a partner through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # purchases name the card they were made with

    @admin.action(description=_("Block (lost or stolen)"), permissions=["change"])
    def block(self, request, queryset):
        form = action_form(self, request, queryset, CardBlockForm, _("Block cards"))
        if not isinstance(form, CardBlockForm):
            return form
        reason = form.cleaned_data["reason"]
        apply_each(
            self,
            request,
            queryset.filter(status=Card.Status.ACTIVE),
            lambda card: services.card_block(card=card, reason=reason, actor=request.user),
            _("%(n)d cards blocked."),
        )
        return None

    @admin.action(description=_("Replace (the new card works at once)"), permissions=["change"])
    def replace(self, request, queryset):
        form = action_form(self, request, queryset, CardReplaceForm, _("Replace cards"))
        if not isinstance(form, CardReplaceForm):
            return form
        number = form.cleaned_data["number"]
        if number and queryset.count() != 1:
            self.message_user(request, _("A printed number replaces one card: select one."), messages.ERROR)
            return None
        apply_each(
            self,
            request,
            queryset,
            lambda card: services.card_replace(
                card=card, reason=form.cleaned_data["reason"], number=number, actor=request.user
            ),
            _("%(n)d cards replaced."),
        )
        return None
