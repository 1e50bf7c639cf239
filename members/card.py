"""The member card: the number a till scans to find the member, drawn as a QR code and a Code 128
barcode on the dashboard, and the card's Apple Wallet pass and Google Wallet link (core/wallet.py
signs them).

`card_number` is the one place that decides what the card encodes: today the membership number (12
digits with a Luhn check digit, which the partner API looks members up by). When members carry
physical loyalty cards, it returns the card's number instead, and every code and pass follows.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from core import wallet
from core.barcodes import ScanCodes, scan_codes
from members.models import Member


def card_number(member: Member) -> str:
    """What the member's card encodes (see the module docstring)."""
    return member.number


@dataclass(frozen=True)
class CardView:
    codes: ScanCodes
    wallet: wallet.WalletButtons


def card_view(member: Member) -> CardView:
    """What the dashboard's card shows: the codes, and the wallet buttons that are configured."""
    return CardView(card_scan_codes(member), wallet.wallet_buttons())


def card_scan_codes(member: Member) -> ScanCodes:
    number = card_number(member)
    return scan_codes(
        number,
        qr_label=_("QR code of your card %(number)s") % {"number": number},
        barcode_label=_("Barcode of your card %(number)s") % {"number": number},
    )


# The member pages' primary colour, under the passes' white text (a tier's colour can be too light
# for it: silver, gold).
CARD_COLOR = "#4338ca"


def points_label(member: Member) -> str:
    # A program that named its points ("Stars") keeps its name; the default word is translated.
    name = member.program.points_name
    return _("Points") if name == "points" else name


def card_apple_pass(member: Member) -> bytes:
    """The member card as a signed Apple Wallet pass (a store card), in the member's language."""
    number = card_number(member)
    with translation.override(member.language):
        fields = {
            "serialNumber": f"member-{number}",
            "description": _("%(program)s member card") % {"program": member.program.name},
            "storeCard": {
                "primaryFields": [{"key": "points", "label": points_label(member), "value": member.points_available}],
                "secondaryFields": [
                    {"key": "member", "label": _("Member"), "value": member.full_name or member.email},
                    {"key": "tier", "label": _("Tier"), "value": member.tier.name if member.tier_id else "-"},
                ],
                "auxiliaryFields": [{"key": "number", "label": _("Card number"), "value": number}],
            },
            "barcodes": wallet.pass_barcodes(number, shown=number),
        }
    return wallet.pkpass_build(fields, organization=member.program.name, color=CARD_COLOR)


def card_google_save_url(member: Member, *, logo_url: str) -> str:
    """The "Save to Google Wallet" link of the member card: the program's loyalty class and the
    member's loyalty object, created or updated by Google when the member saves it."""
    number = card_number(member)
    program = member.program
    class_id = wallet.google_object_id(f"{program.slug}-card")
    with translation.override(member.language):
        loyalty_class = {
            "id": class_id,
            "issuerName": program.name,
            "programName": program.name,
            "programLogo": {"sourceUri": {"uri": logo_url}},
            "hexBackgroundColor": CARD_COLOR,
            "reviewStatus": "UNDER_REVIEW",
        }
        loyalty_object = {
            "id": wallet.google_object_id(f"{program.slug}-member-{number}"),
            "classId": class_id,
            "state": "ACTIVE",
            "accountId": number,
            "accountName": member.full_name or member.email,
            "loyaltyPoints": {"label": points_label(member), "balance": {"int": member.points_available}},
            "barcode": {"type": "QR_CODE", "value": number, "alternateText": number},
        }
    return wallet.google_save_url({"loyaltyClasses": [loyalty_class], "loyaltyObjects": [loyalty_object]})
