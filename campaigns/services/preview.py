"""Before a launch: each variant previewed in each language, rendered by the code that sends it, and a
test send of that rendering to a staff address. Nothing here creates a delivery or an offer grant."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.utils import timezone, translation

from campaigns.models import Campaign, OfferGrant, Variant
from campaigns.rendering import RenderedEmail, Renderer, email_message
from campaigns.selectors import personalization, preview_member
from core.errors import DomainError
from members import services as member_services
from members.links import unsubscribe_headers, unsubscribe_url

SAMPLE_CODE = "SAMPLE-CODE"
TEST_SUBJECT_PREFIX = "[TEST] "


@dataclass(frozen=True)
class Preview:
    variant: str
    email: RenderedEmail
    sms: str
    member_label: str  # whose data personalised it
    headers: dict


def _variant(campaign: Campaign, variant_id: int | None) -> Variant:
    variant = campaign.variants.filter(pk=variant_id).first() if variant_id else campaign.variants.first()
    if variant is None:
        raise DomainError("no_variant", "Add a message variant first.", fields={"variant": ["Unknown variant."]})
    return variant


def _language(language: str) -> str:
    if language not in dict(settings.LANGUAGES):
        raise DomainError("unknown_language", "Unknown language.", fields={"language": ["Unknown language."]})
    return language


def campaign_preview(
    *, campaign: Campaign, variant_id: int | None, language: str, now: datetime | None = None
) -> Preview:
    """The email and SMS a member reading `language` gets from this variant. Personalised for a member
    of the audience (an unsaved sample when it is empty), with a sample offer code."""
    now = now or timezone.now()
    variant, language = _variant(campaign, variant_id), _language(language)
    member = preview_member(campaign=campaign, language=language)
    grant = None
    if campaign.offer_id:
        offer = campaign.offer
        grant = OfferGrant(offer=offer, code=SAMPLE_CODE, valid_until=now + timedelta(days=offer.valid_days))
    if member.pk:
        headers, stop = unsubscribe_headers(member), unsubscribe_url(member, "sms")
    else:
        headers, stop = {}, settings.SITE_URL
    render = Renderer()
    with translation.override(language):
        context = personalization(member=member, grant=grant, now=now)
        email = render.email(
            variant=variant, context=context, unsubscribe_url=headers.get("List-Unsubscribe", "<#>").strip("<>")
        )
        sms = render.sms(variant=variant, context=context, stop_url=stop)
    label = f"{member.number} {member.full_name}".strip() if member.pk else member.full_name
    return Preview(variant=variant.name, email=email, sms=sms, member_label=label, headers=headers)


def campaign_test_send(*, campaign: Campaign, variant_id: int | None, language: str, to: str, by=None) -> Preview:
    """Send the preview to a staff address, subject marked as a test. No delivery, no grant, no cap counted."""
    try:
        validate_email(to)
    except ValidationError as exc:
        raise DomainError("invalid_email", "Enter a valid email address.", fields={"to": exc.messages}) from exc
    preview = campaign_preview(campaign=campaign, variant_id=variant_id, language=language)
    rendered = RenderedEmail(
        subject=TEST_SUBJECT_PREFIX + preview.email.subject,
        text=preview.email.text,
        html=preview.email.html,
        language=preview.email.language,
    )
    email_message(rendered=rendered, to=to, headers=preview.headers, connection=get_connection()).send()
    if by is not None:
        member_services.audit_record(
            actor=by,
            action="campaign.test_send",
            target=campaign,
            changes={"variant": preview.variant, "language": language},
        )
    return preview
