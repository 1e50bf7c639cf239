from datetime import date
from decimal import Decimal

import pytest

from coalition.models import PartnerRate
from members.models import Program
from tests.conftest import PartnerFactory, ProgramFactory


@pytest.fixture
def coalition(db):
    """A EUR program (points available at once) with two partners and their rates since 2026."""
    program = ProgramFactory(pending_days=0)
    shop = PartnerFactory(program=program, name="Shop")
    pharmacy = PartnerFactory(program=program, name="Pharmacy")
    PartnerRate.objects.create(
        partner=shop, valid_from=date(2026, 1, 1), cost_per_point=Decimal("0.01"), value_per_point=Decimal("0.008")
    )
    PartnerRate.objects.create(
        partner=pharmacy, valid_from=date(2026, 1, 1), cost_per_point=Decimal("0.02"), value_per_point=Decimal("0.01")
    )
    return Program.objects.get(pk=program.pk), shop, pharmacy
