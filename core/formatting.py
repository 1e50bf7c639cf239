"""How staff pages print durations and amounts in the reader's language: "1 day, 2 hours", not
"1 day, 2:00:00"; "2,581.71", not "2581.71000000000" (a SUM of decimals in SQLite keeps every
digit). Used by admin displays (Python) and, through core/templatetags/formatting.py, by templates."""

from datetime import timedelta
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.timesince import timesince


def duration_words(value: timedelta | None, *, depth: int = 2) -> str:
    """A duration in words in the active language (Django's own catalogs): "1 day, 2 hours"."""
    if value is None:
        return ""
    now = timezone.now()
    return timesince(now - abs(value), now, depth=depth)


def number(value: int | float | Decimal | None, places: int | None = None) -> str:
    """A number with the active locale's grouping and decimal separator; `places` fixes the decimals."""
    if value is None:
        return ""
    if places is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-places))
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
