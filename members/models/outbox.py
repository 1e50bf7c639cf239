"""The event outbox (members.outbox): events written with the change that caused them, and which handler ran."""

from django.db import models
from django.db.models import Q

from members.models.member import Member
from members.models.program import Program


class Event(models.Model):
    """A domain event, written in the transaction that caused it (the outbox).

    On PostgreSQL partitioned by month of `occurred_at` (core.partitions); dispatched months are
    dropped after settings.DATA_RETENTION_MONTHS, so foreign keys to it have no database constraint."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    type = models.CharField(max_length=40, db_index=True)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["occurred_at"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"),
            # The partner event feed (GET /api/v1/events) reads a program's events in id order.
            models.Index(fields=["program", "id"], name="event_program_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.id}"


class EventHandling(models.Model):
    """(event, handler) ran; the unique constraint makes re-dispatch safe.

    Partitioned (PostgreSQL) by its event's `occurred_at`, copied here: a unique key of a partitioned
    table must hold the partition key, and since an event has one `occurred_at`, unique (event,
    handler, event_occurred_at) is unique (event, handler). A handling also lives in its event's
    month, so both are dropped together."""

    # db_constraint=False: events are partitioned (Event's docstring).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="handlings", db_constraint=False)
    event_occurred_at = models.DateTimeField()
    handler = models.CharField(max_length=120)
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "handler", "event_occurred_at"], name="event_handled_once")
        ]

    def __str__(self) -> str:
        return f"{self.handler} on {self.event_id}"
