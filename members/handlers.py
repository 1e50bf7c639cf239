"""Members' own reactions to its events (other apps register theirs in their handlers.py)."""

from members import services
from members.events import MemberErased
from members.models import Event
from members.outbox import handles


@handles(MemberErased)
def erased_member_leaves_household(event: Event) -> None:
    """An erased member leaves their household after the erasure commits: the household lock comes
    before member locks (members.locks), and the erasure holds the member's already."""
    if event.member is not None and event.member.household_id is not None:
        services.household_leave(member=event.member)
