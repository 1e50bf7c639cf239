"""Phone numbers, stored in E.164 (+40721000111): one spelling per phone, whatever was typed.

A number typed without its country code ("0721 000 111") is read in the program's default region
(Program.default_region); with none set, only international numbers ("+40 721 000 111", "0040...")
are accepted. A number must be valid for its country (phonenumbers' metadata), not merely digits.
Pure functions: the services turn PhoneInvalid into a DomainError with the field named.
"""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

REGIONS: tuple[str, ...] = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))


class PhoneInvalid(ValueError):
    pass


def phone_e164(raw: str, *, region: str = "") -> str:
    """The E.164 form of `raw` ("" stays ""); PhoneInvalid when it is not a valid number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if len(raw) > 40:  # phonenumbers caps input itself; a clear refusal before it does
        raise PhoneInvalid("too long")
    try:
        number = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise PhoneInvalid(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalid("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_region_default() -> str:
    """New programs (and, when the region field was added, existing ones) start with
    PHONE_DEFAULT_REGION."""
    return settings.PHONE_DEFAULT_REGION


def validate_region(value: str) -> None:
    if value and value not in REGIONS:
        raise ValidationError(_("Unknown region: use a two-letter country code such as RO, IT or GB."))
