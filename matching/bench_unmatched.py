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
    """Solve, then explain its unmatched; print both times and the ratios, of wall time and of CPU time (all
    threads: less swayed by other processes on a shared machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    assignment = solver.solve(problem)
    solve_s, solve_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    explained = unmatched.explain_unmatched(problem, assignment.unmatched)
    explain_s, explain_cpu = time.perf_counter() - started, time.process_time() - cpu
    named = sum(len(e.not_ready) for e in explained)
    print(
        f"{name:>18} {len(problem.referrals):>6} {len(problem.volunteers):>6} {len(explained):>9} {named:>8} "
        f"{solve_s:>8.2f} {explain_s:>9.2f} {explain_s / solve_s:>6.3f} {solve_cpu:>8.2f} {explain_cpu:>9.2f} "
        f"{explain_cpu / solve_cpu:>6.3f}",
        flush=True,
    )


def main() -> None:
    """Each problem in turn, one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(SIZES), help="synthetic sizes, referrals x volunteers")
    parser.add_argument("--problem", type=Path, help="a pickled MatchProblem instead of the synthetic sizes")
    args = parser.parse_args()
    print(
        f"{'problem':>18} {'refs':>6} {'vols':>6} {'unmatched':>9} {'named':>8} {'solve s':>8} {'explain s':>9} "
        f"{'ratio':>6} {'solve CPU':>8} {'expl. CPU':>9} {'ratio':>6}"
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
