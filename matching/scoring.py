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
SPECIALISMS_NEEDED = "specialisms_needed"  # codes: her needs the volunteer's specialisms meet, sorted
VOLUNTEER_SPEAKS_INTERPRETER_LANGUAGE = "volunteer_speaks_interpreter_language"  # language
VOLUNTEER_INTERPRETS = "volunteer_interprets"  # language: the volunteer has the interpreting specialism
INTERPRETER_ARRANGED = "interpreter_arranged"  # language, format, way (three_way_call or at_visits); 0 points
VOLUNTEER_GENDER_AS_ASKED = "volunteer_gender_as_asked"  # gender; 0 points: the request, stated
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
    SPECIALISMS_NEEDED,
    VOLUNTEER_SPEAKS_INTERPRETER_LANGUAGE,
    VOLUNTEER_INTERPRETS,
    INTERPRETER_ARRANGED,
    VOLUNTEER_GENDER_AS_ASKED,
)
# Reasons shown even at 0 points: what was arranged or asked for, and the distance of a visit.
STATED = frozenset({DISTANCE, INTERPRETER_ARRANGED, VOLUNTEER_GENDER_AS_ASKED})
ROLES = {"mother": "the mother", "father": "the father"}
GENDERS = {"male": "a male", "female": "a female", "non_binary": "a non-binary"}
INTERPRETING = "interpreting"  # the specialism code of a volunteer who can interpret


def parent(referral: ReferralProfile) -> str:
    """The parent by role, never a pronoun: "the mother", "the father", "the parent"."""
    return ROLES.get(referral.role, "the parent")


