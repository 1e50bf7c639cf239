"""Partner API keys are stored only as hashes: after keys are made (service, management command) and
used (earn, idempotent retry), no column of any table holds a key or its secret part."""

import io
import json
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from members.models import PartnerAPIKey
from tests.conftest import MemberFactory, PartnerFactory, client_for, purchase_body

pytestmark = pytest.mark.django_db

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _rows_containing(value: str) -> list[str]:
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):  # no `contains` on text in SQLite's JSON: read it
                values = model._default_manager.values_list(field.attname, flat=True)
                hit = any(value in json.dumps(v) for v in values)
            elif isinstance(field, TEXT_FIELDS):
                hit = model._default_manager.filter(**{f"{field.attname}__contains": value}).exists()
            else:
                continue
            if hit:
                found.append(f"{model._meta.label}.{field.name}")
    return found


def test_the_database_holds_no_raw_api_key(program):
    partner = PartnerFactory(program=program, name="Key Shop")
    member = MemberFactory(program=program)
    api = client_for(partner)
    out = io.StringIO()
    call_command("partner_key", "Key Shop", stdout=out)
    command_key = re.search(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b", out.getvalue()).group(0)
    assert (
        api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code
        == 201
    )
    api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k1")

    for key in (api.key, command_key):
        prefix, _, secret = key.partition(".")
        stored = PartnerAPIKey.objects.get(prefix=prefix)
        assert stored.hashed_key and secret not in stored.hashed_key
        assert PartnerAPIKey.objects.key_generator.verify(key, stored.hashed_key)
        assert _rows_containing(secret) == []
        assert _rows_containing(key) == []
