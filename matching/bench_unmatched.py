"""`python -m matching.bench_unmatched`: what explaining the unmatched costs beside the solve, timed on the same
problem in the same run, printed as the ratio explain / solve (issue 23: a small fraction of the solve).

The problem is synthetic (matching.synthetic, with some volunteers not ready, resting or full, and a venue in
each of the first towns) at the sizes given, or `--problem FILE`, a pickled MatchProblem (e.g. one built from a
database as the service builds it; pickles are not committed)."""

import argparse
import pickle
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from matching import solver, unmatched
from matching.model import MatchProblem, VenueProfile, VolunteerProfile
from matching.synthetic import PLACES, population

SIZES = ["2000x1000", "20000x10000"]
VENUES = 9  # as many as the demo's


def synthetic(n_ref: int, n_vol: int) -> MatchProblem:
    """The benchmark's synthetic people, about one volunteer in four held back, with venues."""
    referrals, volunteers = population(n_ref, n_vol, seed=11)
    venues = tuple(
        VenueProfile(f"venue{k:03d}", f"{name} Family Centre", lat, lon)
        for k, (name, lat, lon, _) in enumerate(PLACES[:VENUES])
    )
    held = tuple(_held_back(v, i) for i, v in enumerate(volunteers))
    return MatchProblem(referrals, held, venues=venues)


def _held_back(volunteer: VolunteerProfile, index: int) -> VolunteerProfile:
    if index % 11 == 0:
        return replace(volunteer, ready=False, not_ready=("supervision_overdue",))
    if index % 13 == 0:
        back = date(2027, 1, 4) + timedelta(days=index % 30)
        return replace(volunteer, ready=False, not_ready=("resting",), until=back)
    if index % 7 == 0:
        return replace(volunteer, free_places=0)
    return volunteer


def one(name: str, problem: MatchProblem) -> None:
    """Solve, then explain its unmatched; print both times and the ratio."""
    started = time.perf_counter()
    assignment = solver.solve(problem)
    solve_s = time.perf_counter() - started
    started = time.perf_counter()
    explained = unmatched.explain_unmatched(problem, assignment.unmatched)
    explain_s = time.perf_counter() - started
    named = sum(len(e.not_ready) for e in explained)
    print(
        f"{name:>14} {len(problem.referrals):>7} {len(problem.volunteers):>6} {len(explained):>9} {named:>9} "
        f"{solve_s:>8.2f} {explain_s:>10.2f} {explain_s / solve_s:>8.3f}",
        flush=True,
    )


def main() -> None:
    """Each problem in turn, one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(SIZES), help="synthetic sizes, referrals x volunteers")
    parser.add_argument("--problem", type=Path, help="a pickled MatchProblem instead of the synthetic sizes")
    args = parser.parse_args()
    print(
        f"{'problem':>14} {'refs':>7} {'vols':>6} {'unmatched':>9} {'named':>9} {'solve s':>8} {'explain s':>10} "
        f"{'ratio':>8}"
    )
    if args.problem:
        with args.problem.open("rb") as stored:
            problem = pickle.load(stored)
        one(args.problem.name, problem)
        return
    for size in args.sizes.split(","):
        n_ref, n_vol = (int(x) for x in size.split("x"))
        one(size, synthetic(n_ref, n_vol))


if __name__ == "__main__":
    main()
