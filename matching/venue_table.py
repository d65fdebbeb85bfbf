"""The venues as the candidate graph reads them (decision 0014): in id order, with every ready volunteer's and
every referral's distance to each venue within her reach as matrices, so a block of in-person pairs finds the
venues both can reach with numpy. A venue is within a person's reach when the straight line is within her limit
and no sea lies between them (decision 0021: the same island group, or either district unknown)."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import constraints, grid, sea, weekly
from matching.model import MatchProblem, ReferralProfile, VenueProfile, WeeklyWindow
from matching.table import VolunteerTable

# Distances within reach fit 32 bits (half the Earth's circumference is 2 M hundredths of a km): half the memory.
FAR = np.iinfo(np.int32).max
UNREACHED = np.iinfo(np.int64).max
Distances = npt.NDArray[np.int32]
IntArray = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]
Islands = npt.NDArray[np.int8]
VenueIndex = npt.NDArray[np.int16]
# A venue whose hours are not given is open at every start of the week.
ALWAYS = (1 << weekly.WEEK_BITS) - 1
_WHOLE_WEEK = tuple(WeeklyWindow(day, 0, 24 * 60) for day in range(7))


def parent_reach_km(problem: MatchProblem, referral: ReferralProfile) -> float:
    """How far the parent travels to a venue: her own limit, else the programme's."""
    return referral.max_travel_km if referral.max_travel_km is not None else problem.in_person_max_travel_km


def by_id(problem: MatchProblem) -> tuple[VenueProfile, ...]:
    """The problem's venues in id order, so ties go to the lower id whatever order they came in."""
    return tuple(sorted(problem.venues or (), key=lambda v: v.id))


def open_starts(venues: tuple[VenueProfile, ...], session_minutes: int) -> list[int]:
    """Per venue, the weekly quarters at which a whole session can start while it is open with a room free
    (ALWAYS when its hours are not given and nothing is booked)."""
    return [
        ALWAYS
        if v.opening_hours is None and not v.booked
        else weekly.starts(v.opening_hours or _WHOLE_WEEK, v.booked, session_minutes)
        for v in venues
    ]


@dataclass(frozen=True)
class Places:
    """Venues (or people) as arrays: latitudes and longitudes in radians, island group numbers."""

    lat: grid.Radians
    lon: grid.Radians
    island: Islands

    def __getitem__(self, at: slice) -> "Places":
        return Places(self.lat[at], self.lon[at], self.island[at])


def places(venues: tuple[VenueProfile, ...]) -> Places:
    """The venues' places as arrays, island group numbers by sea.group_number (-1: district unknown)."""
    return Places(
        grid.radians([v.lat for v in venues]),
        grid.radians([v.lon for v in venues]),
        np.array([sea.group_number(v.area) for v in venues], dtype=np.int8),
    )


def in_reach_h(people: Places, reach_h: IntArray | None, venues: Places) -> IntArray:
    """Each person's (rows) distance to each venue (columns) in hundredths of a km; UNREACHED beyond the
    person's reach (None: no limit), across the sea from the venue, or where the place is unknown."""
    km_h = grid.km_hundredths_between(people.lat, people.lon, venues.lat, venues.lon)
    if reach_h is not None:
        km_h[km_h > reach_h[:, None]] = UNREACHED
    if (people.island > 0).any() or (venues.island > 0).any():  # mainland-only runs pay nothing for the sea
        mine, theirs = people.island[:, None], venues.island[None, :]
        km_h[(mine != theirs) & (mine >= 0) & (theirs >= 0)] = UNREACHED
    return km_h


def _narrow(km_h: IntArray) -> Distances:
    return np.minimum(km_h, FAR).astype(np.int32)


@dataclass(frozen=True)
class Meetings:
    """Per pair, whether they share a venue, the venue (index in id order) whose farther distance is least, that
    farther distance, and the larger of the two reaches (hundredths of a km), against which it is scored."""

    shared: Mask
    venue: VenueIndex
    far_h: IntArray
    limit_h: IntArray


class VenueTable:
    """The venues in id order; `parent_h` (referrals x venues) and `volunteer_h` (the volunteer table's positions
    x venues) hold distances in hundredths of a km within each person's reach, else FAR."""

    def __init__(self, problem: MatchProblem, table: VolunteerTable) -> None:
        """Distances for every referral and every volunteer in the table: venues are few (tens to hundreds)."""
        self.venues = by_id(problem)
        if len(self.venues) > np.iinfo(np.int16).max:
            raise ValueError(f"{len(self.venues)} venues: the graph numbers them in 16 bits")
        at = places(self.venues)
        refs = problem.referrals
        self.parent_reach_h = np.array(
            [constraints.hundredths(parent_reach_km(problem, r)) for r in refs], dtype=np.int64
        )
        self.parent_h = _narrow(
            in_reach_h(
                Places(
                    grid.radians([r.lat for r in refs]),
                    grid.radians([r.lon for r in refs]),
                    np.array([sea.group_number(r.area) for r in refs], dtype=np.int8),
                ),
                self.parent_reach_h,
                at,
            )
        )
        volunteers = in_reach_h(Places(table.lat, table.lon, table.island), table.max_h, at)
        self.volunteer_h = _narrow(volunteers)
        self.volunteer_reach_h = table.max_h
        self.reached_by = [np.flatnonzero(self.volunteer_h[:, k] != FAR) for k in range(len(self.venues))]

    def distances_h(self, referral: int, position: int, venue: int) -> tuple[int, int]:
        """The parent's and the volunteer's (at this position in the table) distances to one venue."""
        return int(self.parent_h[referral, venue]), int(self.volunteer_h[position, venue])

    def near(self, group: IntArray) -> tuple[Indices, Mask | None]:
        """The venues some of these referrals reach (ascending: id order), and as a mask over the table the
        volunteers reaching one of them; None when no venue is in any of their reaches."""
        venues = np.flatnonzero((self.parent_h[group] != FAR).any(axis=0))
        if venues.size == 0:
            return venues, None
        mask = np.zeros(self.volunteer_h.shape[0], dtype=bool)
        mask[np.concatenate([self.reached_by[k] for k in venues])] = True
        return venues, mask

    def meetings(
        self, referral: IntArray, position: IntArray, venues: Indices, open_there: Mask | None = None
    ) -> Meetings:
        """For each pair (referral index, volunteer position), the venue among `venues` (ascending) minimising
        the farther of their two distances, the first of equals being the lowest id; with `open_there` (pairs x
        `venues`), only among the venues open at a start time both are free."""
        far = np.maximum(self.parent_h[np.ix_(referral, venues)], self.volunteer_h[np.ix_(position, venues)])
        if open_there is not None:
            far[~open_there] = FAR
        best = np.argmin(far, axis=1) if venues.size else np.zeros(referral.size, dtype=np.intp)
        far_h = (
            far[np.arange(referral.size), best].astype(np.int64)
            if venues.size
            else np.full(referral.size, FAR, dtype=np.int64)
        )
        limit_h = np.maximum(self.parent_reach_h[referral], self.volunteer_reach_h[position])
        venue = venues[best].astype(np.int16) if venues.size else np.zeros(referral.size, dtype=np.int16)
        return Meetings(far_h != FAR, venue, far_h, limit_h)
