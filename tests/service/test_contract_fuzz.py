"""Schemathesis against the app in-process: every operation with all its checks, then a stateful walk."""

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis import Response
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import KeyMaker
from tests.factories import referral_body, volunteer_body

# Every operation, /readyz among them, and /readyz opens a connection of its own.
pytestmark = pytest.mark.real_commits


@pytest.fixture
def auth_headers(make_key: KeyMaker) -> dict[str, str]:
    return make_key("admin")


# The key goes in through the document's security scheme, not as a fixed header, so the checks that leave it
# out (ignored_auth, negative_data_rejection's missing-header cases) can. A schema-valid body may still be
# refused with 422 where a rule the schema cannot say is broken (a postcode that does not exist, end before
# start, consent not given): that is the contract, so positive_data_acceptance counts 422 as an answer.
SCHEMA_VALID_MAY_BE = ["2xx", "401", "403", "404", "409", "422", "429"]
# Invalid input may also be a body over the size limit (schemathesis sometimes makes a list of a million
# characters' worth): refused with 413 before anything reads it, which is a refusal as good as any.
SCHEMA_INVALID_MAY_BE = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


@pytest.fixture
def api_schema(app: FastAPI, auth_headers: dict[str, str]) -> schemathesis.BaseSchema:
    token = auth_headers["Authorization"].removeprefix("Bearer ")
    config = SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"HTTPBearer": {"bearer": token}}},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": SCHEMA_VALID_MAY_BE},
                "negative_data_rejection": {"expected-statuses": SCHEMA_INVALID_MAY_BE},
            },
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_check(case: schemathesis.Case) -> None:
    """No server error, responses as documented, invalid input refused and valid input taken, unknown methods
    405 with an Allow header that lists what is served, no route that ignores a missing key."""
    case.call_and_validate()


# Stateful: follow the document's OpenAPI links (create a referral, then read, change and withdraw that one;
# the same for volunteers) instead of guessing ids. Only the declared links: schemathesis would otherwise infer
# hundreds of transitions from ids in bodies, more than a test in the normal suite can walk. Creating bodies
# are fuzzed by the test above; here they come from the factories, so the walk gets past the first step.
ONLY_DECLARED_LINKS = {"generation": {"mode": "positive"}, "phases": {"stateful": {"inference": {"algorithms": []}}}}
FACTORIES: dict[str, Callable[[int], dict[str, Any]]] = {
    "POST /v1/referrals": referral_body,
    "POST /v1/volunteers": lambda _n: volunteer_body(),
}


@pytest.fixture
def linked_workflow(app: FastAPI, auth_headers: dict[str, str]) -> type[APIStateMachine]:
    config = SchemathesisConfig.from_dict(ONLY_DECLARED_LINKS)
    linked = schemathesis.openapi.from_asgi("/openapi.json", app, config=config).include(
        path_regex=r"^/v1/(referrals|volunteers)(/\{[a-z_]+\}(/withdraw)?)?$"
    )
    made = itertools.count(1)

    class Workflow(linked.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            headers = {**(case.headers or {}), **auth_headers}
            factory = FACTORIES.get(case.operation.label)
            if factory is not None:  # a fresh record every time, so no example depends on an earlier one
                case.body = factory(next(made))
                headers.pop("Idempotency-Key", None)  # a generated key seen before would replay or be 422
            case.headers = headers

        def validate_response(
            self,
            response: Response,
            case: schemathesis.Case,
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    response_schema_conformance,
                    content_type_conformance,
                    status_code_conformance,
                ],
            )

    return Workflow


def test_following_the_links_from_a_new_record_never_gives_a_server_error(
    linked_workflow: type[APIStateMachine],
) -> None:
    linked_workflow.run(
        settings=settings(
            max_examples=20,
            stateful_step_count=6,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
