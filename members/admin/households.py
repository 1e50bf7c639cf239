"""Households, read-only for staff: who belongs (with each member's part of the pooled points) and
the invitations sent. Members form and leave households themselves (members.services.households)."""

from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from members.admin.base import ReadOnlyAdmin, ReadOnlyInline
from members.models import Household, HouseholdInvitation, Member


class HouseholdMemberInline(ReadOnlyInline):
    model = Member
    fk_name = "household"
    fields = ("member_link", "full_name", "status", "tier", "points_available", "household_joined_at")
    readonly_fields = fields
    verbose_name = _("member")
    verbose_name_plural = _("Members (each one's available points are their part of the pool)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tier__program").order_by("household_joined_at", "pk")

    @admin.display(description=_("number"))
    def member_link(self, obj: Member) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:member_360", args=[obj.pk]), obj.number)


class HouseholdInvitationInline(ReadOnlyInline):
    model = HouseholdInvitation
    fields = ("created_at", "member", "invited_by", "status", "decided_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "invited_by")


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("name", "program", "member_count", "pool", "member_numbers", "created_at")
    list_filter = ("program",)
    search_fields = ("name", "=members__number", "members__email")
    list_select_related = ("program",)
    inlines = [HouseholdMemberInline, HouseholdInvitationInline]
    fields = ("name", "program", "created_by", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members"),
                pool=Coalesce(Sum("members__points_available", filter=Q(members__status=Member.Status.ACTIVE)), 0),
            )
            .prefetch_related("members")
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("members.view_member")

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: Household) -> int:
        return obj.member_count

    @admin.display(description=_("pooled points"), ordering="pool")
    def pool(self, obj: Household) -> int:
        return obj.pool

    @admin.display(description=_("member numbers"))
    def member_numbers(self, obj: Household) -> str:
        return ", ".join(m.number for m in obj.members.all())
