"""Member accounts for the member pages: sign-up, one-time sign-in links, passwords, erasure.

A member signs in as a Django user linked by `Member.user`. Members enrolled elsewhere (admin,
API, CSV import) get their user the first time they ask for a sign-in link, so every member can
use the pages. Sign-in links need no table: they are signed with a timestamp (valid 15 minutes)
and a hash of the user's last login and password, so signing in once makes the link stale.
"""

import contextlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac

from core.errors import DomainError
from members import services
from members.models import Member, Program

User = get_user_model()

LINK_MAX_AGE = timedelta(minutes=15)
# Per address and per 15 minutes: enough sign-in emails for a lost one but not a mail bomb, and
# enough password tries for typos but not a guessing attack.
LINK_REQUESTS_PER_WINDOW = 5
PASSWORD_TRIES_PER_WINDOW = 10
# Per client address: several members may share one (an office, a mobile carrier's NAT), so more,
# but a guesser spreading tries over many emails from one address is still cut off.
PASSWORD_TRIES_PER_CLIENT = 30
_LINK_SALT = "members.signin-link"


# --- one-time sign-in links --------------------------------------------------------------------


def _login_state(user) -> str:
    """Changes whenever the user signs in or changes password, which spends every earlier link."""
    return salted_hmac(_LINK_SALT, f"{user.pk}|{user.last_login}|{user.password}").hexdigest()[:20]


def signin_token(user) -> str:
    return signing.dumps({"u": user.pk, "s": _login_state(user)}, salt=_LINK_SALT)


def signin_url(user) -> str:
    return settings.SITE_URL + reverse("members:signin_link", args=[signin_token(user)])


def signin_token_user(token: str):
    """The active member user a fresh, unused token belongs to, or None."""
    try:
        data = signing.loads(token, salt=_LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True, member__status=Member.Status.ACTIVE).first()
    if user is None or not constant_time_compare(str(data.get("s", "")), _login_state(user)):
        return None
    return user


