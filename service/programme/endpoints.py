from fastapi import APIRouter

from api_schemas.programme import ProgrammeSettings
from service.core.deps import Admin, Coordinator, SessionDep
from service.programme import service as programme_service

router = APIRouter(prefix="/v1/programme", tags=["programme"])


@router.get("", response_model=ProgrammeSettings)
def get_programme(db: SessionDep, _caller: Coordinator) -> ProgrammeSettings:
    """The programme's settings (coordinators read them too: they explain matches and plans)."""
    return programme_service.current(db)


@router.put("", response_model=ProgrammeSettings)
def put_programme(settings: ProgrammeSettings, db: SessionDep, admin: Admin) -> ProgrammeSettings:
    """Replace the programme's settings (admins)."""
    return programme_service.replace(db=db, actor=admin, settings=settings)
