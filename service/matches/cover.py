"""Sessions that need cover (her leave left them without a time), and the coordinator's three choices: wait for
her return, a short cover by another volunteer (the matcher proposes who, by the same rules), or a rematch."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.matching import CoverChoice, CoverIn, Reason, SuggestionOut
from api_schemas.sessions import SessionStatus
from matching import venues
from matching.model import MatchProblem, VenueProfile, VolunteerProfile
from matching.suggest import suggest
from scheduling import calendar as plan_calendar
from scheduling import changes as plan_changes
from service.core import clock
from service.core.auth import Principal
from service.core.errors import Conflict, invalid
from service.core.lifecycle import event
from service.matches import kinds, lifecycle, planning, repository
from service.matches import service as match_service
from service.models import Match, Referral, SupportSession, Volunteer
from service.profiles import matching as match_inputs
from service.profiles import planning as plan_inputs
from service.profiles.matching import reason_json
from service.programme import service as programme_service

# Rules a cover keeps: the parent's language, format and reach, the gender and essentials she asked for, a common
# hour, a pair never rejected. A short cover holds no place of the covering volunteer's, so being full is no bar.
NOT_FOR_COVER = frozenset({"no_free_capacity"})


def mark_needing_cover(db: Session, *, actor: Principal | None, rows: list[SupportSession], cause: str) -> None:
    """Sessions that cannot go ahead where they are never stay planned: each needs cover, and the coordinator is
    told at once (`session.needs_cover`, with the choices of `POST /v1/matches/{id}/cover`)."""
    for row in rows:
        lifecycle.move_session(
            db,
            row,
            SessionStatus.needs_cover,
            action="marked as needing cover",
            actor=actor,
            reason=cause,
            events=(
                event(
                    "session.needs_cover",
                    record_type="match",
                    record_id=row.match_id,
                    session_id=row.id,
                    starts_at=row.starts_at,
                    cause=cause,
                    choices=[c.value for c in CoverChoice],
                ),
            ),
        )


def needing_cover(db: Session, match: Match) -> list[SupportSession]:
    waiting = [s for s in repository.live_sessions(db, match.id) if s.status == SessionStatus.needs_cover]
    if not waiting:
        raise Conflict("No session of this match needs cover.", extra={"state": match.status})
    return waiting


def resolve(db: Session, *, actor: Principal, match: Match, cover_in: CoverIn) -> list[SupportSession]:
    """Carry out the coordinator's choice; the sessions it changed."""
    waiting = needing_cover(db, match)
    if cover_in.choice is CoverChoice.rematch:
        match_service.end(
            db, actor=actor, match=match, reason="volunteer_unavailable", initiated_by="coordinator", rematch=True
        )
        return waiting
    if cover_in.choice is CoverChoice.cover:
        if cover_in.volunteer_id is None:
            raise invalid(["body", "volunteer_id"], "a cover needs the covering volunteer's id (see cover-suggestions)")
        return _cover(db, actor=actor, match=match, waiting=waiting, volunteer_id=cover_in.volunteer_id)
    return _wait_for_return(db, actor=actor, match=match, waiting=waiting)


def _wait_for_return(
    db: Session, *, actor: Principal, match: Match, waiting: list[SupportSession]
) -> list[SupportSession]:
    """The sessions follow on after her leave and her other sessions; the ending moves with them."""
    lifecycle.ensure_not_paused(match, action="planned after her return")
    programme = programme_service.current(db)
    referral, volunteer = repository.referral_of(db, match), repository.lock_volunteer(db, match.volunteer_id)
    assert volunteer is not None
    now = clock.now()
    planned = [s for s in repository.live_sessions(db, match.id) if s.status == SessionStatus.planned]
    result = plan_changes.extend_after(
        planning.to_plan(db, match, referral, volunteer, programme, sessions=len(waiting), earliest=now),
        planning.diary(db, volunteer, except_match_id=match.id),
        plan_inputs.settings_for(programme),
        after=max([s.starts_at for s in planned] + [now, _end_of_leave_over(volunteer, waiting)]),
        already=max(s.number for s in repository.all_sessions(db, match.id)),
        extra=len(waiting),
        now=now,
    )
    if result.unplanned or len(result.sessions) < len(waiting):
        reason = result.unplanned[0].reason if result.unplanned else "not enough free weeks"
        raise Conflict(f"Her return cannot be planned yet: {reason}.", extra={"state": match.status})
    for row, new in zip(sorted(waiting, key=lambda s: s.starts_at), result.sessions, strict=False):
        row.starts_at, row.ends_at = new.starts_at, new.ends_at
        lifecycle.move_session(
            db,
            row,
            SessionStatus.planned,
            action="planned after her return",
            actor=actor,
            events=(
                event(
                    "session.changed",
                    record_type="match",
                    record_id=match.id,
                    session_id=row.id,
                    starts_at=row.starts_at,
                    cause="cover",
                ),
            ),
        )
    match.ending_soon_at = None  # the ending moved: announced afresh
    kinds.remark(repository.live_sessions(db, match.id), programme.ending_conversation_offset)
    return waiting


def _match_venue(db: Session, match: Match) -> tuple[VenueProfile, ...] | None:
    """A cover meets the parent where the match meets: at its venue, the only one she may use; None (in person
    reached as a visit is) for a match without one."""
    venue = repository.venue(db, match.venue_id) if match.venue_id else None
    return match_inputs.venue_profiles([venue]) if venue is not None else None


