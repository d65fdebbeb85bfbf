"""Why a referral was left without a volunteer: the funnel of hard rules with counts, or competition. Each
cause is a code with parameters and the sentence a coordinator reads beside it.

Only the unmatched are explained, each against the volunteer table the candidate graph already built, so the
cost is one vectorised pass over her language block per unmatched referral."""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import bits, constraints, languages, scoring, sea, venue_table, weekly
from matching.candidates import CandidateGraph
from matching.grid import km_hundredths
from matching.model import FORMATS, TRAVEL_FORMATS, Cause, MatchProblem, Params, ReferralProfile, Unmatched
from matching.referrals import ESSENTIAL_KINDS
from matching.table import VolunteerTable

Positions = npt.NDArray[np.int64]
Keep = npt.NDArray[np.bool_]
LABELS = {
    "home_visit": "home visits",
    "in_person": "meetings at a venue",
    "telephone": "telephone",
    "video": "video",
}

# Cause codes. Competition: `suitable`, how many volunteers she had.
NEEDED_FOR_SOMEONE_ELSE = "needed_for_someone_else"
# The funnel's stages in order, each with the cause code when it is the one that leaves nobody. A funnel
# cause's params: `stages` ((stage, volunteers left after it), ...) for the stages that ran, `ended_at` the
# last stage, `languages` (the wanted tags) and `formats` (hers); ending at can_reach_her, either
# `location` "unknown" or, when some volunteer offering travel has a known place, `nearest_km` and
# `nearest_max_travel_km`, or `across_sea` (how many were within reach but across the sea); ending at
# match_her_essentials, `essentials` (what she marked essential beyond language).
STAGES = (
    ("speak_her_language", "no_volunteer_speaks_her_language"),
    ("offer_her_formats", "no_volunteer_offers_her_formats"),
    ("can_reach_her", "no_volunteer_can_reach_her"),
    ("match_her_essentials", "no_volunteer_matches_her_essentials"),
    ("share_a_free_hour", "no_shared_free_hour"),
    ("not_rejected_or_declined", "every_candidate_rejected_or_declined"),
)
CAUSE_CODES = (NEEDED_FOR_SOMEONE_ELSE, *(code for _, code in STAGES))
_CAUSE_OF = dict(STAGES)


def unmatched(problem: MatchProblem, graph: CandidateGraph, matched_ids: set[str]) -> tuple[Unmatched, ...]:
    """One entry per referral left out, each with the cause a coordinator acts on."""
    degree = np.bincount(graph.referral, minlength=len(problem.referrals))
    out = []
    for index, referral in enumerate(problem.referrals):
        if referral.id in matched_ids:
            continue
        cause = competition(int(degree[index])) if degree[index] else funnel(problem, graph, referral, index)
        out.append(Unmatched(referral.id, (cause,)))
    return tuple(out)


def competition(suitable: int) -> Cause:
    """She had suitable volunteers, and the best assignment gave each of them to someone else."""
    sentence = f"every suitable volunteer ({suitable}) was needed for someone else"
    return Cause(NEEDED_FOR_SOMEONE_ELSE, (("suitable", suitable),), sentence)


def _or(items: list[str]) -> str:
    return " or ".join(items)


def _verb(count: int, verb: str) -> str:
    """`1 volunteer speaks`, `3 volunteers speak` (the verb after a count)."""
    if count != 1:
        return verb
    return verb + "es" if verb.endswith(("ch", "sh", "s")) else verb + "s"


def essentials_named(referral: ReferralProfile) -> tuple[str, ...]:
    """What she marked essential beyond language, as codes (`specialism:baby_loss`, `volunteer_gender:male`)."""
    named = sorted(item for item in referral.must_match if item not in ("language", "volunteer_gender"))
    if referral.volunteer_gender not in (None, "any"):
        named.insert(0, f"volunteer_gender:{referral.volunteer_gender}")
    return tuple(named)


def _essential_words(item: str) -> str:
    kind, _, code = item.partition(":")
    if kind == "volunteer_gender":
        return f"{scoring.GENDERS.get(code, 'a')} volunteer"
    return f"{kind} {code.replace('_', ' ')}"


@dataclass(frozen=True)
class _Stage:
    """One hard rule of the funnel: which of the pool it keeps, and its sentence (and any parameters beyond
    the count) given (kept, the pool before it)."""

    name: str
    keep: Callable[[Positions], Keep]
    text: Callable[[Positions, Positions], tuple[str, Params]]


