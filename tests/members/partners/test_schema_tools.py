"""The published schema as common tools read it: openapi-spec-validator accepts it, and every default
and pattern in it is one a generated client or a validator can use (issue 19: a default the server
refused made openapi-python-client drop an operation and every generated client send it)."""

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def spec(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _schemas(node, path="#"):
    """Every (path, schema object) below `node`."""
    if isinstance(node, dict):
        if "type" in node or "$ref" in node or "allOf" in node or "enum" in node:
            yield path, node
        for key, value in node.items():
            yield from _schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _schemas(value, f"{path}/{i}")


def test_openapi_spec_validator_accepts_the_schema(spec):
    validate(spec)  # raises OpenAPIValidationError with the offending path


def test_every_default_is_a_value_its_own_schema_accepts(spec):
    resolver = {"components": spec["components"]}
    bad = []
    for path, schema in _schemas(spec):
        if "default" not in schema:
            continue
        own = {key: value for key, value in schema.items() if key != "default"}
        try:
            jsonschema.validate(schema["default"], {**own, **resolver})
        except jsonschema.ValidationError as exc:
            bad.append(f"{path}: default {schema['default']!r}: {exc.message}")
    assert not bad, "\n".join(bad)


def test_every_pattern_compiles_and_names_no_surrogate(spec):
    patterns = {schema["pattern"] for _, schema in _schemas(spec) if "pattern" in schema}
    assert patterns
    for pattern in patterns:
        re.compile(pattern)
        # Tools that compile patterns as UTF-16 or UTF-8 regexes refuse surrogate ranges; the
        # server refuses lone surrogates itself (core/parsers.py) and README says so in words.
        assert not re.search(r"\\u[dD][89a-fA-F]", pattern), pattern
