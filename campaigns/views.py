"""Member page: the personal offers a member holds (codes from campaigns and journeys); and the SMS
provider's delivery-status callback."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from campaigns import selectors, services
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


@csrf_exempt  # Twilio posts without a form token; its signature over the URL and the fields is the key
@require_POST
def sms_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a campaign SMS (TWILIO_STATUS_CALLBACK_URL points here)."""
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.TWILIO_AUTH_TOKEN or not validator.validate(
        settings.TWILIO_STATUS_CALLBACK_URL, request.POST.dict(), signature
    ):
        return HttpResponse("invalid signature", status=403, content_type="text/plain")
    services.sms_status_record(
        message_sid=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
