"""Partner API v1, data subject requests: export a member's data and erase a member of your program
(GDPR access and erasure), both in the audit trail. Another program's member is a 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from members import services
from members.api.members import MEMBER_PARAM, NUMBER
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, READ_ERRORS, WRITE_ERRORS, errors

ErasedSerializer = inline_serializer(
    name="MemberErased",
    fields={
        "number": serializers.CharField(),
        "status": serializers.CharField(help_text="Always anonymized."),
        "erased": serializers.BooleanField(help_text="true when this call erased it; false when it already was."),
    },
)


class MemberExportView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_export",
        summary="Everything held about a member (GDPR access request), as JSON",
        description="The same document the member downloads from their profile: profile, consents, ledger, "
        "purchases, redemptions, vouchers, survey answers, tickets, campaigns received. Recorded in the "
        "audit trail with your partner id.",
        parameters=[MEMBER_PARAM],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                examples=[
                    OpenApiExample(
                        "export",
                        value={"number": NUMBER, "email": "ana.popescu@example.com", "ledger": [], "rewards": {}},
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        member = self.member_or_404(number)
        return Response(services.member_data_export(member=member, partner=self.partner))


class MemberEraseView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_erase",
        summary="Erase a member (GDPR erasure)",
        description="Personal data (name, email, phone, birth date, your external id, consents, the member's "
        "own words in surveys and tickets) is removed for good and the account closed; the ledger amounts "
        "stay, as the program's accounts, under the membership number. Erasing an erased member again "
        "answers 200 with `erased: false`. Recorded in the audit trail with your partner id.",
        parameters=[MEMBER_PARAM, IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: OpenApiResponse(
                ErasedSerializer,
                examples=[OpenApiExample("erased", value={"number": NUMBER, "status": "anonymized", "erased": True})],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,)),
        },
    )
    @idempotent
    def post(self, request, number: str):
        member, erased = services.member_erase(member=self.member_or_404(number), partner=self.partner)
        return Response({"number": member.number, "status": member.status, "erased": erased})
