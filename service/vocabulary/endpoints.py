from fastapi import APIRouter

from api_schemas.vocabulary import VocabularyEntry, VocabularyKind
from service.core.deps import Admin, Caller, SessionDep
from service.vocabulary import service as vocabulary_service

router = APIRouter(prefix="/v1/vocabulary", tags=["vocabulary"])


@router.get("", response_model=dict[str, list[VocabularyEntry]])
def get_vocabulary(db: SessionDep, _caller: Caller) -> dict[str, list[VocabularyEntry]]:
    """The programme's controlled codes, by kind."""
    return vocabulary_service.listing(db=db)


@router.post("/{kind}", status_code=201, response_model=VocabularyEntry)
def add_code(kind: VocabularyKind, entry: VocabularyEntry, db: SessionDep, admin: Admin) -> VocabularyEntry:
    """Add a code to one kind (admins)."""
    return vocabulary_service.add(db=db, actor=admin, kind=kind, entry=entry)
