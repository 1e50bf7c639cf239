"""The event outbox: typed event declarations (registry) and their recording and dispatch.

To add an event type: declare its payload class with @event_type in the `events.py` of the app
whose service records it, record it with `event_record(...)` in that service, and subscribe with
`@handles(...)` in any app's `handlers.py`. `webhook=True` makes it a webhook partners can
subscribe to (the webhook sender and the admin's endpoint choices read the registry).
"""

from members.outbox.dispatch import (
    event_build,
    event_dispatch,
    event_record,
    events_dispatch_on_commit,
    events_record_bulk,
    events_sweep,
    handlers_for,
    handles,
    handles_webhook_types,
)
from members.outbox.registry import EVENT_TYPES, Payload, event_type, webhook_event_types

__all__ = [
    "EVENT_TYPES",
    "Payload",
    "event_build",
    "event_dispatch",
    "event_record",
    "event_type",
    "events_dispatch_on_commit",
    "events_record_bulk",
    "events_sweep",
    "handlers_for",
    "handles",
    "handles_webhook_types",
    "webhook_event_types",
]
