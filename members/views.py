"""Member pages: sign-up, sign-in, dashboard, history, referrals, membership plan, profile, unsubscribe.

Every page after sign-in is scoped to `request.member`, the signed-in user's member; nothing takes
a member id from the URL. Reads go through selectors (and the small readers at the bottom of this
module, which only the pages use), writes through members.auth and members.services.
"""

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from core import wallet
from core.csvfiles import formula_safe
from core.errors import DomainError
from members import auth, branding, card, checks, earning, exports, households, links, selectors, services
from members.forms import (
    ConsentForm,
    DeleteAccountForm,
    HistoryFilterForm,
    PasswordForm,
    ProfileForm,
    SigninForm,
    SignupForm,
)
from members.models import LedgerEntry, Member, Program
from members.why import entries_explain, why_names

HISTORY_PAGE_SIZE = 25
DASHBOARD_ENTRIES = 5
# Subscription.paid_by for plans asked for on the member page, until whoever takes the fee records it.


def member_required(view: Callable) -> Callable:
    """Signed-in members only; the view gets `request.member` (with program and tier)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        member = auth.member_for_user(user=request.user)
        if member is None:
            # A staff account, or a member account that was erased or suspended.
            return render(request, "members/not_member.html", status=403)
        _attach(request, member)
        return _device(request, view(request, *args, **kwargs))

    return wrapper


def _device(request: HttpRequest, response: HttpResponse, member: Member | None = None) -> HttpResponse:
    """The device cookie (members.checks): random, httponly, set once per browser and kept two years.
    At sign-in (`member` given) the browser is put on record for the member, as a hash, so a referral
    signed up later from that browser is held for review. Other pages only set the cookie: browsing
    costs no query."""
    value = request.COOKIES.get(checks.DEVICE_COOKIE, "")
    if not checks.device_valid(value):
        value = checks.device_new()
        response.set_cookie(
            checks.DEVICE_COOKIE,
            value,
            max_age=int(checks.DEVICE_COOKIE_AGE.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
        )
    if member is not None:
        checks.device_remember(member=member, device=value)
    return response


def _attach(request: HttpRequest, member: Member) -> None:
    request.member = member
    request.user.member = member  # the nav reads it: no second query


def _domain_error_to_form(form, exc: DomainError) -> None:
    """Show a refusal on the form, in the member's language where we know the code."""
    if exc.code == "weak_password":  # Django's validators, already in the member's language
        for text in exc.fields.get("password", [exc.message]):
            form.add_error("password", text)
        return
    known = {
        "email_taken": ("email", _("This email is already registered. Sign in instead.")),
        "invalid_referral_code": ("referral_code", _("This referral code does not exist.")),
        "invalid_birth_date": ("birth_date", _("Enter your real date of birth.")),
        "invalid_phone": (
            "phone",
            _("This is not a valid phone number. Enter it with + and the country code, e.g. +40 721 000 111."),
        ),
    }
    field, message = known.get(exc.code, (None, exc.message))
    form.add_error(field if field in form.fields else None, message)


def _signin(request: HttpRequest, user, member: Member, next_url: str = "") -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("members:home")
    response = HttpResponseRedirect(next_url or reverse("members:home"))
    # The member's stored language wins from now on (LocaleMiddleware reads this cookie).
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, member.language, samesite="Lax")
    return _device(request, response, member)


# --- public pages ------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """The member's dashboard, or the landing page for everyone else."""
    member = auth.member_for_user(user=request.user)
    if member is None:
        return _device(request, render(request, "members/landing.html", {"program": auth.signup_program(slug=None)}))
    _attach(request, member)
    return _device(request, _dashboard(request))


