"""One function per criterion, each giving points and the sentence a coordinator reads. A proposal's score
is the sum of its reasons' points. The vectorised twin of these rules is in candidates.py (`_block_points`
and `_pair_scores`); a property test keeps the two equal."""

from matching import constraints, languages
from matching.model import TRAVEL_FORMATS, Params, Reason, ReferralProfile, VolunteerProfile, Weights

CAP_SHARED = 3  # beyond three shared codes of one kind, more sameness adds little
CAP_STARTS = 8
CAP_WEEKS = 12
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth"}

# Reason codes, one per way a criterion scores; each reason's params name the values its sentence shows.
FIRST_LANGUAGE_SHARED = "first_language_shared"  # language: her first language's tag
OTHER_LANGUAGE_SHARED = "other_language_shared"  # language: the tag of another of hers they share
EXPERIENCE_SHARED = "experience_shared"  # codes: the shared codes, sorted
BACKGROUND_SHARED = "background_shared"  # codes
INTERESTS_SHARED = "interests_shared"  # codes
FORMAT_CHOICE = "format_choice"  # format, rank (1 = her first choice)
DISTANCE = "distance"  # km (to 0.1 km), max_travel_km
COMMON_START_TIMES = "common_start_times"  # count
WAITING = "waiting"  # weeks
RETURNING_AFTER_EARLY_ENDING = "returning_after_early_ending"
VOLUNTEER_LOAD = "volunteer_load"  # current_parents, max_parents
REASON_CODES = (
    FIRST_LANGUAGE_SHARED,
    OTHER_LANGUAGE_SHARED,
    EXPERIENCE_SHARED,
    BACKGROUND_SHARED,
    INTERESTS_SHARED,
    FORMAT_CHOICE,
    DISTANCE,
    COMMON_START_TIMES,
    WAITING,
    RETURNING_AFTER_EARLY_ENDING,
    VOLUNTEER_LOAD,
)


def _codes(codes: frozenset[str]) -> str:
    return ", ".join(sorted(code.replace("_", " ") for code in codes))


