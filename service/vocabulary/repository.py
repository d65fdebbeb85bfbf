from collections.abc import Collection

from sqlmodel import Session, col, select

from service.models import VocabularyCode


def all_codes(session: Session) -> list[VocabularyCode]:
    return list(session.exec(select(VocabularyCode).order_by(VocabularyCode.kind, VocabularyCode.id)))


def known_among(session: Session, codes: Collection[str]) -> set[tuple[str, str]]:
    """The (kind, code) pairs the programme knows among these codes."""
    query = select(VocabularyCode.kind, VocabularyCode.code).where(col(VocabularyCode.code).in_(codes))
    return {(kind, code) for kind, code in session.exec(query)}


def exists(session: Session, kind: str, code: str) -> bool:
    query = select(VocabularyCode.id).where(VocabularyCode.kind == kind, VocabularyCode.code == code)
    return session.exec(query).first() is not None


def add(session: Session, kind: str, code: str, label: str) -> VocabularyCode:
    entry = VocabularyCode(kind=kind, code=code, label=label)
    session.add(entry)
    return entry
