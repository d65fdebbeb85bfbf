from collections.abc import Collection

from sqlalchemy import bindparam
from sqlmodel import Session, select

from service.models import VocabularyCode


def all_codes(db: Session) -> list[VocabularyCode]:
    return list(db.exec(select(VocabularyCode).order_by(VocabularyCode.kind, VocabularyCode.id)))


_codes = VocabularyCode.__table__.c  # type: ignore[attr-defined]
_KNOWN_AMONG = select(_codes.kind, _codes.code).where(_codes.code.in_(bindparam("codes", expanding=True)))


def known_among(db: Session, codes: Collection[str]) -> set[tuple[str, str]]:
    """The (kind, code) pairs the programme knows among these codes."""
    return {(kind, code) for kind, code in db.connection().execute(_KNOWN_AMONG, {"codes": list(codes)})}


def exists(db: Session, kind: str, code: str) -> bool:
    query = select(VocabularyCode.id).where(VocabularyCode.kind == kind, VocabularyCode.code == code)
    return db.exec(query).first() is not None


def add(db: Session, kind: str, code: str, label: str) -> VocabularyCode:
    entry = VocabularyCode(kind=kind, code=code, label=label)
    db.add(entry)
    return entry
