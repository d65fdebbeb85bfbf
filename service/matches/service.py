"""The life of a match once it is made (`creation.py`): accepted by the volunteer (sessions planned at once) or
declined, extended when both people want it, ended easily and without blame. Reading matches within the
caller's rights, and the volunteer's own view of one."""

from datetime import timedelta

from sqlmodel import Session

from api_schemas.common import Day
from api_schemas.matching import MatchOut, MatchStatus, Reason
from api_schemas.referrals import ReferralStatus
from api_schemas.sessions import MyMatchOut, SessionStatus, SupportedParent
from api_schemas.venues import Address, VenueRef
from scheduling import changes as plan_changes
from scheduling import model as plan_model
from scheduling import solver as plan_solver
from service.core import audit, clock
from service.core.auth import Principal, Role
from service.core.errors import Conflict, NotFound, invalid
from service.core.ids import new_id
from service.core.lifecycle import Event, emit, event
from service.core.pagination import decode, next_cursor
from service.matches import kinds, lifecycle, planning, repository
from service.matches.lifecycle import RUNNING
from service.models import Match, Referral, SupportSession, Volunteer
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service
from service.referrals import lifecycle as referral_lifecycle


def _people(db: Session, match: Match) -> tuple[Referral, Volunteer]:
    volunteer = repository.lock_volunteer(db, match.volunteer_id)
    assert volunteer is not None
    return repository.referral_of(db, match), volunteer


def accept(db: Session, *, actor: Principal, match: Match) -> list[SupportSession]:
    """She says yes: the sessions are planned now, or the accept is refused with the planner's reason."""
    referral, volunteer = _people(db, match)
    # Re-read under a lock once her row is held: a second accept sent at the same time then sees the first.
    db.refresh(match, with_for_update=True)
    lifecycle.MATCH.check(match.status, MatchStatus.scheduled, action="accepted")
    lifecycle.ensure_not_paused(match, action="accepted")
    programme = programme_service.current(db)
    now = clock.now()
    # Her other matches still waiting for her yes are planned in the same model, so this plan leaves them room.
    this = planning.to_plan(db, match, referral, volunteer, programme, sessions=match.planned_sessions, earliest=now)
    result = plan_solver.plan(
        [this, *planning.waiting_beside(db, volunteer, programme, now=now, but=match.id)],
        {volunteer.id: planning.diary(db, volunteer)},
        plan_inputs.settings_for(programme),
        now=now,
    )
    missing = next((u for u in result.unplanned if u.match_id == match.id), None)
    if missing is not None:
        raise Conflict(
            f"No session plan is possible: {missing.reason}.",
            extra={"state": match.status, "reason": missing.reason, "code": missing.code},
        )
    rows = planning.store(db, match, result.sessions)
    match.confirmed_at = now
    lifecycle.move(
        db,
        match,
        MatchStatus.scheduled,
        action="accepted",
        actor=actor,
        audit_action="match.confirmed",
        events=(
            event(
                "match.confirmed",
                record_type="match",
                record_id=match.id,
                first_session_at=rows[0].starts_at,
                last_session_at=rows[-1].starts_at,
            ),
            *_scheduled(match, rows),
            *_birth_pause(match, this),
        ),
    )
    return rows


def _birth_pause(match: Match, plan: plan_model.MatchToPlan) -> tuple[Event, ...]:
    """Sessions pause around the birth: the coordinator offers a telephone check-in in the pause instead."""
    return tuple(
        event(
            "match.birth_pause",
            record_type="match",
            record_id=match.id,
            pause_starts_on=pause.start,
            pause_ends_on=pause.end,
            offer="telephone_check_in",
        )
        for pause in plan.pauses
    )


def _scheduled(match: Match, rows: list[SupportSession]) -> tuple[Event, ...]:
    return tuple(
        event(
            "session.scheduled",
            record_type="match",
            record_id=match.id,
            session_id=row.id,
            number=row.number,
            kind=row.kind,
            starts_at=row.starts_at,
        )
        for row in rows
    )


def decline(db: Session, *, actor: Principal, match: Match) -> Match:
    """She says no, without a reason owed: the parent waits again and the pair is never proposed again."""
    lifecycle.move(
        db,
        match,
        MatchStatus.declined,
        action="declined",
        actor=actor,
        events=(event("match.declined", record_type="match", record_id=match.id, referral_id=match.referral_id),),
    )
    referral = repository.referral_of(db, match)
    referral_lifecycle.move(db, referral, ReferralStatus.waiting, action="returned", actor=actor)
    repository.exclude_pair(
        db,
        referral_id=match.referral_id,
        volunteer_id=match.volunteer_id,
        cause="declined",
        pair_id=new_id(),
        at=clock.now(),
    )
    return match