def funnel(problem: MatchProblem, graph: CandidateGraph, referral: ReferralProfile, index: int) -> Cause:
    """`7 available volunteers speak Polish → 3 offer home visits → 0 can reach her for home visits (...)`:
    each hard rule in turn over the ready volunteers with a free place, stopping where none is left. `index`
    is hers in the problem's referrals."""
    table = graph.table
    assert table is not None, "a graph built by candidates.build carries its volunteer table"
    wanted = constraints.wanted_languages(referral)
    pool: Positions = table.speakers(wanted) if wanted else np.zeros(0, dtype=np.int64)
    names = _or([languages.name(tag) for tag in wanted]) or "the parent's language"
    bridged = constraints.interpreter_formats(referral) & frozenset(referral.formats)
    if bridged and referral.interpreter is not None:
        offering = np.flatnonzero((table.formats & sum(1 << FORMATS.index(f) for f in bridged)) != 0)
        pool = np.union1d(pool, offering)
        names += f" or can work with a {languages.name(referral.interpreter.language)} interpreter"
    steps = [f"{scoring.plural(int(pool.size), 'available volunteer')} {_verb(pool.size, 'speak')} {names}"]
    counts = [(STAGES[0][0], int(pool.size))]
    extra: Params = ()
    for stage in _stages(problem, graph, table, referral, index):
        if pool.size == 0:
            break
        before, pool = pool, pool[stage.keep(pool)]
        text, extra = stage.text(pool, before)
        steps.append(text)
        counts.append((stage.name, int(pool.size)))
    if pool.size:
        steps.append(f"0 not rejected or declined for {scoring.parent(referral)} before")
        counts.append((STAGES[-1][0], 0))
    ended_at = counts[-1][0]
    params: Params = (
        ("stages", tuple(counts)),
        ("ended_at", ended_at),
        ("languages", wanted),
        ("formats", referral.formats),
        *extra,
    )
    return Cause(_CAUSE_OF[ended_at], params, " → ".join(steps))


def _stages(
    problem: MatchProblem, graph: CandidateGraph, table: VolunteerTable, referral: ReferralProfile, index: int
) -> list[_Stage]:
    """The rules after language, in the funnel's order (reach only when she takes a format with travel)."""
    minutes = problem.weights.session_minutes
    offered = sum(1 << FORMATS.index(f) for f in referral.formats if f in FORMATS)
    formats = _or([LABELS.get(f, f) for f in referral.formats])
    who = scoring.parent(referral)
    stages = [
        _Stage(
            "offer_her_formats",
            lambda p: (table.formats[p] & offered) != 0,
            lambda k, _: (f"{k.size} {_verb(k.size, 'offer')} {formats}", ()),
        )
    ]
    if any(f in TRAVEL_FORMATS for f in referral.formats):
        stages.append(
            _Stage(
                "can_reach_her",
                lambda p: _reachable(referral, table, p, _at_a_venue(graph, referral, index, minutes, hours=False)),
                lambda kept, before: _reach_text(referral, table, kept, before),
            )
        )
    named = essentials_named(referral)
    what = ", ".join(_essential_words(item) for item in named)
    if named:  # a stage only when she marked something essential beyond language
        stages.append(
            _Stage(
                "match_her_essentials",
                lambda p: _essentials(referral, graph, p),
                lambda k, _: (
                    f"{k.size} {_verb(k.size, 'match')} what {who} marked essential ({what})",
                    (("essentials", named),),
                ),
            )
        )
    her_starts = bits.week_words(weekly.starts(referral.availability, (), minutes))
    at_venues = graph.venues is not None and "in_person" in referral.formats
    stages.append(
        _Stage(
            "share_a_free_hour",
            lambda p: (bits.popcount(table.starts[p] & her_starts) > 0) & _met_then(referral, graph, index, p, minutes),
            lambda k, _: (
                f"{k.size} {_verb(k.size, 'share')} a free weekly hour with {who}"
                + (" (at a venue open then, for meetings at a venue)" if at_venues else ""),
                (),
            ),
        )
    )
    return stages


def _distances(referral: ReferralProfile, table: VolunteerTable, pool: Positions) -> Positions:
    assert referral.lat is not None and referral.lon is not None
    return km_hundredths(math.radians(referral.lat), math.radians(referral.lon), table.lat[pool], table.lon[pool])


def _met_then(referral: ReferralProfile, graph: CandidateGraph, index: int, pool: Positions, minutes: int) -> Keep:
    """Whether a free hour they share is one they can meet at: in a format other than at a venue, or at a venue
    they share that is open then (with venues in the problem)."""
    table = graph.table
    assert table is not None
    at_open = _at_a_venue(graph, referral, index, minutes, hours=True)
    if at_open is None:
        return np.ones(pool.shape, dtype=bool)
    elsewhere = _reachable(referral, table, pool, np.zeros(table.rows.shape, dtype=bool))
    in_person = "in_person" in referral.formats
    offered = (table.formats[pool] & (1 << FORMATS.index("in_person"))) != 0
    met: Keep = elsewhere | (offered & at_open[pool] & in_person)
    return met


