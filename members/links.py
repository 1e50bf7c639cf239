"""Signed links that work without a login: one-click unsubscribe (RFC 8058) from any email, and
confirming (new address) or reporting (old address) an email change."""

import functools

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse

from members.models import EmailChange, Member

_UNSUBSCRIBE_SALT = "members.unsubscribe"
CHANNELS = ("email", "sms")


def unsubscribe_token(member: Member, channel: str) -> str:
    return signing.dumps({"m": member.pk, "c": channel}, salt=_UNSUBSCRIBE_SALT, compress=True)


_STAND_IN = "stand-in"


@functools.cache
def _unsubscribe_path(script_prefix: str) -> str:
    """The unsubscribe path with a stand-in token, resolved once per script prefix: reverse() walks the
    URL resolver on every call, which a campaign's bulk send paid once per recipient. Signed tokens are
    URL-safe (base64 and colons), so putting one in the stand-in's place gives what reverse() gives."""
    return reverse("members:unsubscribe", args=[_STAND_IN])


def unsubscribe_url(member: Member, channel: str = "email") -> str:
    """Absolute URL for emails; also the target of the List-Unsubscribe header."""
    head, _, tail = _unsubscribe_path(get_script_prefix()).rpartition(_STAND_IN)
    return settings.SITE_URL + head + unsubscribe_token(member, channel) + tail


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


# --- confirming an email change, and reporting one -------------------------------------------------

_EMAIL_CONFIRM_SALT = "members.email-change.confirm"
_EMAIL_REPORT_SALT = "members.email-change.report"
# The new address proves itself within a day; the old one may report a change for a month (a
# holiday away from the inbox), even after it was confirmed.
EMAIL_CONFIRM_MAX_AGE = 24 * 3600
EMAIL_REPORT_MAX_AGE = 30 * 24 * 3600
_EMAIL_CHANGE = {
    "confirm": (_EMAIL_CONFIRM_SALT, EMAIL_CONFIRM_MAX_AGE, "members:email_confirm"),
    "report": (_EMAIL_REPORT_SALT, EMAIL_REPORT_MAX_AGE, "members:email_report"),
}


def email_change_url(change: EmailChange, purpose: str) -> str:
    """The link for the new address ("confirm") or the old one ("report"). The token names the new
    address too, so a link of a change that was replaced never confirms another address."""
    salt, _max_age, name = _EMAIL_CHANGE[purpose]
    token = signing.dumps({"c": change.pk, "e": change.new_email}, salt=salt, compress=True)
    return settings.SITE_URL + reverse(name, args=[token])


def email_change_token_read(token: str, purpose: str) -> EmailChange | str:
    """The change a valid token names; else "expired" or "invalid"."""
    salt, max_age, _name = _EMAIL_CHANGE[purpose]
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    if not isinstance(data, dict):
        return "invalid"
    change = EmailChange.objects.select_related("member__program").filter(pk=data.get("c")).first()
    if change is None or change.new_email != data.get("e"):
        return "invalid"
    return change
