"""The best few volunteers for one referral, for a coordinator matching by hand."""

from sqlmodel import Session

from api_schemas.matching import Reason, SuggestionOut
from matching.suggest import suggest
from service.core import clock
from service.match_runs.service import volunteer_profiles
from service.matches import repository as match_repository
from service.models import Referral
from service.profiles import matching as match_inputs
from service.profiles.matching import reason_json
from service.programme import service as programme_service


def best(db: Session, *, referral: Referral, k: int) -> list[SuggestionOut]:
    settings = programme_service.current(db)
    volunteers = volunteer_profiles(db, match_repository.active_volunteers(db), settings=settings)
    found = suggest(
        match_inputs.referral_profile(referral, today=clock.today(settings.time_zone)),
        tuple(volunteers),
        match_inputs.weights(settings),
        match_repository.excluded_pairs(db, [referral.id]),
        k=k,
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
