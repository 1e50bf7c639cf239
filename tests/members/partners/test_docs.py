"""The docs a partner integrates from: Swagger UI works offline, and every operation documents its
requests, responses and errors with examples."""

import re

import pytest
from django.test import Client


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield f"{method.upper()} {path}", operation


def test_swagger_ui_loads_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.content.decode())
    assert assets
    # Static files, and Swagger UI's start-up script served by the docs view itself (no inline script, CSP).
    assert all(asset.startswith(("/static/", "/api/docs/?")) for asset in assets), assets
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_every_partner_endpoint_is_in_the_schema(schema):
    operations = dict(_operations(schema))
    assert len(operations) >= 19
    assert {
        "POST /api/v1/transactions",
        "POST /api/v1/vouchers/{code}/consume",
        "POST /api/v1/burn/{id}/confirm",
    } <= set(operations)


def test_every_response_and_error_has_an_example(schema):
    missing = []
    for name, operation in _operations(schema):
        assert operation.get("security") == [{"PartnerApiKey": []}], name
        for status, response in operation["responses"].items():
            if status == "304":
                continue  # Not Modified has no body to show
            content = response.get("content", {}).get("application/json", {})
            if not content.get("examples"):
                missing.append(f"{name} {status}")
    assert missing == []


def test_every_request_body_has_an_example_and_posts_take_an_idempotency_key(schema):
    for name, operation in _operations(schema):
        body = operation.get("requestBody")
        if body:
            assert body["content"]["application/json"].get("examples"), name
        if name.startswith("POST"):
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in headers, name
