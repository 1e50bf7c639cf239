"""The admin's member search is served by indexes on PostgreSQL (members migration 0015): the
expressions Django writes for the search fields must be the indexed ones, or every search scans
all members. Checked on the plan PostgreSQL chooses when sequential scans are priced out."""

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test import RequestFactory

from members.models import Member
from tests.conftest import MemberFactory

pytestmark = pytest.mark.postgres


def _search_sql(term: str) -> tuple[str, tuple]:
    model_admin = admin.site._registry[Member]
    request = RequestFactory().get("/admin/members/member/", {"q": term})
    queryset, _ = model_admin.get_search_results(request, Member.objects.all(), term)
    return queryset.order_by().values("pk").query.sql_with_params()


TEXT_INDEXES = (
    "member_email_trgm",
    "member_phone_trgm",
    "member_first_name_trgm",
    "member_last_name_trgm",
    "member_number_upper",
    "member_external_id_upper",
)


@pytest.mark.parametrize(
    ("term", "indexes"),
    [
        ("Pop12", TEXT_INDEXES),  # a name or part of one: every search field, each from its index
        ("4025198", TEXT_INDEXES),  # part of a number or phone
        ("402519876543", ()),  # a whole card number: matched exactly (the number's own index)
    ],
)
def test_every_search_field_is_answered_from_an_index(program, term, indexes):
    MemberFactory(program=program)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = _search_sql(term)
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    for index in indexes:
        assert index in plan, plan