def signup(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    program = auth.signup_program(slug=slug)
    if program is None:
        raise Http404("No such program.")
    status = 200
    if request.method == "POST":
        form = SignupForm(request.POST)
        if not auth.within_limit("signup", auth.client_address(request), settings.SIGNUP_ATTEMPTS_PER_WINDOW):
            form.is_valid()  # bound errors first, so the refusal below is not overwritten
            form.add_error(None, _("Too many sign-ups from your connection. Please try again in a few minutes."))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                member = auth.member_signup(
                    program=program,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    phone=data["phone"],
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                    consent_email=data["consent_email"],
                    consent_sms=data["consent_sms"],
                    referral_code=data["referral_code"],
                    password=data["password"],
                    device=request.COOKIES.get(checks.DEVICE_COOKIE, ""),
                )
            except DomainError as exc:
                _domain_error_to_form(form, exc)
            else:
                response = _signin(request, member.user, member)
                messages.success(request, _("Welcome to %(program)s!") % {"program": program.display_name})
                return response
    else:
        form = SignupForm(initial={"referral_code": request.GET.get("ref", "")})
    code = (request.POST.get("referral_code") or request.GET.get("ref") or "").strip().upper()
    context = {
        "form": form,
        "program": program,
        "referrer": selectors.referrer_by_code(program=program, code=code) if code else None,
        "referrer_points": earning.referral_points_for(program, 1),
    }
    return _device(request, render(request, "members/signup.html", context, status=status))


def ways_to_earn(request: HttpRequest) -> HttpResponse:
    """How points are earned, and the tiers side by side: the member's program, or for visitors the
    default one (it helps them decide to join)."""
    member = auth.member_for_user(user=request.user)
    program = member.program if member else auth.signup_program(slug=None)
    if program is None:
        raise Http404("No program.")
    if member is not None:
        _attach(request, member)
    return render(request, "members/ways_to_earn.html", {"member": member, "ways": earning.ways_to_earn(program)})


def signin(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST":
        form = SigninForm(request.POST)
        if form.is_valid():
            email, password = form.cleaned_data["email"], form.cleaned_data["password"]
            if password:
                try:
                    user = auth.password_signin_user(
                        email=email, password=password, client=auth.client_address(request)
                    )
                except DomainError:  # failed attempts used up for this email or this client
                    form.add_error(
                        "password", _("Too many attempts. Leave the password empty to get a link, or try later.")
                    )
                else:
                    if user is not None:
                        return _signin(request, user, user.member, next_url)
                    form.add_error(
                        "password",
                        _("This email and password do not match. Leave the password empty to get a link."),
                    )
            else:
                auth.signin_link_send(email=email)
                return redirect("members:signin_sent")
    else:
        form = SigninForm()
    return render(request, "members/signin.html", {"form": form, "next": next_url})


def signin_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "members/signin_sent.html", {"minutes": int(auth.LINK_MAX_AGE.total_seconds() // 60)})


def signin_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows a button: mail scanners that open links must not spend the one-time link."""
    user = auth.signin_token_user(token)
    if user is None:
        return render(request, "members/signin_link_invalid.html", status=400)
    if request.method == "POST":
        return _signin(request, user, user.member)
    return render(request, "members/signin_link.html", {"member": user.member})


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("members:signin")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie and redirect), and the member's stored language."""
    response = set_language(request)
    code = request.POST.get("language", "")
    member = auth.member_for_user(user=request.user)
    if member is not None and code in dict(settings.LANGUAGES) and code != member.language:
        services.member_update(member=member, language=code)
    return response


@csrf_exempt  # RFC 8058: mail clients POST the one-click unsubscribe without a form token; the link is the key
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = links.unsubscribe_token_read(token)
    if isinstance(found, str):  # "expired" or "invalid": say so, and where consents can be changed
        status = 410 if found == "expired" else 404
        return render(request, "members/unsubscribe_invalid.html", {"reason": found}, status=status)
    member, channel = found
    if request.method == "POST":
        services.member_consent_set(member=member, channel=channel, granted=False)
        return render(request, "members/unsubscribed.html", {"member": member, "channel": channel})
    return render(request, "members/unsubscribe.html", {"member": member, "channel": channel})


# --- member pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardPanel:
    template: str
    context: dict


# Rewards (and feedback) add panels to the dashboard by registering a provider here: members must
# not import them, dependencies point towards members.
_dashboard_panels: list[Callable[[Member], DashboardPanel | None]] = []


def dashboard_panel(provider: Callable[[Member], DashboardPanel | None]) -> Callable:
    if provider not in _dashboard_panels:
        _dashboard_panels.append(provider)
    return provider


def _dashboard(request: HttpRequest) -> HttpResponse:
    member = request.member
    panels = [panel for provider in _dashboard_panels if (panel := provider(member)) is not None]
    return render(
        request,
        "members/dashboard.html",
        {
            "member": member,
            "progress": households.tier_progress_for(member=member),
            "expiring": selectors.points_expiring(member=member, days=member.program.expiry_notice_days),
            "expiry_days": member.program.expiry_notice_days,
            "entries": entries_explain(
                selectors.member_entries(member=member).select_related("purchase")[:DASHBOARD_ENTRIES], member.program
            ),
            "panels": panels,
            "card": card.card_view(member),
        },
    )


@member_required
def card_apple_pass(request: HttpRequest) -> HttpResponse:
    """The member card as an Apple Wallet pass (a 404 where Apple Wallet is not configured)."""
    if not wallet.apple_wallet_enabled():
        raise Http404("Apple Wallet is not configured.")
    return wallet.pkpass_response(card.card_apple_pass(request.member), filename="member-card.pkpass")


@member_required
def card_google_pass(request: HttpRequest) -> HttpResponse:
    """Off to Google Wallet with the member card (a 404 where Google Wallet is not configured)."""
    if not wallet.google_wallet_enabled():
        raise Http404("Google Wallet is not configured.")
    return HttpResponseRedirect(
        card.card_google_save_url(request.member, logo_url=settings.SITE_URL + reverse("members:card_logo"))
    )


def card_logo(request: HttpRequest) -> HttpResponse:
    """The logo Google Wallet shows on the card (it fetches it from this public address)."""
    response = HttpResponse(wallet.pass_icon_png(660, card.CARD_COLOR), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _history_entries(member: Member, form: HistoryFilterForm):
    data = form.cleaned_data if form.is_valid() else {}
    tz = timezone.get_current_timezone()
    since = datetime.combine(data["since"], time.min, tz) if data.get("since") else None
    until = datetime.combine(data["until"] + timedelta(days=1), time.min, tz) if data.get("until") else None
    return selectors.member_entries(member=member, kind=data.get("kind") or None, since=since, until=until)


@member_required
def history(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    entries = _history_entries(request.member, form).select_related("purchase")
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = entries_explain(page.object_list, request.member.program)
    query = request.GET.copy()
    query.pop("page", None)
    today = timezone.localdate()
    periods = [
        (_("Last 30 days"), today - timedelta(days=30)),
        (_("Last 90 days"), today - timedelta(days=90)),
        (_("This year"), today.replace(month=1, day=1)),
    ]
    return render(
        request,
        "members/history.html",
        {"member": request.member, "form": form, "page": page, "query": query.urlencode(), "periods": periods},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@member_required
def history_csv(request: HttpRequest) -> StreamingHttpResponse:
    form = HistoryFilterForm(request.GET or None)
    entries = _history_entries(request.member, form).select_related("purchase")
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(
            [_("Date"), _("Type"), _("Points"), _("Where"), _("Reference"), _("Why"), _("Amount"), _("Currency")]
        )
        names = why_names(request.member.program)
        for entry in entries.iterator(chunk_size=500):
            entries_explain([entry], request.member.program, names=names)
            yield writer.writerow(
                [
                    timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
                    entry.member_title,
                    entry.points,
                    formula_safe(entry.partner.name if entry.partner else ""),
                    formula_safe(entry.purchase.external_id if entry.purchase else entry.reference),
                    formula_safe(_plain_why(entry)),
                    "" if entry.amount is None else entry.amount,
                    entry.currency,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="points-{request.member.number}.csv"'
    return response


def _plain_why(entry: LedgerEntry) -> str:
    """The rule breakdown in words, for the CSV (the page renders the same from members/_why.html)."""
    parts = []
    for item in entry.why_items:
        if item.get("kind") == "excluded":
            parts.append(_("%(label)s: no points") % {"label": item["label"]})
        else:
            parts.append(f"{item['label']}: {item['points']:+d}")
    return "; ".join(parts) or entry.why


@member_required
def referrals(request: HttpRequest) -> HttpResponse:
    member = request.member
    signup_path = reverse("members:signup_program", args=[member.program.slug])
    link = request.build_absolute_uri(f"{signup_path}?ref={member.referral_code}")
    return render(
        request,
        "members/referrals.html",
        {
            "member": member,
            "link": link,
            "referrals": selectors.member_referrals(member=member),
            "first_reward": earning.referral_points_for(member.program, 1),
            "share_text": _("Join %(program)s with my link and get a welcome gift: %(link)s")
            % {"program": member.program.name, "link": link},
        },
    )


def _profile_page(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    member = request.member
    context = {
        "member": member,
        "profile_form": forms.get("profile_form")
        or ProfileForm(
            initial={
                "first_name": member.first_name,
                "last_name": member.last_name,
                "email": member.email,
                "phone": member.phone,
                "birth_date": member.birth_date,
                "language": member.language,
                "time_zone": member.time_zone,
            }
        ),
        "consent_form": forms.get("consent_form")
        or ConsentForm(initial={"consent_email": member.consent_email, "consent_sms": member.consent_sms}),
        "password_form": forms.get("password_form") or PasswordForm(),
        "has_password": request.user.has_usable_password(),
        "email_change": selectors.email_change_pending(member=member),
        "cards": selectors.member_cards_active(member=member),
    }
    return render(request, "members/profile.html", context, status=status)


@member_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _profile_page(request)
    form = ProfileForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _member, change = services.member_profile_change(member=request.member, requested_by="member", **data)
        except DomainError as exc:
            _domain_error_to_form(form, exc)
        else:
            response = redirect("members:profile")
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, data["language"], samesite="Lax")
            with translation.override(data["language"]):
                messages.success(request, _("Your details are saved."))
                if change is not None:
                    messages.info(
                        request,
                        _("To change your email, open the link we sent to %(new)s. Until then we keep using %(old)s.")
                        % {"new": change.new_email, "old": change.old_email},
                    )
            return response
    return _profile_page(request, status=400, profile_form=form)


def _email_change_page(request: HttpRequest, token: str, purpose: str) -> HttpResponse:
    """GET only shows a button (mail scanners open links); POST confirms or reports. No sign-in
    needed: the signed link is the key, as for sign-in links."""
    found = links.email_change_token_read(token, purpose)
    if isinstance(found, str):
        status = 410 if found == "expired" else 404
        return render(request, "members/email_change.html", {"purpose": purpose, "problem": found}, status=status)
    change, done = found, False
    if request.method == "POST":
        try:
            if purpose == "confirm":
                change = services.email_change_confirm(change=change)
            else:
                change = services.email_change_report(change=change)
        except DomainError:
            change.refresh_from_db()
            context = {"purpose": purpose, "problem": "stale", "change": change}
            return render(request, "members/email_change.html", context, status=409)
        done = True
    context = {"purpose": purpose, "change": change, "member": change.member, "done": done}
    return render(request, "members/email_change.html", context)


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    return _email_change_page(request, token, "confirm")


def email_report(request: HttpRequest, token: str) -> HttpResponse:
    return _email_change_page(request, token, "report")


@require_POST
@member_required
def profile_consents(request: HttpRequest) -> HttpResponse:
    form = ConsentForm(request.POST, phone=request.member.phone)
    if not form.is_valid():
        return _profile_page(request, status=400, consent_form=form)
    for channel in ("email", "sms"):
        services.member_consent_set(
            member=request.member, channel=channel, granted=form.cleaned_data[f"consent_{channel}"]
        )
    messages.success(request, _("Your choices are saved."))
    return redirect("members:profile")


@require_POST
@member_required
def profile_password(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.POST)
    if form.is_valid():
        try:
            auth.member_password_set(member=request.member, password=form.cleaned_data["password"])
        except DomainError as exc:
            _domain_error_to_form(form, exc)
        else:
            update_session_auth_hash(request, request.member.user)
            messages.success(request, _("Your password is set."))
            return redirect("members:profile")
    return _profile_page(request, status=400, password_form=form)


@member_required
def profile_export(request: HttpRequest) -> HttpResponse:
    """GDPR access: everything we hold about the member, as a JSON download."""
    data = exports.member_export(member=request.member)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="my-data-{request.member.number}.json"'
    return response


@member_required
def profile_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth.member_account_delete(member=request.member)
        logout(request)
        messages.info(request, _("Your account is deleted. Thank you for having been with us."))
        return redirect("members:home")
    return render(request, "members/profile_delete.html", {"member": request.member, "form": form})


# --- branding: a stylesheet and a logo per program ------------------------------------------------


def brand_css(request: HttpRequest, slug: str) -> HttpResponse:
    """The program's colours as CSS custom properties (members.branding): linked from base.html,
    so the pages stay free of inline styles."""
    program = get_object_or_404(Program, slug=slug)
    response = HttpResponse(branding.brand_css(program), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400" if request.GET.get("v") else "no-cache"
    return response


def brand_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The program's logo, served by Django wherever media are stored; only the image types the
    admin accepted (never SVG), with nosniff set by the security middleware."""
    program = get_object_or_404(Program, slug=slug)
    if not program.logo:
        raise Http404("No logo.")
    with program.logo.open("rb") as logo:
        data = logo.read(branding.LOGO_MAX_BYTES + 1)
    content_type = branding.logo_type(data[:16])
    if content_type is None:
        raise Http404("No logo.")
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400" if request.GET.get("v") else "no-cache"
    return response
