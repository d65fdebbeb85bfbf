"""Where to recruit: which one new volunteer would let the most waiting parents be matched now.

A profile is what a coordinator can recruit for: an area (for formats with travel), a language, a format, and
where parents asked for them a gender and a specialism. For each profile the engine adds one such volunteer
(with the programme's usual places and reach, free whenever the parents are) to today's problem and counts how
many more parents the most-matched assignment reaches: an exact what-if, not a heuristic. A new volunteer can
help a parent she could never see herself, by taking a parent whose volunteer could then see her; the count
includes that, because it is the maximum flow with her added, less the maximum flow without her.

Only parents the optimum leaves out, and those reachable from them by swapping volunteers (the residual graph),
can gain, so profiles come from them; the what-ifs run in order of an upper bound (her places, and how many of
those parents fit her) and stop once no remaining bound can enter the list. Deterministic: the same people in
any order give the same list.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow

from matching import recruit_fits, venues
from matching.model import TRAVEL_FORMATS, MatchProblem, ReferralProfile, VolunteerProfile, WeeklyWindow

# A recruit is assumed free whenever the parents are: the report is about who, not when.
ANY_TIME = tuple(WeeklyWindow(day, 7 * 60, 22 * 60) for day in range(7))
NEW_ID = "~recruit-{:06d}"  # sorts after every uuid, so real volunteers keep their indices


@dataclass(frozen=True, slots=True)
class Profile:
    """A volunteer to recruit. `area` is None for formats without travel (she could be anywhere)."""

    language: str
    format: str
    area: str | None = None
    gender: str | None = None
    specialism: str | None = None

    def key(self) -> tuple[str, str, str, str, str]:
        """A total order for ties (None before any value)."""
        return (self.language, self.format, self.area or "", self.gender or "", self.specialism or "")


@dataclass(frozen=True, slots=True)
class Opening:
    """One profile and what one such volunteer would do now: `would_match` more parents matched in all (exact),
    of whom `fit_directly` waiting parents she could see herself."""

    profile: Profile
    would_match: int
    fit_directly: int


@dataclass(frozen=True, slots=True)
class Recruitment:
    """The waiting parents, how many today's volunteers can match, and the best openings, best first."""

    waiting: int
    matchable_now: int
    openings: tuple[Opening, ...]
    profiles_considered: int
    what_ifs: int


