from sqlmodel import Session

from api_schemas.matching import Reason, SuggestionOut
from matching.suggest import suggest
from service.core import clock
from service.match_runs import profiles, repository
from service.models import Referral
from service.programme import service as programme_service


def best(*, session: Session, referral: Referral, k: int) -> list[SuggestionOut]:
    settings = programme_service.current(session)
    today = clock.today(settings.time_zone)
    volunteers = profiles.volunteer_profiles(session, repository.active_volunteers(session), settings=settings,
                                             today=today)
    found = suggest(profiles.referral_profile(referral, today=today), tuple(volunteers), profiles.weights(settings),
                    profiles.excluded_pairs(session, [referral.id]), k=k)
    return [SuggestionOut(volunteer_id=p.volunteer_id, score=p.score, fit=p.fit, format=p.format,
                          reasons=[Reason(criterion=r.criterion, points=r.points, detail=r.detail) for r in p.reasons])
            for p in found]
