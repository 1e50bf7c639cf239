"""The event types feedback's services record (see members.outbox for how events work)."""

from members.outbox import Payload, event_type


@event_type("survey.answered")
class SurveyAnswered(Payload):
    member: str
    survey: int
    kind: str
    score: str
    category: str
    response: int


@event_type("ticket.opened")
class TicketOpened(Payload):
    member: str
    ticket: int
    category: str
    priority: str


@event_type("ticket.resolved")
class TicketResolved(Payload):
    member: str
    ticket: int
    category: str
