"""The OpenAPI document: every error response documented once, as RFC 9457 problem details."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api_schemas.common import Problem

ERRORS_FOR_ALL_API_ROUTES = {
    "401": "No API key, or a revoked one",
    "403": "This role may not use this route",
    "413": "Body over the size limit",
    "422": "Invalid input; `errors` names each field",
    "503": "The database cannot be reached just now; retry after `Retry-After` seconds",
}
ERRORS_FOR_RECORD_ROUTES = {"404": "No such record, or not the caller's"}
ERRORS_FOR_KEY_HOLDERS = {"429": "Too many requests with this API key; retry after `Retry-After` seconds"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}
ERRORS_FOR_CHANGES = {
    "400": "The body could not be read (not UTF-8 or not JSON)",
    "409": "The record's state forbids this",
    "412": "If-Match does not match the ETag",
}

# OpenAPI links: where a response's id (and ETag) lead next. Clients may follow them; the stateful contract
# test walks them (create a referral, then read, change and withdraw that one).
Link = tuple[str, str, dict[str, str]]  # method, path, {parameter: runtime expression}
REFERRAL = {"referral_id": "$response.body#/id"}
REFERRAL_AS_READ = {**REFERRAL, "header.If-Match": "$response.header.ETag"}
VOLUNTEER = {"volunteer_id": "$response.body#/id"}
VOLUNTEER_AS_READ = {**VOLUNTEER, "header.If-Match": "$response.header.ETag"}
MATCH = {"match_id": "$response.body#/id"}
LINKS: dict[tuple[str, str, str], dict[str, Link]] = {
    ("post", "/v1/referrals", "201"): {
        "GetReferral": ("get", "/v1/referrals/{referral_id}", REFERRAL),
        "PatchReferral": ("patch", "/v1/referrals/{referral_id}", REFERRAL_AS_READ),
        "WithdrawReferral": ("post", "/v1/referrals/{referral_id}/withdraw", REFERRAL),
    },
    ("get", "/v1/referrals/{referral_id}", "200"): {
        "PatchReferral": ("patch", "/v1/referrals/{referral_id}", REFERRAL_AS_READ),
    },
    ("patch", "/v1/referrals/{referral_id}", "200"): {
        "GetReferral": ("get", "/v1/referrals/{referral_id}", REFERRAL),
        "WithdrawReferral": ("post", "/v1/referrals/{referral_id}/withdraw", REFERRAL),
    },
    ("post", "/v1/volunteers", "201"): {
        "GetVolunteer": ("get", "/v1/volunteers/{volunteer_id}", VOLUNTEER),
        "PatchVolunteer": ("patch", "/v1/volunteers/{volunteer_id}", VOLUNTEER_AS_READ),
    },
    ("patch", "/v1/volunteers/{volunteer_id}", "200"): {
        "GetVolunteer": ("get", "/v1/volunteers/{volunteer_id}", VOLUNTEER),
    },
    ("post", "/v1/match-runs", "201"): {
        "GetMatchRun": ("get", "/v1/match-runs/{run_id}", {"run_id": "$response.body#/id"}),
    },
    ("post", "/v1/matches", "201"): {
        "GetMatch": ("get", "/v1/matches/{match_id}", MATCH),
        "AcceptMatch": ("post", "/v1/matches/{match_id}/accept", MATCH),
        "DeclineMatch": ("post", "/v1/matches/{match_id}/decline", MATCH),
    },
}


def install(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["Problem"].pop("$defs", {}))
        for path, operations in document["paths"].items():
            if not path.startswith("/v1/"):
                continue
            for method, operation in operations.items():
                _document_errors(path, method, operation)
        _add_links(document["paths"])
        app.openapi_schema = document
        return document

    app.openapi = build  # type: ignore[method-assign]


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    codes = dict(ERRORS_FOR_ALL_API_ROUTES)
    if "{" in path:
        codes |= ERRORS_FOR_RECORD_ROUTES
    if operation.get("security"):  # the rate limit counts requests per API key
        codes |= ERRORS_FOR_KEY_HOLDERS
    if method in ("post", "put", "patch", "delete"):
        codes |= ERRORS_FOR_CHANGES
    responses = operation.setdefault("responses", {})
    for code, description in codes.items():
        responses[code] = {
            "description": responses.get(code, {}).get("description", description),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if code in ("429", "503"):
            responses[code]["headers"] = RETRY_AFTER


def _add_links(paths: dict[str, Any]) -> None:
    for (method, path, status), links in LINKS.items():
        response = paths[path][method]["responses"][status]
        response["links"] = {
            name: {"operationId": paths[to_path][to_method]["operationId"], "parameters": parameters}
            for name, (to_method, to_path, parameters) in links.items()
        }
