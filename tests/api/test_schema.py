"""Schemathesis against the API's own OpenAPI schema: anonymous and with a superuser's token.

Bounded (a fixed number of examples per operation, derandomized so a run is
repeatable): no response is a 500, and every response has a status the
schema declares, in the shape it declares.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import ApiToken

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = settings(
    max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def _run(record, headers: dict) -> None:
    """Every operation of the schema, each with its bounded examples (schemathesis's own strategies)."""
    from hypothesis import given

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    statuses: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @EXAMPLES
        def check(case):
            # The schema names the bearer scheme, so examples carry made-up tokens (a 401 each): use ours, or none.
            if case.headers:
                case.headers.pop("Authorization", None)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        check()
    # Every operation was called, and the examples reached past the validation of their input.
    assert set(statuses) == {op.label for op in operations}
    assert any(200 in codes for codes in statuses.values())
    return statuses


@pytest.fixture(autouse=True)
def _connection_kept():
    """As Django's test client does: a request's end must not close the test's database connection (and transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_anonymous(record, unlimited):
    statuses = _run(record, {})
    # The public reads lists; it changes nothing.
    assert 200 in statuses["GET /api/v1/key-actions"]
    assert all(code >= 400 for label, codes in statuses.items() if not label.startswith("GET") for code in codes)


def test_with_a_token(record, unlimited):
    _, token = ApiToken.issue(record["su"], "schemathesis")
    _run(record, {"Authorization": f"Bearer {token}"})


def test_the_schema_lists_every_route_of_the_api(client):
    """The docs page is generated from this schema: what is in it is what a new user sees."""
    from api.v1 import api

    paths = client.get("/api/v1/openapi.json").json()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    declared = set()
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                for method in op.methods:
                    declared.add((method, "/api/v1" + prefix + path.replace("{int:pk}", "{pk}")))
    assert {("GET", "/api/v1/changes"), ("POST", "/api/v1/key-actions/{pk}/progress-updates")} <= routes
    assert declared == routes
