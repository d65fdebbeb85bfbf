"""How the candidate graph is built: the same graph whichever thread builds which block, and numpy's page
setting left as it was found."""

from typing import Any

import numpy as np

from matching import candidates, pages, seed
from matching.model import MatchProblem
from matching.synthetic import population


def test_the_graph_is_the_same_whichever_thread_builds_which_block() -> None:
    problem = MatchProblem(*population(1500, 700, seed=5))
    first, again = candidates.build(problem, lists_above=0), candidates.build(problem, lists_above=0)
    assert first.size > 10_000  # many blocks of many sizes, shared out between the two threads
    for column in ("referral", "volunteer", "score", "format"):
        assert np.array_equal(getattr(first, column), getattr(again, column))
    assert first.lists is not None and again.lists is not None
    assert np.array_equal(first.lists.listed, again.lists.listed)
    assert np.array_equal(first.lists.by_volunteer, again.lists.by_volunteer)


def test_the_seed_lists_are_made_only_when_the_seeded_solve_will_run() -> None:
    problem = MatchProblem(*population(300, 150, seed=5))
    below, above = candidates.build(problem), candidates.build(problem, lists_above=0)
    assert below.size < seed.SEEDED_ABOVE and below.lists is None
    assert above.lists is not None and above.lists.listed.size == above.size
    for column in ("referral", "volunteer", "score", "format"):
        assert np.array_equal(getattr(below, column), getattr(above, column))


def test_small_pages_leaves_numpys_setting_as_it_found_it() -> None:
    setting: Any = np._core.multiarray  # type: ignore[attr-defined]  # private to numpy, as pages.py says
    before = setting._get_madvise_hugepage()
    try:
        for start in (True, False):
            setting._set_madvise_hugepage(start)
            with pages.small_pages():
                assert setting._get_madvise_hugepage() is False
                with pages.small_pages():
                    assert setting._get_madvise_hugepage() is False
                assert setting._get_madvise_hugepage() is False
            assert setting._get_madvise_hugepage() is start
    finally:
        setting._set_madvise_hugepage(before)
