"""The whole OpenAPI schema, exercised by schemathesis in-process against the WSGI app: no 5xx,
every status, content type, header and body as documented."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks

from config.wsgi import application
from members.models import Member, Program
from tests.api.conftest import client_for
from tests.conftest import MemberFactory, PartnerFactory
from tests.rewards.conftest import RewardFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Valid and invalid requests: invalid ones too must get a documented answer, never a 5xx.
schema.config.generation.update(modes=list(GenerationMode))

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def _keep_test_connection():
    """Calls go straight to the WSGI app, not through Django's test client, so Django would close the
    database connection after each request (in a test transaction autocommit looks "changed"),
    losing the test's transaction on PostgreSQL. The test client avoids that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def key(db, _keep_test_connection):
    """A partner with the member of the schema's examples, points, and a reward, so examples succeed."""
    partner = PartnerFactory()
    Program.objects.filter(pk=partner.program_id).update(burn_min_order=0)
    member = MemberFactory(program=partner.program)
    Member.objects.filter(pk=member.pk).update(number="402519876543")
    RewardFactory(program=partner.program, points_cost=10)
    return client_for(partner).key


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_conforms_to_its_schema(case, key):
    case.call_and_validate(headers={"Authorization": f"Api-Key {key}"}, checks=CHECKS)
