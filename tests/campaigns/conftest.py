"""Campaign factories. Members come from the enrollment service (tests/conftest.py)."""

import factory
import pytest

from campaigns.models import Campaign, Offer, Segment, SegmentRule, Variant
from tests.conftest import ProgramFactory


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentRule

    segment = factory.SubFactory(SegmentFactory)
    kind = SegmentRule.Kind.CONSENT
    values = "email"


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Offer {n}")
    kind = Offer.Kind.DISCOUNT
    title = "25% off shoes this week"
    discount_percent = 25
    category = "shoes"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    quiet_start = 0
    quiet_end = 0  # no quiet hours unless a test sets them

    @factory.post_generation
    def variant(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            VariantFactory(campaign=obj)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    campaign = factory.SubFactory(CampaignFactory, variant=False)
    name = "A"
    subject = "Hello {{ name }}"
    body = "Hi {{ name }}, you have {{ balance }} {{ points_name }} ({{ tier }}). {{ offer }} {{ code }}"
    sms_body = "Hi {{ name }}: {{ offer }} code {{ code }}"


@pytest.fixture
def consenting(program):
    """Enroll a member who consents to email (and optionally SMS)."""
    from tests.conftest import MemberFactory

    def make(**kwargs):
        kwargs.setdefault("consent_email", True)
        return MemberFactory(program=program, **kwargs)

    return make


def bulk_members(program, count: int, **fields) -> list[int]:
    """Thousands of members in one INSERT: enrolling 10k one by one through the service would spend the
    test's time on ledger rows the campaign does not read. Returns their ids."""
    from members.models import Member

    start = Member.objects.count()
    Member.objects.bulk_create(
        [
            Member(
                program=program,
                number=f"B{start + i:09d}",
                referral_code=f"R{start + i:09d}",
                email=f"bulk{start + i}@example.com",
                first_name="Bulk",
                **fields,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    return list(Member.objects.filter(program=program, number__startswith="B").values_list("pk", flat=True))
