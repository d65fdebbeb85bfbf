"""Erasure (admins): a parent's or a volunteer's personal data cleared everywhere it is kept, while the
anonymous facts reports count (status, dates, format, language, area, referrer role, EPDS scores, matches
and sessions) stay. Running matches are ended first through the match's own life cycle."""

import calendar
from datetime import datetime, time
from zoneinfo import ZoneInfo

import structlog
from sqlmodel import Session

from api_schemas.matching import MatchStatus
from api_schemas.referrals import ReferralStatus
from api_schemas.rights import RetentionRunOut, RetentionSkip
from api_schemas.volunteers import VolunteerStatus
from service.concerns import repository as concern_repository
from service.contacts import repository as contact_repository
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import Conflict
from service.core.lifecycle import emit, event
from service.erasure import repository
from service.matches import repository as match_repository
from service.matches import service as match_service
from service.messages import lifecycle as message_lifecycle
from service.models import Referral, Volunteer
from service.programme import service as programme_service
from service.proposals import lifecycle as proposal_lifecycle
from service.proposals import repository as proposal_repository
from service.referrals import lifecycle as referral_lifecycle
from service.referrals import service as referral_service
from service.volunteers import lifecycle as volunteer_lifecycle

# Codes recorded on the matches an erasure ends (no blame, as with any ending).
REFERRAL_ERASED_END_REASON = "no_longer_wanted"
VOLUNTEER_ERASED_END_REASON = "volunteer_unavailable"
CLOSED = frozenset({ReferralStatus.ended, ReferralStatus.withdrawn, ReferralStatus.declined})
RETENTION_RAN = "retention.ran"

log = structlog.get_logger("peer_match.retention")


def erase_referral(*, db: Session, actor: Principal | None, referral: Referral) -> None:
    """Erase her: an erased referral stays erased, so a second call changes nothing. No actor: the retention
    schedule, which erases only closed referrals (no match of hers is open)."""
    if referral.erased_at is not None:
        return
    if referral.risk_review_pending:
        raise Conflict(
            "A risk review is pending for this referral; record it before erasing her data.",
            extra={"state": referral.status},
        )
    if concern_repository.open_for_referral(db, referral.id):
        raise Conflict(
            "A safeguarding concern about her is open; its lead closes it before her data is erased.",
            extra={"state": referral.status},
        )
    _end_her_matches(db, actor=actor, referral=referral)
    proposal_lifecycle.expire_open(db, referral_ids=[referral.id])
    now = clock.now()
    _clear_parent(referral)
    referral.erased_at = now
    if ReferralStatus(referral.status) not in CLOSED:
        target = ReferralStatus.ended if referral.status == ReferralStatus.active else ReferralStatus.withdrawn
        referral_lifecycle.move(db, referral, target, action="erased", actor=actor)
    else:
        referral.version += 1
        referral.updated_at = now
        db.add(referral)
    repository.clear_override_reasons(db, referral_id=referral.id)
    repository.clear_risk_review_notes(db, referral.id)
    concern_repository.clear_words_of_referral(db, referral.id)
    contact_repository.clear_notes_of_referral(db, referral.id)
    repository.clear_feedback_text(db, repository.matches_of(db, referral_id=referral.id))
    repository.bump_sessions_of_referral(db, referral.id, now=now)
    _clear_messages(db, referral.id, repository.matches_of(db, referral_id=referral.id))
    _rewrite_replays(db, referral)
    audit.record(db, actor=actor, action="referral.erased", record_type="referral", record_id=referral.id)
    emit(db, (event("referral.erased", record_type="referral", record_id=referral.id, erased_at=now),))


def _end_her_matches(db: Session, *, actor: Principal | None, referral: Referral) -> None:
    """A match not yet accepted is called off; a running one ends now, its future sessions cancelled."""
    for match in match_repository.open_matches(db, referral_id=referral.id):
        if match.status == MatchStatus.pending:
            match_service.cancel(db, actor=actor, match=match)
        else:
            match_service.end(
                db,
                actor=actor,
                match=match,
                reason=REFERRAL_ERASED_END_REASON,
                initiated_by="parent",
                rematch=False,
                referral_withdrawn=True,
            )


def _clear_parent(referral: Referral) -> None:
    """Everything that identifies her or describes her life (her home address and access notes included); kept:
    status, dates of the referral, role, languages, formats, area (postcode district), referrer role, consent,
    source, her travel reach."""
    referral.parent_name = referral.phone = referral.email = referral.postcode = None
    referral.lat = referral.lon = None
    referral.location_precision = None
    referral.address_lines = referral.access_notes = None
    referral.due_date = referral.baby_birth_date = None
    referral.external_id = referral.referrer_organisation = referral.withdrawn_reason = None
    referral.availability, referral.background, referral.experiences = [], [], []
    referral.interests, referral.must_match = [], []


def _clear_messages(db: Session, person_id: str, match_ids: list[str]) -> None:
    """Her messages and those about her matches lose their first names; any still waiting is withheld (the
    ending's own messages to her included: they were written moments ago, as her matches ended)."""
    db.flush()
    message_lifecycle.withhold_waiting(db, recipient_id=person_id, match_ids=match_ids, reason="erased")
    repository.clear_message_fields(db, recipient_id=person_id, match_ids=match_ids)


def _rewrite_replays(db: Session, referral: Referral) -> None:
    """A retried POST replays the stored first response: it now replays the erased record."""
    for record in repository.idempotency_records_for(db, f"/v1/referrals/{referral.id}"):
        full_view = isinstance(record.response_body, dict) and "parent" in record.response_body
        view = referral_service.to_out(referral) if full_view else referral_service.to_status_out(referral)
        record.response_body = view.model_dump(mode="json")
        db.add(record)


