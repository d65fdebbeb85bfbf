"""FHIR R4 intake: `POST /fhir/r4/ServiceRequest`, `POST /fhir/r4` (a transaction Bundle), and
`GET /fhir/r4/Task?based-on=ServiceRequest/{id}`. The same rules, idempotency and access as `POST /v1/referrals`;
every error is an OperationOutcome."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core import idempotency
from service.core.auth import Principal, Role
from service.core.deps import ReferralWriter, SessionDep
from service.core.errors import DomainError, NotFound
from service.core.etags import etag
from service.fhir import intake, outcome, repository, tasks
from service.models import Referral
from service.referrals import service as referral_service
from service.referrals.endpoints import IdempotencyKey

router = APIRouter(prefix="/fhir/r4", tags=["fhir"])
FHIR_BODY = {
    "content": {
        "application/fhir+json": {"schema": {"type": "object", "description": "A FHIR R4 resource (docs/fhir/)"}}
    },
    "required": True,
}
OUTCOME = {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}
ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"description": "Created: Location is the ServiceRequest; the body an OperationOutcome", **OUTCOME},
    200: {"description": "If-None-Exist found the referral already made", **OUTCOME},
    400: {"description": "Not JSON, or an If-None-Exist this service does not support", **OUTCOME},
    409: {"description": "A referral with this identifier exists (send If-None-Exist to get it instead)", **OUTCOME},
    428: {"description": "An integrator sent neither If-None-Exist nor an Idempotency-Key", **OUTCOME},
    422: {"description": "OperationOutcome naming every failing element", **OUTCOME},
}
IfNoneExist = Annotated[
    str | None,
    Header(description="Conditional create: `identifier=<system>|<value>` of the ServiceRequest; 200 if it exists"),
]


def _fhir(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=outcome.FHIR_JSON, headers=headers)


async def _json(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return _fhir(outcome.outcome([outcome.issue(None, "The body is not JSON.", code="structure")]), 400)
    if not isinstance(body, dict):
        return _fhir(outcome.outcome([outcome.issue(None, "The body must be a JSON object.", code="structure")]), 400)
    return body


@router.post("/ServiceRequest", status_code=201, openapi_extra={"requestBody": FHIR_BODY}, responses=ANSWERS)
async def create_service_request(
    request: Request,
    db: SessionDep,
    caller: ReferralWriter,
    idempotency_key: IdempotencyKey = None,
    if_none_exist: IfNoneExist = None,
) -> JSONResponse:
    """A ServiceRequest with its Patient, requesting Organization and EPDS QuestionnaireResponse contained
    becomes a referral (docs/fhir/README.md)."""
    body = await _json(request)
    if isinstance(body, JSONResponse):
        return body
    return _create(db, caller, intake.from_service_request(body), body, idempotency_key, if_none_exist)


@router.post("", status_code=201, openapi_extra={"requestBody": FHIR_BODY}, responses=ANSWERS)
async def create_from_bundle(
    request: Request,
    db: SessionDep,
    caller: ReferralWriter,
    idempotency_key: IdempotencyKey = None,
    if_none_exist: IfNoneExist = None,
) -> JSONResponse:
    """A transaction Bundle of a ServiceRequest, its Patient, the requesting Organization and an EPDS
    QuestionnaireResponse becomes a referral; the answer is a transaction-response Bundle."""
    body = await _json(request)
    if isinstance(body, JSONResponse):
        return body
    answer = _create(db, caller, intake.from_bundle(body), body, idempotency_key, if_none_exist)
    if answer.status_code not in (200, 201):
        return answer
    location = answer.headers["Location"]
    status = "201 Created" if answer.status_code == 201 else "200 OK"
    reply = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": {"status": status, "location": location}}],
    }
    return _fhir(reply, answer.status_code, {"Location": location, "ETag": answer.headers["ETag"]})


def _create(
    db: SessionDep,
    caller: Principal,
    found: intake.Intake,
    body: dict[str, Any],
    idempotency_key: str | None,
    if_none_exist: str | None,
) -> JSONResponse:
    if found.problems or found.referral is None:
        issues = [outcome.issue(where, message) for where, message in found.problems]
        return _fhir(outcome.outcome(issues), 422)
    if if_none_exist is not None:
        existing = _conditional(db, caller, if_none_exist)
        if isinstance(existing, JSONResponse):
            return existing
        if existing is not None:
            return _created(existing, 200)
    if caller.role is Role.integrator and idempotency_key is None and if_none_exist is None:
        issue = outcome.issue(None, "Send If-None-Exist or an Idempotency-Key, so a retry makes no second referral.")
        return _fhir(outcome.outcome([{**issue, "code": "required"}]), 428)
    claim = None
    if idempotency_key is not None:
        claim = idempotency.claim(
            db,
            caller=caller,
            route="POST /fhir/r4",
            key=idempotency_key,
            request_hash=idempotency.body_hash(found.referral),
        )
        if isinstance(claim, idempotency.Answer):
            return _fhir(claim.body, claim.status, claim.headers())
    try:
        referral = referral_service.create(db=db, caller=caller, referral_in=found.referral)
    except DomainError as exc:
        problem = {"title": exc.title, "detail": exc.detail, **exc.extra}
        for error in problem.get("errors", []):
            error["loc"] = [intake.fhir_path(error.get("loc", []))]
        return _fhir(outcome.from_problem(exc.status, problem), exc.status)
    answer = _created(referral, 201)
    if claim is not None:
        idempotency.complete(
            db,
            claim,
            status=201,
            body=json.loads(answer.body),
            location=answer.headers["Location"],
            etag=answer.headers["ETag"],
        )
    return answer


def _conditional(db: SessionDep, caller: Principal, criteria: str) -> Referral | JSONResponse | None:
    name, _, value = criteria.partition("=")
    if name.strip() != "identifier" or not value:
        issue = outcome.issue(None, "If-None-Exist supports identifier=<system>|<value> only.", code="not-supported")
        return _fhir(outcome.outcome([issue]), 400)
    return repository.by_identifier(db, caller.referral_source, value.rpartition("|")[2])


def _created(referral: Referral, status: int) -> JSONResponse:
    location = f"ServiceRequest/{referral.id}"
    word = "created" if status == 201 else "already exists"
    issue = outcome.issue(None, f"Referral {word}: {location}; follow it at Task?based-on={location}.")
    body = outcome.outcome([{**issue, "severity": "information", "code": "informational"}])
    return _fhir(body, status, {"Location": location, "ETag": etag(referral.version)})


@router.get(
    "/Task",
    responses={
        200: {"description": "A searchset Bundle of zero or one Task", **OUTCOME},
    },
)
def search_tasks(
    db: SessionDep,
    caller: ReferralWriter,
    based_on: Annotated[
        str,
        Query(
            alias="based-on",
            max_length=100,
            pattern=r"^ServiceRequest/[A-Za-z0-9.-]{1,64}$",
            description="ServiceRequest/{id}: the referral to follow",
        ),
    ],
) -> JSONResponse:
    """The Task that follows a referral: requested → accepted → in-progress → completed, or rejected or
    cancelled. Another source's referral is not found (an empty searchset), as is an unknown one."""
    referral_id = based_on.partition("/")[2]
    try:
        found = [tasks.task(referral_service.visible(db=db, caller=caller, referral_id=referral_id))]
    except NotFound:
        found = []
    return _fhir(tasks.searchset(found), 200)


class OperationOutcomes:
    """On /fhir routes, a problem+json answer (unknown key, forbidden, rate limit, 404, 405, a 500) is sent as an
    OperationOutcome, which is what a FHIR client parses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/fhir/"):
            await self.app(scope, receive, send)
            return
        started: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"application/problem+json"):
                    started = message
                    return
            elif started is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                status = started["status"]
                converted = json.dumps(outcome.from_problem(status, json.loads(b"".join(chunks)))).encode()
                headers = [
                    (k, v) for k, v in started.get("headers", []) if k not in (b"content-type", b"content-length")
                ]
                headers += [
                    (b"content-type", outcome.FHIR_JSON.encode()),
                    (b"content-length", str(len(converted)).encode()),
                ]
                await send({**started, "headers": headers})
                await send({"type": "http.response.body", "body": converted})
                return
            await send(message)

        await self.app(scope, receive, rewrite)
