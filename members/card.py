"""The member card: the number a till scans to find the member, drawn as a QR code and a Code 128
barcode on the dashboard and carried by the wallet passes.

`card_number` is the one place that decides what the card encodes: today the membership number (12
digits with a Luhn check digit, which the partner API looks members up by). When members carry
physical loyalty cards, it returns the card's number instead, and every code and pass follows.
"""

from django.utils.translation import gettext as _

from core.barcodes import ScanCodes, scan_codes
from members.models import Member


def card_number(member: Member) -> str:
    """What the member's card encodes (see the module docstring)."""
    return member.number


def card_scan_codes(member: Member) -> ScanCodes:
    number = card_number(member)
    return scan_codes(
        number,
        qr_label=_("QR code of your card %(number)s") % {"number": number},
        barcode_label=_("Barcode of your card %(number)s") % {"number": number},
    )