def erase_volunteer(*, db: Session, actor: Principal | None, volunteer: Volunteer) -> None:
    """Erase her: her parents wait again (ahead of newer referrals), her keys stop working, she has `left`. No
    actor: the retention schedule, which erases only volunteers who left with no match open."""
    if volunteer.erased_at is not None:
        return
    _end_her_volunteering(db, actor=actor, volunteer=volunteer)
    now = clock.now()
    if volunteer.name:
        repository.unname_in_reasons(db, volunteer_id=volunteer.id, first_name=volunteer.name.split()[0])
    _clear_volunteer(volunteer)
    volunteer.erased_at = now
    volunteer.version += 1
    volunteer_lifecycle.move(db, volunteer, VolunteerStatus.left, action="erased", actor=actor)
    repository.clear_override_reasons(db, volunteer_id=volunteer.id)
    repository.revoke_keys_of_volunteer(db, volunteer.id, now=now)
    _clear_messages(db, volunteer.id, repository.matches_of(db, volunteer_id=volunteer.id))
    repository.clear_feedback_text(db, repository.matches_of(db, volunteer_id=volunteer.id))
    audit.record(db, actor=actor, action="volunteer.erased", record_type="volunteer", record_id=volunteer.id)
    emit(db, (event("volunteer.erased", record_type="volunteer", record_id=volunteer.id, erased_at=now),))


def _end_her_volunteering(db: Session, *, actor: Principal | None, volunteer: Volunteer) -> None:
    referral_ids = [p.referral_id for p in proposal_repository.open_of_volunteer(db, volunteer.id)]
    proposal_lifecycle.expire_open(db, volunteer_id=volunteer.id)
    referral_lifecycle.return_proposed_to_waiting(db, referral_ids)
    for match in match_repository.open_matches(db, volunteer_id=volunteer.id):
        if match.status == MatchStatus.pending:
            match_service.decline(db, actor=actor, match=match)
        else:
            match_service.end(
                db, actor=actor, match=match, reason=VOLUNTEER_ERASED_END_REASON, initiated_by="volunteer", rematch=True
            )


def _clear_volunteer(volunteer: Volunteer) -> None:
    """Everything that identifies her or describes her; kept: languages, formats, area, travel and capacity
    limits and dates of the record, so past matches and capacity figures still add up."""
    volunteer.name = volunteer.email = volunteer.phone = volunteer.postcode = None
    volunteer.lat = volunteer.lon = None
    volunteer.location_precision = None
    volunteer.gender = "not_said"
    volunteer.availability, volunteer.leave, volunteer.background = [], [], []
    volunteer.experiences, volunteer.interests, volunteer.specialisms = [], [], []
    volunteer.training_completed_on = volunteer.last_supervision_on = None
    volunteer.check_scheme = None
    volunteer.check_checked_on = volunteer.check_expires_on = None
    volunteer.calendar_token_hash = None
    volunteer.alerted_not_ready = None


# --- The retention schedule: erasure, by date ----------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it is shorter)."""
    year, month0 = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def _skip_reason(db: Session, referral: Referral) -> str | None:
    """Erasure refuses these (a review to record first); the schedule leaves them for a later day."""
    if referral.risk_review_pending:
        return "risk_review_pending"
    if concern_repository.open_for_referral(db, referral.id):
        return "concern_open"
    return None


def run_retention(db: Session, *, actor: Principal | None, dry_run: bool) -> RetentionRunOut:
    """Anonymise, through the very erasure an admin's DELETE runs, every referral whose match ended (or that
    was declined or withdrawn) and every volunteer who left more than `retention_months_after_end` months ago.
    A dry run reads only; a run writes its audit row (counts, no names), so it is idempotent and the daily job
    knows it ran."""
    months = programme_service.current(db).retention_months_after_end
    if months is None:
        return RetentionRunOut(
            dry_run=dry_run, retention_months_after_end=None, cutoff=None, referrals=[], volunteers=[], skipped=[]
        )
    cutoff = months_before(clock.now(), months)
    referrals, skipped = [], []
    for referral in repository.referrals_past(db, cutoff):
        reason = _skip_reason(db, referral)
        if reason is not None:
            skipped.append(RetentionSkip(id=referral.id, reason=reason))
            continue
        referrals.append(referral.id)
        if not dry_run:
            erase_referral(db=db, actor=actor, referral=referral)
    volunteers = []
    for volunteer in repository.volunteers_past(db, cutoff):
        volunteers.append(volunteer.id)
        if not dry_run:
            erase_volunteer(db=db, actor=actor, volunteer=volunteer)
    if not dry_run:
        audit.record(
            db,
            actor=actor,
            action=RETENTION_RAN,
            record_type="programme",
            record_id="1",
            reason=f"referrals={len(referrals)} volunteers={len(volunteers)} skipped={len(skipped)}",
        )
    return RetentionRunOut(
        dry_run=dry_run,
        retention_months_after_end=months,
        cutoff=cutoff,
        referrals=referrals,
        volunteers=volunteers,
        skipped=skipped,
    )


def apply_retention(db: Session) -> int:
    """The daily job (the worker runs it with the periodic scans): once per programme day, the people erased.
    It logs counts only."""
    settings = programme_service.current(db)
    if settings.retention_months_after_end is None:
        return 0
    zone = ZoneInfo(settings.time_zone)
    today_began = datetime.combine(clock.now().astimezone(zone).date(), time(0), tzinfo=zone)
    if repository.last_run_since(db, RETENTION_RAN, today_began):
        return 0
    done = run_retention(db, actor=None, dry_run=False)
    log.info("retention.ran", referrals=len(done.referrals), volunteers=len(done.volunteers), skipped=len(done.skipped))
    return len(done.referrals) + len(done.volunteers)
