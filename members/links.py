"""Signed links that work without a login: one-click unsubscribe (RFC 8058) from any email."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from members.models import Member

_UNSUBSCRIBE_SALT = "members.unsubscribe"
CHANNELS = ("email", "sms")


def unsubscribe_token(member: Member, channel: str) -> str:
    return signing.dumps({"m": member.pk, "c": channel}, salt=_UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(member: Member, channel: str = "email") -> str:
    """Absolute URL for emails; also the target of the List-Unsubscribe header."""
    return settings.SITE_URL + reverse("members:unsubscribe", args=[unsubscribe_token(member, channel)])


def unsubscribe_headers(member: Member) -> dict[str, str]:
    """Headers for every marketing email (RFC 2369 + RFC 8058 one-click POST)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(member, 'email')}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_token_read(token: str) -> tuple[Member, str] | str:
    """The member and channel of a valid token; else "expired" or "invalid" (tampered, or signed for
    another purpose: the salt differs). Links expire after UNSUBSCRIBE_LINK_MAX_AGE (a year by
    default, far beyond the 30 days CAN-SPAM asks for); members can always unsubscribe in their
    profile or by asking for a fresh email."""
    try:
        data = signing.loads(token, salt=_UNSUBSCRIBE_SALT, max_age=settings.UNSUBSCRIBE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    if not isinstance(data, dict):
        return "invalid"
    member = Member.objects.filter(pk=data.get("m")).first()
    if member is None or data.get("c") not in CHANNELS:
        return "invalid"
    return member, data["c"]
