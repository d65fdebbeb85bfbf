"""The grid of cells never hides a volunteer within reach, anywhere in Scotland, in any direction."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from matching import candidates, constraints
from matching.model import MatchProblem
from tests.matching.builders import referral, volunteer


def _place_at(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` away on a bearing (spherical destination formula)."""
    d, b = km / constraints.EARTH_KM, math.radians(bearing)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(54.6, 60.9),
    lon=st.floats(-7.5, -0.8),
    reaches=st.lists(st.sampled_from([3.0, 5.0, 12.5, 25.0, 40.0]), min_size=1, max_size=6),
    bearings=st.lists(st.floats(0, 360), min_size=6, max_size=6),
    shares=st.lists(st.floats(0.95, 1.05), min_size=6, max_size=6),
)
def test_every_volunteer_within_her_reach_is_found_near_the_edge_of_it(
    lat: float, lon: float, reaches: list[float], bearings: list[float], shares: list[float]
) -> None:
    vols = []
    for j, reach in enumerate(reaches):
        v_lat, v_lon = _place_at(lat, lon, reach * shares[j], bearings[j])
        vols.append(volunteer(id=f"v{j}", lat=v_lat, lon=v_lon, max_travel_km=reach))
    r = referral(lat=lat, lon=lon)
    graph = candidates.build(MatchProblem((r,), tuple(vols)))
    found = {vols[int(v)].id for v in graph.volunteer}
    expected = {v.id for v in vols if constraints.is_candidate(r, v, session_minutes=60)}
    assert found == expected
