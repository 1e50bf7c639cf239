"""Shapes of the feedback part of the partner API: a complaint or remark a partner passes on."""

from django.conf import settings
from rest_framework import serializers

from feedback.models import Ticket
from members.partners.serializers import StrictSerializer


class TicketOpenSerializer(StrictSerializer):
    member = serializers.CharField(max_length=12, help_text="Membership number.")
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10000, help_text="The customer's words.")
    category = serializers.ChoiceField(choices=Ticket.Category.choices, default=Ticket.Category.COMPLAINT)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL)
    external_id = serializers.CharField(
        max_length=64, required=False, help_text="Your reference; sending it again returns the same ticket."
    )
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES], required=False, help_text="Default: the member's."
    )


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.CharField(source="member.number")
    subject = serializers.CharField()
    category = serializers.ChoiceField(choices=Ticket.Category.choices)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices)
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    external_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    acknowledge_due_at = serializers.DateTimeField(help_text="The customer is told we received it by then.")
    due_at = serializers.DateTimeField(help_text="Target resolution date.")
