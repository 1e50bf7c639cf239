"""Input no view should ever see answers a 4xx JSON error, and a bug under /api/ answers JSON too
(issue 16): NUL bytes in the address, bodies nested too deeply, the 500 page of the API."""

import pytest
from django.test import Client

from tests.conftest import purchase_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/members/%00"),
        ("get", "/api/v1/vouchers/AB%00CD"),
        ("post", "/api/v1/burn/%00/confirm"),
        ("get", "/api/v1/members?email=a%00b"),
    ],
)
def test_a_nul_byte_in_the_address_is_a_400_json(api, method, path):
    response = getattr(api, method)(path, format="json") if method == "post" else api.get(path)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "bad_request"


def test_a_nul_byte_in_a_page_address_is_a_400(client):
    assert client.get("/rewards/%00").status_code == 400


def test_a_body_nested_990_deep_is_a_400_json(api, member):
    body = "[" * 990 + "]" * 990  # 1,980 bytes
    response = api.post("/api/v1/transactions", body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "parse_error" and "nested too deeply" in error["message"]
    deep_object = '{"a":' * 990 + "1" + "}" * 990
    assert api.post("/api/v1/transactions", deep_object, content_type="application/json").status_code == 400
    # The API keeps answering normally afterwards.
    assert api.post("/api/v1/transactions", purchase_body(member), format="json").status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        '{"\\ud800": 1}',  # as a key: echoed by "This field cannot be written."
        '{"member": "1", "subject": "s", "body": "b", "category": "\\udfff"}',  # echoed as an unknown choice
        '{"member": "1", "subject": "\\ud83d", "body": "b"}',  # a high half without its low half
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_a_400_json(api, member, body):
    response = api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "parse_error" and "lone surrogate" in error["message"]


def test_a_surrogate_pair_is_text(api, member):
    body = '{"member": "' + member.number + '", "subject": "\\ud83d\\ude00", "body": "b"}'
    response = api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["subject"] == "\U0001f600"


@pytest.mark.urls("tests.core.urls_failing")
def test_an_unhandled_error_under_the_api_is_a_json_500_without_details():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/failing")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "server_error"
    assert "a bug" not in response.content.decode()  # the details go to the log, not to the caller


@pytest.mark.urls("tests.core.urls_failing")
def test_an_unhandled_error_on_a_page_keeps_the_html_500():
    response = Client(raise_request_exception=False).get("/failing")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
