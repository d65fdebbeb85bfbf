"""A FHIR R4 referral (a ServiceRequest with its Patient, requesting Organization and EPDS QuestionnaireResponse,
contained or in a transaction Bundle) as the JSON API's `ReferralIn`, with every problem found at once as
(FHIRPath, message) pairs. docs/fhir/README.md is the profile an integrator reads.

Parsed with `fhir.resources` (R4B, whose ServiceRequest, Patient, Organization, QuestionnaireResponse, Task and
Bundle are R4's on the wire). What the service does not need is not kept: the NHS number is checked (a wrong one
usually means the wrong patient) and dropped, and the clinical `reasonCode` and `note` are not stored."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from api_schemas.referrals import ReferralIn
from service.fhir import nhs_number

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
EPDS_LOINC = "71354-5"
EPDS_TOTAL_LOINC = "99046-5"
EXTENSION = "https://peer-match.org/fhir/StructureDefinition/"
# Our extensions on the ServiceRequest: name → (value[x] field, repeats, ReferralIn path)
EXTENSIONS = {
    "formats": ("valueCode", True),
    "availability": ("valueString", True),
    "volunteer-gender": ("valueCode", False),
    "must-match": ("valueString", True),
    "background": ("valueCode", True),
    "experience": ("valueCode", True),
    "interest": ("valueCode", True),
    "parent-role": ("valueCode", False),
    "referrer-role": ("valueCode", False),
    "due-date": ("valueDate", False),
    "baby-birth-date": ("valueDate", False),
    "consent-share-with-volunteer": ("valueBoolean", False),
    "consent-contact": ("valueBoolean", False),
    "consent-given-on": ("valueDate", False),
    "message-channel": ("valueCode", False),
}
DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
# Where a ReferralIn field comes from, for naming a rule's failure in FHIR terms.
SOURCES = {
    "external_id": "ServiceRequest.identifier[0].value",
    "referrer": "ServiceRequest.requester",
    "parent.name": "Patient.name[0]",
    "parent.role": f"ServiceRequest.extension('{EXTENSION}parent-role')",
    "parent.phone": "Patient.telecom.where(system='phone')",
    "parent.email": "Patient.telecom.where(system='email')",
    "parent.postcode": "Patient.address[0].postalCode",
    "parent.due_date": f"ServiceRequest.extension('{EXTENSION}due-date')",
    "parent.baby_birth_date": f"ServiceRequest.extension('{EXTENSION}baby-birth-date')",
    "parent": "Patient",
    "languages": "Patient.communication.language",
    "epds": "QuestionnaireResponse",
    "consent": f"ServiceRequest.extension('{EXTENSION}consent-*')",
    "contact_preferences": f"ServiceRequest.extension('{EXTENSION}message-channel')",
}


@dataclass
class Intake:
    """What came in: the referral to create (None when there were problems), the problems, and the request's
    identifier (system, value) for conditional create."""

    referral: ReferralIn | None = None
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    identifier: tuple[str | None, str] | None = None

    def problem(self, where: str | None, message: str) -> None:
        self.problems.append((where, message))


def fhir_path(loc: list[str | int]) -> str:
    """A JSON API error location (`body.parent.postcode`, `body.languages.0`) as the FHIR element it came from."""
    parts = [str(p) for p in loc if p != "body"]
    for size in range(len(parts), 0, -1):
        found = SOURCES.get(".".join(parts[:size]))
        if found:
            return found
    name = parts[0].replace("_", "-") if parts else ""
    return f"ServiceRequest.extension('{EXTENSION}{name}')" if name in EXTENSIONS else "ServiceRequest"


def from_service_request(body: dict[str, Any]) -> Intake:
    """A ServiceRequest posted alone: its Patient, Organization and QuestionnaireResponse are contained."""
    found = Intake()
    request = _parse(ServiceRequest, body, "ServiceRequest", found)
    if request is None:
        return found
    contained = {f"#{r.id}": r for r in request.contained or [] if r.id}
    return _map(request, contained, found)


def from_bundle(body: dict[str, Any]) -> Intake:
    """A transaction Bundle of one ServiceRequest with the Patient (and Organization, QuestionnaireResponse) it
    references by `fullUrl`."""
    found = Intake()
    bundle = _parse(Bundle, body, "Bundle", found)
    if bundle is None:
        return found
    if bundle.type != "transaction":
        found.problem("Bundle.type", "must be 'transaction'")
        return found
    by_url: dict[str, Any] = {}
    requests = []
    for index, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if resource is None:
            found.problem(f"Bundle.entry[{index}].resource", "is required")
            continue
        if entry.fullUrl:
            by_url[entry.fullUrl] = resource
        if resource.get_resource_type() == "ServiceRequest":
            requests.append(resource)
    if len(requests) != 1:
        found.problem("Bundle.entry", f"must hold exactly one ServiceRequest, not {len(requests)}")
        return found
    # A ServiceRequest may also carry its parts contained, in a Bundle as well.
    by_url.update({f"#{r.id}": r for r in requests[0].contained or [] if r.id})
    questionnaires = [r for r in by_url.values() if r.get_resource_type() == "QuestionnaireResponse"]
    return _map(requests[0], by_url, found, questionnaires=questionnaires)


def _parse(model: Any, body: dict[str, Any], name: str, found: Intake) -> Any:
    if body.get("resourceType") != name:
        found.problem(name, f"resourceType must be '{name}'")
        return None
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            loc = ".".join(str(p) for p in error.get("loc", ()))
            message = "unknown element" if error.get("type") == "extra_forbidden" else str(error.get("msg"))
            found.problem(f"{name}.{loc}" if loc else name, message)
        return None


def _map(
    request: ServiceRequest,
    resources: dict[str, Any],
    found: Intake,
    *,
    questionnaires: list[QuestionnaireResponse] | None = None,
) -> Intake:
    if request.status != "active":
        found.problem("ServiceRequest.status", "must be 'active' for a new referral")
    identifiers = request.identifier or []
    if identifiers and identifiers[0].value:
        found.identifier = (identifiers[0].system, identifiers[0].value)
    patient = _referenced(request.subject.reference if request.subject else None, resources, Patient)
    if patient is None:
        found.problem("ServiceRequest.subject", "must reference the Patient, contained or in the Bundle")
    extensions = _extensions(request, found)
    if questionnaires is None:
        questionnaires = [r for r in resources.values() if r.get_resource_type() == "QuestionnaireResponse"]
    epds = _epds(questionnaires, found)
    parent = _parent(patient, extensions, found) if patient is not None else {}
    referrer = _referrer(request, resources, extensions, found)
    if found.problems:
        return found
    raw: dict[str, Any] = {
        "external_id": found.identifier[1] if found.identifier else None,
        "referrer": referrer,
        "parent": parent,
        "languages": _languages(patient),
        "formats": extensions.get("formats", []),
        "availability": [_window(w, i, found) for i, w in enumerate(extensions.get("availability", []))],
        "background": extensions.get("background", []),
        "experiences": extensions.get("experience", []),
        "interests": extensions.get("interest", []),
        "must_match": extensions.get("must-match", []),
        "consent": {
            "share_with_volunteer": extensions.get("consent-share-with-volunteer"),
            "contact": extensions.get("consent-contact"),
            "given_on": extensions.get("consent-given-on"),
        },
    }
    if "volunteer-gender" in extensions:
        raw["volunteer_gender"] = extensions["volunteer-gender"]
    if epds is not None:
        raw["epds"] = epds
    if "message-channel" in extensions:
        # Messages in her preferred language (the programme falls back to English where it has no template).
        raw["contact_preferences"] = {"channel": extensions["message-channel"], **_message_language(raw["languages"])}
    if found.problems:
        return found
    try:
        found.referral = ReferralIn.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [p for p in error.get("loc", ()) if isinstance(p, str | int)]
            message = "is required" if error.get("type") == "missing" else str(error.get("msg"))
            found.problem(fhir_path(loc), f"{'.'.join(str(p) for p in loc)}: {message}")
    return found


def _message_language(languages: list[str]) -> dict[str, str]:
    return {"language": languages[0]} if languages else {}


def _referenced(reference: str | None, resources: dict[str, Any], kind: type) -> Any:
    resource = resources.get(reference or "")
    return resource if isinstance(resource, kind) else None


def _extensions(request: ServiceRequest, found: Intake) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for index, extension in enumerate(request.extension or []):
        if not extension.url.startswith(EXTENSION):
            continue  # another profile's extension: not ours to judge
        name = extension.url.removeprefix(EXTENSION)
        if name not in EXTENSIONS:
            found.problem(f"ServiceRequest.extension[{index}].url", f"unknown extension '{name}'")
            continue
        kind, repeats = EXTENSIONS[name]
        value = getattr(extension, kind, None)
        if value is None:
            found.problem(f"ServiceRequest.extension[{index}].{kind}", f"'{name}' needs a {kind}")
            continue
        if isinstance(value, date):
            value = value.isoformat()
        if repeats:
            values.setdefault(name, []).append(value)
        elif name in values:
            found.problem(f"ServiceRequest.extension[{index}]", f"'{name}' may be given once")
        else:
            values[name] = value
    for required in ("formats", "availability", "consent-share-with-volunteer", "consent-contact", "consent-given-on"):
        if required not in values:
            found.problem(f"ServiceRequest.extension('{EXTENSION}{required}')", "is required")
    return values


def _window(text: str, index: int, found: Intake) -> dict[str, str]:
    """ "tue 10:00-12:30" as the JSON API's window."""
    day, _, hours = text.strip().partition(" ")
    start, _, end = hours.partition("-")
    if day not in DAYS or not start or not end:
        found.problem(
            f"ServiceRequest.extension('{EXTENSION}availability')[{index}]",
            "must read like 'tue 10:00-12:30' (mon..sun, 24-hour local times)",
        )
    return {"day": day, "start": start.strip(), "end": end.strip()}


