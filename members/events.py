"""The event outbox: record in the writer's transaction, dispatch after commit, each handler once.

Apps register handlers in their AppConfig.ready() by importing a module that uses @handles.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.enqueue import enqueue, enqueue_on_commit
from members.models import Event, EventHandling, Member, Program

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        name = f"{func.__module__}.{func.__qualname__}"
        for event_type in event_types:
            if all(existing != name for existing, _ in _handlers[event_type]):
                _handlers[event_type].append((name, func))
        return func

    return register


def handlers_for(event_type: str) -> list[tuple[str, Handler]]:
    return list(_handlers.get(event_type, ()))


def event_record(*, type: str, program: Program, member: Member | None = None, payload: dict | None = None) -> Event:
    """Write the event in the current transaction; dispatch it once that transaction commits."""
    event = Event.objects.create(
        type=type,
        program=program,
        member=member,
        payload=payload or {},
        occurred_at=timezone.now(),
    )
    # robust: the write is committed; a dispatch that fails now (broker or database gone, or eager
    # mode with no broker) must not turn that success into an error, and events_sweep retries it.
    enqueue_on_commit("members.tasks.events_dispatch", event.pk)
    return event


def events_record_bulk(events: list[Event]) -> list[Event]:
    """Write many unsaved events at once (periodic jobs); each is dispatched after commit."""
    now = timezone.now()
    for event in events:
        event.occurred_at = now
    created = Event.objects.bulk_create(events)
    ids = [event.pk for event in created]
    # One task for the lot (a purchase's two events: one broker round trip, not two), in chunks
    # so a periodic job's thousands of events still spread over the workers.
    for i in range(0, len(ids), BULK_DISPATCH):
        enqueue_on_commit("members.tasks.events_dispatch_many", ids[i : i + BULK_DISPATCH])
    return created


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
            EventHandling.objects.create(event=event, handler=handler_name)
    except IntegrityError:
        return False
    return True


def events_sweep(*, older_than: timedelta = timedelta(minutes=1), limit: int = 1000) -> int:
    """Re-enqueue events left undispatched (broker down, worker lost, handler failed)."""
    cutoff = timezone.now() - older_than
    ids = list(
        Event.objects.filter(dispatched_at__isnull=True, occurred_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    # Broker down: each publish is logged and skipped; the rows stay undispatched for the next sweep.
    for event_id in ids:
        enqueue("members.tasks.events_dispatch", event_id)
    return len(ids)
