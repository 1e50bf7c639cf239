"""An integrator's client generated from /api/schema/ with openapi-python-client (into a temporary
folder, never committed) runs the partner journey against the live test server (issue 19).

Every operation of the schema must be generated (openapi-python-client skips, with a warning, an
operation it cannot model), and the journey must call every operation but those in NOT_IN_JOURNEY.
To cover a new operation, write a step (a function taking the Journey) and add it to STEPS: steps run
in order and share what they learn through the Journey's attributes.
"""

import importlib
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from django.test import Client

from campaigns.models import OfferGrant
from campaigns.services import campaign_launch
from coalition.models import PartnerRate
from coalition.services import settlements_close_due
from members.models import CustomEventType, PointsPrice, Program
from members.partners.services import partner_key_create
from tests.campaigns.conftest import CampaignFactory, OfferFactory
from tests.conftest import MemberFactory, PartnerFactory
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "fidelis_client"
# Operations the journey does not call, and why (each must still be generated).
NOT_IN_JOURNEY = {
    "members_subscription_payment": "needs a plan the member asked for on the member pages",
}


def _modules(pkg: ModuleType) -> dict[str, str]:
    """operationId -> the generated module holding it (api/<tag>/<operation_id>.py)."""
    api = Path(pkg.__file__).parent / "api"
    return {p.stem: f"{PACKAGE}.api.{p.parent.name}.{p.stem}" for p in api.glob("*/*.py") if p.stem != "__init__"}


def _operation_ids(schema: dict) -> set[str]:
    return {op["operationId"] for ops in schema["paths"].values() for op in ops.values()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker) -> tuple[ModuleType, dict]:
    """The generated package, imported, and the schema it came from."""
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    schema = response.json()
    root = tmp_path_factory.mktemp("client")
    (root / "schema.json").write_bytes(response.content)
    (root / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    command = [Path(sys.executable).with_name("openapi-python-client"), "generate", "--meta", "none"]
    result = subprocess.run(
        [*command, "--path", "schema.json", "--config", "config.yaml", "--output-path", PACKAGE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A warning means an operation or a model was skipped: a client that silently lacks it.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE), schema
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@dataclass
class Journey:
    """What the steps share: the generated package, an authenticated client, what they learned."""

    pkg: ModuleType
    client: object
    reward: int
    called: set[str] = field(default_factory=set)
    number: str = ""
    email: str = "ana.journey@example.com"
    transaction: int = 0
    points: int = 0
    code: str = ""
    offer_code: str = ""  # a campaign offer code another member holds
    hook_url: str = ""  # where a registered webhook points (this live server)
    friend: str = ""  # a second member (made by the batch step), for transfers
    last: object = None  # the last response, for its headers

    def call(self, operation: str, *args, expect: int = 200, **kwargs):
        """Call a generated operation (by operationId) and check the status; returns the parsed body."""
        module = importlib.import_module(_modules(self.pkg)[operation])
        response = module.sync_detailed(*args, client=self.client, **kwargs)
        assert response.status_code == expect, (operation, response.status_code, response.content[:500])
        self.called.add(operation)
        self.last = response
        return response.parsed

    def model(self, name: str, **fields):
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)(**fields)

    def body(self, name: str, data: dict):
        """A generated request model from its JSON form (enums and lists built by the model itself)."""
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name).from_dict(data)


def enroll(j: Journey):
    member = j.call("members_enroll", body=j.model("MemberCreateRequest", email=j.email, first_name="Ana"), expect=201)
    j.number = member.number


def look_up(j: Journey):
    page = j.call("members_lookup", email=j.email)
    assert [m.number for m in page.results] == [j.number] and page.next_ is None
    assert j.call("members_get", j.number).email == j.email
    updated = j.call("members_update", j.number, body=j.model("PatchedMemberUpdateRequest", consent_sms=True))
    assert updated.consent_sms is True


def earn_with_items(j: Journey):
    items = [
        j.model("ItemRequest", sku="BEANS-1KG", category="coffee", quantity=1, unit_price="12.50"),
        j.model("ItemRequest", sku="MUG-01", category="home", quantity=2, unit_price="36.00"),
    ]
    body = j.model("PurchaseRequest", member=j.number, external_id="ORD-1", amount="84.50", currency="EUR", items=items)
    quote = j.call("transactions_simulate", body=body)
    purchase = j.call("transactions_create", body=body, idempotency_key="earn-ORD-1", expect=201)
    assert purchase.points == quote.points > 0
    j.transaction, j.points = purchase.id, purchase.points


def read_back(j: Journey):
    assert j.call("transactions_get", j.transaction).points == j.points
    listed = j.call("transactions_list", external_id="ORD-1")
    assert [p.id for p in listed.results] == [j.transaction]


def balance_and_history(j: Journey):
    balance = j.call("members_balance", j.number)
    assert balance.available >= j.points
    etag = j.last.headers["ETag"]
    j.call("members_balance", j.number, if_none_match=etag, expect=304)
    history = j.call("members_transactions", j.number)
    assert j.transaction in [e.transaction for e in history.results]
    assert j.call("members_subscriptions", j.number).results == []