def language(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """Her first language shared scores most; another of hers shared scores less."""
    first = referral.languages[0]
    if any(languages.compatible(first, tag) for tag in volunteer.languages):
        return Reason(
            "language",
            w.preferred_language,
            f"both speak {languages.name(first)} (her first language)",
            FIRST_LANGUAGE_SHARED,
            (("language", first),),
        )
    for tag in referral.languages[1:]:
        if any(languages.compatible(tag, other) for other in volunteer.languages):
            return Reason(
                "language",
                w.shared_language,
                f"both speak {languages.name(tag)}",
                OTHER_LANGUAGE_SHARED,
                (("language", tag),),
            )
    return None


def _shared(
    criterion: str, weight: int, mine: frozenset[str], hers: frozenset[str], text: str, code: str
) -> Reason | None:
    shared = mine & hers
    if not shared or weight == 0:
        return None
    points = weight * min(len(shared), CAP_SHARED)
    return Reason(criterion, points, text + _codes(shared), code, (("codes", tuple(sorted(shared))),))


def experience(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """Lived experiences they share, per code up to a cap."""
    return _shared(
        "experience",
        w.experience,
        referral.experiences,
        volunteer.experiences,
        "both have lived experience of ",
        EXPERIENCE_SHARED,
    )


def background(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """Background they share (culture, faith, circumstances), per code up to a cap."""
    return _shared(
        "background",
        w.background,
        referral.background,
        volunteer.background,
        "shared background: ",
        BACKGROUND_SHARED,
    )


def interests(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """Interests they share, per code up to a cap."""
    return _shared(
        "interests", w.interests, referral.interests, volunteer.interests, "shared interests: ", INTERESTS_SHARED
    )


def format_points(referral: ReferralProfile, chosen: str, w: Weights) -> int:
    """Full points for her first choice of format, fewer for each later one."""
    n = len(referral.formats)
    return w.format_rank * (n - referral.formats.index(chosen)) // n


def format_rank(referral: ReferralProfile, chosen: str, w: Weights) -> Reason | None:
    """The chosen format and where it stands in her order of preference."""
    points = format_points(referral, chosen, w)
    rank = referral.formats.index(chosen) + 1
    label = chosen.replace("_", " ")
    if not points:
        return None
    text = f"{label}, her {ORDINALS.get(rank, str(rank))} choice"
    return Reason("format", points, text, FORMAT_CHOICE, (("format", chosen), ("rank", rank)))


def distance_points(km_h: int, max_h: int, weight: int) -> int:
    """Full points next door, falling linearly to none at the limit (hundredths of a km)."""
    if max_h <= 0:
        return weight
    return weight * max(0, max_h - km_h) // max_h


def distance(referral: ReferralProfile, volunteer: VolunteerProfile, chosen: str, w: Weights) -> Reason | None:
    """Closer scores more, for formats that need travel only."""
    if chosen not in TRAVEL_FORMATS:
        return None
    km = constraints.pair_distance_km(referral, volunteer)
    if km is None:
        return None
    points = distance_points(constraints.hundredths(km), constraints.hundredths(volunteer.max_travel_km), w.distance)
    if not points:
        return None
    apart, reach = round(km, 1), float(volunteer.max_travel_km)
    text = f"{km:.1f} km apart (she travels up to {volunteer.max_travel_km:g} km)"
    return Reason("distance", points, text, DISTANCE, (("km", apart), ("max_travel_km", reach)))


def availability(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """More possible weekly start times in common score more, up to a cap."""
    count = constraints.common_starts(referral, volunteer, w.session_minutes).bit_count()
    points = w.availability * min(count, CAP_STARTS) // CAP_STARTS
    if not points:
        return None
    text = f"{count} possible weekly start times in common"
    return Reason("availability", points, text, COMMON_START_TIMES, (("count", count),))


def waiting(referral: ReferralProfile, w: Weights) -> Reason | None:
    """Points per full week she has waited, up to a cap, so the longest waits go first."""
    weeks = referral.waiting_days // 7
    points = w.waiting * min(weeks, CAP_WEEKS)
    return Reason("waiting", points, f"waiting {weeks} weeks", WAITING, (("weeks", weeks),)) if points else None


def priority(referral: ReferralProfile, w: Weights) -> Reason | None:
    """A parent whose match ended early, with a rematch asked for, goes ahead of newer ones."""
    if not referral.priority or not w.priority:
        return None
    return Reason(
        "priority",
        w.priority,
        "returning after an early ending, so she goes ahead of newer referrals",
        RETURNING_AFTER_EARLY_ENDING,
    )


def load_points(volunteer: VolunteerProfile, w: Weights) -> int:
    """Full points for a volunteer with no current parents, falling to none when she is full."""
    top = max(volunteer.max_parents, 1)
    return w.load * max(0, top - volunteer.current_parents) // top


def load(volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """A volunteer with fewer current parents scores more, spreading the load."""
    top = max(volunteer.max_parents, 1)
    points = load_points(volunteer, w)
    if not points:
        return None
    text = f"supports {volunteer.current_parents} of {top} parents now"
    params: Params = (("current_parents", volunteer.current_parents), ("max_parents", top))
    return Reason("load", points, text, VOLUNTEER_LOAD, params)


def reasons(referral: ReferralProfile, volunteer: VolunteerProfile, chosen: str, w: Weights) -> tuple[Reason, ...]:
    """Every criterion's reason for a candidate pair meeting in the chosen format."""
    found = (
        language(referral, volunteer, w),
        experience(referral, volunteer, w),
        background(referral, volunteer, w),
        interests(referral, volunteer, w),
        format_rank(referral, chosen, w),
        distance(referral, volunteer, chosen, w),
        availability(referral, volunteer, w),
        waiting(referral, w),
        priority(referral, w),
        load(volunteer, w),
    )
    return tuple(r for r in found if r is not None and r.points > 0)


def best_possible(referral: ReferralProfile, w: Weights) -> int:
    """The most any volunteer could score for her: the denominator of the 0-100 fit."""
    travel = any(f in TRAVEL_FORMATS for f in referral.formats)
    return (
        w.preferred_language
        + w.experience * min(len(referral.experiences), CAP_SHARED)
        + w.background * min(len(referral.background), CAP_SHARED)
        + w.interests * min(len(referral.interests), CAP_SHARED)
        + w.format_rank
        + (w.distance if travel else 0)
        + w.availability
        + w.waiting * min(referral.waiting_days // 7, CAP_WEEKS)
        + (w.priority if referral.priority else 0)
        + w.load
    )


def most_points(w: Weights) -> int:
    """More than or as many points as any pair can score under these weights."""
    return (
        max(w.preferred_language, w.shared_language)
        + CAP_SHARED * (w.experience + w.background + w.interests)
        + w.format_rank
        + w.distance
        + w.availability
        + w.waiting * CAP_WEEKS
        + w.priority
        + w.load
    )


def fit(score: int, referral: ReferralProfile, w: Weights) -> int:
    """The score as a whole percentage of the best possible for her (0-100)."""
    best = best_possible(referral, w)
    return 100 if best <= 0 else min(100, 100 * score // best)