def _cover_profiles(db: Session, match: Match, referral: Referral) -> list[VolunteerProfile]:
    """Every other active volunteer as the matcher sees her, with a place always free: a cover is short."""
    settings = programme_service.current(db)
    volunteers = [v for v in repository.active_volunteers(db) if v.id != match.volunteer_id]
    ids = [v.id for v in volunteers]
    profiles = match_inputs.volunteer_profiles(
        volunteers,
        load=repository.current_parents(db, ids),
        busy=repository.busy_slots(db, ids, zone=ZoneInfo(settings.time_zone), now=clock.now()),
        settings=settings,
        today=clock.today(settings.time_zone),
    )
    return [_with_a_free_place(p) for p in profiles]


def _with_a_free_place(profile: VolunteerProfile) -> VolunteerProfile:
    return replace(
        profile, free_places=max(profile.free_places, 1), free_weekly_sessions=max(profile.free_weekly_sessions, 1)
    )


def suggestions(db: Session, *, match: Match, k: int) -> list[SuggestionOut]:
    """Who could cover, best first, by the matcher's own rules and scores (her free place aside)."""
    needing_cover(db, match)
    referral = repository.referral_of(db, match)
    settings = programme_service.current(db)
    found = suggest(
        match_inputs.referral_profile(referral, today=clock.today(settings.time_zone)),
        tuple(_cover_profiles(db, match, referral)),
        match_inputs.weights(settings),
        repository.excluded_pairs(db, [referral.id]),
        k=k,
        at=_match_venue(db, match),
        in_person_max_travel_km=settings.in_person_max_travel_km,
    )
    return [
        SuggestionOut(
            volunteer_id=p.volunteer_id,
            score=p.score,
            fit=p.fit,
            format=p.format,
            reasons=[Reason(**reason_json(r)) for r in p.reasons],
        )
        for p in found
    ]


def _cover(
    db: Session, *, actor: Principal, match: Match, waiting: list[SupportSession], volunteer_id: str
) -> list[SupportSession]:
    """Each session needing cover goes to the covering volunteer, in the same week where her diary allows, by
    the same rules as a match; the match stays the first volunteer's, and her sessions after the leave are hers."""
    lifecycle.ensure_not_paused(match, action="covered")
    referral = repository.referral_of(db, match)
    cover = repository.lock_volunteer(db, volunteer_id)
    if cover is None or cover.id == match.volunteer_id:
        raise invalid(["body", "volunteer_id"], "no other volunteer with this id")
    profile = next((p for p in _cover_profiles(db, match, referral) if p.id == cover.id), None)
    settings = programme_service.current(db)
    r_profile = match_inputs.referral_profile(referral, today=clock.today(settings.time_zone))
    broken = (
        ["volunteer_not_ready"]
        if profile is None
        else [
            rule
            for rule in venues.check_pair(
                MatchProblem(
                    (r_profile,),
                    (profile,),
                    weights=match_inputs.weights(settings),
                    excluded_pairs=repository.excluded_pairs(db, [referral.id]),
                    venues=_match_venue(db, match),
                    in_person_max_travel_km=settings.in_person_max_travel_km,
                ),
                venue_id=match.venue_id,
            ).broken
            if rule not in NOT_FOR_COVER
        ]
    )
    if broken:
        raise Conflict(f"She cannot cover: {', '.join(broken)}.", extra={"broken": broken, "state": match.status})
    plan_settings = plan_inputs.settings_for(settings)
    zone = ZoneInfo(plan_settings.time_zone)
    now = clock.now()
    covered = []
    for row in sorted(waiting, key=lambda s: s.starts_at):
        others = [
            s
            for s in repository.live_sessions(db, match.id)
            if s.id != row.id and s.status != SessionStatus.needs_cover
        ]
        taken = frozenset(plan_calendar.monday_of(s.starts_at.astimezone(zone).date()) for s in others)
        one = planning.to_plan(db, match, referral, cover, settings, sessions=1, earliest=now)
        found = plan_changes.next_slot(
            one,
            planning.diary(db, cover),
            plan_settings,
            not_before=max(now, row.starts_at - timedelta(days=row.starts_at.astimezone(zone).weekday())),
            now=now,
            match_weeks_taken=taken,
        )
        if isinstance(found, str):
            raise Conflict(f"She cannot cover every session: {found}.", extra={"state": match.status})
        row.starts_at, row.ends_at = found
        row.volunteer_id = cover.id
        lifecycle.move_session(
            db,
            row,
            SessionStatus.planned,
            action="covered",
            actor=actor,
            reason="cover",
            events=(
                event(
                    "session.changed",
                    record_type="match",
                    record_id=match.id,
                    session_id=row.id,
                    starts_at=row.starts_at,
                    cause="cover",
                    covered_by=cover.id,
                ),
            ),
        )
        db.flush()
        covered.append(row)
    kinds.remark(repository.live_sessions(db, match.id), settings.ending_conversation_offset)
    return covered


def _end_of_leave_over(volunteer: Volunteer, rows: list[SupportSession]) -> datetime:
    """The last moment of the leave that covers any of these sessions (UTC midnight after its last day): her
    return, after which their new times are searched."""
    ends = [
        date.fromisoformat(r["end"])
        for r in volunteer.leave
        if any(date.fromisoformat(r["start"]) <= s.starts_at.date() <= date.fromisoformat(r["end"]) for s in rows)
    ]
    last = max(ends, default=min(s.starts_at for s in rows).date())
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
