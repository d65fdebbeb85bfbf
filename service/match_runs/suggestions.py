"""The best few volunteers for one referral, for a coordinator matching by hand."""

from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.matching import Reason, SuggestionOut, SuggestionPage
from matching.model import Proposal
from matching.suggest import suggest, why_none
from service.core import clock
from service.match_runs.service import unmatched_json, unmatched_out, volunteer_profiles
from service.matches import repository as match_repository
from service.matches import service as match_service
from service.matches import venues as match_venues
from service.models import Referral
from service.profiles import matching as match_inputs
from service.profiles.matching import reason_json
from service.programme import service as programme_service
from service.referrals import lifecycle as referral_lifecycle


def best(db: Session, *, referral: Referral, k: int) -> SuggestionPage:
    """The best k; when there are none, why and what would change it. Refused (409) for a referral that cannot
    be matched now (escalated, matched, ended, ...), as runs and manual matches are."""
    referral_lifecycle.ensure_matchable(referral.status)
    settings = programme_service.current(db)
    # Open proposals of other parents hold places here too, as in a run and when a match is made.
    rows = match_repository.active_volunteer_rows(db)
    volunteers = tuple(volunteer_profiles(db, rows, settings=settings, proposals_hold=True, released=[referral.id]))
    profile = match_inputs.referral_profile(referral, today=clock.today(settings.time_zone))
    weights = match_inputs.weights(settings)
    excluded = match_repository.excluded_pairs(db, [referral.id])
    # In person at a venue, as a run has it: the venue suggested is the one a match made from it takes.
    at = match_venues.engine_venues(db, zone=ZoneInfo(settings.time_zone), now=clock.now())
    reach = settings.in_person_max_travel_km
    found = suggest(profile, volunteers, weights, excluded, k=k, at=at, in_person_max_travel_km=reach)
    if not found:
        why = why_none(profile, volunteers, weights, excluded, at=at, in_person_max_travel_km=reach)
        return SuggestionPage(items=[], unmatched=unmatched_out(unmatched_json(why)))
    return SuggestionPage(items=_items(db, found))


def _items(db: Session, found: tuple[Proposal, ...]) -> list[SuggestionOut]:
    return [
        SuggestionOut(
            volunteer_id=p.volunteer_id,
            score=p.score,
            fit=p.fit,
            format=p.format,
            reasons=[Reason(**reason_json(r)) for r in p.reasons],
            venue=match_service.venue_ref(db, p.venue_id),
        )
        for p in found
    ]
