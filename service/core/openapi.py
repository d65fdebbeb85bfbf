"""The OpenAPI document, for people and for client generators: stable camelCase operationIds, described tags,
response headers, the role-dependent referral read as a documented `oneOf`, a `webhooks` section with every
event's payload, `servers`, and every error response documented once, as RFC 9457 problem details."""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api_schemas.common import Problem
from api_schemas.examples import EXAMPLES
from api_schemas.webhook_payloads import EVENT_DATA, WebhookEnvelope

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


# A generated client's function names: the route function's name in camelCase unless named here. Renaming a
# route function must not rename a client's method, so tests/service/test_openapi.py lists them all.
OPERATION_IDS = {
    "healthz": "getHealth",
    "readyz": "getReadiness",
    "metrics": "getMetrics",
    "add_code": "addVocabularyCode",
    "put_programme": "updateProgramme",
    "patch_referral": "updateReferral",
    "patch_volunteer": "updateVolunteer",
    "patch_venue": "updateVenue",
    "patch_me": "updateMe",
    "my_sessions": "listMySessions",
    "my_matches": "listMyMatches",
    "cover_suggestions": "listCoverSuggestions",
    "my_messages": "listMyMessages",
    "referral_messages": "listReferralMessages",
    "volunteer_messages": "listVolunteerMessages",
    "notify_callback": "receiveNotifyCallback",
    "rotate_calendar": "rotateCalendarFeed",
    "calendar_feed": "getCalendarFeed",
    "outcomes_report": "getOutcomesReport",
    "capacity_report": "getCapacityReport",
    "create_service_request": "createFhirServiceRequest",
    "create_from_bundle": "createFhirBundle",
    "search_tasks": "searchFhirTasks",
    "recruitment_report": "getRecruitmentReport",
    "outcomes_chart": "getOutcomesChart",
    "capacity_chart": "getCapacityChart",
    "recruitment_chart": "getRecruitmentChart",
    "report_page": "getReportPage",
    "volunteers_report": "getVolunteersReport",
    "record_feedback": "recordMatchFeedback",
    "list_deliveries": "listWebhookDeliveries",
    "suggest_volunteers": "listSuggestedVolunteers",
}

TAGS = [
    ("referrals", "Parents referred for peer support: received from integrators or entered by coordinators."),
    ("measures and safety", "Validated measures (EPDS, PHQ-9, GAD-7, SWEMWBS) and risk reviews; coordinators only."),
    (
        "safeguarding",
        "Concerns a volunteer or coordinator raises about a parent or child; the safeguarding leads act on them.",
    ),
    (
        "contacts",
        "The contact log: the volunteer's note after each session and coordinators' calls, messages and visits.",
    ),
    ("messages", "SMS and email to parents and volunteers through GOV.UK Notify, and Notify's delivery receipts."),
    ("volunteers", "Trained, checked volunteer peer supporters and their availability, leave and readiness."),
    ("venues", "Places where in-person sessions are held: address, opening hours, rooms; coordinators only."),
    ("matching", "Match runs of the engine, their proposals and suggestions."),
    ("matches", "A parent and a volunteer together: acceptance, extensions, cover and endings."),
    ("sessions", "The weekly support sessions of a match: attendance, cancellation, rescheduling."),
    ("me", "A volunteer's own record, sessions, matches and calendar feed."),
    ("events", "Webhook subscriptions (Standard Webhooks signatures), secret rotation and the delivery log."),
    (
        "reports",
        "Outcomes, capacity and where to recruit: exact for coordinators, small numbers suppressed for funders.",
    ),
    ("programme", "The programme's settings."),
    ("vocabulary", "The codes used in referrals and volunteers (`GET /v1/vocabulary` lists them)."),
    (
        "fhir",
        "FHIR R4 intake for NHS systems: a ServiceRequest or transaction Bundle becomes a referral, a Task follows "
        "it; errors are OperationOutcomes (docs/fhir/README.md).",
    ),
    ("operations", "Health, readiness and metrics for the platform."),
]

ETAG = {
    "ETag": {
        "description": "The record's version; send it back as `If-Match` to change it",
        "schema": {"type": "string"},
    }
}
LOCATION = {"Location": {"description": "The new record's path", "schema": {"type": "string"}}}
HEADERS: dict[str, dict[str, dict[str, Any]]] = {
    "createReferral": {"201": {**LOCATION, **ETAG}},
    "getReferral": {"200": ETAG},
    "updateReferral": {"200": ETAG},
    "withdrawReferral": {"200": ETAG},
    "createVolunteer": {"201": {**LOCATION, **ETAG}},
    "createVenue": {"201": {**LOCATION, **ETAG}},
    "getVenue": {"200": ETAG},
    "updateVenue": {"200": ETAG},
    "getVolunteer": {"200": ETAG},
    "updateVolunteer": {"200": ETAG},
    "getMe": {"200": ETAG},
    "updateMe": {"200": ETAG},
    "createMatchRun": {"201": LOCATION},
    "acceptProposal": {"201": LOCATION},
    "createMatch": {"201": LOCATION},
    "createWebhook": {"201": LOCATION},
}

# The referral read depends on the caller's role; each branch says whose it is.
REFERRAL_VIEWS = {
    "ReferralOut": "Coordinators and admins: the whole referral",
    "ReferralStatusOut": "Integrators: status and dates only (least privilege)",
}
REFERRAL_OPERATIONS = ("createReferral", "getReferral", "updateReferral", "withdrawReferral", "listReferrals")

