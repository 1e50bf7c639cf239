"""The Content Security Policy in a real Chromium: the member pages, the admin index with its
dashboard, the admin forms and Swagger UI render with zero CSP violations (enforced or reported)."""

import pytest
from django.contrib.auth import get_user_model

from feedback import services as feedback_services
from tests.feedback.conftest import SurveyFactory
from tests.members.pages.conftest import (
    browser,  # noqa: F401 - the shared Chromium fixture
    signup,
)
from tests.members.pages.test_browser import demo  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEMBER_PAGES = [
    "/",
    "/history/",
    "/referrals/",
    "/membership/",
    "/profile/",
    "/rewards/",
    "/rewards/vouchers/",
    "/feedback/",
    "/campaigns/",
]
ANONYMOUS_PAGES = ["/", "/signin/", "/signup/", "/signin/sent/"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/members/member/",
    "/admin/members/member/add/",
    "/admin/members/program/",
    "/admin/feedback/survey/metrics/",
    "/admin/members/webhookendpoint/add/",
    "/admin/2fa/",
]

# Runs before any page script: records every violation the page reports, enforced or report-only.
RECORDER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
"""


@pytest.fixture
def watched(browser, live_server):  # noqa: F811 - pytest fixture from test_browser
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None,
    )
    page.console_errors = console
    yield page
    context.close()


def _violations(page, path: str) -> list[str]:
    response = page.goto(path)
    assert response.status < 400, f"{path} answered {response.status}"
    page.wait_for_load_state("networkidle")
    found = page.evaluate("window.__csp") + page.console_errors
    page.console_errors.clear()
    return found


def test_member_pages_have_no_csp_violations(watched, demo):  # noqa: F811
    problems = {path: _violations(watched, path) for path in ANONYMOUS_PAGES}
    signup(demo, email="csp@example.com", password="correct horse battery")
    watched.goto("/signin/")
    watched.get_by_label("Email").fill("csp@example.com")
    watched.get_by_label("Password").fill("correct horse battery")
    watched.get_by_role("button", name="Sign in").click()
    watched.wait_for_url("**/")
    problems.update({path: _violations(watched, path) for path in MEMBER_PAGES})
    assert not any(problems.values()), problems


def test_survey_page_has_no_csp_violations(watched, demo):  # noqa: F811
    member = signup(demo, email="survey@example.com", consent_email=True)
    survey = SurveyFactory(program=demo)
    invitation = feedback_services.invitation_schedule(
        survey=survey, member=member, trigger=survey.trigger, reference="csp"
    )
    feedback_services.invitation_send(invitation=invitation)
    path = feedback_services.invitation_url(invitation).split("://", 1)[1].split("/", 1)[1]
    assert _violations(watched, "/" + path) == []


def test_admin_dashboard_forms_and_api_docs_have_no_csp_violations(watched, demo):  # noqa: F811
    get_user_model().objects.create_superuser("boss", "boss@example.com", "admin-pass-123")
    watched.goto("/admin/login/")
    watched.fill("#id_username", "boss")
    watched.fill("#id_password", "admin-pass-123")
    watched.click("input[type=submit]")
    watched.wait_for_url("**/admin/")
    problems = {path: _violations(watched, path) for path in ADMIN_PAGES}
    problems["/api/docs/"] = _violations(watched, "/api/docs/")
    # Swagger UI really started (its start-up script is a file, not inline).
    watched.wait_for_selector(".swagger-ui .info")
    problems["/api/docs/ (after start)"] = watched.evaluate("window.__csp") + watched.console_errors
    assert not any(problems.values()), problems
