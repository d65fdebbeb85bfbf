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
ERRORS_FOR_CHANGES = {"400": "The body could not be read (not UTF-8 or not JSON)",
                      "409": "The record's state forbids this", "412": "If-Match does not match the ETag"}


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
        if code == "429":
            responses[code]["headers"] = RETRY_AFTER
