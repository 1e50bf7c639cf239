import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, User
from django.urls import reverse


@pytest.fixture
def staff_user(db):
    """A staff account holding one role, the way an operator gives it (admin > Users > Groups)."""

    def make(role: str, username: str | None = None) -> User:
        user = User.objects.create_user(username or role.replace(" ", "-"), password="pw", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


def run_action(client, model: str, action: str, objects, **data):
    """Post an admin changelist action, as the checkbox + dropdown do."""
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objects], **data},
    )


def actions_offered(client, model: str) -> set[str]:
    """The action names in the changelist's dropdown for the signed-in user."""
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    form = response.context.get("action_form")
    return {name for name, _ in form.fields["action"].choices if name} if form else set()