def engage(j: Journey):
    body = j.model("EngagementRequest", member=j.number, type_=j.model("TypeEnum", value="review"), reference="REV-1")
    assert j.call("events_create", body=body).reference == "REV-1"


def redeem_validate_consume(j: Journey):
    offers = j.call("rewards_for_member", member=j.number)
    assert any(o.id == j.reward and o.can_redeem for o in offers.results)
    redemption = j.call(
        "redemptions_create", body=j.model("RedeemRequest", member=j.number, reward=j.reward), expect=201
    )
    assert j.call("redemptions_get", redemption.id).voucher.code == redemption.voucher.code
    j.code = redemption.voucher.code
    assert j.code in [v.code for v in j.call("members_vouchers", j.number).results]
    assert j.call("vouchers_validate", j.code, order_total="50.00").status.value == "issued"
    consumed = j.call(
        "vouchers_consume", j.code, body=j.model("ConsumeRequest", order_reference="ORD-2", order_total="50.00")
    )
    assert consumed.status.value == "consumed"


def redeem_and_cancel(j: Journey):
    redemption = j.call(
        "redemptions_create", body=j.model("RedeemRequest", member=j.number, reward=j.reward), expect=201
    )
    # The generated CancelRequest() sends nothing by default, which the server takes (issue 19).
    assert j.call("redemptions_cancel", redemption.id, body=j.model("CancelRequest")).status.value == "cancelled"


def burn(j: Journey):
    hold = j.call(
        "burn_quote", body=j.model("BurnQuoteRequest", member=j.number, order_total="64.90", points=10), expect=201
    )
    assert j.call("burn_get", hold.id).status.value == "held"
    assert j.call("burn_confirm", hold.id, body=j.model("BurnConfirmRequest")).status.value == "confirmed"
    other = j.call("burn_quote", body=j.model("BurnQuoteRequest", member=j.number, order_total="20.00"), expect=201)
    assert j.call("burn_cancel", other.id).status.value == "cancelled"


def reverse(j: Journey):
    result = j.call("transactions_reverse", j.transaction, body=j.model("ReverseRequest", amount="36.00"))
    assert result.transaction == j.transaction and result.points_reversed > 0


def ticket(j: Journey):
    # No language, no external_id: the generated defaults used to make the server refuse this.
    body = j.model("TicketOpenRequest", member=j.number, subject="Points missing", body="For my order of Monday.")
    assert j.call("tickets_open", body=body, expect=201).status.value == "new"


def events_feed(j: Journey):
    feed = j.call("events_feed", after=0, page_size=200)
    types = {e.type_ for e in feed.results}
    assert {"member.enrolled", "points.earned", "reward.redeemed", "voucher.consumed", "points.reversed"} <= types
    assert j.call("events_feed", after=feed.after).results == []


def program_metadata(j: Journey):
    assert j.call("program_get").currency == "EUR"
    assert j.call("tiers_list").next_ is None
    assert isinstance(j.call("earning_rules_list").results, list)
    assert j.reward in [r.id for r in j.call("catalog_list").results]


def webhooks(j: Journey):
    body = j.body("WebhookCreateRequest", {"url": j.hook_url, "events": ["points.earned"]})
    endpoint = j.call("webhooks_register", body=body, expect=201)
    assert endpoint.secret.startswith("whsec_")
    assert [w.id for w in j.call("webhooks_list").results] == [endpoint.id]
    assert j.call("webhooks_get", endpoint.id).url == j.hook_url
    update = j.body("PatchedWebhookUpdateRequest", {"events": ["points.earned", "reward.redeemed"]})
    assert len(j.call("webhooks_update", endpoint.id, body=update).events) == 2
    rotated = j.call("webhooks_rotate_secret", endpoint.id, body=j.body("WebhookRotateRequest", {"overlap_hours": 1}))
    assert rotated.secret != endpoint.secret
    sent = j.call("webhooks_test", endpoint.id, expect=202)
    assert sent.id in [d.id for d in j.call("webhooks_deliveries", endpoint.id).results]
    assert j.call("webhooks_delivery", endpoint.id, sent.id).event_type == "webhook.test"
    assert j.call("webhooks_redeliver", endpoint.id, sent.id, expect=202).id == sent.id


def offer_codes(j: Journey):
    assert j.call("offer_codes_validate", j.offer_code, order_total="50.00").status == "issued"
    body = j.model("ConsumeRequest", order_reference="ORD-3", order_total="50.00")
    assert j.call("offer_codes_consume", j.offer_code, body=body).status == "consumed"


def cards(j: Journey):
    card = j.call("members_cards_issue", j.number, body=j.body("CardIssueRequest", {}), expect=201)
    assert card.number in [c.number for c in j.call("members_cards", j.number).results]
    assert j.call("cards_lookup", card.number).member.number == j.number
    body = j.model("PurchaseRequest", card=card.number, external_id="ORD-CARD", amount="10.00", currency="EUR")
    assert j.call("transactions_create", body=body, expect=201).member == j.number  # earning by card
    new = j.call("cards_replace", card.number, body=j.body("CardReplaceRequest", {"reason": "lost"}), expect=201)
    assert new.number != card.number
    assert j.call("cards_block", new.number, body=j.body("CardBlockRequest", {"reason": "stolen"})) is not None


