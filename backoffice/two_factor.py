"""Staff two-factor sign-in for the admin (django-otp, TOTP).

Optional for staff: a staff user enrols an authenticator app on the admin's "Two-factor" page (a QR
code, confirmed with a first code); from then on the admin login asks for a code. Superusers must
have a device when OTP_REQUIRED_FOR_SUPERUSERS is on (the default when DEBUG is off): until they
enrol, every admin page sends them to the enrolment page.
"""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"


# --- reads ---------------------------------------------------------------------------------------


def totp_device_confirmed(*, user) -> TOTPDevice | None:
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _has_device(user) -> bool:
    """Asked several times per admin request (permission, enrolment rule): one query, kept on the user."""
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_fidelis_has_device"):
        user._fidelis_has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return user._fidelis_has_device


def _is_verified(user) -> bool:
    # OTPMiddleware adds is_verified(); a request built without it (a test's RequestFactory) is not.
    return bool(getattr(user, "is_verified", lambda: False)())


def otp_enrolment_required(*, user) -> bool:
    """A superuser without a device, where the settings demand one: may only enrol (or log out)."""
    return bool(
        settings.OTP_REQUIRED_FOR_SUPERUSERS and user.is_authenticated and user.is_superuser and not _has_device(user)
    )


def otp_verified_enough(*, user) -> bool:
    """A user with a device has proved it in this session; a user without one has nothing to prove."""
    return _is_verified(user) or not _has_device(user)


# --- writes --------------------------------------------------------------------------------------


@transaction.atomic
def totp_enrolment_start(*, user) -> TOTPDevice:
    """The unconfirmed device the enrolment page shows, kept across reloads so the QR code stays the
    one the user scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def totp_enrolment_confirm(*, user, token: str) -> TOTPDevice | None:
    """Confirms the pending device when `token` is its current code; None when it is not."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return device


@transaction.atomic
def totp_device_remove(*, user, token: str) -> bool:
    """Turns two-factor off, proved by a current code (a stolen session alone cannot)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None or not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    return True


# --- forms ---------------------------------------------------------------------------------------


class StaffLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """The admin login: user name and password, and the authenticator code for users who enrolled."""

    otp_token = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=8,
        help_text=_("Only if you turned on two-factor sign-in."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the code from your authenticator app."),
        "invalid_token": _("This code is not valid. Enter the current code from your authenticator app."),
    }

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = totp_device_confirmed(user=user) if user is not None else None
        if device is not None:
            token = (cleaned.get("otp_token") or "").strip()
            if not token:
                raise forms.ValidationError(self.otp_error_messages["token_required"], code="token_required")
            error = None
            with transaction.atomic():
                locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
                try:
                    # Sets user.otp_device; django-otp's login signal then marks the session verified.
                    user.otp_device = self._verify_token(user, token, locked)
                except forms.ValidationError as exc:
                    # Raised outside the block: the failed-attempt count (throttling) must be committed.
                    error = exc
            if error is not None:
                raise error
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
