"""Every member-facing form and page, fuzzed with hypothesis: arbitrary text, unicode, huge and empty
values, wrong types, a field sent twice, garbage in the URL. Posted by a signed-in member (and
anonymously where the page is public). Never a 5xx; a rejected post (a 4xx, or the form shown again
with errors) stores nothing: every table of the four apps keeps its row count."""

from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback import services as feedback_services
from members import auth
from members import services as member_services
from members.models import MembershipPlan
from tests.conftest import ProgramFactory
from tests.feedback.conftest import SurveyFactory
from tests.rewards.conftest import RewardFactory

FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same examples in CI every run: a failure is reproducible, the time bounded
    suppress_health_check=list(HealthCheck),
)

# What a browser, a bot or a broken client may send as one field's value.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)  # the client cannot encode lone surrogates
VALUE = st.one_of(
    _TEXT,
    st.just(""),
    st.just(" " * 3),
    st.just("x" * 20_000),
    st.just("\x00"),
    st.integers().map(str),
    st.sampled_from(["-1", "0", "1e309", "NaN", "2026-02-30", "31/12/1990", "on", "true", "false", "None", "[]", "{}"]),
    st.sampled_from(["<script>alert(1)</script>", "' OR 1=1 --", "=HYPERLINK(1)", "ana@example.com", "ø@例え.jp"]),
    st.lists(_TEXT, min_size=2, max_size=3),  # the field sent twice
)


def form_data(*fields: str):
    return st.fixed_dictionaries({}, optional={f: VALUE for f in fields})


def url_part():
    return st.one_of(_TEXT.filter(lambda s: s.strip("/")), st.just("x" * 5000)).map(lambda s: quote(s, safe=""))


def _table_counts() -> dict[str, int]:
    models = [
        m for label in ("members", "rewards", "feedback", "campaigns") for m in apps.get_app_config(label).get_models()
    ]
    return {m._meta.label: m.objects.count() for m in [*models, get_user_model()]}


