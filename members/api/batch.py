"""Partner API v1, batches: up to MAX_LINES purchases or enrollments in one request, each line with
its own answer (status, result or error), so one bad line never loses the others. The same line
readers serve the background import of a CSV file (members/api/imports.py), so a line is accepted
or refused for the same reasons whichever way it arrives.

Each line is idempotent by its own id: a purchase by its `external_id` (as for a single purchase),
an enrollment by the member's `external_id` (members.services.member_enroll_once). Each line runs
in its own savepoint: a refused line rolls back alone.
"""

from collections.abc import Callable

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from core.api import error_body
from core.errors import DomainError
from members import services
from members.api import serializers as s
from members.api.members import MEMBER_EXAMPLE
from members.api.transactions import PURCHASE_REQUEST, PURCHASE_RESULT, purchase_answer
from members.models import Partner
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, WRITE_ERRORS, errors
from members.partners.serializers import StrictSerializer

MAX_LINES = 100


def _line(call: Callable[[], tuple[int, dict]]) -> dict:
    """Run one line in its own savepoint: its status and result, or its status and error."""
    try:
        with transaction.atomic():
            status, result = call()
    except exceptions.ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return {"status": 400, "result": None, **error_body("validation_error", "The line has invalid fields.", detail)}
    except DomainError as exc:
        return {"status": exc.status, "result": None, **error_body(exc.code, exc.message, exc.fields)}
    return {"status": status, "result": result, "error": None}


def purchase_line(*, partner: Partner, data) -> dict:
    """One purchase line: 201 recorded, 200 already recorded (same external_id), else its error."""

    def call() -> tuple[int, dict]:
        line = s.PurchaseSerializer(data=data)
        line.is_valid(raise_exception=True)
        fields = dict(line.validated_data)
        purchase, created = services.purchase_record(member=fields.pop("member", None), partner=partner, **fields)
        return (201 if created else 200), purchase_answer(purchase)

    return _line(call)


class MemberLineSerializer(s.MemberCreateSerializer):
    external_id = s.NFCCharField(max_length=64, help_text="Your customer id: required, it makes the line idempotent.")


def member_line(*, partner: Partner, data) -> dict:
    """One enrollment line: 201 enrolled, 200 already enrolled (same external_id and email), else its error."""

    def call() -> tuple[int, dict]:
        line = MemberLineSerializer(data=data)
        line.is_valid(raise_exception=True)
        member, created = services.member_enroll_once(program=partner.program, **line.validated_data)
        return (201 if created else 200), s.MemberSerializer(member).data

    return _line(call)


def _lines_field(name: str) -> serializers.ListField:
    # Each line must be a JSON object (else the batch itself is malformed: a 400); its fields are read
    # one line at a time (purchase_line, member_line), so a refused line is that line's error only.
    return serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
        min_length=1,
        max_length=MAX_LINES,
        help_text=f"1 to {MAX_LINES} {name}.",
    )


class TransactionsBatchSerializer(StrictSerializer):
    transactions = _lines_field("purchases, each the body of POST /transactions")


class MembersBatchSerializer(StrictSerializer):
    members = _lines_field("members, each the body of POST /members with external_id")


LINE_ERROR = inline_serializer(
    "BatchLineError",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.JSONField()),
    },
    allow_null=True,
    help_text="Why the line was refused; null when it was done.",
)


def _result_schema(name: str, result) -> serializers.Serializer:
    return inline_serializer(
        name,
        fields={
            "succeeded": serializers.IntegerField(help_text="Lines answered 200 or 201."),
            "failed": serializers.IntegerField(),
            "results": inline_serializer(
                f"{name}Line",
                fields={
                    "index": serializers.IntegerField(help_text="Position of the line in the request, from 0."),
                    "status": serializers.IntegerField(
                        help_text="201 done, 200 done before (same id), else the status a single request would get."
                    ),
                    "result": result,
                    "error": LINE_ERROR,
                },
                many=True,
            ),
        },
    )


def _answer(results: list[dict]) -> Response:
    ok = sum(1 for r in results if r["status"] < 300)
    lines = [{"index": i, **r} for i, r in enumerate(results)]
    return Response({"succeeded": ok, "failed": len(results) - ok, "results": lines})


BATCH_DESCRIPTION = (
    f"Up to {MAX_LINES} lines. Each line gets its own answer at its `index`: `status` 201 (done), 200 (done "
    "before: the same id again), or the 4xx a single request would have got, with its `error`; one bad line "
    "never stops the others. The answer is 200 whenever the batch itself is well formed. Lines are "
    "idempotent by their own id, so the whole batch can be sent again safely. Larger files: `POST /imports`."
)


class TransactionsBatchView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="transactions_batch",
        summary=f"Record up to {MAX_LINES} purchases, each with its own result",
        description=BATCH_DESCRIPTION
        + " A purchase line is the body of `POST /transactions`; its id is `external_id`.",
        parameters=[IDEMPOTENCY_KEY],
        request=TransactionsBatchSerializer,
        examples=[
            OpenApiExample(
                "batch",
                request_only=True,
                value={"transactions": [PURCHASE_REQUEST, {**PURCHASE_REQUEST, "external_id": "ORD-2026-000124"}]},
            )
        ],
        responses={
            200: OpenApiResponse(
                _result_schema("TransactionsBatchResult", s.PurchaseResultSerializer(allow_null=True)),
                examples=[
                    OpenApiExample(
                        "one refused",
                        value={
                            "succeeded": 1,
                            "failed": 1,
                            "results": [
                                {"index": 0, "status": 201, "result": PURCHASE_RESULT, "error": None},
                                {
                                    "index": 1,
                                    "status": 400,
                                    "result": None,
                                    "error": {
                                        "code": "unknown_currency",
                                        "message": "This program works in EUR and takes no JPY: it has no rate for it.",
                                        "fields": {
                                            "currency": [
                                                "This program works in EUR and takes no JPY: it has no rate for it."
                                            ]
                                        },
                                    },
                                },
                            ],
                        },
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,)),
        },
    )
    @idempotent
    def post(self, request):
        batch = TransactionsBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        return _answer(
            [purchase_line(partner=self.partner, data=line) for line in batch.validated_data["transactions"]]
        )


class MembersBatchView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_batch",
        summary=f"Enroll up to {MAX_LINES} members, each with its own result",
        description=BATCH_DESCRIPTION + " A member line is the body of `POST /members` with `external_id` "
        "required: a member already enrolled with that id and the same email answers 200; with another email "
        "409 `external_id_taken`.",
        parameters=[IDEMPOTENCY_KEY],
        request=MembersBatchSerializer,
        examples=[
            OpenApiExample(
                "batch",
                request_only=True,
                value={
                    "members": [
                        {"email": "ana.popescu@example.com", "first_name": "Ana", "external_id": "CRM-1881"},
                        {"email": "ion.ionescu@example.com", "first_name": "Ion", "external_id": "CRM-1882"},
                    ]
                },
            )
        ],
        responses={
            200: OpenApiResponse(
                _result_schema("MembersBatchResult", s.MemberSerializer(allow_null=True)),
                examples=[
                    OpenApiExample(
                        "enrolled",
                        value={
                            "succeeded": 1,
                            "failed": 0,
                            "results": [{"index": 0, "status": 201, "result": MEMBER_EXAMPLE, "error": None}],
                        },
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,)),
        },
    )
    @idempotent
    def post(self, request):
        batch = MembersBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        return _answer([member_line(partner=self.partner, data=line) for line in batch.validated_data["members"]])
