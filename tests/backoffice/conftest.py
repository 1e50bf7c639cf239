"""Staff accounts come from `staff_user` and admin actions are posted with `run_action` (both in
tests/conftest.py, shared with the members' adjustment-limit tests)."""

from django.urls import reverse

# The Chromium of the member pages' browser tests, for tests/backoffice/test_browser.py.
from tests.members.pages.conftest import browser  # noqa: F401


def actions_offered(client, model: str) -> set[str]:
    """The action names in the changelist's dropdown for the signed-in user."""
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    form = response.context.get("action_form")
    return {name for name, _ in form.fields["action"].choices if name} if form else set()