def _at_a_venue(
    graph: CandidateGraph, referral: ReferralProfile, index: int, minutes: int, *, hours: bool
) -> Keep | None:
    """Over the volunteer table, who shares a venue with her within both reaches (with `hours`, one open for a
    whole session at a start time both are free), as the candidate graph decides in person; None without
    venues."""
    venues = graph.venues
    table = graph.table
    if venues is None or table is None:
        return None
    # Her starts and the venues' open starts only matter with `hours` (the reach stage asks without them).
    hers = weekly.starts(referral.availability, (), minutes) if hours else 0
    opens = venue_table.open_starts(venues.venues, minutes) if hours else []
    shared = np.zeros(table.rows.shape, dtype=bool)
    for k in np.flatnonzero(venues.parent_h[index] != venue_table.FAR).tolist():
        there = venues.volunteer_h[:, k] != venue_table.FAR
        if hours:
            there &= bits.popcount(table.starts & bits.week_words(hers & opens[k])) > 0
        shared |= there
    return shared


def _reachable(referral: ReferralProfile, table: VolunteerTable, pool: Positions, at_a_venue: Keep | None) -> Keep:
    """A format she accepts that the volunteer offers and, if it needs travel, can reach her for: in person at a
    venue they share when the problem has venues (`at_a_venue`, over the table). A volunteer sharing no language
    with her (there with an interpreter) counts only in a format where an interpreter can be arranged."""
    keep = np.zeros(pool.shape, dtype=bool)
    bridged = constraints.interpreter_formats(referral)
    speaks = table.speaker_mask(constraints.wanted_languages(referral))[pool] if bridged else None
    located = referral.lat is not None and referral.lon is not None
    near = (
        (_distances(referral, table, pool) <= table.max_h[pool]) & _same_land(referral, table, pool)
        if located
        else keep
    )
    for fmt in referral.formats:
        if fmt in FORMATS:
            offered = (table.formats[pool] & (1 << FORMATS.index(fmt))) != 0
            if speaks is not None and fmt not in bridged:
                offered &= speaks
            if fmt == "in_person" and at_a_venue is not None:
                keep |= offered & at_a_venue[pool]
            else:
                keep |= offered & (near if fmt in TRAVEL_FORMATS else True)
    return keep


def _same_land(referral: ReferralProfile, table: VolunteerTable, pool: Positions) -> Keep:
    hers, theirs = sea.group_number(referral.area), table.island[pool]
    same: Keep = (theirs == hers) | (theirs < 0) | (hers < 0)
    return same


def _reach_text(
    referral: ReferralProfile, table: VolunteerTable, kept: Positions, before: Positions
) -> tuple[str, Params]:
    """The count that can reach her; when none can, why (no location, or the nearest one's distance)."""
    travel = _or([LABELS[f] for f in referral.formats if f in TRAVEL_FORMATS])
    who = scoring.parent(referral)
    if kept.size:
        return f"{kept.size} can reach {who}", ()
    if referral.lat is None or referral.lon is None:
        return f"0 can reach {who}: {who}'s location is unknown, so no {travel}", (("location", "unknown"),)
    offering = before[
        (table.formats[before] & sum(1 << FORMATS.index(f) for f in TRAVEL_FORMATS if f in referral.formats)) != 0
    ]
    distances = _distances(referral, table, offering)
    if offering.size == 0 or distances.min() == np.iinfo(np.int64).max:
        return f"0 can reach {who} for {travel}", ()
    across = int(((distances <= table.max_h[offering]) & ~_same_land(referral, table, offering)).sum())
    if across:
        text = f"0 can reach {who} for {travel}: {scoring.plural(across, 'volunteer')} within reach across the sea"
        return text, (("across_sea", across),)
    nearest = int(np.argmin(distances))
    km, limit = distances[nearest] / 100, table.max_h[offering[nearest]] / 100
    text = f"0 can reach {who} for {travel} (the nearest is {km:.1f} km away and travels up to {limit:g} km)"
    return text, (("nearest_km", round(float(km), 1)), ("nearest_max_travel_km", float(limit)))


def _essentials(referral: ReferralProfile, graph: CandidateGraph, pool: Positions) -> Keep:
    table, codes = graph.table, graph.codes
    assert table is not None and codes is not None
    keep = np.ones(pool.shape, dtype=bool)
    if referral.volunteer_gender not in (None, "any"):
        keep &= table.gender[pool] == referral.volunteer_gender
    for kind, rule_kind in ESSENTIAL_KINDS:
        needed = constraints.essential_codes(referral, rule_kind)
        if needed:
            mask = bits.words(codes[kind].bits(needed), table.width[kind])
            keep &= np.all((table.codes[kind][pool] & mask) == mask, axis=1)
    return keep