def cancel(db: Session, *, actor: Principal, match: Match) -> Match:
    """Call off a match the volunteer has not accepted yet (no sessions exist); her place is free at once.
    The referral's next status is the caller's to set."""
    lifecycle.move(db, match, MatchStatus.cancelled, action="cancelled", actor=actor)
    return match


def extend(db: Session, *, actor: Principal, match: Match, sessions: int) -> list[SupportSession]:
    """Both people agreed (checked by the caller): more sessions follow on and the ending markers move."""
    programme = programme_service.current(db)
    if match.extension_sessions + sessions > programme.max_extension_sessions:
        raise Conflict(
            f"The programme allows at most {programme.max_extension_sessions} extension sessions; "
            f"this match has {match.extension_sessions}.",
            extra={"state": match.status},
        )
    lifecycle.ensure(match, RUNNING, action="extended")
    lifecycle.ensure_not_paused(match, action="extended")
    rows = _append(db, match, sessions)
    match.extension_sessions += sessions
    match.ending_soon_at = None  # the ending moved: its new ending conversation is announced afresh
    if match.status == MatchStatus.ending:
        lifecycle.move(
            db,
            match,
            MatchStatus.active,
            action="extended",
            actor=actor,
            audit_action="match.extended",
            reason=str(sessions),
        )
    else:
        match.version += 1
        db.add(match)
        audit.record(
            db, actor=actor, action="match.extended", record_type="match", record_id=match.id, reason=str(sessions)
        )
    return rows


def extend_for_replacement(db: Session, *, match: Match) -> list[SupportSession]:
    """A cancelled session's replacement at the end; it does not count against the extension cap."""
    return _append(db, match, 1)


def _append(db: Session, match: Match, count: int) -> list[SupportSession]:
    programme = programme_service.current(db)
    referral, volunteer = _people(db, match)
    live = repository.live_sessions(db, match.id)
    now = clock.now()
    base = planning.to_plan(db, match, referral, volunteer, programme, sessions=count, earliest=now)
    last = max([s.starts_at for s in live] + [now])
    result = plan_changes.extend_after(
        base,
        planning.diary(db, volunteer, except_match_id=match.id),
        plan_inputs.settings_for(programme),
        after=last,
        already=max([s.number for s in repository.all_sessions(db, match.id)] + [0]),
        extra=count,
        now=now,
    )
    if result.unplanned:
        raise Conflict(f"More sessions cannot be planned: {result.unplanned[0].reason}.", extra={"state": match.status})
    rows = planning.store(db, match, result.sessions)
    db.flush()
    kinds.remark(live + rows, programme.ending_conversation_offset)
    match.updated_at = now
    db.add(match)
    emit(db, _scheduled(match, rows))
    return rows


def end(
    db: Session,
    *,
    actor: Principal,
    match: Match,
    reason: str,
    initiated_by: str,
    rematch: bool,
    completed: bool = False,
    referral_withdrawn: bool = False,
) -> Match:
    """End now: future sessions are cancelled, no blame is recorded, she rests before a new match, and with
    `rematch` the parent waits again ahead of newer referrals. With `referral_withdrawn` a referral whose
    support never started is withdrawn rather than ended (her erasure)."""
    lifecycle.MATCH.check(match.status, MatchStatus.ended, action="ended")
    programme = programme_service.current(db)
    now = clock.now()
    today = clock.today(programme.time_zone)
    for row in repository.live_sessions(db, match.id):
        # A held session is cancelled whenever it was due: it waited for a resumption that will not come.
        if row.status in lifecycle.UPCOMING and (row.starts_at > now or row.status == SessionStatus.on_hold):
            row.cancelled_by = initiated_by
            lifecycle.move_session(
                db,
                row,
                SessionStatus.cancelled,
                action="cancelled",
                actor=actor,
                reason=f"{initiated_by}:match_ended",
                events=(
                    event(
                        "session.cancelled",
                        record_type="match",
                        record_id=match.id,
                        session_id=row.id,
                        starts_at=row.starts_at,
                    ),
                ),
            )
    match.outcome = "completed" if completed else "ended_early"
    match.end_reason, match.ended_initiated_by = reason, initiated_by
    match.hold_reasons, match.hold_until = [], None
    match.ended_at, match.ended_on = now, today
    lifecycle.move(
        db,
        match,
        MatchStatus.ended,
        action="ended",
        actor=actor,
        reason=f"{match.outcome}:{reason}",
        events=(
            event(
                "match.ended",
                record_type="match",
                record_id=match.id,
                outcome=match.outcome,
                reason=reason,
                initiated_by=initiated_by,
                rematch=rematch,
            ),
        ),
    )
    referral, volunteer = _people(db, match)
    rest_until = today + timedelta(days=programme.rest_days)
    volunteer.resting_until = max(volunteer.resting_until or rest_until, rest_until)
    db.add(volunteer)
    never_started = referral.status == ReferralStatus.matched
    target = ReferralStatus.withdrawn if referral_withdrawn and never_started else ReferralStatus.ended
    referral_lifecycle.move(db, referral, target, action="ended", actor=actor)
    if rematch:
        referral.priority = True
        referral_lifecycle.move(db, referral, ReferralStatus.waiting, action="rematched", actor=actor)
    return match


