from sqlmodel import Session, select

from service.models import VocabularyCode


def all_codes(session: Session) -> list[VocabularyCode]:
    return list(session.exec(select(VocabularyCode).order_by(VocabularyCode.kind, VocabularyCode.id)))


def exists(session: Session, kind: str, code: str) -> bool:
    query = select(VocabularyCode.id).where(VocabularyCode.kind == kind, VocabularyCode.code == code)
    return session.exec(query).first() is not None


def add(session: Session, kind: str, code: str, label: str) -> VocabularyCode:
    entry = VocabularyCode(kind=kind, code=code, label=label)
    session.add(entry)
    return entry
