"""A volunteer's supervision and training records. Each record also updates what readiness reads on her row:
`last_supervision_on` (the latest supervision) and `training` (her latest completion of each module)."""

from sqlmodel import Session

from api_schemas.volunteers import SupervisionIn, SupervisionOut, TrainingIn, TrainingOut
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import Conflict, invalid
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.models import SupervisionRecord, TrainingRecord, Volunteer
from service.programme import service as programme_service
from service.volunteers import repository


def record_supervision(
    db: Session, *, actor: Principal, volunteer: Volunteer, supervision_in: SupervisionIn
) -> SupervisionRecord:
    """Record a supervision she attended; the latest becomes her `last_supervision_on`."""
    _editable(volunteer)
    if supervision_in.held_on > clock.today(programme_service.current(db).time_zone):
        raise invalid(["body", "held_on"], "is in the future: record a supervision once it has been held")
    row = SupervisionRecord(
        id=new_id(),
        volunteer_id=volunteer.id,
        held_on=supervision_in.held_on,
        kind=supervision_in.kind.value,
        supervisor=supervision_in.supervisor,
        recorded_by_key_id=actor.key_id,
        recorded_at=clock.now(),
    )
    repository.add_record(db, row)
    if volunteer.last_supervision_on is None or row.held_on > volunteer.last_supervision_on:
        volunteer.last_supervision_on = row.held_on
    _touched(db, actor=actor, volunteer=volunteer, action="volunteer.supervision_recorded", reason=row.kind)
    return row


def record_training(db: Session, *, actor: Principal, volunteer: Volunteer, training_in: TrainingIn) -> TrainingRecord:
    """Record a module she completed; her latest completion of each module is what readiness reads."""
    _editable(volunteer)
    if training_in.completed_on > clock.today(programme_service.current(db).time_zone):
        raise invalid(["body", "completed_on"], "is in the future")
    row = TrainingRecord(
        id=new_id(),
        volunteer_id=volunteer.id,
        module=training_in.module,
        completed_on=training_in.completed_on,
        expires_on=training_in.expires_on,
        recorded_by_key_id=actor.key_id,
        recorded_at=clock.now(),
    )
    repository.add_record(db, row)
    held = dict(volunteer.training or {})
    latest = held.get(row.module)
    if latest is None or row.completed_on.isoformat() >= latest["completed_on"]:
        held[row.module] = {
            "completed_on": row.completed_on.isoformat(),
            "expires_on": row.expires_on.isoformat() if row.expires_on else None,
        }
    volunteer.training = held  # a new dict, so the JSON column is seen as changed
    _touched(db, actor=actor, volunteer=volunteer, action="volunteer.training_recorded", reason=row.module)
    return row


def _editable(volunteer: Volunteer) -> None:
    if volunteer.erased_at is not None:
        raise Conflict("This volunteer's personal data was erased.", extra={"state": "erased"})


def _touched(db: Session, *, actor: Principal, volunteer: Volunteer, action: str, reason: str) -> None:
    # Her record reads differently now (readiness, last_supervision_on): a new version, so ETags move on.
    volunteer.version += 1
    volunteer.updated_at = clock.now()
    db.add(volunteer)
    audit.record(db, actor=actor, action=action, record_type="volunteer", record_id=volunteer.id, reason=reason)


def supervision_page(
    db: Session, *, volunteer: Volunteer, limit: int, cursor: str | None
) -> tuple[list[SupervisionOut], str | None]:
    rows = repository.supervision_page(db, volunteer_id=volunteer.id, after_id=decode(cursor), limit=limit)
    return [supervision_out(r) for r in rows[:limit]], next_cursor([r.id for r in rows], limit)


def training_page(
    db: Session, *, volunteer: Volunteer, limit: int, cursor: str | None
) -> tuple[list[TrainingOut], str | None]:
    rows = repository.training_page(db, volunteer_id=volunteer.id, after_id=decode(cursor), limit=limit)
    return [training_out(r) for r in rows[:limit]], next_cursor([r.id for r in rows], limit)


def supervision_out(row: SupervisionRecord) -> SupervisionOut:
    return SupervisionOut(
        id=row.id,
        volunteer_id=row.volunteer_id,
        held_on=row.held_on,
        kind=row.kind,
        supervisor=row.supervisor,
        recorded_at=row.recorded_at,
    )


def training_out(row: TrainingRecord) -> TrainingOut:
    return TrainingOut(
        id=row.id,
        volunteer_id=row.volunteer_id,
        module=row.module,
        completed_on=row.completed_on,
        expires_on=row.expires_on,
        recorded_at=row.recorded_at,
    )