def name(volunteer: VolunteerProfile) -> str:
    """The volunteer by first name, or "the volunteer"."""
    return volunteer.first_name or "the volunteer"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 volunteer`, `3 volunteers`."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def _codes(codes: frozenset[str]) -> str:
    return ", ".join(sorted(code.replace("_", " ") for code in codes))


def language(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """Her first language shared scores most; another of hers shared scores less."""
    first = referral.languages[0]
    if any(languages.compatible(first, tag) for tag in volunteer.languages):
        return Reason(
            "language",
            w.preferred_language,
            f"both speak {languages.name(first)} ({parent(referral)}'s first language)",
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
    text = f"{label}, {parent(referral)}'s {ORDINALS.get(rank, str(rank))} choice"
    return Reason("format", points, text, FORMAT_CHOICE, (("format", chosen), ("rank", rank)))


def distance_points(km_h: int, max_h: int, weight: int) -> int:
    """Full points next door, falling linearly to none at the limit (hundredths of a km)."""
    if max_h <= 0:
        return weight
    return weight * max(0, max_h - km_h) // max_h


def distance(referral: ReferralProfile, volunteer: VolunteerProfile, chosen: str, w: Weights) -> Reason | None:
    """Closer scores more, for formats that need travel only; the distance is shown even at 0 points."""
    if chosen not in TRAVEL_FORMATS:
        return None
    km = constraints.pair_distance_km(referral, volunteer)
    if km is None:
        return None
    points = distance_points(constraints.hundredths(km), constraints.hundredths(volunteer.max_travel_km), w.distance)
    apart, reach = round(km, 1), float(volunteer.max_travel_km)
    text = f"{km:.1f} km apart ({name(volunteer)} travels up to {volunteer.max_travel_km:g} km)"
    return Reason("distance", points, text, DISTANCE, (("km", apart), ("max_travel_km", reach)))


def availability(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """More possible weekly start times in common score more, up to a cap."""
    count = constraints.common_starts(referral, volunteer, w.session_minutes).bit_count()
    points = w.availability * min(count, CAP_STARTS) // CAP_STARTS
    if not points:
        return None
    text = f"{plural(count, 'possible weekly start time')} in common"
    return Reason("availability", points, text, COMMON_START_TIMES, (("count", count),))


def waiting(referral: ReferralProfile, w: Weights) -> Reason | None:
    """Points per full week she has waited, up to a cap, so the longest waits go first."""
    weeks = referral.waiting_days // 7
    points = w.waiting * min(weeks, CAP_WEEKS)
    text = f"{parent(referral)} has waited {plural(weeks, 'week')}"
    return Reason("waiting", points, text, WAITING, (("weeks", weeks),)) if points else None


def priority(referral: ReferralProfile, w: Weights) -> Reason | None:
    """A parent whose match ended early, with a rematch asked for, goes ahead of newer ones."""
    if not referral.priority or not w.priority:
        return None
    return Reason(
        "priority",
        w.priority,
        f"{parent(referral)} is returning after an early ending, so goes ahead of newer referrals",
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
    # Her places taken count open proposals as well as parents she supports: say places, not parents.
    free = max(0, top - volunteer.current_parents)
    text = f"{name(volunteer)} has {free} of {plural(top, 'place')} free ({volunteer.current_parents} taken)"
    params: Params = (("current_parents", volunteer.current_parents), ("max_parents", top), ("free_places", free))
    return Reason("load", points, text, VOLUNTEER_LOAD, params)


def specialisms(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """Her needs the volunteer's specialisms meet, per code up to a cap."""
    shared = referral.specialisms & volunteer.specialisms
    if not shared or w.specialism == 0:
        return None
    points = w.specialism * min(len(shared), CAP_SHARED)
    text = f"{name(volunteer)} brings what {parent(referral)} needs: {_codes(shared)}"
    return Reason("specialism", points, text, SPECIALISMS_NEEDED, (("codes", tuple(sorted(shared))),))


def interpreter_preference(referral: ReferralProfile, volunteer: VolunteerProfile, w: Weights) -> Reason | None:
    """For a parent who needs an interpreter: a volunteer who speaks that language, or else one with the
    interpreting specialism, is preferred."""
    need = referral.interpreter
    if need is None or w.interpreter == 0:
        return None
    tag = need.language
    params: Params = (("language", tag),)
    if any(languages.compatible(tag, other) for other in volunteer.languages):
        text = f"{name(volunteer)} speaks {languages.name(tag)}"
        return Reason("interpreter", w.interpreter, text, VOLUNTEER_SPEAKS_INTERPRETER_LANGUAGE, params)
    if INTERPRETING in volunteer.specialisms:
        text = f"{name(volunteer)} works with interpreters"
        return Reason("interpreter", w.interpreter, text, VOLUNTEER_INTERPRETS, params)
    return None


def interpreter_arranged(referral: ReferralProfile, volunteer: VolunteerProfile, chosen: str) -> Reason | None:
    """What was arranged when they share no language: a three-way call or an interpreter at visits."""
    need = referral.interpreter
    if need is None or constraints.shares_language(referral, volunteer):
        return None
    if chosen not in constraints.interpreter_formats(referral):
        return None
    label = languages.name(need.language)
    one = f"{'an' if label[:1] in 'AEIOU' else 'a'} {label} interpreter"
    way = "at_visits" if chosen in TRAVEL_FORMATS else "three_way_call"
    text = {
        "telephone": f"a three-way call with {one}",
        "video": f"a three-way video call with {one}",
        "home_visit": f"{one} at home visits",
        "in_person": f"{one} at venue meetings",
    }[chosen]
    params: Params = (("language", need.language), ("format", chosen), ("way", way))
    return Reason("interpreter", 0, text, INTERPRETER_ARRANGED, params)


def gender_as_asked(referral: ReferralProfile, volunteer: VolunteerProfile) -> Reason | None:
    """A volunteer gender she asked for, stated as a reason (0 points: it is a rule, not a preference)."""
    asked = referral.volunteer_gender
    if asked in (None, "any") or volunteer.gender != asked:
        return None
    text = f"{GENDERS.get(asked, 'a')} peer supporter, as {parent(referral)} asked"
    return Reason("gender", 0, text, VOLUNTEER_GENDER_AS_ASKED, (("gender", asked),))


def reasons(referral: ReferralProfile, volunteer: VolunteerProfile, chosen: str, w: Weights) -> tuple[Reason, ...]:
    """Every criterion's reason for a candidate pair meeting in the chosen format."""
    found = (
        gender_as_asked(referral, volunteer),
        language(referral, volunteer, w),
        interpreter_arranged(referral, volunteer, chosen),
        interpreter_preference(referral, volunteer, w),
        specialisms(referral, volunteer, w),
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
    return tuple(r for r in found if r is not None and (r.points > 0 or r.code in STATED))


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
        + w.specialism * min(len(referral.specialisms), CAP_SHARED)
        + (w.interpreter if referral.interpreter is not None else 0)
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
        + CAP_SHARED * w.specialism
        + w.interpreter
    )


def fit(score: int, referral: ReferralProfile, w: Weights) -> int:
    """The score as a whole percentage of the best possible for her (0-100)."""
    best = best_possible(referral, w)
    return 100 if best <= 0 else min(100, 100 * score // best)
