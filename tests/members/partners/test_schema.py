"""The whole OpenAPI schema, exercised by schemathesis in-process against the WSGI app: no 5xx,
every status, content type, header and body as documented.

SCHEMA_EXAMPLES sets the examples per operation: 20 by default (the SQLite run), 100 in CI's
PostgreSQL run (.ci/run). The run is deterministic: derandomized, no example database, and no
constants scraped from the application's source (schemathesis' `analysis.constants`), so inputs come
from the schema alone and moving code does not change them. Hypothesis itself may still mix in
literals of loaded modules, so every generated case must hold whatever it draws: where the server
refuses well-formed input for a business rule the schema cannot state, the `map_case` hook below
turns generated *positive* purchases into ones the rule accepts; negative cases are sent as drawn."""

import os
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks
from schemathesis.core.parameters import ParameterLocation

from config.wsgi import application
from members.models import Member, Program
from tests.conftest import MemberFactory, PartnerFactory, client_for
from tests.rewards.conftest import RewardFactory

EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "20"))
CURRENCY = "EUR"  # the program's
NUMBER = "402519876543"  # the member of the schema's examples
MONEY_MAX = Decimal("9999999999.99")  # what the schema's money fields hold (12 digits, 2 decimals)

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Valid and invalid requests: invalid ones too must get a documented answer, never a 5xx.
schema.config.generation.update(modes=list(GenerationMode))
schema.config.analysis.constants.enabled = False


def _positive_body(case) -> dict | None:
    body = case.body
    if isinstance(body, dict) and case.meta is not None and not case.meta.is_negative_at(ParameterLocation.BODY):
        return body
    return None


PURCHASES = ["transactions_create", "transactions_simulate", "receipts_create"]


@schema.hook("map_case").apply_to(operation_id=PURCHASES)
def purchase_rules(ctx, case):
    """A well-formed purchase can still break rules of the program, which a schema cannot state;
    these are 400s with their own codes (`currency_mismatch`, `invalid_amount`), tested one by one in
    tests/members/api. A positive body is made to keep them, so "valid data is accepted" means what
    it says: a member named (by number or card), the program's currency, only discount lines
    negative, items adding up to the amount, at most the amount paid with points. (The date's bounds depend on the clock and the member: see the test.)"""
    body = _positive_body(case)
    if body is None:
        return case
    body["currency"] = CURRENCY
    if not body.get("member") and not body.get("card") and not case.path.endswith("/receipts"):
        body["member"] = NUMBER  # a purchase names its member, by number or card (a 400 otherwise)
    items = body.get("items")
    for item in items or []:  # a discount line is negative, no other line is (a 400 invalid_items otherwise)
        price = Decimal(item["unit_price"])
        if (item.get("kind") == "discount") != (price < 0) and price:
            item["unit_price"] = str(-price)
    if items:
        total = sum((Decimal(i["unit_price"]) * i.get("quantity", 1) for i in items), Decimal(0))
        if Decimal("0.01") <= total <= MONEY_MAX:
            body["amount"] = str(total.quantize(Decimal("0.01")))
        else:
            del body["items"]
    if Decimal(body.get("paid_with_points", "0")) > Decimal(body["amount"]):
        body["paid_with_points"] = body["amount"]
    return case


# Every check schemathesis has (the CLI's `--checks all`): conformance of status, content type, headers
# and body; negative data rejected and positive data accepted; a missing required header refused; an
# undocumented method answered 405 with Allow; auth not ignored; no object-level authorization bypass;
# resources available after creation and gone after deletion.
checks.load_all_checks()
CHECKS = checks.CHECKS.get_all()

# The program's ceilings (largest amount, points per purchase, points per member and day) depend on
# its configuration and on what the member earned earlier in the run, so no hook can keep a positive
# purchase under them: one that passes a ceiling must be refused with that ceiling's code, and is
# then held to every other check.
CEILING_CODES = {"amount_too_large", "points_ceiling", "daily_points_ceiling"}
# Whether a phone number is valid depends on its country and the program's phone region, which no
# schema keyword states: a documented 400 invalid_phone is excused from "valid data is accepted"
# (and only from that check) on any operation.
# Likewise a loyalty card number's Luhn check digit, and the columns of a CSV sent as a string.
UNSTATABLE_CODES = {"invalid_phone", "invalid_card_number", "invalid_file"}


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
    partner = PartnerFactory(program__currency=CURRENCY)
    Program.objects.filter(pk=partner.program_id).update(burn_min_order=0)
    member = MemberFactory(program=partner.program)
    Member.objects.filter(pk=member.pk).update(number=NUMBER, referral_code="Q4TR8WXZ")
    RewardFactory(program=partner.program, points_cost=10)
    return client_for(partner).key


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
def test_the_api_conforms_to_its_schema(case, key):
    # The contract says an Idempotency-Key is unique per request (a reuse with another body is a
    # documented 422), which a schema cannot express: a well-formed generated key gets a fresh value,
    # a malformed one (blank, too long) is sent as generated and must be refused.
    idempotency_key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(idempotency_key, str) and idempotency_key.strip() and len(idempotency_key) <= 255:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    # A purchase happens between the member's enrolment and now (a documented 400 `invalid_date`
    # otherwise): a positive one generated outside that span, when the request is sent, happens now.
    purchase = schema.get_operation_id(case.operation) in PURCHASES
    body = _positive_body(case) if purchase else None
    if body is not None and isinstance(body.get("occurred_at"), str):
        occurred_at = parse_datetime(body["occurred_at"])
        member = Member.objects.select_related("program").get(number=NUMBER)
        earliest = max(member.enrolled_at, timezone.now() - timedelta(days=member.program.backdate_days))
        if occurred_at is not None and not earliest <= occurred_at <= timezone.now():
            body["occurred_at"] = timezone.now().isoformat()
    accepts = [c for c in CHECKS if c.__name__ == "positive_data_acceptance"]
    skipped = set(accepts)
    # Every call carries the partner's key: a case drawn negative by leaving it out is sent with it,
    # so it is no longer the negative case drawn, and "schema-violating request rejected" cannot judge it.
    headers = case.headers or {}
    key_left_out = "Authorization" not in headers and "Idempotency-Key" not in headers  # a bad key is still judged
    if key_left_out and case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        skipped |= {c for c in CHECKS if c.__name__ == "negative_data_rejection"}
    response = case.call_and_validate(
        headers={"Authorization": f"Api-Key {key}"}, checks=[c for c in CHECKS if c not in skipped]
    )
    excused = UNSTATABLE_CODES | (CEILING_CODES if body is not None else set())
    if not (response.status_code == 400 and _excused(response.json()["error"], excused)):
        case.validate_response(response, checks=accepts)


def _excused(error: dict, codes: set[str]) -> bool:
    # A list's cursor is opaque (a position the server encoded): only one read from a `next` or
    # `previous` link is valid, which no schema keyword states.
    return error["code"] in codes or set(error["fields"]) == {"cursor"}
