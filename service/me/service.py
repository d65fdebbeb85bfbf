"""What a volunteer sees of her own work: her sessions, the parents she supports (the minimum), her feed."""

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session

from api_schemas.matching import MatchStatus
from api_schemas.sessions import HomeVisit, MyMatchOut, MySessionOut
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import NotFound
from service.core.pagination import decode, next_cursor
from service.matches import service as match_service
from service.matches import sessions as session_service
from service.matches.lifecycle import RUNNING
from service.me import calendar as ics
from service.me import repository
from service.models import SupportSession, Volunteer
from service.programme import service as programme_service
from service.referrals import service as referral_service

RECENT_DAYS = 30


def my_sessions(
    db: Session, volunteer_id: str, *, limit: int, cursor: str | None
) -> tuple[list[SupportSession], str | None]:
    """Her sessions of the last 30 days and to come, in time order, a page at a time."""
    rows = repository.sessions_since(
        db, volunteer_id, clock.now() - timedelta(days=RECENT_DAYS), after_id=decode(cursor), limit=limit
    )
    return rows[:limit], next_cursor([s.id for s in rows], limit)


def my_session_views(db: Session, rows: list[SupportSession]) -> list[MySessionOut]:
    """Her sessions as she sees them: a home visit of a match she accepted and that has not ended carries the
    parent's address and access notes; before she accepts and after it ends, none."""
    parents = repository.home_visit_parents(db, {row.match_id for row in rows if row.format == "home_visit"})
    views = []
    for row in rows:
        home = None
        if row.match_id in parents:
            status, referral = parents[row.match_id]
            if MatchStatus(status) in RUNNING:
                home = HomeVisit(address=referral_service.home_address(referral), access_notes=referral.access_notes)
        views.append(MySessionOut(**session_service.to_out(db, row).model_dump(), home=home))
    return views


def my_matches(db: Session, volunteer_id: str) -> list[MyMatchOut]:
    return [
        match_service.volunteer_view(match, referral)
        for match, referral in repository.open_matches_with_parent(db, volunteer_id)
    ]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_calendar(*, db: Session, actor: Principal, volunteer: Volunteer) -> str:
    """A new secret token; the old feed URL stops working at once."""
    token = secrets.token_urlsafe(32)
    volunteer.calendar_token_hash = _token_hash(token)
    db.add(volunteer)
    audit.record(db, actor=actor, action="calendar.rotated", record_type="volunteer", record_id=volunteer.id)
    return token


def calendar_feed(*, db: Session, token: str) -> bytes:
    volunteer = repository.volunteer_by_calendar_token(db, _token_hash(token))
    if volunteer is None:
        raise NotFound("No calendar feed at this address.")
    rows = repository.feed_sessions(db, volunteer.id, clock.now() - timedelta(days=RECENT_DAYS))
    settings = programme_service.current(db)
    # A feed syncs to calendar services outside the programme: a name there ties her to perinatal mental health
    # support, so titles say only the format unless the programme chose otherwise.
    shown = settings.feed_shows_first_names
    pairs = sorted(
        ((row, match_service.first_name(name) if shown else None) for row, name in rows),
        key=lambda pair: pair[0].starts_at,
    )
    venue_ids = {row.venue_id for row, _ in pairs if row.venue_id}
    addresses = {
        venue_id: ", ".join([*ref.address.lines, ref.address.postcode])
        for venue_id in venue_ids
        if (ref := match_service.venue_ref(db, venue_id)) is not None
    }
    return ics.feed(pairs, time_zone=settings.time_zone, now=clock.now(), venue_addresses=addresses)
