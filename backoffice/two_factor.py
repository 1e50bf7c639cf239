"""Staff two-factor sign-in for the admin (django-otp, TOTP).

Optional for staff: a staff user enrols an authenticator app on the admin's "Two-factor" page (a QR
code, confirmed with a first code); from then on the admin login asks for a code. Superusers must
have a device when OTP_REQUIRED_FOR_SUPERUSERS is on (the default when DEBUG is off): until they
enrol, every admin page sends them to the enrolment page.

Recovery codes (django-otp static tokens) stand in for a lost phone: once two-factor is on, the page
generates OTP_RECOVERY_CODES one-time codes (proved by a current code; shown once, a new set replaces
the old one). Each signs in once in place of the authenticator code, and turns two-factor off so a
new phone can be enrolled, without another superuser. A 6-digit entry is an authenticator code,
anything else a recovery code (8 letters and digits), so a failure throttles only the device tried.
"""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def token_clean(token: str) -> str:
    """As typed: recovery codes are shown in lower case, people copy them with spaces or in capitals."""
    return "".join(token.split()).lower()


def is_recovery_code(token: str) -> bool:
    return not (len(token) == 6 and token.isdigit())


# --- reads ---------------------------------------------------------------------------------------


def totp_device_confirmed(*, user) -> TOTPDevice | None:
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


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


def _device_for(*, user, token: str) -> TOTPDevice | StaticDevice | None:
    """The device that `token` is meant for (see is_recovery_code), locked: each verification
    updates its throttle and, for a recovery code, consumes it."""
    if is_recovery_code(token):
        return StaticDevice.objects.select_for_update().filter(user=user, name=RECOVERY_DEVICE_NAME).first()
    return TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()


@transaction.atomic
def totp_device_remove(*, user, token: str) -> bool:
    """Turns two-factor off, proved by a current code or a recovery code (a stolen session alone
    cannot). The recovery codes go with it."""
    if totp_device_confirmed(user=user) is None:
        return False
    device = _device_for(user=user, token=token_clean(token))
    if device is None or not device.verify_token(token_clean(token)):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return True


@transaction.atomic
def recovery_codes_generate(*, user, token: str) -> list[str] | None:
    """A new set of one-time recovery codes, replacing any earlier set, proved by a current
    authenticator code; None when the code is not valid. The caller shows them once."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None or is_recovery_code(token_clean(token)) or not device.verify_token(token_clean(token)):
        return None
    recovery, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    recovery.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes


# --- forms ---------------------------------------------------------------------------------------


class StaffLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """The admin login: user name and password, and the authenticator code for users who enrolled."""

    otp_token = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=12,
        help_text=_("Only if you turned on two-factor sign-in. Lost your phone? Enter a recovery code."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the code from your authenticator app."),
        "invalid_token": _(
            "This code is not valid. Enter the current code from your authenticator app, or an unused recovery code."
        ),
    }

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = totp_device_confirmed(user=user) if user is not None else None
        if device is not None:
            token = token_clean(cleaned.get("otp_token") or "")
            if not token:
                raise forms.ValidationError(self.otp_error_messages["token_required"], code="token_required")
            error = None
            with transaction.atomic():
                locked = _device_for(user=user, token=token)
                try:
                    if locked is None:  # a recovery code, and none were ever generated
                        raise forms.ValidationError(self.otp_error_messages["invalid_token"], code="invalid_token")
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
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
