"""Event types: each one is a payload class declared once, in the app whose services record it.

    @event_type("points.reversed", webhook=True)
    class PointsReversed(Payload):
        member: str
        purchase: int
        points: int

The class is the type's single definition: services build it (`event_record(PointsReversed(...),
program=..., member=...)`), handlers subscribe to it (`@handles(PointsReversed)`) and read it back
typed (`PointsReversed.read(event)`), and partners' webhooks (the sender and the admin's endpoint
choices) take the types declared with `webhook=True`. Payloads are stored as JSON in
`Event.payload`: field values must be JSON values (str for money and dates), and every field is
stored (None as null), so one type always has one shape; a field named `from_` is stored as "from".
"""

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, Self

EVENT_TYPES: dict[str, type["Payload"]] = {}


class Payload:
    """The base of every event payload (a frozen, keyword-only dataclass once declared)."""

    type: ClassVar[str]
    webhook: ClassVar[bool] = False

    def as_json(self) -> dict[str, Any]:
        return {field.name.removesuffix("_"): getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def read(cls, event) -> Self:
        """The event's payload as this type (an optional field missing from an older row takes its default)."""
        payload = event.payload or {}
        return cls(
            **{
                field.name: payload.get(field.name.removesuffix("_"))
                for field in dataclasses.fields(cls)
                if field.name.removesuffix("_") in payload or not _has_default(field)
            }
        )


def _has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def event_type(name: str, *, webhook: bool = False) -> Callable[[type[Payload]], type[Payload]]:
    """Declare `cls` as the payload of event type `name` (partners may subscribe when `webhook`)."""

    def declare(cls: type[Payload]) -> type[Payload]:
        if name in EVENT_TYPES:
            raise ValueError(f"event type {name} is declared twice")
        cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        cls.type, cls.webhook = name, webhook
        EVENT_TYPES[name] = cls
        return cls

    return declare


def webhook_event_types() -> list[str]:
    """The event types partners can subscribe to, sorted."""
    return sorted(name for name, cls in EVENT_TYPES.items() if cls.webhook)