def check_agreement(parent_agrees: bool, volunteer_agrees: bool) -> None:
    missing = [
        name for name, ok in (("parent_agrees", parent_agrees), ("volunteer_agrees", volunteer_agrees)) if not ok
    ]
    if missing:
        raise invalid(["body", missing[0]], "an extension needs both people's agreement")


def visible(db: Session, *, caller: Principal, match_id: str) -> Match:
    """The match if the caller may see it: coordinators all, a volunteer her own; 404 alike otherwise."""
    match = repository.get(db, match_id)
    if match is None or (caller.role is Role.volunteer and match.volunteer_id != caller.volunteer_id):
        raise NotFound("No match with this id.")
    return match


def page(
    db: Session,
    *,
    volunteer_id: str | None,
    referral_id: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Match], str | None]:
    rows = repository.page(
        db, volunteer_id=volunteer_id, referral_id=referral_id, status=status, after_id=decode(cursor), limit=limit
    )
    return rows[:limit], next_cursor([m.id for m in rows], limit)


def first_name(full_name: str | None) -> str | None:
    return full_name.split()[0] if full_name else None


def volunteer_view(match: Match, referral: Referral) -> MyMatchOut:
    """What the volunteer may know of a match: never the reasons (they name lived experience), the referral or a
    coordinator's notes. Before she accepts, enough to decide (first name, format, area, preferred days); her
    phone and meeting place only while the match is accepted and not ended."""
    accepted = MatchStatus(match.status) in RUNNING
    place = referral.postcode if accepted and match.format in ("home_visit", "in_person") else None
    return MyMatchOut(
        id=match.id,
        status=match.status,
        format=match.format,
        parent=SupportedParent(
            first_name=first_name(referral.parent_name),
            area=referral.area,
            preferred_days=preferred_days(referral.availability or []),
            phone=referral.phone if accepted else None,
            meeting_place=place,
        ),
    )


def preferred_days(availability: list[dict[str, str]]) -> list[Day]:
    """The weekdays of her availability windows, Monday first, each once (the hours stay with the planner)."""
    days = {window["day"] for window in availability}
    return [day for day in Day if day.value in days]


def view_for(db: Session, caller: Principal, match: Match) -> MatchOut | MyMatchOut:
    """The coordinator's view, or the volunteer's own when she is the caller."""
    if caller.role is Role.volunteer:
        return volunteer_view(match, repository.referral_of(db, match))
    return to_out(db, match)


def to_out(db: Session, match: Match) -> MatchOut:
    return MatchOut(
        id=match.id,
        referral_id=match.referral_id,
        volunteer_id=match.volunteer_id,
        proposal_id=match.proposal_id,
        status=match.status,
        format=match.format,
        score=match.score,
        reasons=[Reason(**r) for r in (match.reasons or [])],
        override_reason=match.override_reason,
        planned_sessions=match.planned_sessions,
        extension_sessions=match.extension_sessions,
        outcome=match.outcome,
        end_reason=match.end_reason,
        ended_initiated_by=match.ended_initiated_by,
        unplanned_reason=match.unplanned_reason,
        created_at=match.created_at,
        confirmed_at=match.confirmed_at,
        ended_on=match.ended_on,
        venue=venue_ref(db, match.venue_id),
    )


def venue_ref(db: Session, venue_id: str | None) -> VenueRef | None:
    """The venue a proposal, match or session names, as they show it."""
    venue = repository.venue(db, venue_id) if venue_id else None
    if venue is None:
        return None
    address = Address(lines=list(venue.address_lines), postcode=venue.postcode)
    return VenueRef(id=venue.id, name=venue.name, address=address)