def openings(
    problem: MatchProblem,
    *,
    areas: Mapping[str, str],
    places: int,
    reach_km: float,
    limit: int = 20,
    specialisms: Mapping[str, tuple[str, ...]] | None = None,
    shortcuts: bool = True,
) -> Recruitment:
    """The `limit` profiles whose one new volunteer would match the most parents now.

    `areas` gives each referral's area (postcode district) by id; a recruit for a format with travel lives at
    the middle of her area's waiting parents and travels `reach_km`; she takes `places` parents.
    `specialisms` gives the specialisms each referral needs, by id (her profile's own by default). Without
    `shortcuts` every profile is solved, with no bounds (for tests: the answer must be the same)."""
    referrals = tuple(sorted(problem.referrals, key=lambda r: r.id))
    real = tuple(sorted(problem.volunteers, key=lambda v: v.id))
    n_ref, n_vol = len(referrals), len(real)
    # Profiles can only come from parents who are waiting or a swap away from it, and who they are depends on
    # today's flow. Only the pairs count, not their scores: the most matched is a maximum flow over them, and
    # the parents a swap away are the same whichever maximum flow it is (the residual graph's reach).
    # With venues, in person is met at a venue in both reaches (venues.py), for today's volunteers and recruits.
    at_venues = venues.Reach(problem) if venues.applies(problem) else None
    minutes = problem.weights.session_minutes
    at, who = recruit_fits.fits(
        referrals, real, session_minutes=minutes, excluded=problem.excluded_pairs, venues=at_venues
    )
    today_ref, today_vol = at.astype(np.int32), who.astype(np.int32)
    slots = np.array([v.slots for v in real], dtype=np.int64)
    carried = _maximum(today_ref, today_vol, slots, n_ref)
    matched = np.zeros(n_ref, dtype=bool)
    matched[today_ref[carried]] = True
    reach = _reachable(today_ref, today_vol, carried, matched, n_ref, n_vol)
    profiles = _profiles([referrals[i] for i in np.flatnonzero(reach)], areas, specialisms or {})
    now = int(matched.sum())
    if not profiles:
        return Recruitment(n_ref, now, (), 0, 0)
    middles = _middles(referrals, areas)
    recruits = tuple(
        _recruit(NEW_ID.format(i), p, middles, places=places, reach_km=reach_km) for i, p in enumerate(profiles)
    )
    # Only parents in reach can be on a path to a recruit, so only theirs are paired; directly, as
    # candidates.build would pair them (recruit_fits.py), without its per-group blocks.
    in_reach = np.flatnonzero(reach)
    at, who = recruit_fits.fits([referrals[i] for i in in_reach], recruits, session_minutes=minutes, venues=at_venues)
    new_ref, new_who = in_reach[at].astype(np.int32), who.astype(np.int32)
    fits = np.bincount(new_who[reach[new_ref]], minlength=len(recruits))
    fit_directly = np.bincount(new_who[~matched[new_ref]], minlength=len(recruits))
    # She gains at least the waiting parents she can see herself (those paths share nothing) and at most
    # those a swap away too; only where the two differ is the what-if solved.
    low, high = np.minimum(fit_directly, places), np.minimum(fits, places)
    order = sorted(range(len(recruits)), key=lambda i: (-int(high[i]), -int(fit_directly[i]), profiles[i].key()))
    what_if: _WhatIf | None = None
    found: list[Opening] = []
    what_ifs = 0
    for i in order:
        bounded_out = high[i] == 0 or (
            len(found) >= limit and _cannot_enter(found[limit - 1], int(high[i]), int(fit_directly[i]))
        )
        if shortcuts and bounded_out:
            break  # those after her are bounded by her figures, so none can enter either
        gain = int(low[i])
        if low[i] < high[i] or not shortcuts:
            if what_if is None:
                what_if = _WhatIf(today_ref, today_vol, slots, new_ref, new_who, n_ref, n_vol, len(recruits))
            gain = what_if.gain(i, places) - now
            what_ifs += 1
        if gain > 0:
            found.append(Opening(profiles[i], gain, int(fit_directly[i])))
            found.sort(key=lambda o: (-o.would_match, -o.fit_directly, o.profile.key()))
    return Recruitment(n_ref, now, tuple(found[:limit]), len(profiles), what_ifs)


def _maximum(
    referral: npt.NDArray[np.int32], volunteer: npt.NDArray[np.int32], slots: npt.NDArray[np.int64], n_ref: int
) -> npt.NDArray[np.bool_]:
    """Which pairs a maximum flow carries (one per referral, up to each volunteer's slots)."""
    n_vol = slots.size
    flow = max_flow.SimpleMaxFlow()
    source, sink = n_ref + n_vol, n_ref + n_vol + 1
    flow.add_arcs_with_capacity(
        np.full(n_ref, source, dtype=np.int32), np.arange(n_ref, dtype=np.int32), np.ones(n_ref, np.int64)
    )
    pair_arcs = flow.add_arcs_with_capacity(
        referral, (n_ref + volunteer).astype(np.int32), np.ones(referral.size, dtype=np.int64)
    )
    flow.add_arcs_with_capacity(
        np.arange(n_ref, n_ref + n_vol, dtype=np.int32), np.full(n_vol, sink, dtype=np.int32), slots
    )
    if referral.size and flow.solve(source, sink) != flow.OPTIMAL:
        raise RuntimeError("max flow did not solve")
    carried: npt.NDArray[np.bool_] = flow.flows(pair_arcs) > 0 if referral.size else np.zeros(0, dtype=bool)
    return carried


def _cannot_enter(last: Opening, high: int, fit_directly: int) -> bool:
    """Whether a profile bounded by `high` with these direct fits ranks after the list's last entry."""
    return high < last.would_match or (high == last.would_match and fit_directly <= last.fit_directly)


def _profiles(
    parents: list[ReferralProfile], areas: Mapping[str, str], specialisms: Mapping[str, tuple[str, ...]]
) -> list[Profile]:
    """Every profile that could see at least one of these parents, in a fixed order."""
    seen: set[Profile] = set()
    for r in parents:
        located = r.lat is not None and r.lon is not None
        for fmt in r.formats:
            area = areas.get(r.id) if fmt in TRAVEL_FORMATS else None
            if fmt in TRAVEL_FORMATS and (area is None or not located):
                continue  # she has no known place, so no recruit can be put near her
            for language in r.languages:
                for specialism in (None, *specialisms.get(r.id, tuple(sorted(r.specialisms)))):
                    seen.add(Profile(language, fmt, area, r.volunteer_gender, specialism))
    return sorted(seen, key=Profile.key)