def _parent(patient: Patient, extensions: dict[str, Any], found: Intake) -> dict[str, Any]:
    for index, identifier in enumerate(patient.identifier or []):
        if identifier.system == NHS_NUMBER and not nhs_number.valid(identifier.value or ""):
            found.problem(
                f"Patient.identifier[{index}].value", "is not a valid NHS number (its check digit does not match)"
            )
    name = _name(patient)
    if name is None:
        found.problem("Patient.name", "is required (given and family, or text)")
    telecom = patient.telecom or []
    phones = [t.value for t in telecom if t.system == "phone" and t.value]
    mobiles = [t.value for t in telecom if t.system == "phone" and t.use == "mobile" and t.value]
    emails = [t.value for t in telecom if t.system == "email" and t.value]
    postcodes = [a.postalCode for a in patient.address or [] if a.postalCode]
    parent: dict[str, Any] = {"name": name, "postcode": postcodes[0] if postcodes else None}
    if phones:
        parent["phone"] = (mobiles or phones)[0]
    if emails:
        parent["email"] = emails[0]
    if "parent-role" in extensions:
        parent["role"] = extensions["parent-role"]
    for key, extension in (("due_date", "due-date"), ("baby_birth_date", "baby-birth-date")):
        if extension in extensions:
            parent[key] = extensions[extension]
    return parent


