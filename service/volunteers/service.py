"""Volunteer use cases: the coordinator's record, readiness, and the volunteer's own part of it."""

from typing import Any

from sqlmodel import Session

from api_schemas.common import AvailabilityWindow, DateRange, Location
from api_schemas.messages import ContactPreferences, missing_address
from api_schemas.vocabulary import VocabularyKind
from api_schemas.volunteers import (
    BackgroundCheck,
    Capacity,
    MePatch,
    VolunteerIn,
    VolunteerOut,
    VolunteerPatch,
    VolunteerStatus,
)
from service.core import audit, clock, languages, places
from service.core.auth import Principal
from service.core.errors import Conflict, NotFound, invalid
from service.core.etags import check_if_match
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.matches import leave
from service.matches import repository as match_repository
from service.models import Volunteer
from service.profiles import readiness
from service.programme import service as programme_service
from service.vocabulary import service as vocabulary_service
from service.volunteers import lifecycle, repository

_CODED = {
    "background": VocabularyKind.background,
    "experiences": VocabularyKind.experiences,
    "interests": VocabularyKind.interests,
    "specialisms": VocabularyKind.specialisms,
}


def _check_codes(db: Session, body: VolunteerIn | VolunteerPatch) -> None:
    vocabulary_service.check_codes(
        db, vocabulary_service.coded_fields({field: (kind, getattr(body, field)) for field, kind in _CODED.items()})
    )


def create(*, db: Session, caller: Principal, volunteer_in: VolunteerIn) -> Volunteer:
    _check_codes(db, volunteer_in)
    tags = languages.normalise(volunteer_in.languages, loc=["body", "languages"])
    place = places.resolve(volunteer_in.postcode, volunteer_in.location, loc=["body"])
    now = clock.now()
    volunteer = Volunteer(
        id=new_id(),
        created_at=now,
        updated_at=now,
        status=volunteer_in.status.value,
        languages=tags,
        formats=[],
        availability=[],
        leave=[],
        background=[],
        experiences=[],
        interests=[],
        specialisms=[],
    )
    _apply(volunteer, volunteer_in.model_dump(), set(VolunteerIn.model_fields))
    volunteer.contact_preferences = volunteer_in.contact_preferences.model_dump(mode="json")
    _check_contact(volunteer)
    _set_place(volunteer, place)
    repository.add(db, volunteer)
    audit.record(db, actor=caller, action="volunteer.created", record_type="volunteer", record_id=volunteer.id)
    return volunteer


def contact_preferences(volunteer: Volunteer) -> ContactPreferences:
    return ContactPreferences.model_validate(volunteer.contact_preferences or {})


def _check_contact(volunteer: Volunteer) -> None:
    missing = missing_address(contact_preferences(volunteer), phone=volunteer.phone, email=volunteer.email)
    if missing is not None:
        raise invalid(["body", "contact_preferences", "channel"], missing)


def _set_place(volunteer: Volunteer, place: places.ResolvedPlace) -> None:
    volunteer.postcode, volunteer.lat, volunteer.lon = place.postcode, place.lat, place.lon
    volunteer.area, volunteer.location_precision = place.area, place.precision


def _apply(volunteer: Volunteer, values: dict[str, Any], fields: set[str]) -> None:
    """Copy wire fields onto the row; nested objects are flattened into their columns."""
    for name in fields:
        if name not in values or name in ("languages", "postcode", "location"):
            continue
        value = values[name]
        if name == "capacity":
            volunteer.max_parents = value["max_parents"]
            volunteer.max_sessions_per_week = value["max_sessions_per_week"]
        elif name == "check":
            volunteer.check_scheme = value["scheme"] if value else None
            volunteer.check_checked_on = value["checked_on"] if value else None
            volunteer.check_expires_on = value["expires_on"] if value else None
        elif name in ("availability", "leave"):
            setattr(volunteer, name, [_json_dates(item) for item in value])
        elif name in ("status", "contact_preferences", "left_reason"):
            continue  # the status moves through its lifecycle; preferences are stored as JSON by the caller
        elif name in ("formats", "gender"):
            setattr(volunteer, name, [str(v) for v in value] if isinstance(value, list) else str(value))
        else:
            setattr(volunteer, name, value)


def _keep_latest_supervision(db: Session, volunteer: Volunteer) -> None:
    """A date given directly (as before supervision records) never hides a later record: the latest wins."""
    latest = repository.latest_supervision(db, volunteer.id)
    if latest is not None and (volunteer.last_supervision_on is None or latest > volunteer.last_supervision_on):
        volunteer.last_supervision_on = latest


def _json_dates(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else str(value) for key, value in item.items()}


def visible(*, db: Session, volunteer_id: str) -> Volunteer:
    volunteer = repository.get(db, volunteer_id)
    if volunteer is None:
        raise NotFound("No volunteer with this id.")
    return volunteer


def page(
    *, db: Session, status: VolunteerStatus | None, area: str | None, limit: int, cursor: str | None
) -> tuple[list[Volunteer], str | None]:
    rows = repository.page(db, status=status.value if status else None, area=area, after_id=decode(cursor), limit=limit)
    return rows[:limit], next_cursor([v.id for v in rows], limit)