def _middles(referrals: tuple[ReferralProfile, ...], areas: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """The middle of each area's parents with a known place: where a recruit for that area is put."""
    sums: dict[str, list[float]] = {}
    for r in referrals:
        area = areas.get(r.id)
        if area is not None and r.lat is not None and r.lon is not None:
            total = sums.setdefault(area, [0.0, 0.0, 0.0])
            total[0] += r.lat
            total[1] += r.lon
            total[2] += 1
    return {area: (t[0] / t[2], t[1] / t[2]) for area, t in sums.items()}


def _recruit(
    volunteer_id: str, profile: Profile, middles: Mapping[str, tuple[float, float]], *, places: int, reach_km: float
) -> VolunteerProfile:
    lat, lon = middles[profile.area] if profile.area is not None else (None, None)
    return VolunteerProfile(
        id=volunteer_id,
        languages=(profile.language,),
        formats=(profile.format,),
        lat=lat,
        lon=lon,
        max_travel_km=reach_km,
        availability=ANY_TIME,
        gender=profile.gender,
        area=profile.area,  # the sea rule: a recruit around HS1 is on the Outer Hebrides
        specialisms=frozenset({profile.specialism}) if profile.specialism else frozenset(),
        free_places=places,
        free_weekly_sessions=places,
        max_parents=places,
    )


def _reachable(
    referral: npt.NDArray[np.int32],
    volunteer: npt.NDArray[np.int32],
    carried: npt.NDArray[np.bool_],
    matched: npt.NDArray[np.bool_],
    n_ref: int,
    n_vol: int,
) -> npt.NDArray[np.bool_]:
    """Referrals a new volunteer could gain through: the unmatched, and those whose volunteer an unmatched
    parent could take over by a chain of swaps (reachable from the source in the residual graph)."""
    reached = ~matched
    seen_vol = np.zeros(n_vol, dtype=bool)
    free_arcs = ~carried
    frontier = reached.copy()
    while frontier.any():
        step = free_arcs & frontier[referral]
        vols = np.zeros(n_vol, dtype=bool)
        vols[volunteer[step]] = True
        vols &= ~seen_vol
        seen_vol |= vols
        back = carried & vols[volunteer]
        frontier = np.zeros(n_ref, dtype=bool)
        frontier[referral[back]] = True
        frontier &= ~reached
        reached |= frontier
    return reached


class _WhatIf:
    """Today's flow network with every recruit's arcs in it and her arc to the sink closed; `gain` opens one."""

    def __init__(
        self,
        referral: npt.NDArray[np.int32],
        volunteer: npt.NDArray[np.int32],
        slots: npt.NDArray[np.int64],
        new_ref: npt.NDArray[np.int32],
        new_who: npt.NDArray[np.int32],
        n_ref: int,
        n_vol: int,
        n_new: int,
    ) -> None:
        self.flow = flow = max_flow.SimpleMaxFlow()
        self.source, self.sink = n_ref + n_vol + n_new, n_ref + n_vol + n_new + 1
        first_new = n_ref + n_vol
        flow.add_arcs_with_capacity(
            np.full(n_ref, self.source, dtype=np.int32), np.arange(n_ref, dtype=np.int32), np.ones(n_ref, np.int64)
        )
        flow.add_arcs_with_capacity(
            np.concatenate([referral, new_ref]).astype(np.int32),
            np.concatenate([n_ref + volunteer, first_new + new_who]).astype(np.int32),
            np.ones(referral.size + new_ref.size, dtype=np.int64),
        )
        flow.add_arcs_with_capacity(
            np.arange(n_ref, n_ref + n_vol, dtype=np.int32), np.full(n_vol, self.sink, dtype=np.int32), slots
        )
        self.new_arcs = flow.add_arcs_with_capacity(
            np.arange(first_new, first_new + n_new, dtype=np.int32),
            np.full(n_new, self.sink, dtype=np.int32),
            np.zeros(n_new, dtype=np.int64),
        )

    def gain(self, recruit: int, places: int) -> int:
        """The maximum flow with this recruit's arc to the sink open for `places`."""
        arc = int(self.new_arcs[recruit])
        self.flow.set_arc_capacity(arc, places)
        try:
            if self.flow.solve(self.source, self.sink) != self.flow.OPTIMAL:
                raise RuntimeError("max flow did not solve")
            return int(self.flow.optimal_flow())
        finally:
            self.flow.set_arc_capacity(arc, 0)