def _name(patient: Patient) -> str | None:
    for name in patient.name or []:
        if name.use in ("old", "anonymous"):
            continue
        if name.text:
            return str(name.text)
        parts = [*(name.given or []), *([name.family] if name.family else [])]
        if parts:
            return " ".join(parts)
    return None


def _languages(patient: Patient | None) -> list[str]:
    """Her communication languages, the preferred first."""
    if patient is None:
        return []
    ranked = sorted(enumerate(patient.communication or []), key=lambda pair: (not bool(pair[1].preferred), pair[0]))
    tags = []
    for _, communication in ranked:
        codings = communication.language.coding or [] if communication.language else []
        tags += [c.code for c in codings[:1] if c.code]
    return tags


def _referrer(
    request: ServiceRequest, resources: dict[str, Any], extensions: dict[str, Any], found: Intake
) -> dict[str, Any]:
    requester = request.requester
    if requester is None:
        found.problem("ServiceRequest.requester", "is required: the referring organisation, by ODS code")
        return {}
    organisation = _referenced(requester.reference, resources, Organization)
    name = requester.display
    ods = requester.identifier.value if requester.identifier and requester.identifier.system == ODS_CODE else None
    if organisation is not None:
        name = organisation.name or name
        ods = next((i.value for i in organisation.identifier or [] if i.system == ODS_CODE), ods)
    if not (name or ods):
        found.problem("ServiceRequest.requester", "must name the organisation or give its ODS code")
    label = f"{name} ({ods})" if name and ods else (name or ods)
    return {"organisation": label, "role": extensions.get("referrer-role", "other")}


def _epds(questionnaires: list[QuestionnaireResponse], found: Intake) -> dict[str, Any] | None:
    epds = [q for q in questionnaires if (q.questionnaire or "").rstrip("/").endswith(EPDS_LOINC)]
    if not epds:
        return None
    if len(epds) > 1:
        found.problem("QuestionnaireResponse", "give one EPDS with a referral")
        return None
    response = epds[0]
    if response.status != "completed":
        found.problem("QuestionnaireResponse.status", "must be 'completed'")
    answers: dict[int, int] = {}
    given_total = None
    for index, item in enumerate(response.item or []):
        where = f"QuestionnaireResponse.item[{index}]"
        values = [a.valueInteger for a in item.answer or []]
        if len(values) != 1 or values[0] is None:
            found.problem(f"{where}.answer", "needs exactly one valueInteger")
            continue
        if item.linkId == EPDS_TOTAL_LOINC:
            given_total = values[0]
            continue
        if not item.linkId.isdigit() or not 1 <= int(item.linkId) <= 10:
            found.problem(f"{where}.linkId", f"must be the question number 1 to 10, or {EPDS_TOTAL_LOINC} (total)")
            continue
        if not 0 <= values[0] <= 3:
            found.problem(f"{where}.answer[0].valueInteger", "must be 0 to 3")
        answers[int(item.linkId)] = values[0]
    missing = [n for n in range(1, 11) if n not in answers]
    if missing:
        found.problem("QuestionnaireResponse.item", f"questions {missing} are unanswered")
        return None
    scores = [answers[n] for n in range(1, 11)]
    if given_total is not None and given_total != sum(scores):
        found.problem(
            f"QuestionnaireResponse.item.where(linkId='{EPDS_TOTAL_LOINC}')",
            f"the total {given_total} is not the sum of the answers ({sum(scores)}); the service computes it",
        )
    authored = response.authored.date().isoformat() if response.authored else None
    return {"completed_on": authored, "timepoint": "baseline", "answers": scores}