def update(
    *, db: Session, caller: Principal, volunteer: Volunteer, patch: VolunteerPatch | MePatch, if_match: str | None
) -> Volunteer:
    if volunteer.erased_at is not None:
        raise Conflict(
            "This volunteer's personal data was erased; her record cannot be edited.", extra={"state": "erased"}
        )
    check_if_match(if_match, volunteer.version)
    fields = set(patch.model_fields_set)
    if isinstance(patch, VolunteerPatch):
        _check_codes(db, patch)
        if patch.languages is not None:
            volunteer.languages = languages.normalise(patch.languages, loc=["body", "languages"])
        if patch.postcode is not None or patch.location is not None:
            _set_place(volunteer, places.resolve(patch.postcode, patch.location, loc=["body"]))
    _apply(volunteer, patch.model_dump(include=fields), fields)
    if "last_supervision_on" in fields:
        _keep_latest_supervision(db, volunteer)
    if patch.contact_preferences is not None:
        volunteer.contact_preferences = patch.contact_preferences.model_dump(mode="json")
    _check_contact(volunteer)
    if not fields:
        return volunteer
    new_status = getattr(patch, "status", None)
    left_reason = getattr(patch, "left_reason", None)
    leaving = new_status == VolunteerStatus.left and volunteer.status != VolunteerStatus.left
    if left_reason is not None:
        if not leaving:
            raise invalid(["body", "left_reason"], "give it only with the move to status left, when she leaves")
        vocabulary_service.check_codes(db, [(["body", "left_reason"], VocabularyKind.leave_reasons, left_reason)])
    if new_status is not None and new_status != volunteer.status:
        lifecycle.move(db, volunteer, VolunteerStatus(new_status), action="status changed", actor=caller)
        # Her reason holds while she is left; one who comes back has none (she gives a new one if she leaves again).
        volunteer.left_reason = left_reason if leaving else None
    volunteer.version += 1
    volunteer.updated_at = clock.now()
    db.add(volunteer)
    audit.record(
        db,
        actor=caller,
        action="volunteer.updated",
        record_type="volunteer",
        record_id=volunteer.id,
        reason=",".join(sorted(fields)),
    )
    if "leave" in fields:
        db.flush()
        leave.replan_for_leave(db, actor=caller, volunteer=volunteer)
    return volunteer


def to_out(db: Session, volunteers: list[Volunteer]) -> list[VolunteerOut]:
    settings = programme_service.current(db)
    today = clock.today(settings.time_zone)
    load = match_repository.current_parents(db, [v.id for v in volunteers])
    return [
        _out(
            v,
            today=today,
            interval=settings.supervision_interval_days,
            match_weeks=settings.planned_sessions,
            current=load[v.id],
            required_training=settings.required_training_modules,
        )
        for v in volunteers
    ]


def _out(
    volunteer: Volunteer,
    *,
    today: Any,
    interval: int,
    current: int,
    required_training: list[str],
    match_weeks: int,
) -> VolunteerOut:
    reasons = readiness.not_ready_reasons(
        volunteer,
        today=today,
        supervision_interval_days=interval,
        current_parents=current,
        required_training=required_training,
        match_weeks=match_weeks,
    )
    check = (
        None
        if volunteer.check_scheme is None or volunteer.check_checked_on is None
        else BackgroundCheck(
            scheme=volunteer.check_scheme, checked_on=volunteer.check_checked_on, expires_on=volunteer.check_expires_on
        )
    )
    location = (
        None
        if volunteer.postcode or volunteer.lat is None or volunteer.lon is None
        else Location(lat=volunteer.lat, lon=volunteer.lon)
    )
    return VolunteerOut(
        id=volunteer.id,
        name=volunteer.name,
        email=volunteer.email,
        phone=volunteer.phone,
        contact_preferences=contact_preferences(volunteer),
        gender=volunteer.gender,
        languages=volunteer.languages,
        formats=volunteer.formats,
        postcode=volunteer.postcode,
        location=location,
        area=volunteer.area,
        max_travel_km=volunteer.max_travel_km,
        availability=[AvailabilityWindow.model_validate(w) for w in volunteer.availability],
        leave=[DateRange.model_validate(d) for d in volunteer.leave],
        background=volunteer.background,
        experiences=volunteer.experiences,
        interests=volunteer.interests,
        specialisms=volunteer.specialisms,
        capacity=Capacity(max_parents=volunteer.max_parents, max_sessions_per_week=volunteer.max_sessions_per_week),
        training_completed_on=volunteer.training_completed_on,
        check=check,
        last_supervision_on=volunteer.last_supervision_on,
        status=volunteer.status,
        left_reason=volunteer.left_reason,
        resting_until=volunteer.resting_until,
        current_parents=current,
        ready=not reasons,
        not_ready_reasons=reasons,
        created_at=volunteer.created_at,
        updated_at=volunteer.updated_at,
        erased_at=volunteer.erased_at,
        due=readiness.due_items(volunteer, supervision_interval_days=interval),
    )
