"""Shared fixtures and factories. Tests that need PostgreSQL or a real Redis worker are marked
and skipped, with the reason printed, when DATABASE_URL / REDIS_URL do not point at them."""

import itertools
import os
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import factory
import pytest
import time_machine
from django.conf import settings
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, User
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery import app as celery_app
from members import services
from members.metrics import Scope
from members.models import Partner, Program, Tier
from members.partners.services import partner_key_create

# A real Celery worker, one task at a time, no cluster chatter (the tests start and stop it).
WORKER_COMMAND = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
WORKER_COMMAND += ["--without-mingle", "--without-gossip"]


def pytest_collection_modifyitems(config, items):
    is_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis and a worker: set REDIS_URL=redis://..."))


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    currency = "EUR"
    earn_rate = Decimal("1")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    level = 0


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Shop {n}")


class MemberFactory(factory.Factory):
    """Members are created through the enrollment service, like everywhere else."""

    class Meta:
        model = dict

    program = factory.SubFactory(ProgramFactory)
    email = factory.Sequence(lambda n: f"member{n}@example.com")
    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"Pop{n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.member_enroll(**kwargs)

    _build = _create


@pytest.fixture
def program(db):
    return ProgramFactory()


@pytest.fixture
def partner(program):
    return PartnerFactory(program=program)


@pytest.fixture
def member(program):
    return MemberFactory(program=program)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (event dispatch) inside a test's transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def db_vendor():
    return connection.vendor


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Tasks run eagerly in tests, except in tests marked `redis`, which use a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = "redis" not in request.keywords
    yield
    celery_app.conf.task_always_eager = previous


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real `celery worker` process on the Redis broker, using the test database. Stopped after the test."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_REPLICA_URL": "",  # the test database's name differs; these processes read the primary
        "REDIS_URL": settings.REDIS_URL,
        "ENV_FILE": "/dev/null",
        "DEBUG": "true",
        "CONN_MAX_AGE": "0",
    }
    root = Path(__file__).resolve().parent.parent
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        WORKER_COMMAND,
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if celery_app.control.ping(timeout=0.5):
            break
        if proc.poll() is not None:
            pytest.fail(f"celery worker exited: {(tmp_path / 'worker.log').read_text()}")
    else:
        proc.kill()
        pytest.fail("celery worker did not answer a ping within 30 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


# --- Partner API clients (the API tests of members, rewards and feedback, and the security tests) ---


def client_for(partner) -> APIClient:
    _, key = partner_key_create(partner=partner, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    client.key = key
    return client


@pytest.fixture
def api(partner) -> APIClient:
    return client_for(partner)


@pytest.fixture
def other_partner(program):
    """Another partner of the same program."""
    return PartnerFactory(program=program)


@pytest.fixture
def other_api(other_partner) -> APIClient:
    return client_for(other_partner)


@pytest.fixture
def foreign_api(db) -> APIClient:
    """A partner of another program."""
    return client_for(PartnerFactory(program=ProgramFactory()))


@pytest.fixture
def foreign_member(db):
    return MemberFactory(program=ProgramFactory())


def purchase_body(member, **overrides) -> dict:
    return {
        "member": member.number,
        "external_id": "ORD-1",
        "amount": "100.00",
        "currency": "EUR",
        **overrides,
    }


# --- Staff in the admin (the backoffice tests and the members' adjustment limit) ---


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


# --- Dated histories (the metrics tests of members, rewards and campaigns, and the dashboard) ---
# Every write runs with the clock set to its date.

_external_ids = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


def enroll(program, when: datetime, **fields):
    with time_machine.travel(when, tick=False):
        return MemberFactory(program=program, **fields)


def buy(member, when: datetime, amount: str, categories=(), partner=None):
    with time_machine.travel(when, tick=False):
        purchase, _ = services.purchase_record(
            member=member,
            partner=partner,
            external_id=f"order-{next(_external_ids)}",
            amount=Decimal(amount),
            currency=member.program.currency,
            occurred_at=when,
            # Lines add up to the amount (the first carries it): what the metrics read is the categories.
            items=[
                {"sku": f"sku-{c}", "category": c, "unit_price": amount if i == 0 else "0"}
                for i, c in enumerate(categories)
            ],
        )
    return purchase


def on(when: datetime, service, **kwargs):
    """Run a members service with the clock at `when`."""
    with time_machine.travel(when, tick=False):
        return service(**kwargs)


@pytest.fixture
def scope_of():
    def make(program, start, end, **filters):
        return Scope(program=program, start=start, end=end, **filters)

    return make
