"""The API against its own OpenAPI document, under schemathesis (a schema-driven fuzzer).

Schemathesis reads /api/v1/openapi.json from the application, in process through WSGI (no
network), and for every operation sends the document's examples, its coverage cases (every
boundary of every parameter, undeclared methods such as QUERY or TRACE, missing and malformed
values) and generated requests, then runs every check it has: no 5xx, every status, header and
content type declared, every body valid against its schema, valid input accepted, invalid input
rejected with 4xx, 405 with an Allow header for methods not declared. A bounded number of
examples keeps this under a minute in `make test`; `make security-full` runs it longer
(EVIDENCEPRESS_API_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from wagtail.models import Page

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import HomePage
from evidencepress.demo.loader import ensure_home_page
from evidencepress.evidence.api import views
from evidencepress.evidence.api.schema import openapi_document

from .test_api import make_topic, publish_topic_page

DIALECT = "https://json-schema.org/draft/2020-12/schema"  # OpenAPI 3.1's schema dialect
EXAMPLES = int(os.environ.get("EVIDENCEPRESS_API_FUZZ_EXAMPLES", "25"))
# The topics the fuzzer should also reach with valid slugs (the document gives them as examples).
PUBLISHED = ("imiquimod-as", "second-topic")

CONFIG = schemathesis.Config.from_dict(
    {
        # Every check schemathesis has, the built-in and the OpenAPI ones alike.
        "checks": {"enabled": True},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
        },
        "generation": {"max-examples": EXAMPLES, "database": "none"},
    }
)


# The document exactly as /api/v1/openapi.json serves it to a client at http://localhost/
# (checked below); loaded at collection, since the fuzzer's tests are made from it.
DOCUMENT = openapi_document(
    server="http://localhost/api/v1", rate_limit=(10**6, 60), notice=views.NOT_ADVICE
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@schema.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    """Besides the slugs hypothesis makes up (all 404), the published ones: the fuzzer then
    reaches the real answers, with their bodies checked against the document."""
    if "{slug}" not in context.operation.path:
        return strategy
    return strategy | st.fixed_dictionaries({"slug": st.sampled_from(PUBLISHED)})


schema.app = WSGIHandler()  # requests go in process to Django's own WSGI application


@pytest.fixture
def published_api(wagtail_tree: Page) -> Iterator[None]:
    """Two published topics (one reviewed, with two pages of cases; one never reviewed), the
    rate limit out of the fuzzer's way (its 429 is declared, and tested in test_api.py), and
    the request signals kept from closing the database connection, as Django's test client
    does (closing it would end this test's transaction)."""
    ensure_home_page()
    home = HomePage.objects.get()
    first = make_topic(PUBLISHED[0], cases=60, demo=3)
    page = publish_topic_page(home, first)
    page_evidence_pin_live(page=page, reviewer_name="Dr Reviewer")
    publish_topic_page(home, make_topic(PUBLISHED[1], cases=2, demo=0))
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with override_settings(EVIDENCE_API_RATE_LIMIT=(10**6, 60)):
            yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_fuzzed_document_is_the_served_one(published_api: None) -> None:
    response = Client(HTTP_HOST="localhost").get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.content) == DOCUMENT


def test_the_document_is_valid_openapi_3_1_with_valid_json_schemas() -> None:
    schema.validate()  # the OpenAPI 3.1 specification's own schema (raises when invalid)
    broken = {**DOCUMENT, "paths": {"/topics/": {"get": {"responses": "none"}}}}
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()  # the validation can fail
    for name, component in DOCUMENT["components"]["schemas"].items():
        jsonschema_rs.meta.validate({"$schema": DIALECT, **component}), name


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_conforms_to_its_openapi_document(case: Any, published_api: None) -> None:
    case.call_and_validate()
