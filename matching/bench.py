"""`python -m matching.bench`: the engine against scipy's exact matching and a greedy baseline, on the same
candidate graph of synthetic Scotland-like data. Each size runs in its own process so peak memory is its own.
Peak MB is the process's peak resident memory: for ours, measured before the baselines run (it includes the
synthetic data and the candidate graph); for the baselines, the peak of the whole run. The last line is the
solve-time ratio at the largest size.

`--against DIR` times this engine and the one in DIR (another checkout, e.g. a `git worktree` of the last
release) on the same data, alternating runs so both see the same neighbours on the CPU, and prints each
run's figures, the optimum each reached, and the median ratio new/old with its spread.

`--venues N` times the whole solve with the venue rule (a venue in each of the first N towns) against the same
problem without it, alternating in one process, and prints the median ratio: what the rule costs."""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching import candidates, solver
from matching.model import MatchProblem, VenueProfile
from matching.synthetic import PLACES, population

SIZES = [(1000, 500), (5000, 2500), (20000, 10000)]


def _scipy(graph: candidates.CandidateGraph, problem: MatchProblem) -> tuple[int, int, float]:
    """min_weight_full_bipartite_matching on volunteer slots expanded, one dummy column per referral so a full
    matching always exists; dummy edges cost more than any real gain, so cardinality comes first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    started = time.perf_counter()
    n_ref = len(problem.referrals)
    slots = np.array([v.slots for v in problem.volunteers], dtype=np.int64)
    first_slot = np.concatenate([[0], np.cumsum(slots)[:-1]])
    ceiling = int(graph.score.max()) + 1 if graph.size else 1
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    costs: list[npt.NDArray[np.int64]] = []
    for k in range(int(slots.max()) if slots.size else 0):
        has = slots[graph.volunteer] > k
        rows.append(graph.referral[has].astype(np.int64))
        cols.append(first_slot[graph.volunteer[has]] + k)
        costs.append(ceiling - graph.score[has].astype(np.int64))
    total_slots = int(slots.sum())
    dummy_cost = ceiling * n_ref + 1
    rows.append(np.arange(n_ref))
    cols.append(total_slots + np.arange(n_ref))
    costs.append(np.full(n_ref, dummy_cost))
    matrix = coo_matrix(
        (np.concatenate(costs).astype(float), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_ref, total_slots + n_ref),
    ).tocsr()
    row_ind, col_ind = min_weight_full_bipartite_matching(matrix)
    seconds = time.perf_counter() - started
    real = col_ind < total_slots
    matched = int(real.sum())
    chosen_cost = matrix[row_ind[real], col_ind[real]].A1 if matched else np.zeros(0)
    total = int(matched * ceiling - chosen_cost.sum())
    return matched, total, seconds


def _greedy(graph: candidates.CandidateGraph, problem: MatchProblem) -> tuple[int, int, float]:
    started = time.perf_counter()
    order = np.lexsort((graph.volunteer, graph.referral, -graph.score))
    left = np.array([v.slots for v in problem.volunteers], dtype=np.int64)
    taken = np.zeros(len(problem.referrals), dtype=bool)
    matched = total = 0
    for arc in order:
        r, v = graph.referral[arc], graph.volunteer[arc]
        if not taken[r] and left[v] > 0:
            taken[r] = True
            left[v] -= 1
            matched += 1
            total += int(graph.score[arc])
    return matched, total, time.perf_counter() - started


def one(n_ref: int, n_vol: int) -> dict[str, object]:
    """One size: build the graph once, solve it with ours, scipy and greedy, and time each."""
    problem = MatchProblem(*population(n_ref, n_vol, seed=11))
    started = time.perf_counter()
    graph = candidates.build(problem)
    candidate_s = time.perf_counter() - started
    solve_started = time.perf_counter()
    chosen, optimal = solver.assign(graph, problem)
    solve_s = time.perf_counter() - solve_started
    ours = (int(chosen.size), int(graph.score[chosen].sum()))
    ours_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baselines allocate theirs
    scipy_matched, scipy_total, scipy_s = _scipy(graph, problem)
    greedy_matched, greedy_total, greedy_s = _greedy(graph, problem)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "size": f"{n_ref}x{n_vol}",
        "pairs": graph.size,
        "optimal": optimal,
        "ours": [ours[0], ours[1], candidate_s, solve_s, candidate_s + solve_s, ours_mb],
        "scipy": [scipy_matched, scipy_total, candidate_s, scipy_s, candidate_s + scipy_s, peak_mb],
        "greedy": [greedy_matched, greedy_total, candidate_s, greedy_s, candidate_s + greedy_s, peak_mb],
    }


# Run with `python -c` in either checkout: only names both old and new engines have.
_ENGINE_ONLY = """
import hashlib, json, resource, sys, time
import numpy as np
from matching import candidates, solver
from matching.model import MatchProblem
from matching.synthetic import population
n_ref, n_vol = (int(x) for x in sys.argv[1].split("x"))
problem = MatchProblem(*population(n_ref, n_vol, seed=11))
started, cpu = time.perf_counter(), time.process_time()
graph = candidates.build(problem)
built = time.perf_counter()
chosen, optimal = solver.assign(graph, problem)
done = time.perf_counter()
cpu = time.process_time() - cpu
pairs = np.stack([graph.referral[chosen], graph.volunteer[chosen]]).astype(np.int64)
print(json.dumps({
    "matched": int(chosen.size), "score": int(graph.score[chosen].sum()), "optimal": bool(optimal),
    "cand": built - started, "solve": done - built, "cpu": cpu,
    "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "pairs": hashlib.sha256(pairs.tobytes()).hexdigest()[:12],
}))
"""


def _engine_only(tree: Path, size: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _ENGINE_ONLY, size], cwd=tree, capture_output=True, text=True, check=True
    )
    found: dict[str, object] = json.loads(out.stdout)
    return found


def against(baseline: Path, sizes: list[str], runs: int) -> None:
    """Alternate runs of this engine and the baseline's at each size; print every run and the ratios of
    wall time and of CPU time (all threads: less swayed by other processes on the machine than wall time)."""
    here = Path(__file__).resolve().parent.parent
    print(
        f"{'size':>12} {'run':>3} {'engine':>6} {'matched':>8} {'score':>9} {'cand s':>7} {'solve s':>8} "
        f"{'total s':>8} {'CPU s':>6} {'MB':>5} {'chosen':>12}"
    )
    for size in sizes:
        wall: dict[str, list[float]] = {"new": [], "old": []}
        cpu: dict[str, list[float]] = {"new": [], "old": []}
        for run in range(runs):
            # Which goes first alternates too, so neither always runs on a warmer (or busier) machine.
            order = [("new", here), ("old", baseline)] if run % 2 == 0 else [("old", baseline), ("new", here)]
            for name, tree in order:
                row = _engine_only(tree, size)
                cand, solve_s = float(row["cand"]), float(row["solve"])  # type: ignore[arg-type]
                wall[name].append(cand + solve_s)
                cpu[name].append(float(row["cpu"]))  # type: ignore[arg-type]
                print(
                    f"{size:>12} {run + 1:>3} {name:>6} {row['matched']:>8} {row['score']:>9} {cand:>7.2f} "
                    f"{solve_s:>8.2f} {cand + solve_s:>8.2f} {cpu[name][-1]:>6.2f} {row['mb']:>5.0f} "
                    f"{row['pairs']:>12}"
                )
        for label, times in (("total", wall), ("CPU", cpu)):
            ratios = [new / old for new, old in zip(times["new"], times["old"], strict=True)]
            print(
                f"{size:>12} new/old {label}: median {statistics.median(ratios):.3f}, runs {min(ratios):.3f}-"
                f"{max(ratios):.3f}; medians new {statistics.median(times['new']):.2f} s, "
                f"old {statistics.median(times['old']):.2f} s"
            )


def venue_cost(sizes: list[str], venues: int, runs: int) -> None:
    """Alternate solves without and with the venue rule on the same people; print each run and the median
    ratio with / without (wall time, and CPU time of all threads)."""
    found = tuple(_venue(k) for k in range(venues))
    print(f"{'size':>12} {'run':>3} {'venues':>7} {'pairs':>9} {'matched':>8} {'score':>9} {'total s':>8} {'CPU s':>6}")
    for size in sizes:
        n_ref, n_vol = (int(x) for x in size.split("x"))
        without = MatchProblem(*population(n_ref, n_vol, seed=11))
        times: dict[str, list[tuple[float, float]]] = {"none": [], "with": []}
        for run in range(runs):
            order = [("none", None), ("with", found)] if run % 2 == 0 else [("with", found), ("none", None)]
            for name, at in order:
                started, cpu = time.perf_counter(), time.process_time()
                out = solver.solve(replace(without, venues=at))
                times[name].append((time.perf_counter() - started, time.process_time() - cpu))
                st = out.stats
                print(
                    f"{size:>12} {run + 1:>3} {name:>7} {st.candidate_pairs:>9} {st.matched:>8} {st.total_score:>9} "
                    f"{times[name][-1][0]:>8.2f} {times[name][-1][1]:>6.2f}"
                )
        for label, i in (("total", 0), ("CPU", 1)):
            ratios = [w[i] / n[i] for w, n in zip(times["with"], times["none"], strict=True)]
            medians = [statistics.median(t[i] for t in times[name]) for name in ("with", "none")]
            print(
                f"{size:>12} with/without venues {label}: median {statistics.median(ratios):.3f}, runs "
                f"{min(ratios):.3f}-{max(ratios):.3f}; medians with {medians[0]:.2f} s, without {medians[1]:.2f} s"
            )


def _venue(k: int) -> VenueProfile:
    """The k-th venue: one in each town in turn, the next round a little north of the last."""
    name, lat, lon, _ = PLACES[k % len(PLACES)]
    return VenueProfile(
        f"venue{k:03d}", f"{name} Family Centre {k // len(PLACES) + 1}", lat + 0.01 * (k // len(PLACES)), lon
    )


def main() -> None:
    """Run each size in its own process and print the table, then the solve-time ratio last."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(f"{r}x{v}" for r, v in SIZES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--against", type=Path, help="a checkout of another engine to compare with, run by run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each engine per size with --against")
    parser.add_argument("--venues", type=int, help="time the solve with this many venues against none")
    args = parser.parse_args()
    if args.venues:
        venue_cost(args.sizes.split(","), args.venues, args.runs)
        return
    if args.against:
        against(args.against.resolve(), args.sizes.split(","), args.runs)
        return
    if args.one:
        n_ref, n_vol = (int(x) for x in args.one.split("x"))
        print(json.dumps(one(n_ref, n_vol)))
        return
    print(
        f"{'size':>12} {'pairs':>10} {'engine':>7} {'matched':>8} {'score':>10} {'cand s':>7} {'solve s':>8} "
        f"{'total s':>8} {'peak MB':>8}"
    )
    ratio = None
    for size in args.sizes.split(","):
        out = subprocess.run(
            [sys.executable, "-m", "matching.bench", "--one", size],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout)
        for engine in ("ours", "scipy", "greedy"):
            m, score, cand, solve_s, total, peak = row[engine]
            print(
                f"{row['size']:>12} {row['pairs']:>10} {engine:>7} {m:>8} {score:>10} {cand:>7.2f} "
                f"{solve_s:>8.2f} {total:>8.2f} {peak:>8.0f}"
            )
        ours, scipy_row, greedy = row["ours"], row["scipy"], row["greedy"]
        same = (ours[0], ours[1]) == (scipy_row[0], scipy_row[1])
        print(
            f"{'':>12} same optimum as scipy: {same}; proved optimal: {row['optimal']}; greedy loses "
            f"{ours[0] - greedy[0]} matches and {ours[1] - greedy[1]} points"
        )
        ratio = (ours[3] / scipy_row[3], row["size"]) if scipy_row[3] else None
    if ratio is not None:
        print(f"ours/scipy solve time at {ratio[1]}: {ratio[0]:.2f}")


if __name__ == "__main__":
    main()
