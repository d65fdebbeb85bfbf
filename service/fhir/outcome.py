"""Errors on /fhir routes as FHIR OperationOutcome resources (what a FHIR client parses), from the same problems
the JSON API answers with. An issue's `expression` names the failing element as a FHIRPath."""

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

FHIR_JSON = "application/fhir+json"
# problem status → OperationOutcome issue code (http://hl7.org/fhir/issue-type)
CODES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "duplicate",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    503: "transient",
}


def issue(
    expression: str | None, diagnostics: str, *, code: str = "invalid", severity: str = "error"
) -> dict[str, Any]:
    found: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        found["expression"] = [expression]
    return found


def outcome(issues: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def from_problem(status: int, problem: dict[str, Any]) -> dict[str, Any]:
    """A problem+json body as an OperationOutcome: one issue per listed error, else one for the problem."""
    code = CODES.get(status, "exception" if status >= 500 else "processing")
    errors = problem.get("errors") or []
    if errors:
        return outcome(
            [issue(".".join(str(p) for p in e.get("loc", [])) or None, str(e.get("msg")), code=code) for e in errors]
        )
    title = problem.get("title") or HTTPStatus(status).phrase
    return outcome([issue(None, f"{title}: {problem.get('detail', '')}".strip(": "), code=code)])
