"""Partner API v1, loyalty cards: find a member by card number, a member's cards, issue a card
(printed number or a generated virtual one), block a lost card, replace one. The balance is the
member's: blocking or replacing a card never moves a point. Earning by card is `card` on
`POST /transactions` (members/api/transactions.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.errors import DomainError, NotFound
from members import services
from members.api import selectors as api_selectors
from members.api.members import MEMBER_EXAMPLE, MEMBER_PARAM, NUMBER
from members.api.pages import paginated
from members.api.serializers import MemberSerializer
from members.models import Card
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, LIST_PARAMS, READ_ERRORS, WRITE_ERRORS, errors
from members.partners.serializers import StrictSerializer, page_serializer

CARD_NUMBER = "9012345678901238"
PRINTED_NUMBER = "60351100000000007"
CARD_EXAMPLE = {
    "number": CARD_NUMBER,
    "member": NUMBER,
    "kind": "virtual",
    "status": "active",
    "issued_at": "2026-11-20T17:42:03Z",
    "blocked_at": None,
    "block_reason": "",
    "replaced_by": None,
}
CARD_PARAM = OpenApiParameter(
    "card", OpenApiTypes.STR, OpenApiParameter.PATH, description="Card number (8 to 19 digits, Luhn check digit)."
)
CARD_NUMBER_HELP = "A printed card's number (8 to 19 digits with its Luhn check digit; spaces allowed). Omit it to "
CARD_REFUSALS = (
    ("invalid_card_number", "This card number's check digit is wrong: check it for a typo."),
    ("reason_required", "Say why the card is blocked."),
)


class CardSerializer(serializers.Serializer):
    number = serializers.CharField()
    member = serializers.CharField(source="member.number", help_text="Membership number of the card holder.")
    kind = serializers.ChoiceField(choices=Card.Kind.choices)
    status = serializers.ChoiceField(
        choices=Card.Status.choices,
        help_text="active: accepted; blocked (lost, stolen) and replaced: refused with a 409.",
    )
    issued_at = serializers.DateTimeField()
    blocked_at = serializers.DateTimeField(allow_null=True)
    block_reason = serializers.CharField()
    replaced_by = serializers.CharField(source="replaced_by.number", allow_null=True, default=None)


CardPageSerializer = page_serializer("CardPage", CardSerializer(many=True))


class CardHolderSerializer(serializers.Serializer):
    card = CardSerializer()
    member = MemberSerializer()


class CardIssueSerializer(StrictSerializer):
    number = serializers.CharField(
        max_length=23, required=False, help_text=CARD_NUMBER_HELP + "generate a virtual card."
    )


class CardBlockSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, help_text="Why: lost, stolen, damaged...")


class CardReplaceSerializer(CardBlockSerializer):
    number = serializers.CharField(
        max_length=23, required=False, help_text=CARD_NUMBER_HELP + "replace it with a virtual card."
    )


def _path_number(number: str) -> str:
    """A card number in the path: one that cannot be a card number is simply not found (404), like an
    unknown one, but says why in its code and message."""
    try:
        return services.card_number_normalize(number)
    except DomainError as exc:
        raise NotFound(exc.message, code=exc.code) from None


class CardsMixin:
    def card_or_404(self, number: str) -> Card:
        card = api_selectors.card_for_partner(partner=self.partner, number=_path_number(number))
        if card is None:
            raise NotFound("Card not found.")
        return card


class CardView(CardsMixin, PartnerAPIView):
    @extend_schema(
        tags=["cards"],
        operation_id="cards_lookup",
        summary="The member behind a card number (scanned or typed at the till)",
        description="Only an active card answers: a blocked card is a 409 `card_blocked`, a replaced one a 409 "
        "`card_replaced` (ask the member for the new card). A number that cannot be a card (wrong check digit, "
        "too short) is a 404 with the code `invalid_card_number`, an unknown one a 404 `not_found`.",
        parameters=[CARD_PARAM],
        responses={
            200: OpenApiResponse(
                CardHolderSerializer,
                examples=[OpenApiExample("card", value={"card": CARD_EXAMPLE, "member": MEMBER_EXAMPLE})],
            ),
            **errors(
                400,
                401,
                404,
                409,
                429,
                conflicts=(
                    ("card_blocked", f"Card {CARD_NUMBER} is blocked; ask the member for another card."),
                    ("card_replaced", f"Card {CARD_NUMBER} was replaced by a newer card; ask the member for it."),
                ),
            ),
        },
    )
    def get(self, request, card: str):
        shown = services.card_active(program=self.partner.program_id, number=_path_number(card))
        return Response(CardHolderSerializer({"card": shown, "member": shown.member}).data)


class CardBlockView(CardsMixin, PartnerAPIView):
    @extend_schema(
        tags=["cards"],
        operation_id="cards_block",
        summary="Block a lost or stolen card",
        description="The card is refused from now on (409 `card_blocked`); the member keeps every point. "
        "Blocking a card that is not active is a 409 `card_not_active`.",
        parameters=[CARD_PARAM, IDEMPOTENCY_KEY],
        request=CardBlockSerializer,
        examples=[OpenApiExample("lost", request_only=True, value={"reason": "Lost, reported at the till"})],
        responses={
            200: OpenApiResponse(
                CardSerializer,
                examples=[
                    OpenApiExample(
                        "blocked",
                        value={
                            **CARD_EXAMPLE,
                            "status": "blocked",
                            "blocked_at": "2026-11-21T09:00:00Z",
                            "block_reason": "Lost, reported at the till",
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(("card_not_active", f"Card {CARD_NUMBER} is already blocked."), IN_FLIGHT),
                refusals=CARD_REFUSALS,
            ),
        },
    )
    @idempotent
    def post(self, request, card: str):
        found = self.card_or_404(card)
        data = CardBlockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        blocked = services.card_block(card=found, reason=data.validated_data["reason"])
        return Response(CardSerializer(blocked).data)


class CardReplaceView(CardsMixin, PartnerAPIView):
    @extend_schema(
        tags=["cards"],
        operation_id="cards_replace",
        summary="Replace a card (lost, damaged or blocked): the new one works at once",
        description="The old card is refused from now on (409 `card_replaced`); the new card (the printed "
        "`number` you send, or a generated virtual one) is active at once and the balance stays the member's. "
        "A card already replaced is a 409 `card_not_active`. Send an Idempotency-Key: a retry without one "
        "is refused as already replaced.",
        parameters=[CARD_PARAM, IDEMPOTENCY_KEY],
        request=CardReplaceSerializer,
        examples=[
            OpenApiExample("printed", request_only=True, value={"reason": "Lost", "number": PRINTED_NUMBER}),
            OpenApiExample("virtual", request_only=True, value={"reason": "Damaged"}),
        ],
        responses={
            201: OpenApiResponse(
                CardSerializer,
                description="The new card.",
                examples=[
                    OpenApiExample("new card", value={**CARD_EXAMPLE, "number": PRINTED_NUMBER, "kind": "printed"})
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("card_not_active", f"Card {CARD_NUMBER} was already replaced."),
                    ("card_number_taken", "This card number already belongs to a member of the program."),
                    ("member_inactive", "Member 402519876543 is suspended."),
                    IN_FLIGHT,
                ),
                refusals=CARD_REFUSALS,
            ),
        },
    )
    @idempotent
    def post(self, request, card: str):
        found = self.card_or_404(card)
        data = CardReplaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = services.card_replace(card=found, **data.validated_data)
        return Response(CardSerializer(new).data, status=201)


class MemberCardsView(PartnerAPIView):
    @extend_schema(
        tags=["cards"],
        operation_id="members_cards",
        summary="A member's cards, newest first (blocked and replaced ones too)",
        parameters=[MEMBER_PARAM, *LIST_PARAMS],
        responses={
            200: OpenApiResponse(
                CardPageSerializer,
                examples=[OpenApiExample("cards", value={"next": None, "previous": None, "results": [CARD_EXAMPLE]})],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        member = self.member_or_404(number)
        cards = api_selectors.member_cards(member=member)
        return paginated(self, request, cards, CardSerializer, ordering=("-issued_at", "-id"))

    @extend_schema(
        tags=["cards"],
        operation_id="members_cards_issue",
        summary="Give a member a card: register a printed one, or generate a virtual one",
        description="A member may hold several active cards. A printed number is checked (Luhn) and must be "
        "new in the program (409 `card_number_taken`).",
        parameters=[MEMBER_PARAM, IDEMPOTENCY_KEY],
        request=CardIssueSerializer,
        examples=[
            OpenApiExample("virtual", request_only=True, value={}),
            OpenApiExample("printed", request_only=True, value={"number": "6035 1100 0000 0000 7"}),
        ],
        responses={
            201: OpenApiResponse(CardSerializer, examples=[OpenApiExample("issued", value=CARD_EXAMPLE)]),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("card_number_taken", "This card number already belongs to a member of the program."),
                    ("member_inactive", "Member 402519876543 is suspended."),
                    IN_FLIGHT,
                ),
                refusals=CARD_REFUSALS[:1],
            ),
        },
    )
    @idempotent
    def post(self, request, number: str):
        member = self.member_or_404(number)
        data = CardIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = services.card_issue(member=member, number=data.validated_data.get("number", ""))
        return Response(CardSerializer(card).data, status=201)
