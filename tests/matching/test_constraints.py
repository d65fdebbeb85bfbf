"""One test per hard rule, each through the rule's own predicate and through the candidate graph."""

from matching import candidates, constraints
from matching.model import MatchProblem, ReferralProfile, VolunteerProfile, WeeklyWindow
from tests.matching.builders import ABERDEEN, referral, volunteer


def _is_candidate(r: ReferralProfile, v: VolunteerProfile, excluded: frozenset[tuple[str, str]] = frozenset()) -> bool:
    graph = candidates.build(MatchProblem((r,), (v,), excluded_pairs=excluded))
    scalar = constraints.is_candidate(r, v, session_minutes=60, excluded_pairs=excluded)
    assert scalar == (graph.size == 1), "the scalar rules and the vectorised graph disagree"
    return scalar


def test_a_pair_keeping_every_rule_is_a_candidate() -> None:
    assert _is_candidate(referral(), volunteer())


def test_a_pair_without_a_shared_language_is_not_a_candidate() -> None:
    assert not _is_candidate(referral(languages=("ar",)), volunteer(languages=("pl", "en")))


def test_a_shared_second_language_is_enough_unless_language_is_essential() -> None:
    v = volunteer(languages=("en",))
    assert _is_candidate(referral(languages=("pl", "en")), v)
    assert not _is_candidate(referral(languages=("pl", "en"), must_match=frozenset({"language"})), v)


def test_a_narrower_language_tag_is_compatible() -> None:
    assert _is_candidate(referral(languages=("pa",)), volunteer(languages=("pa-Guru",)))
    assert not _is_candidate(referral(languages=("zh-Hant",)), volunteer(languages=("zh-Hans",)))


def test_a_pair_without_a_shared_format_is_not_a_candidate() -> None:
    assert not _is_candidate(referral(formats=("in_person",)), volunteer(formats=("home_visit", "telephone")))


def test_a_volunteer_beyond_her_travel_limit_is_not_offered_for_home_visits() -> None:
    far = volunteer(lat=ABERDEEN[0], lon=ABERDEEN[1])
    assert not _is_candidate(referral(formats=("home_visit",)), far)


def test_telephone_needs_no_travel() -> None:
    far = volunteer(lat=ABERDEEN[0], lon=ABERDEEN[1])
    r = referral(formats=("home_visit", "telephone"))
    assert _is_candidate(r, far)
    assert constraints.feasible_formats(r, far) == ("telephone",)


def test_a_home_visit_without_her_location_is_not_possible() -> None:
    assert not _is_candidate(referral(lat=None, lon=None), volunteer())


def test_no_common_free_hour_is_not_a_candidate() -> None:
    assert not _is_candidate(referral(availability=(WeeklyWindow(2, 600, 720),)), volunteer())


def test_a_window_shorter_than_a_session_is_no_common_hour() -> None:
    r = referral(availability=(WeeklyWindow(1, 600, 645),))
    assert not _is_candidate(r, volunteer())


def test_her_existing_sessions_are_taken_off_her_availability() -> None:
    busy = volunteer(busy=(WeeklyWindow(1, 9 * 60, 12 * 60),))
    assert not _is_candidate(referral(), busy)
    partly = volunteer(busy=(WeeklyWindow(1, 9 * 60, 10 * 60),))
    assert _is_candidate(referral(), partly)


def test_a_volunteer_who_is_not_ready_is_never_a_candidate() -> None:
    assert not _is_candidate(referral(), volunteer(ready=False))


def test_a_volunteer_without_a_free_place_or_weekly_session_is_not_a_candidate() -> None:
    assert not _is_candidate(referral(), volunteer(free_places=0))
    assert not _is_candidate(referral(), volunteer(free_weekly_sessions=0))


def test_the_volunteer_gender_she_asked_for_is_kept() -> None:
    assert not _is_candidate(referral(volunteer_gender="male"), volunteer(gender="female"))
    assert _is_candidate(referral(volunteer_gender="female"), volunteer(gender="female"))


def test_every_essential_attribute_is_kept() -> None:
    r = referral(must_match=frozenset({"background:refugee_or_asylum", "experience:postnatal_depression"}))
    assert not _is_candidate(r, volunteer())
    assert _is_candidate(r, volunteer(background=frozenset({"refugee_or_asylum"})))


def test_a_pair_rejected_or_declined_before_is_never_a_candidate_again() -> None:
    assert not _is_candidate(referral(), volunteer(), frozenset({("r1", "v1")}))


def test_broken_names_every_rule_a_pair_breaks() -> None:
    r = referral(languages=("ar",), formats=("in_person",))
    v = volunteer(free_places=0)
    assert constraints.broken(r, v, session_minutes=60) == [
        "no_free_capacity",
        "no_shared_language",
        "no_reachable_shared_format",
    ]
    assert constraints.broken(referral(), volunteer(), session_minutes=60) == []


def test_video_needs_no_travel_either() -> None:
    far = volunteer(formats=("video",), lat=ABERDEEN[0], lon=ABERDEEN[1])
    assert _is_candidate(referral(formats=("video",), lat=None, lon=None), far)


def test_a_volunteer_without_a_location_can_still_support_by_telephone() -> None:
    r = referral(formats=("home_visit", "telephone"))
    assert _is_candidate(r, volunteer(lat=None, lon=None))
    assert not _is_candidate(referral(), volunteer(lat=None, lon=None))


def test_a_referral_without_languages_is_never_a_candidate() -> None:
    assert not _is_candidate(referral(languages=()), volunteer())
