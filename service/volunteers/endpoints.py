from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from api_schemas.common import Page
from api_schemas.volunteers import (
    SupervisionIn,
    SupervisionOut,
    TrainingIn,
    TrainingOut,
    VolunteerIn,
    VolunteerOut,
    VolunteerPatch,
    VolunteerStatus,
)
from service.core.deps import Coordinator, SessionDep
from service.core.etags import set_etag
from service.core.pagination import CursorParam, LimitParam
from service.models import Volunteer
from service.volunteers import due, records
from service.volunteers import service as volunteer_service

router = APIRouter(prefix="/v1/volunteers", tags=["volunteers"])
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def load_volunteer(volunteer_id: str, db: SessionDep, _caller: Coordinator) -> Volunteer:
    """The volunteer's record (staff only); 404 when there is none. Routes list their role guard first."""
    return volunteer_service.visible(db=db, volunteer_id=volunteer_id)


VisibleVolunteer = Annotated[Volunteer, Depends(load_volunteer)]


@router.post("", status_code=201, response_model=VolunteerOut)
def create_volunteer(
    volunteer_in: VolunteerIn, db: SessionDep, caller: Coordinator, response: Response
) -> VolunteerOut:
    volunteer = volunteer_service.create(db=db, caller=caller, volunteer_in=volunteer_in)
    response.headers["Location"] = f"/v1/volunteers/{volunteer.id}"
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.get("", response_model=Page[VolunteerOut])
def list_volunteers(
    db: SessionDep,
    _caller: Coordinator,
    status: VolunteerStatus | None = None,
    area: Annotated[str | None, Query(max_length=10)] = None,
    due_within: Annotated[
        int | None,
        Query(
            ge=0,
            le=366,
            description="Only volunteers with a renewal (check, training, supervision) due within this many days "
            "or already lapsed; each one's `due` lists what and when. Other filters do not apply with it.",
        ),
    ] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[VolunteerOut]:
    if due_within is not None:
        rows, next_cursor = due.page_due_within(db, days=due_within, limit=limit, cursor=cursor)
        return Page[VolunteerOut](items=volunteer_service.to_out(db, rows), next_cursor=next_cursor)
    rows, next_cursor = volunteer_service.page(db=db, status=status, area=area, limit=limit, cursor=cursor)
    return Page[VolunteerOut](items=volunteer_service.to_out(db, rows), next_cursor=next_cursor)


@router.get("/{volunteer_id}", response_model=VolunteerOut)
def get_volunteer(
    _caller: Coordinator, volunteer: VisibleVolunteer, db: SessionDep, response: Response
) -> VolunteerOut:
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.patch(
    "/{volunteer_id}",
    response_model=VolunteerOut,
    responses={412: {"description": "If-Match does not match the current ETag"}},
)
def patch_volunteer(
    caller: Coordinator,
    volunteer: VisibleVolunteer,
    patch: VolunteerPatch,
    db: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> VolunteerOut:
    volunteer = volunteer_service.update(db=db, caller=caller, volunteer=volunteer, patch=patch, if_match=if_match)
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.post("/{volunteer_id}/supervision", status_code=201, response_model=SupervisionOut)
def record_supervision(
    caller: Coordinator, volunteer: VisibleVolunteer, supervision_in: SupervisionIn, db: SessionDep
) -> SupervisionOut:
    """A supervision she attended; the latest is her `last_supervision_on`, and brings her out of
    `supervision_overdue`."""
    return records.supervision_out(
        records.record_supervision(db, actor=caller, volunteer=volunteer, supervision_in=supervision_in)
    )


@router.get("/{volunteer_id}/supervision", response_model=Page[SupervisionOut])
def list_supervision(
    _caller: Coordinator,
    volunteer: VisibleVolunteer,
    db: SessionDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[SupervisionOut]:
    items, next_cursor = records.supervision_page(db, volunteer=volunteer, limit=limit, cursor=cursor)
    return Page[SupervisionOut](items=items, next_cursor=next_cursor)


@router.post("/{volunteer_id}/training", status_code=201, response_model=TrainingOut)
def record_training(
    caller: Coordinator, volunteer: VisibleVolunteer, training_in: TrainingIn, db: SessionDep
) -> TrainingOut:
    """A training module she completed, and when it lapses if it does. A module the programme requires
    (`required_training_modules`) that is missing or lapsed makes her not ready."""
    return records.training_out(records.record_training(db, actor=caller, volunteer=volunteer, training_in=training_in))


@router.get("/{volunteer_id}/training", response_model=Page[TrainingOut])
def list_training(
    _caller: Coordinator,
    volunteer: VisibleVolunteer,
    db: SessionDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[TrainingOut]:
    items, next_cursor = records.training_page(db, volunteer=volunteer, limit=limit, cursor=cursor)
    return Page[TrainingOut](items=items, next_cursor=next_cursor)