WEBHOOK_HEADERS = {
    "webhook-id": "The event's id, the same on every retry",
    "webhook-timestamp": "Unix seconds when this attempt was signed; refuse one over 5 minutes old",
    "webhook-signature": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per live secret, space-separated",
    "X-Peer-Match-Signature": "Deprecated (removed in the next release): `sha256=<hex HMAC of the body>`, no replay "
    "protection",
}


def operation_id(function_name: str) -> str:
    """A route's stable camelCase operationId, from its function's name."""
    if function_name in OPERATION_IDS:
        return OPERATION_IDS[function_name]
    head, *rest = function_name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _name_operations(app: FastAPI, paths: dict[str, Any]) -> None:
    # Set on the document: routes included from routers are copies made at include time.
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or context.name is None:
            continue
        for method in context.methods or ():
            operation = paths.get(context.path_format or "", {}).get(method.lower())
            if operation is not None:
                operation["operationId"] = operation_id(context.name)


def install(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version="3.1.0",
            description=app.description,
            routes=app.routes,
            tags=[{"name": name, "description": description} for name, description in TAGS],
            servers=[{"url": app.state.settings.public_base_url, "description": "This deployment"}],
        )
        _name_operations(app, document["paths"])
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["Problem"].pop("$defs", {}))
        for path, operations in document["paths"].items():
            if not path.startswith(("/v1/", "/fhir/", "/reports")):
                continue
            for method, operation in operations.items():
                _document_errors(path, method, operation)
        for name, example in EXAMPLES.items():
            schemas[name]["examples"] = [example]
        _document_headers(document["paths"])
        _document_referral_views(document)
        _add_webhooks(document)
        _add_links(document["paths"])
        app.openapi_schema = document
        return document

    app.openapi = build  # type: ignore[method-assign]


def _operations(paths: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in paths.values() for op in item.values() if "operationId" in op}


def _document_headers(paths: dict[str, Any]) -> None:
    operations = _operations(paths)
    for name, by_status in HEADERS.items():
        for status, headers in by_status.items():
            operations[name]["responses"][status].setdefault("headers", {}).update(headers)


def _document_referral_views(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    # Without this a coordinator's full view would also match the integrator's, and a oneOf must match one.
    schemas["ReferralStatusOut"]["additionalProperties"] = False
    views = [{"$ref": f"#/components/schemas/{name}", "description": text} for name, text in REFERRAL_VIEWS.items()]
    described = "The caller's view of the referral: " + "; ".join(REFERRAL_VIEWS.values()) + "."
    for name, operation in _operations(document["paths"]).items():
        if name not in REFERRAL_OPERATIONS:
            continue
        for response in operation["responses"].values():
            media = response.get("content", {}).get("application/json")
            if media is None:
                continue
            _replace_any_of(media["schema"], views, schemas)
            response["description"] = described


def _replace_any_of(schema: dict[str, Any], views: list[dict[str, Any]], schemas: dict[str, Any]) -> None:
    if "$ref" in schema:  # a page: its items are the union
        target = schemas[schema["$ref"].rsplit("/", 1)[1]]
        items = target["properties"]["items"]["items"]
        items.pop("anyOf", None)
        items["oneOf"] = views
        return
    schema.pop("anyOf", None)
    schema["oneOf"] = views
    schema["title"] = "ReferralView"


def _add_webhooks(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    envelope = WebhookEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}))
    schemas["WebhookEnvelope"] = envelope
    webhooks: dict[str, Any] = {}
    for event_type, data_model in EVENT_DATA.items():
        data = data_model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(data.pop("$defs", {}))
        schemas.setdefault(data_model.__name__, data)
        webhooks[event_type.value] = {
            "post": {
                "operationId": "on" + "".join(_words(event_type.value)),
                "summary": f"`{event_type.value}` delivered to a subscribed webhook",
                "description": "Signed with Standard Webhooks; verify the signature and the timestamp before "
                "trusting the body (`peer_match_client.verify`). Delivered at least once, in order per record.",
                "parameters": [
                    {
                        "name": name,
                        "in": "header",
                        "required": name != "X-Peer-Match-Signature",
                        "description": text,
                        "schema": {"type": "string"},
                        **({"deprecated": True} if name == "X-Peer-Match-Signature" else {}),
                    }
                    for name, text in WEBHOOK_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/WebhookEnvelope"},
                                    {
                                        "type": "object",
                                        "properties": {
                                            "type": {"const": event_type.value},
                                            "data": {"$ref": f"#/components/schemas/{data_model.__name__}"},
                                        },
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": {"2XX": {"description": "Received; any other answer is retried with back-off"}},
            }
        }
    document["webhooks"] = webhooks


def _words(event_type: str) -> list[str]:
    return [word.capitalize() for word in re.split(r"[._]", event_type)]


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    codes = dict(ERRORS_FOR_ALL_API_ROUTES)
    if "{" in path:
        codes |= ERRORS_FOR_RECORD_ROUTES
    if operation.get("security"):  # the rate limit counts requests per API key
        codes |= ERRORS_FOR_KEY_HOLDERS
    if method in ("post", "put", "patch", "delete"):
        codes |= ERRORS_FOR_CHANGES
    if method == "patch":
        codes |= {"428": "No If-Match: send the ETag you read, so the change cannot undo someone else's"}
    responses = operation.setdefault("responses", {})
    # FHIR clients parse an OperationOutcome: /fhir routes send each problem as one.
    content = (
        {"application/fhir+json": {"schema": {"type": "object", "description": "A FHIR OperationOutcome"}}}
        if path.startswith("/fhir/")
        else {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    )
    for code, description in codes.items():
        responses[code] = {
            "description": responses.get(code, {}).get("description", description),
            "content": content,
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
