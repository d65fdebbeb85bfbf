"""Every query of the match aggregate: matches, their sessions, the pairs never to propose again, and the
volunteer's load and diary that matching and planning read from them."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, update
from sqlmodel import Session, col, func, select

from api_schemas.sessions import SessionStatus
from api_schemas.volunteers import VolunteerStatus
from service.core.db import IN_LIST_MAX
from service.matches.lifecycle import HOLDS_CAPACITY, LIVE, RUNNING
from service.models import ExcludedPair, Feedback, Match, Referral, SupportSession, Venue, Volunteer
from service.profiles.matching import VOLUNTEER_COLUMNS
from service.profiles.windows import slot_of

_HOLDING = [s.value for s in HOLDS_CAPACITY]
_LIVE = [s.value for s in LIVE]
_IN_LIST_MAX = IN_LIST_MAX
_PROFILED = [Volunteer.__table__.c[name] for name in VOLUNTEER_COLUMNS]  # type: ignore[attr-defined]


def lock_volunteer(db: Session, volunteer_id: str) -> Volunteer | None:
    """Her row, locked until commit: concurrent accepts for one volunteer queue here (PostgreSQL row lock;
    SQLite transactions already hold the write lock)."""
    return db.exec(select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()).first()


def lock_referral(db: Session, referral_id: str) -> Referral | None:
    """Her row, locked until commit and read afresh: two matches made for one parent at once queue here."""
    query = select(Referral).where(Referral.id == referral_id).with_for_update()
    return db.exec(query.execution_options(populate_existing=True)).first()


def referral_of(db: Session, match: Match) -> Referral:
    referral = db.get(Referral, match.referral_id)
    assert referral is not None, "a match's referral row is never deleted (erasure anonymises it)"
    return referral


def volunteer_of(db: Session, match: Match) -> Volunteer:
    volunteer = db.get(Volunteer, match.volunteer_id)
    assert volunteer is not None, "a match's volunteer row is never deleted (erasure anonymises it)"
    return volunteer


def open_match_for(db: Session, referral_id: str) -> Match | None:
    return db.exec(select(Match).where(Match.referral_id == referral_id, col(Match.status).in_(_HOLDING))).first()


def open_matches(db: Session, *, referral_id: str | None = None, volunteer_id: str | None = None) -> list[Match]:
    query = select(Match).where(col(Match.status).in_(_HOLDING))
    if referral_id is not None:
        query = query.where(Match.referral_id == referral_id)
    if volunteer_id is not None:
        query = query.where(Match.volunteer_id == volunteer_id)
    return list(db.exec(query.order_by(Match.id)))


def exclude_pair(db: Session, *, referral_id: str, volunteer_id: str, cause: str, pair_id: str, at: datetime) -> None:
    exists = db.exec(
        select(ExcludedPair.id).where(
            ExcludedPair.referral_id == referral_id, ExcludedPair.volunteer_id == volunteer_id
        )
    ).first()
    if exists is None:
        db.add(ExcludedPair(id=pair_id, referral_id=referral_id, volunteer_id=volunteer_id, cause=cause, at=at))


def excluded_pairs(db: Session, referral_ids: list[str]) -> frozenset[tuple[str, str]]:
    if not referral_ids:
        return frozenset()
    query = select(ExcludedPair.referral_id, ExcludedPair.volunteer_id)
    if len(referral_ids) <= _IN_LIST_MAX:
        return frozenset((r, v) for r, v in db.exec(query.where(col(ExcludedPair.referral_id).in_(referral_ids))))
    asked = set(referral_ids)
    return frozenset((r, v) for r, v in db.exec(query) if r in asked)


def get(db: Session, match_id: str) -> Match | None:
    return db.get(Match, match_id)


def page(
    db: Session,
    *,
    volunteer_id: str | None,
    referral_id: str | None,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[Match]:
    query = select(Match)
    if volunteer_id is not None:
        query = query.where(Match.volunteer_id == volunteer_id)
    if referral_id is not None:
        query = query.where(Match.referral_id == referral_id)
    if status is not None:
        query = query.where(Match.status == status)
    if after_id is not None:
        query = query.where(Match.id > after_id)
    return list(db.exec(query.order_by(Match.id).limit(limit + 1)))


def current_parents(db: Session, volunteer_ids: list[str]) -> dict[str, int]:
    """How many parents each volunteer supports now: matches hold a place from acceptance to their end."""
    counts = dict.fromkeys(volunteer_ids, 0)
    if not volunteer_ids:
        return counts
    query = select(Match.volunteer_id, func.count()).where(col(Match.status).in_(_HOLDING))
    if len(volunteer_ids) <= _IN_LIST_MAX:
        query = query.where(col(Match.volunteer_id).in_(volunteer_ids))
    for volunteer_id, count in db.exec(query.group_by(Match.volunteer_id)):
        if volunteer_id in counts:
            counts[volunteer_id] = count
    return counts


def busy_slots(
    db: Session, volunteer_ids: list[str], *, zone: ZoneInfo, now: datetime
) -> dict[str, tuple[tuple[int, int, int], ...]]:
    """The local weekly slot (day, start, end minute) of each of her upcoming sessions of open matches."""
    if not volunteer_ids:
        return {}
    query = (
        select(SupportSession.volunteer_id, SupportSession.starts_at, SupportSession.ends_at)
        .join(Match, col(Match.id) == SupportSession.match_id)
        .where(
            SupportSession.status == SessionStatus.planned,
            col(SupportSession.starts_at) >= now,
            col(Match.status).in_(_HOLDING),
        )
    )
    if len(volunteer_ids) <= _IN_LIST_MAX:
        query = query.where(col(SupportSession.volunteer_id).in_(volunteer_ids))
    asked = set(volunteer_ids)
    found: dict[str, set[tuple[int, int, int]]] = defaultdict(set)
    for volunteer_id, starts_at, ends_at in db.exec(query):
        if volunteer_id in asked:
            found[volunteer_id].add(slot_of(starts_at, ends_at, zone))
    return {vid: tuple(sorted(slots)) for vid, slots in found.items()}


def upcoming_planned(
    db: Session,
    volunteer_id: str,
    *,
    now: datetime,
    except_session_ids: frozenset[str] = frozenset(),
    except_match_id: str | None = None,
) -> list[tuple[SupportSession, float | None, float | None]]:
    """Her upcoming planned sessions, each with where it happens (its venue, else the parent's place), for her
    diary."""
    query = (
        select(SupportSession, Referral.lat, Referral.lon, Venue.lat, Venue.lon)
        .join(Match, col(Match.id) == SupportSession.match_id)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .outerjoin(Venue, col(Venue.id) == SupportSession.venue_id)
        .where(
            SupportSession.volunteer_id == volunteer_id,
            SupportSession.status == SessionStatus.planned,
            col(SupportSession.starts_at) >= now,
        )
    )
    return [
        (s, venue_lat, venue_lon) if venue_lat is not None and venue_lon is not None else (s, lat, lon)
        for s, lat, lon, venue_lat, venue_lon in db.exec(query)
        if s.id not in except_session_ids and s.match_id != except_match_id
    ]


def venue_of(db: Session, match: Match) -> Venue | None:
    """The venue an in-person match meets at, when it has one, locked until commit: two volunteers planning
    into its last room at once queue here (PostgreSQL row lock; SQLite transactions already hold the write
    lock)."""
    if match.venue_id is None:
        return None
    return db.exec(select(Venue).where(Venue.id == match.venue_id).with_for_update()).first()


def venue_bookings(
    db: Session, venue_id: str, *, now: datetime, except_volunteer_id: str
) -> list[tuple[datetime, datetime]]:
    """(start, end) of the upcoming planned sessions at a venue held by other volunteers: they take its rooms.
    Hers are left out: they are in her diary, and she is never in two of them at once."""
    query = select(SupportSession.starts_at, SupportSession.ends_at).where(
        SupportSession.venue_id == venue_id,
        SupportSession.status == SessionStatus.planned,
        col(SupportSession.ends_at) > now,
        SupportSession.volunteer_id != except_volunteer_id,
    )
    return [(starts_at, ends_at) for starts_at, ends_at in db.exec(query)]


def venue_weekly_use(db: Session, *, zone: ZoneInfo, now: datetime) -> dict[str, set[tuple[str, tuple[int, int, int]]]]:
    """Per venue, the (match id, local weekly slot) of every upcoming planned session held there by an open
    match: how its rooms are taken week by week."""
    query = (
        select(SupportSession.venue_id, SupportSession.match_id, SupportSession.starts_at, SupportSession.ends_at)
        .join(Match, col(Match.id) == SupportSession.match_id)
        .where(
            col(SupportSession.venue_id).is_not(None),
            SupportSession.status == SessionStatus.planned,
            col(SupportSession.starts_at) >= now,
            col(Match.status).in_(_HOLDING),
        )
    )
    found: dict[str, set[tuple[str, tuple[int, int, int]]]] = defaultdict(set)
    for venue_id, match_id, starts_at, ends_at in db.exec(query):
        found[str(venue_id)].add((match_id, slot_of(starts_at, ends_at, zone)))
    return found


def volunteers_at_venue(db: Session, venue_id: str, *, now: datetime) -> list[Volunteer]:
    """The volunteers holding upcoming planned sessions at a venue, by id."""
    held = select(SupportSession.volunteer_id).where(
        SupportSession.venue_id == venue_id,
        SupportSession.status == SessionStatus.planned,
        col(SupportSession.starts_at) >= now,
    )
    # ids in a subquery: PostgreSQL cannot DISTINCT over the volunteer's JSON columns
    return list(db.exec(select(Volunteer).where(col(Volunteer.id).in_(held)).order_by(Volunteer.id)))


def planned_from(db: Session, volunteer_id: str, *, now: datetime) -> list[SupportSession]:
    """Her planned sessions from now on, of every match."""
    return list(
        db.exec(
            select(SupportSession).where(
                SupportSession.volunteer_id == volunteer_id,
                SupportSession.status == SessionStatus.planned,
                col(SupportSession.starts_at) >= now,
            )
        )
    )


def live_sessions(db: Session, match_id: str) -> list[SupportSession]:
    query = select(SupportSession).where(SupportSession.match_id == match_id, col(SupportSession.status).in_(_LIVE))
    return sorted(db.exec(query), key=lambda s: s.starts_at)


def all_sessions(db: Session, match_id: str) -> list[SupportSession]:
    query = select(SupportSession).where(SupportSession.match_id == match_id)
    return sorted(db.exec(query), key=lambda s: (s.starts_at, s.number))


def get_session(db: Session, session_id: str) -> SupportSession | None:
    return db.get(SupportSession, session_id)


def reminders_due(db: Session, *, now: datetime, until: datetime) -> list[tuple[str, str, datetime]]:
    """(session id, match id, start) of planned sessions starting in (now, until] not yet reminded."""
    return list(
        db.exec(
            select(SupportSession.id, SupportSession.match_id, SupportSession.starts_at)
            .where(
                SupportSession.status == SessionStatus.planned,
                col(SupportSession.reminded_at).is_(None),
                col(SupportSession.starts_at) > now,
                col(SupportSession.starts_at) <= until,
            )
            .order_by(col(SupportSession.starts_at))
        ).all()
    )


def claim_reminder(db: Session, session_id: str, *, now: datetime) -> bool:
    """Mark the reminder sent unless another worker did first: the conditional UPDATE is the "once"."""
    claimed = db.execute(
        update(SupportSession)
        .where(col(SupportSession.id) == session_id, col(SupportSession.reminded_at).is_(None))
        .values(reminded_at=now)
    )
    return bool(claimed.rowcount == 1)


def endings_not_announced(db: Session, *, now: datetime) -> list[SupportSession]:
    """Upcoming planned ending conversations of running matches whose ending is not yet announced."""
    return list(
        db.exec(
            select(SupportSession)
            .join(Match, col(Match.id) == SupportSession.match_id)
            .where(
                col(Match.status).in_([s.value for s in RUNNING]),
                col(Match.ending_soon_at).is_(None),
                SupportSession.kind == "ending_conversation",
                SupportSession.status == SessionStatus.planned,
                col(SupportSession.starts_at) > now,
            )
        )
    )


def live_sessions_of(db: Session, match_ids: list[str]) -> list[SupportSession]:
    return list(
        db.exec(
            select(SupportSession).where(
                col(SupportSession.match_id).in_(match_ids), col(SupportSession.status).in_(_LIVE)
            )
        )
    )


def claim_ending_soon(db: Session, match_id: str, *, now: datetime) -> bool:
    """Mark the match's ending announced unless it already was: the conditional UPDATE is the "once"."""
    claimed = db.execute(
        update(Match)
        .where(col(Match.id) == match_id, col(Match.ending_soon_at).is_(None))
        .values(ending_soon_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount == 1)


def add_all(db: Session, rows: list[SupportSession]) -> None:
    for row in rows:
        db.add(row)


def active_volunteers(db: Session) -> list[Volunteer]:
    """Every active volunteer, by id: who matching and cover consider (readiness is the profile's to say)."""
    return list(db.exec(select(Volunteer).where(Volunteer.status == VolunteerStatus.active).order_by(Volunteer.id)))


def active_volunteer_rows(db: Session) -> list[Row[Any]]:
    """Every active volunteer, by id, as plain rows of the columns her matching profile reads, for a match
    run's 10,000 (docs/decisions/0026)."""
    query = select(*_PROFILED).where(Volunteer.status == VolunteerStatus.active).order_by(col(Volunteer.id))
    return list(db.exec(query))


def planned_with_volunteer(db: Session, *, now: datetime) -> list[tuple[SupportSession, Volunteer]]:
    """Every planned session from now on, with the volunteer who holds it (a cover's, for a cover session)."""
    query = (
        select(SupportSession, Volunteer)
        .join(Volunteer, col(Volunteer.id) == SupportSession.volunteer_id)
        .where(SupportSession.status == SessionStatus.planned, col(SupportSession.starts_at) >= now)
        .order_by(col(SupportSession.starts_at))
    )
    return [(row, volunteer) for row, volunteer in db.exec(query)]


def sessions_in(db: Session, match_id: str, status: SessionStatus) -> list[SupportSession]:
    query = select(SupportSession).where(SupportSession.match_id == match_id, SupportSession.status == status)
    return sorted(db.exec(query), key=lambda s: s.starts_at)


def pauses_due(db: Session, *, today: date) -> list[Match]:
    """Running or waiting matches whose dated pause lifts on or before `today`."""
    return list(
        db.exec(
            select(Match)
            .where(col(Match.status).in_(_HOLDING), col(Match.hold_until).is_not(None), col(Match.hold_until) <= today)
            .order_by(Match.id)
        )
    )


def open_venues(db: Session) -> list[Venue]:
    """Active venues with a known place: the only ones a match run or a coordinator's match may choose."""
    query = select(Venue).where(Venue.active == True, col(Venue.lat).is_not(None))  # noqa: E712
    return list(db.exec(query.order_by(Venue.id)))


def venue(db: Session, venue_id: str) -> Venue | None:
    """A venue a match or session names (the venues domain sits above matches: read here). The session holds on
    to it, so that later lookups in the same session find it in the identity map rather than in the database:
    the map holds an object only while something refers to it, and a national run's result names its nine
    venues 10,000 times (2,552 queries before)."""
    found = db.get(Venue, venue_id)
    if found is not None:
        db.info.setdefault("venues_held", {})[venue_id] = found
    return found


def check_outs_missing(db: Session, *, ended_after: datetime, ended_by: datetime) -> list[SupportSession]:
    """Home visits that were due (planned, or attended) and ended in (ended_after, ended_by], with no check-out
    and no alert raised yet."""
    return list(
        db.exec(
            select(SupportSession)
            .where(
                SupportSession.format == "home_visit",
                col(SupportSession.status).in_([SessionStatus.planned.value, SessionStatus.attended.value]),
                col(SupportSession.checked_out_at).is_(None),
                col(SupportSession.safety_alerted_at).is_(None),
                col(SupportSession.ends_at) > ended_after,
                col(SupportSession.ends_at) <= ended_by,
            )
            .order_by(col(SupportSession.ends_at), col(SupportSession.id))
        ).all()
    )


def claim_safety_alert(db: Session, session_id: str, *, now: datetime) -> bool:
    """Mark the missed check-out alerted unless another worker did first: the conditional UPDATE is the "once"."""
    claimed = db.execute(
        update(SupportSession)
        .where(col(SupportSession.id) == session_id, col(SupportSession.safety_alerted_at).is_(None))
        .values(safety_alerted_at=now)
    )
    return bool(claimed.rowcount == 1)


def add_feedback(db: Session, feedback: Feedback) -> None:
    """Written at once, so a second answer set for the same respondent fails here on the unique constraint."""
    with db.begin_nested():
        db.add(feedback)
        db.flush()
