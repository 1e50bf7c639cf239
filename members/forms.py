"""Forms of the member pages. They validate input; the services in members.auth and members.services write."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from members.models import LedgerEntry
from members.zones import zone_choices

SMS_NEEDS_PHONE = _("To get offers by SMS, enter your phone number.")


class SignupForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to sign in with a link we email you instead."),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("For offers by SMS. With the country code, e.g. +40 721 000 111."),
    )
    referral_code = forms.CharField(label=_("Referral code (optional)"), max_length=12, required=False)
    consent_email = forms.BooleanField(label=_("Send me offers and news by email"), required=False)
    consent_sms = forms.BooleanField(label=_("Send me offers and news by SMS"), required=False)
    accept_terms = forms.BooleanField(label=_("I accept the program terms and the privacy notice"))

    def clean_referral_code(self) -> str:
        return self.cleaned_data["referral_code"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("consent_sms") and not (data.get("phone") or "").strip():
            self.add_error("phone", SMS_NEEDS_PHONE)
        return data


class SigninForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("No password? Leave it empty and we email you a sign-in link."),
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("With the country code, e.g. +40 721 000 111."),
    )
    birth_date = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("We send you a gift on your birthday."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=lambda: [("", _("The program's time zone")), *zone_choices()],
        help_text=_("Where you live: we send no text messages at night there, and your birthday starts there."),
    )


class ConsentForm(forms.Form):
    consent_email = forms.BooleanField(label=_("Email: offers, news and reminders"), required=False)
    consent_sms = forms.BooleanField(label=_("SMS: offers, news and reminders"), required=False)

    def __init__(self, *args, phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.phone = phone

    def clean(self):
        data = super().clean()
        if data.get("consent_sms") and not self.phone:
            self.add_error(
                "consent_sms", _("To get offers by SMS, first save your phone number in your details above.")
            )
        return data


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class DeleteAccountForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account, my points and my vouchers will be gone for good.")
    )


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All")), *LedgerEntry.Kind.choices])
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data


class BuyPointsForm(forms.Form):
    """How many points a member wants to buy; the price and limits are checked by the service."""

    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=1_000_000_000)


class HouseholdCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Household name"), max_length=80, required=False, help_text=_("Optional, e.g. “The Popescus”.")
    )


class HouseholdInviteForm(forms.Form):
    who = forms.CharField(
        label=_("Member number or email"),
        max_length=254,
        help_text=_("They must already be a member of the program."),
    )
