"""Data subject requests a partner makes for a member of its program (partner API): the export of
everything held about the member, and erasure. Both are in the audit trail (partner and member
number, no personal data); erasing twice is a no-op."""

from django.db import transaction

from members.exports import member_export
from members.models import Member, Partner
from members.services.accounts import member_anonymize
from members.services.audit import audit_record


@transaction.atomic
def member_data_export(*, member: Member, partner: Partner) -> dict:
    """GDPR access: what members.exports.member_export gives the member on their own pages."""
    data = member_export(member=member)
    audit_record(actor=None, action="member.export", target=member, changes={"partner": partner.pk})
    return data


@transaction.atomic
def member_erase(*, member: Member, partner: Partner) -> tuple[Member, bool]:
    """GDPR erasure through members' own anonymisation (personal data goes, ledger amounts stay).
    Returns (member, erased now); an already anonymised member is returned unchanged."""
    if member.status == Member.Status.ANONYMIZED:
        return member, False
    member = member_anonymize(member=member)
    audit_record(actor=None, action="member.erase", target=member, changes={"partner": partner.pk})
    return member, True
