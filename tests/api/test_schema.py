"""The whole OpenAPI schema, exercised by schemathesis in-process against the WSGI app: no 5xx,
every status, content type, header and body as documented."""

import pytest
import schemathesis
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
def key(db):
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
