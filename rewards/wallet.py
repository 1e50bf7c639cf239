"""A voucher in Apple Wallet (a coupon pass) and Google Wallet (an offer), carrying the same code
as the voucher page's QR code and barcode; core/wallet.py signs them. Only issued vouchers get one."""

from django.utils import translation
from django.utils.translation import gettext as _

from core import wallet
from members.card import CARD_COLOR
from rewards.models import Voucher
from rewards.services import voucher_code_display


def voucher_apple_pass(voucher: Voucher) -> bytes:
    member, reward = voucher.member, voucher.reward
    program = member.program
    shown = voucher_code_display(voucher.code)
    with translation.override(member.language):
        fields = {
            "serialNumber": f"voucher-{voucher.pk}",
            "description": reward.title,
            "coupon": {
                "primaryFields": [{"key": "reward", "label": _("Reward"), "value": reward.title}],
                "secondaryFields": [{"key": "code", "label": _("Code"), "value": shown}],
                "auxiliaryFields": (
                    [
                        {
                            "key": "expires",
                            "label": _("Valid until"),
                            "value": voucher.expires_at.isoformat(),
                            "dateStyle": "PKDateStyleMedium",
                        }
                    ]
                    if voucher.expires_at
                    else []
                ),
                "backFields": [{"key": "about", "label": reward.title, "value": reward.description or reward.title}],
            },
            "barcodes": wallet.pass_barcodes(voucher.code, shown=shown),
        }
        if voucher.expires_at:  # Wallet greys the pass out after this
            fields["expirationDate"] = voucher.expires_at.isoformat()
    return wallet.pkpass_build(fields, organization=program.name, color=CARD_COLOR)


def voucher_google_save_url(voucher: Voucher) -> str:
    """The "Save to Google Wallet" link: the reward's offer class and the voucher's offer object."""
    member, reward = voucher.member, voucher.reward
    program = member.program
    class_id = wallet.google_object_id(f"{program.slug}-reward-{reward.pk}")
    with translation.override(member.language):
        offer_class = {
            "id": class_id,
            "issuerName": program.name,
            "provider": program.name,
            "title": reward.title,
            "redemptionChannel": "BOTH",
            "reviewStatus": "UNDER_REVIEW",
        }
        offer_object = {
            "id": wallet.google_object_id(f"{program.slug}-voucher-{voucher.pk}"),
            "classId": class_id,
            "state": "ACTIVE",
            "barcode": {"type": "QR_CODE", "value": voucher.code, "alternateText": voucher_code_display(voucher.code)},
        }
        if voucher.expires_at:
            offer_object["validTimeInterval"] = {"end": {"date": voucher.expires_at.isoformat()}}
    return wallet.google_save_url({"offerClasses": [offer_class], "offerObjects": [offer_object]})
