"""A prepared queryset (core.prepared) gives what the queryset gives, in one statement, with the SQL
compiled once: the same rows as model instances, the related objects of select_related filled in,
and the same refusal of FOR UPDATE outside a transaction."""

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from core.prepared import Prepared
from members.models import Member
from tests.conftest import MemberFactory, ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db

BY_NUMBER = Prepared(
    lambda program_id, number: Member.objects.select_related("program", "tier").filter(
        program_id=program_id, number=number
    ),
    program_id=-1,
    number="stand-in",
)


def _fields(member: Member) -> dict:
    return {field.attname: getattr(member, field.attname) for field in Member._meta.concrete_fields}


def test_it_returns_what_the_queryset_returns_with_its_related_rows(program):
    gold = TierFactory(program=program, name="Gold", level=2)
    ana, bob = MemberFactory(program=program), MemberFactory(program=program)
    Member.objects.filter(pk=ana.pk).update(tier=gold)
    for member in (ana, bob):
        expected = Member.objects.select_related("program", "tier").get(pk=member.pk)
        with CaptureQueriesContext(connection) as queries:
            (found,) = BY_NUMBER(program_id=program.pk, number=member.number)
            # the related rows came with it: reading them costs no query
            assert found.program.currency == program.currency
            assert (found.tier.name if found.tier else None) == (expected.tier.name if expected.tier else None)
        assert len(queries) == 1
        assert _fields(found) == _fields(expected)
        assert found._state.db == expected._state.db and not found._state.adding


def test_other_values_run_the_same_sql_with_their_own_parameters(program):
    other_program = ProgramFactory()
    ana, ion = MemberFactory(program=program), MemberFactory(program=other_program)
    assert [m.pk for m in BY_NUMBER(program_id=program.pk, number=ana.number)] == [ana.pk]
    assert [m.pk for m in BY_NUMBER(program_id=other_program.pk, number=ion.number)] == [ion.pk]
    assert BY_NUMBER(program_id=other_program.pk, number=ana.number) == []
    assert BY_NUMBER(program_id=program.pk, number="no such number") == []


@pytest.mark.django_db(transaction=True)  # outside the test's own transaction: autocommit, as a view runs
def test_for_update_needs_a_transaction_where_the_database_locks_rows(program):
    ana = MemberFactory(program=program)
    locking = Prepared(lambda pk: Member.objects.select_for_update().filter(pk=pk), pk=-1)
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            list(Member.objects.select_for_update().filter(pk=ana.pk))  # as the queryset itself refuses
        with pytest.raises(TransactionManagementError):
            locking(pk=ana.pk)
    with transaction.atomic():
        (locked,) = locking(pk=ana.pk)
    assert locked.pk == ana.pk


def test_it_refuses_what_it_cannot_replay(program):
    transformed = Prepared(lambda email: Member.objects.filter(email__contains=email), email="stand-in")
    with pytest.raises(ValueError, match="stand-ins not found"):
        transformed(email="ana")
    with pytest.raises(ValueError, match="no values"):
        Prepared(lambda pk: Member.objects.filter(pk=pk).values("pk"), pk=-1)(pk=1)
    with pytest.raises(TypeError, match="expected values"):
        BY_NUMBER(number="1")
    # a Q object and a UNION subquery, as the earn's member lock uses: the stand-in is found in both parts
    either = Prepared(
        lambda pk: Member.objects.filter(
            pk__in=Member.objects.filter(Q(pk=pk))
            .order_by()
            .values("pk")
            .union(Member.objects.filter(pk=pk).order_by().values("referred_by_id"), all=True)
        ),
        pk=-1,
    )
    ana = MemberFactory(program=program)
    assert [m.pk for m in either(pk=ana.pk)] == [ana.pk]