@transaction.atomic
def _account_for(member: Member):
    """The member's user, created on first use. Usernames are the member number: emails may repeat
    across programs, and members sign in by email, never by username."""
    if member.user_id:
        return member.user
    user = User.objects.create_user(username=f"member-{member.number}", email=member.email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Member.objects.filter(pk=member.pk, user__isnull=True).update(user=user)
    member.user = user
    return user


def _limit_key(action: str, subject: str) -> str:
    return f"members:{action}:{salted_hmac(_LINK_SALT, subject).hexdigest()}"


def within_limit(action: str, subject: str, limit: int) -> bool:
    """Counts one attempt at `action` by `subject` (an email, a client address); False once `limit`
    attempts were made in the window. The one rate-limit mechanism of the member pages: sign-in
    links, password tries, sign-ups and survey submissions all count here. Subjects are stored
    hashed, so the cache holds no addresses."""
    key = _limit_key(action, subject)
    cache.add(key, 0, timeout=int(LINK_MAX_AGE.total_seconds()))
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the key expired between add and incr
        return True


def limit_uncount(action: str, subject: str) -> None:
    """Take back one attempt `within_limit` counted (it turned out not to be a failure). Counting
    first and taking back after keeps the check atomic: parallel guesses cannot all pass."""
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
        cache.decr(_limit_key(action, subject))


def limit_reset(action: str, subject: str) -> None:
    cache.delete(_limit_key(action, subject))


def client_address(request) -> str:
    """Who is asking, for the per-client limits. Behind a reverse proxy REMOTE_ADDR is the proxy, so
    RATE_LIMIT_CLIENT_HEADER names the META key the proxy sets (e.g. HTTP_X_REAL_IP)."""
    header = settings.RATE_LIMIT_CLIENT_HEADER
    value = request.META.get(header, "") if header else ""
    return value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")


def signin_link_send(*, email: str) -> int:
    """Email a one-time sign-in link to every active member with this address (one per program).

    Returns how many were sent. The page says the same whatever the answer, so it does not reveal
    who is a member.
    """
    email = services.normalize_email(email)
    if not email or not within_limit("link", email, LINK_REQUESTS_PER_WINDOW):
        return 0
    members = list(Member.objects.select_related("program", "user").filter(email=email, status=Member.Status.ACTIVE))
    for member in members:
        user = _account_for(member)
        if not user.is_active:
            continue
        with translation.override(member.language):
            context = {
                "member": member,
                "url": signin_url(user),
                "minutes": int(LINK_MAX_AGE.total_seconds() // 60),
            }
            subject = render_to_string("members/emails/signin_link_subject.txt", context).strip()
            body = render_to_string("members/emails/signin_link.txt", context)
        send_mail(subject, body, None, [member.email])
    return len(members)


def password_signin_user(*, email: str, password: str, client: str = ""):
    """The member user whose email and password match, or None. Only failures count: refuses once
    the email, or the client address, has used up its failed attempts for the window. A success
    clears the email's count (the member proved the password) but only takes itself back from the
    client's, so one account of one's own does not wipe a guesser's record."""
    email = services.normalize_email(email)
    if not password:
        return None
    counted = []
    for action, subject, limit in (
        ("password", email, PASSWORD_TRIES_PER_WINDOW),
        ("password-client", client, PASSWORD_TRIES_PER_CLIENT),
    ):
        if not subject:
            continue
        counted.append((action, subject))
        if not within_limit(action, subject, limit):
            raise DomainError("too_many_attempts", "Too many password attempts; use a sign-in link.", status=429)
    candidates = User.objects.filter(member__email=email, member__status=Member.Status.ACTIVE, is_active=True).order_by(
        "pk"
    )
    for user in candidates:
        if user.has_usable_password() and user.check_password(password):
            for action, subject in counted:
                (limit_reset if action == "password" else limit_uncount)(action, subject)
            return user
    return None


def signup_program(*, slug: str | None) -> Program | None:
    """The program a sign-up page enrols into: the one named in the URL, else the default one."""
    if slug:
        return Program.objects.filter(slug=slug).first()
    return Program.objects.filter(is_default=True).first()


def member_for_user(*, user) -> Member | None:
    """The active member a signed-in user is, with what every page shows (program, tier)."""
    if not user.is_authenticated:
        return None
    return Member.objects.select_related("program", "tier").filter(user=user, status=Member.Status.ACTIVE).first()


# --- sign-up, password, erasure ----------------------------------------------------------------


def _validate_password(password: str, user) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise DomainError("weak_password", " ".join(exc.messages), fields={"password": exc.messages}) from exc


@transaction.atomic
def member_signup(
    *,
    program: Program,
    email: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    language: str = "en",
    consent_email: bool = False,
    consent_sms: bool = False,
    referral_code: str = "",
    password: str = "",
    device: str = "",
) -> Member:
    """Self sign-up: a member (with the welcome gift) and the user the pages sign in. `device` is the
    browser's device cookie (members.checks): a referrer's own browser holds the referral for review."""
    if password:
        _validate_password(password, User(email=email, first_name=first_name, last_name=last_name))
    member = services.member_enroll(
        program=program,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        language=language,
        consent_email=consent_email,
        consent_sms=consent_sms,
        referral_code=referral_code,
        device=device,
    )
    user = _account_for(member)
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return member


@transaction.atomic
def member_password_set(*, member: Member, password: str) -> None:
    user = _account_for(member)
    _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def member_account_delete(*, member: Member) -> Member:
    """The member's own erasure request, carried out at once: personal data goes, the ledger stays."""
    return services.member_anonymize(member=member)


# --- demo ----------------------------------------------------------------------------------------

DEMO_MEMBER_EMAIL = "ana@example.com"
DEMO_MEMBER_PASSWORD = "fidelis-member"  # noqa: S105 - demo only, printed for the newcomer


def demo_member_login(*, program: Program) -> str:
    """Give the demo program's first member a password so the member pages can be tried at once."""
    member = Member.objects.select_related("user").filter(program=program, email=DEMO_MEMBER_EMAIL).first()
    if member is None or member.status != Member.Status.ACTIVE:
        return "Member login: no demo member."
    user = _account_for(member)
    if not user.has_usable_password():
        user.set_password(DEMO_MEMBER_PASSWORD)
        user.save(update_fields=["password"])
    elif not user.check_password(DEMO_MEMBER_PASSWORD):
        return f"Member login: {DEMO_MEMBER_EMAIL} (password changed since the demo set {DEMO_MEMBER_PASSWORD})"
    return f"Member login: {DEMO_MEMBER_EMAIL} / {DEMO_MEMBER_PASSWORD}  ({settings.SITE_URL}/)"
