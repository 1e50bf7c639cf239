"""Member page: the personal offers a member holds (codes from campaigns and journeys)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from campaigns import selectors
from campaigns.models import Offer, OfferGrant
from core.barcodes import ScanCodes, scan_codes
from members.views import member_required


def _offer_codes(grant: OfferGrant) -> ScanCodes | None:
    """An offer with a code gets the QR code and barcode a till scans (bonus points and multipliers
    apply by themselves and have none to show)."""
    if grant.offer.kind in (Offer.Kind.BONUS, Offer.Kind.MULTIPLIER):
        return None
    return scan_codes(
        grant.code,
        qr_label=_("QR code of offer %(code)s") % {"code": grant.code},
        barcode_label=_("Barcode of offer %(code)s") % {"code": grant.code},
    )


@member_required
def offers(request: HttpRequest) -> HttpResponse:
    member = request.member
    return render(
        request,
        "campaigns/offers.html",
        {
            "member": member,
            "open": [(grant, _offer_codes(grant)) for grant in selectors.offer_grant_open(member=member)],
            "used": selectors.offer_grants_used(member=member),
        },
    )
