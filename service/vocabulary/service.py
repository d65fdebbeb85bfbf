"""The programme's controlled codes: listing, adding, and checking what clients send."""

import weakref
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from api_schemas.vocabulary import VocabularyEntry, VocabularyKind
from service.core import audit
from service.core.auth import Principal
from service.core.errors import Conflict, InvalidInput
from service.vocabulary import repository


def listing(*, db: Session) -> dict[str, list[VocabularyEntry]]:
    out: dict[str, list[VocabularyEntry]] = {kind.value: [] for kind in VocabularyKind}
    for entry in repository.all_codes(db):
        out.setdefault(entry.kind, []).append(VocabularyEntry(code=entry.code, label=entry.label))
    return out


def add(*, db: Session, actor: Principal, kind: VocabularyKind, entry: VocabularyEntry) -> VocabularyEntry:
    if repository.exists(db, kind.value, entry.code):
        raise Conflict(f"The code '{entry.code}' already exists in {kind.value}.")
    added = repository.add(db, kind.value, entry.code, entry.label)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="vocabulary.added",
        record_type="vocabulary",
        record_id=str(added.id),
        reason=f"{kind.value}:{entry.code}",
    )
    return entry


def check_codes(db: Session, items: Iterable[tuple[Sequence[str | int], VocabularyKind, str]]) -> None:
    """422 naming every field and position that holds a code the programme does not know."""
    items = list(items)
    if not items:
        return
    known = _known_codes(db)
    unseen = {code for _loc, kind, code in items if (kind.value, code) not in known}
    if unseen:
        known.update(repository.known_among(db, unseen))
    errors = [
        (loc, f"unknown {kind.value} code '{code}' (see GET /v1/vocabulary)")
        for loc, kind, code in items
        if (kind.value, code) not in known
    ]
    if errors:
        raise InvalidInput(errors)


# The codes each database is known to hold. Codes are only ever added (there is no route that removes or
# renames one), so a code once read stays valid, and every referral post need not ask again: a query was 7% of
# a post's CPU. An unseen code is still looked up, so a code another worker added is found at once.
_KNOWN: "weakref.WeakKeyDictionary[Engine, set[tuple[str, str]]]" = weakref.WeakKeyDictionary()


def _known_codes(db: Session) -> set[tuple[str, str]]:
    # An Engine's .engine is itself; a Connection's, its engine.
    return _KNOWN.setdefault(db.get_bind().engine, set())


def forget_known_codes(engine: Engine) -> None:
    """For whoever removes codes behind the service's back (the tests' cleanup, a migration): read them
    afresh."""
    _KNOWN.pop(engine, None)


def coded_fields(
    fields: dict[str, tuple[VocabularyKind, list[str] | None]],
) -> list[tuple[Sequence[str | int], VocabularyKind, str]]:
    """The (location, kind, code) of every code in the given body fields, for check_codes."""
    return [
        (["body", field, index], kind, code)
        for field, (kind, codes) in fields.items()
        for index, code in enumerate(codes or [])
    ]
