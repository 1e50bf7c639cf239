"""The event outbox: record in the writer's transaction, dispatch after commit, each handler once.

Event types are payload classes declared in each app's `events.py` (see registry.py). Apps register
handlers in their AppConfig.ready() by importing a module that uses @handles.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.enqueue import enqueue, enqueue_on_commit
from members.models import Event, EventHandling, Member, Program
from members.outbox.registry import EVENT_TYPES, Payload

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
_webhook_handlers: list[tuple[str, Handler]] = []


def handles(*event_types: type[Payload]) -> Callable[[Handler], Handler]:
    """Run the decorated function for every event of these types (at most once per event)."""

    def register(func: Handler) -> Handler:
        name = f"{func.__module__}.{func.__qualname__}"
        for event_type in event_types:
            if all(existing != name for existing, _ in _handlers[event_type.type]):
                _handlers[event_type.type].append((name, func))
        return func

    return register


def handles_webhook_types(func: Handler) -> Handler:
    """Run the decorated function for every event of a type declared with `webhook=True` (partner
    webhooks), including types that apps above members declare after it is registered."""
    name = f"{func.__module__}.{func.__qualname__}"
    if all(existing != name for existing, _ in _webhook_handlers):
        _webhook_handlers.append((name, func))
    return func


def handlers_for(event_type: str) -> list[tuple[str, Handler]]:
    declared = EVENT_TYPES.get(event_type)
    return list(_handlers.get(event_type, ())) + (_webhook_handlers if declared and declared.webhook else [])


def event_build(
    payload: Payload,
    *,
    program: Program | None = None,
    program_id: int | None = None,
    member: Member | None = None,
    member_id: int | None = None,
) -> Event:
    """The unsaved event of `payload`, for events_record_bulk."""
    event = Event(type=payload.type, payload=payload.as_json())
    if program is not None:
        event.program = program
    else:
        event.program_id = program_id
    if member is not None:
        event.member = member
    else:
        event.member_id = member_id
    return event


def event_record(payload: Payload, *, program: Program, member: Member | None = None) -> Event:
    """Write the event in the current transaction; dispatch it once that transaction commits."""
    event = event_build(payload, program=program, member=member)
    event.occurred_at = timezone.now()
    event.save(force_insert=True)
    # Broker down: the enqueue is logged and skipped; events_sweep sends the row later.
    enqueue_on_commit("members.tasks.events_dispatch", event.pk)
    return event


def events_record_bulk(events: list[Event]) -> list[Event]:
    """Write many events built by event_build at once; each is dispatched after commit."""
    now = timezone.now()
    for event in events:
        event.occurred_at = now
    created = Event.objects.bulk_create(events)
    events_dispatch_on_commit([event.pk for event in created])
    return created


def events_dispatch_on_commit(ids: list[int]) -> None:
    """Dispatch events written in the current transaction (by events_record_bulk, or by a periodic
    job's `INSERT ... SELECT`) once it commits."""
    # One task for the lot (a purchase's two events: one broker round trip, not two), in chunks
    # so a periodic job's thousands of events still spread over the workers.
    for i in range(0, len(ids), BULK_DISPATCH):
        enqueue_on_commit("members.tasks.events_dispatch_many", ids[i : i + BULK_DISPATCH])


BULK_DISPATCH = 50


def event_dispatch(event_id: int) -> bool:
    """Run every handler of the event that has not run yet. True when all have run."""
    event = Event.objects.select_related("program", "member").filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return True
    complete = True
    for name, handler in handlers_for(event.type):
        try:
            with transaction.atomic():
                if _claim(event, name):
                    handler(event)
        except Exception:
            complete = False
            logger.exception("handler %s failed on event %s", name, event_id)
    if complete:
        Event.objects.filter(pk=event_id).update(dispatched_at=timezone.now())
    return complete


def _claim(event: Event, handler_name: str) -> bool:
    """Mark (event, handler) as handled; False if an earlier dispatch already did."""
    try:
        with transaction.atomic():
            EventHandling.objects.create(event=event, event_occurred_at=event.occurred_at, handler=handler_name)
    except IntegrityError:
        return False
    return True


def events_sweep(*, older_than: timedelta = timedelta(minutes=1), limit: int = 1000) -> int:
    """Re-enqueue events left undispatched (broker down, worker lost, handler failed)."""
    cutoff = timezone.now() - older_than
    # No lower time bound, so no pruning of past months (PostgreSQL partitions): an undispatched event
    # is never given up, and retention keeps its month. Each retained month costs one probe of its
    # partial index of undispatched rows, empty once the month is done (docs/scaling.md).
    ids = list(
        Event.objects.filter(dispatched_at__isnull=True, occurred_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    # Broker down: each publish is logged and skipped; the rows stay undispatched for the next sweep.
    for event_id in ids:
        enqueue("members.tasks.events_dispatch", event_id)
    return len(ids)