def _rejected(response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    forms = [v for ctx in (response.context or []) for v in ctx.flatten().values() if hasattr(v, "errors")]
    return response.status_code == 200 and any(getattr(f, "is_bound", False) and f.errors for f in forms)


def check(client, method: str, url: str, data: dict | None = None) -> None:
    """One request: never a server error, and nothing stored when it is refused."""
    cache.clear()  # rate limits would otherwise answer 429 before the form is even read
    before = _table_counts()
    response = getattr(client, method)(url, data or {})
    assert response.status_code < 500, (url, data, response.status_code)
    if _rejected(response):
        assert _table_counts() == before, (url, data)


@pytest.fixture
def world(db):
    """A program with a plan, a reward, a survey; a signed-in member with points and a ticket."""
    program = ProgramFactory(is_default=True)
    member = auth.member_signup(
        program=program, email="ana@example.com", first_name="Ana", password="long-enough-pw", consent_email=True
    )
    member_services.points_grant(member=member, points=1000, reason="Fuzz")
    reward = RewardFactory(program=program, points_cost=10)
    plan = MembershipPlan.objects.create(program=program, name="Club", fee="10.00")
    survey = SurveyFactory(program=program)
    invitation = feedback_services.invitation_schedule(
        survey=survey, member=member, trigger=survey.trigger, reference="fuzz"
    )
    feedback_services.invitation_send(invitation=invitation)
    ticket = feedback_services.ticket_open(member=member, subject="Hello", body="A question", channel="member_page")
    return {
        "program": program,
        "member": member,
        "reward": reward,
        "plan": plan,
        "survey": survey,
        "token": feedback_services.invitation_token(invitation),
        "ticket": ticket,
    }


@pytest.fixture
def member_client(client, world):
    client.force_login(world["member"].user)
    return client


# --- public pages (anonymous) ---------------------------------------------------------------------


@FUZZ
@given(
    data=form_data(
        "first_name", "last_name", "email", "password", "referral_code", "consent_email", "consent_sms", "accept_terms"
    )
)
def test_signup(client, world, data):
    check(client, "post", reverse("members:signup"), data)


@FUZZ
@given(data=form_data("email", "password", "next"))
def test_signin(client, world, data):
    check(client, "post", reverse("members:signin"), data)


@FUZZ
@given(token=url_part(), method=st.sampled_from(["get", "post"]))
def test_signin_link_and_unsubscribe_with_garbage_tokens(client, world, token, method):
    check(client, method, f"/signin/link/{token}/")
    check(client, method, f"/unsubscribe/{token}/")


@FUZZ
@given(data=form_data("step", "q1", "q2", "q3", "score", "comment"), query=form_data("step", "score", "lang"))
def test_survey_answer(client, world, data, query):
    survey = world["survey"]
    fields = {f"q{q.pk}": VALUE for q in survey.questions.all()}
    url = reverse("feedback:answer", args=[world["token"]])
    check(client, "post", url, data)
    check(client, "get", url, query)
    check(client, "post", url, {"step": "score", **{k: "not-a-score" for k in fields}})
    check(client, "post", f"/feedback/s/{quote(world['token'][:-3], safe='')}x/", data)


# --- signed-in member -----------------------------------------------------------------------------


@FUZZ
@given(data=form_data("first_name", "last_name", "email", "phone", "birth_date", "language"))
def test_profile(member_client, world, data):
    check(member_client, "post", reverse("members:profile"), data)


@FUZZ
@given(consents=form_data("consent_email", "consent_sms"), password=form_data("password", "password_again"))
def test_consents_and_password(member_client, world, consents, password):
    check(member_client, "post", reverse("members:profile_consents"), consents)
    check(member_client, "post", reverse("members:profile_password"), password)


@FUZZ
@given(data=form_data("language", "next"))
def test_language(member_client, world, data):
    check(member_client, "post", reverse("members:language"), data)


@FUZZ
@given(query=form_data("kind", "since", "until", "page"))
def test_history_and_vouchers_filters(member_client, world, query):
    check(member_client, "get", reverse("members:history"), query)
    check(member_client, "get", reverse("members:history_csv"), query)
    check(member_client, "get", reverse("rewards:vouchers"), query)


@FUZZ
@given(data=form_data("category", "subject", "body"), message=form_data("body"))
def test_tickets(member_client, world, data, message):
    check(member_client, "post", reverse("feedback:tickets"), data)
    check(member_client, "post", reverse("feedback:ticket", args=[world["ticket"].pk]), message)


@FUZZ
@given(pk=st.one_of(st.integers(min_value=0, max_value=2**70), url_part()), data=form_data("points", "reward"))
def test_redeem_subscribe_voucher_and_ticket_urls_with_garbage_ids(member_client, world, pk, data):
    for prefix in ("/rewards/", "/rewards/vouchers/", "/membership/subscribe/", "/feedback/tickets/"):
        suffix = "redeem/" if prefix == "/rewards/" else ""
        check(member_client, "get", f"{prefix}{pk}/{suffix}")
        check(member_client, "post", f"{prefix}{pk}/{suffix}", data)


@FUZZ
@given(data=form_data("reward", "plan", "confirm", "points"))
def test_redeem_and_plan_pages_ignore_extra_fields(member_client, world, data):
    check(member_client, "post", reverse("rewards:redeem", args=[world["reward"].pk]), data)
    check(member_client, "post", reverse("members:membership_subscribe", args=[world["plan"].pk]), data)
    check(member_client, "post", reverse("members:membership_cancel"), data)


def test_account_deletion_needs_the_box_ticked(member_client, world):
    for data in ({}, {"confirm": ""}, {"confirm": "false"}, {"confirm": "False"}):
        check(member_client, "post", reverse("members:profile_delete"), data)
    world["member"].refresh_from_db()
    assert world["member"].email == "ana@example.com"  # not erased
