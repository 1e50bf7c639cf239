"""Time zones. A program has one: its weekday and happy-hour rules, the expiry date of its points,
its birthdays and its reports follow the program's local day. A member may have their own (empty:
the program's): messages respect quiet hours on the member's clock, and a birthday is celebrated on
the member's local date.

Days are computed here, once, so every caller agrees on where a local day starts and ends, also
across daylight-saving changes (a 23- or 25-hour day)."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_NOT_PLACES = ("Etc/", "SystemV/")


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zone names of places this server knows (Area/City), and UTC, sorted: the valid
    values of a time zone field. Left out: fixed offsets (Etc/GMT+2, whose sign is inverted) and
    legacy abbreviations (EST, GMT0, ...), which name no place and collide as identifiers in
    clients generated from the API schema."""
    places = [name for name in available_timezones() if "/" in name and not name.startswith(_NOT_PLACES)]
    return tuple(sorted([*places, "UTC"]))


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in zone_names()]


def zone_default() -> str:
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value and value not in zone_names():
        raise ValidationError(
            _("Unknown time zone %(zone)s: use an IANA name such as Europe/Bucharest."),
            code="invalid_time_zone",
            params={"zone": value},
        )


def program_zone(program) -> ZoneInfo:
    return ZoneInfo(program.time_zone or settings.TIME_ZONE)


def program_clock(program):
    """A context where Django's current time zone is the program's: what reports run in, so their
    periods, months (TruncMonth) and printed dates follow the program's local day."""
    return timezone.override(program_zone(program))


def member_zone(member) -> ZoneInfo:
    """The member's own zone, else their program's."""
    return ZoneInfo(member.time_zone) if member.time_zone else program_zone(member.program)


def local_date(zone: ZoneInfo, at: datetime | None = None) -> date:
    return (at or timezone.now()).astimezone(zone).date()


def day_start(zone: ZoneInfo, day: date) -> datetime:
    """The first instant of `day` in `zone`, in UTC (a day whose midnight is skipped starts at the
    first hour that exists). UTC, so that subtracting two of them gives real hours (23 on the
    spring-forward day), not wall-clock ones."""
    # A moment in a daylight-saving gap converts with the offset from before the gap: the instant
    # the later hour starts.
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def program_day_bounds(program, day: date) -> tuple[datetime, datetime]:
    """[start, end) of the program's local `day`: what reports and daily limits count as that day."""
    zone = program_zone(program)
    return day_start(zone, day), day_start(zone, day + timedelta(days=1))


def program_today_bounds(program, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the program's local day that contains `now`."""
    return program_day_bounds(program, local_date(program_zone(program), now))


def program_day_start(program, now: datetime) -> datetime:
    """Local midnight that began the program's current day: where daily limits and caps count from."""
    return program_today_bounds(program, now)[0]


def end_of_local_day(zone: ZoneInfo, at: datetime) -> datetime:
    """Local midnight after `at`: the moment a date-stamped thing (an expiry date) runs out."""
    return day_start(zone, local_date(zone, at) + timedelta(days=1))


def zones_by_local_date(now: datetime) -> dict[date, list[str]]:
    """Every zone name grouped by the local date it has at `now` (two or three dates around UTC's)."""
    grouped: dict[date, list[str]] = {}
    for name in zone_names():
        grouped.setdefault(local_date(ZoneInfo(name), now), []).append(name)
    return grouped


def member_zone_in(names: list[str], prefix: str = "") -> Q:
    """Members (or rows reached through `prefix`, e.g. "member__") whose zone, their own or else
    their program's, is one of `names`."""
    return Q(**{f"{prefix}time_zone__in": names}) | Q(
        **{f"{prefix}time_zone": "", f"{prefix}program__time_zone__in": names}
    )


def on_members_local_date(now: datetime, condition: Callable[[date], Q], prefix: str = "") -> Q:
    """`condition(d)` applied to each member on their own local date d at `now`: e.g. "born today"
    means born on the date it is where the member lives."""
    q = Q(pk__in=[])
    for day, names in zones_by_local_date(now).items():
        q |= member_zone_in(names, prefix) & condition(day)
    return q