def batches_and_imports(j: Journey):
    members = j.body("MembersBatchRequest", {"members": [{"email": "friend@example.com", "external_id": "F-1"}]})
    j.call("members_batch", body=members)
    j.friend = j.call("members_lookup", email="friend@example.com").results[0].number
    line = {"member": j.friend, "external_id": "B-1", "amount": "10.00", "currency": "EUR"}
    j.call("transactions_batch", body=j.body("TransactionsBatchRequest", {"transactions": [line]}))
    assert j.call("transactions_list", external_id="B-1").results
    csv = "member,external_id,amount,currency\n" + f"{j.friend},IMP-1,5.00,EUR\n"
    job = j.call("imports_create", body=j.body("ImportCreateRequest", {"kind": "transactions", "csv": csv}), expect=202)
    assert j.call("imports_get", job.id).id == job.id


def receipts(j: Journey):
    receipt = j.body("ReceiptRequest", {"external_id": "R-1", "amount": "20.00", "currency": "EUR"})
    created = j.call("receipts_create", body=receipt, expect=201)
    claimed = j.call("receipts_claim", created.id, body=j.body("ClaimRequest", {"member": j.number}), expect=201)
    assert claimed.member == j.number


def transfers_and_custom_events(j: Journey):
    body = {"sender": j.number, "recipient": j.friend, "points": 5, "reference": "T-1"}
    assert j.call("transfers_create", body=j.body("TransferRequest", body), expect=201) is not None
    visit = j.body("CustomEventRequest", {"type": "store_visit", "reference": "V-1"})
    assert j.call("members_events_create", j.number, body=visit, expect=201) is not None


def points_purchase_and_refund(j: Journey):
    body = j.body("PointsPurchaseRequest", {"points": 200, "payment_reference": "TILL-1", "price": "2.00"})
    sale = j.call("members_points_purchases_create", j.number, body=body, expect=201)
    assert sale.points == 200 and sale.status == "paid"
    refunded = j.call("points_purchases_refund", sale.id)
    assert refunded.status == "refunded" and refunded.refunded_points == 200


def settlements(j: Journey):
    """Last month's statement, closed before the journey (the purchases above fall in this month)."""
    (statement,) = j.call("settlements_list").results
    assert j.call("settlements_get", statement.id).lines is not None
    assert j.last.parsed.month == statement.month


def data_subject_request(j: Journey):
    """Last: the export holds the member's data, then the member is erased."""
    assert j.call("members_export", j.number) is not None
    assert j.call("members_erase", j.number).erased is True


STEPS = [
    program_metadata,
    enroll,
    look_up,
    earn_with_items,
    read_back,
    balance_and_history,
    engage,
    redeem_validate_consume,
    redeem_and_cancel,
    burn,
    reverse,
    ticket,
    events_feed,
    webhooks,
    offer_codes,
    cards,
    batches_and_imports,
    receipts,
    transfers_and_custom_events,
    points_purchase_and_refund,
    settlements,
    data_subject_request,
]


def test_every_operation_is_generated(generated):
    pkg, schema = generated
    assert _operation_ids(schema) == set(_modules(pkg))


def test_the_partner_journey_runs_through_the_generated_client(generated, live_server, settings):
    pkg, schema = generated
    settings.API_EVENTS_SETTLE_SECONDS = 0
    partner = PartnerFactory(program__currency="EUR")
    Program.objects.filter(pk=partner.program_id).update(
        pending_days=0,
        burn_rate=Decimal("0.01"),
        burn_min_order=0,
        transfer_max_points=1000,
        transfer_daily_points=1000,
    )
    CustomEventType.objects.create(program=partner.program, key="store_visit", name="Store visit", points=5)
    PointsPrice.objects.create(program=partner.program, price=Decimal("1.00"), block=100)
    PartnerRate.objects.create(
        partner=partner, valid_from=date(2020, 1, 1), cost_per_point=Decimal("0.01"), value_per_point=Decimal("0.01")
    )
    settlements_close_due()  # last month's statement
    reward = RewardFactory(program=partner.program, points_cost=20, value=Decimal("5.00"))
    _, key = partner_key_create(partner=partner, name="generated client")
    client = pkg.AuthenticatedClient(base_url=live_server.url, token=key, prefix="Api-Key")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the webhook points at this live server
    holder = MemberFactory(program=partner.program, consent_email=True)
    campaign = CampaignFactory(program=partner.program, offer=OfferFactory(program=partner.program))
    campaign_launch(campaign=campaign)
    offer_code = OfferGrant.objects.get(member=holder).code
    journey = Journey(
        pkg=pkg, client=client, reward=reward.pk, offer_code=offer_code, hook_url=f"{live_server.url}/hook"
    )
    with client:
        for step in STEPS:
            step(journey)
    assert journey.called == _operation_ids(schema) - set(NOT_IN_JOURNEY)
