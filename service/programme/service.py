"""Programme settings: one row, validated by the wire model on the way in and out."""

from sqlmodel import Session

from api_schemas.programme import ProgrammeSettings
from service.core import audit
from service.core.auth import Principal
from service.models import Programme
from service.programme import repository


def current(db: Session) -> ProgrammeSettings:
    row = repository.get(db)
    return ProgrammeSettings.model_validate(row.settings if row else {})


def replace(*, db: Session, actor: Principal, settings: ProgrammeSettings) -> ProgrammeSettings:
    row = repository.get(db) or Programme(id=repository.PROGRAMME_ID, settings={}, version=0)
    row.settings = settings.model_dump(mode="json")
    row.version += 1
    db.add(row)
    audit.record(db, actor=actor, action="programme.updated", record_type="programme", record_id="1")
    return settings
