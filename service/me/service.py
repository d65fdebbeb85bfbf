"""What a volunteer sees of her own work: her sessions, the parents she supports (the minimum), her feed."""

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, col, select

from api_schemas.sessions import MyMatchOut, SupportedParent
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import NotFound
from service.matches.states import HOLDS_CAPACITY
from service.me import calendar as ics
from service.models import Match, Referral, SupportSession, Volunteer
from service.programme import service as programme_service

RECENT_DAYS = 30


def first_name(full_name: str | None) -> str | None:
    return full_name.split()[0] if full_name else None


def my_sessions(session: Session, volunteer_id: str) -> list[SupportSession]:
    since = clock.now() - timedelta(days=RECENT_DAYS)
    query = select(SupportSession).where(SupportSession.volunteer_id == volunteer_id,
                                         col(SupportSession.starts_at) >= since)
    return sorted(session.exec(query), key=lambda s: s.starts_at)


def my_matches(session: Session, volunteer_id: str) -> list[MyMatchOut]:
    query = (select(Match, Referral).join(Referral, col(Referral.id) == Match.referral_id)
             .where(Match.volunteer_id == volunteer_id, col(Match.status).in_([s.value for s in HOLDS_CAPACITY]))
             .order_by(Match.id))
    out = []
    for match, referral in session.exec(query):
        place = referral.postcode if match.format in ("home_visit", "in_person") else None
        out.append(MyMatchOut(id=match.id, status=match.status, format=match.format,
                              parent=SupportedParent(first_name=first_name(referral.parent_name), phone=referral.phone,
                                                     meeting_place=place)))
    return out


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_calendar(*, session: Session, actor: Principal, volunteer: Volunteer) -> str:
    """A new secret token; the old feed URL stops working at once."""
    token = secrets.token_urlsafe(32)
    volunteer.calendar_token_hash = _token_hash(token)
    session.add(volunteer)
    audit.record(session, actor=actor, action="calendar.rotated", record_type="volunteer", record_id=volunteer.id)
    return token


def calendar_feed(*, session: Session, token: str) -> bytes:
    volunteer = session.exec(select(Volunteer).where(Volunteer.calendar_token_hash == _token_hash(token))).first()
    if volunteer is None:
        raise NotFound("No calendar feed at this address.")
    rows = session.exec(select(SupportSession, Referral.parent_name)
                        .join(Match, col(Match.id) == SupportSession.match_id)
                        .join(Referral, col(Referral.id) == Match.referral_id)
                        .where(SupportSession.volunteer_id == volunteer.id)
                        .where(col(SupportSession.starts_at) >= clock.now() - timedelta(days=RECENT_DAYS)))
    pairs = sorted(((row, first_name(name)) for row, name in rows), key=lambda pair: pair[0].starts_at)
    return ics.feed(pairs, time_zone=programme_service.current(session).time_zone, now=clock.now())
