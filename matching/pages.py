"""Memory pages for the engine's large temporary arrays.

numpy asks the kernel for huge pages (madvise MADV_HUGEPAGE) on every large array. Where the kernel then
compacts memory to find them while the array is first written (transparent huge pages with `defrag` set to
`madvise`, as on the 2-core machine this service is measured on), that stall cost more than the huge pages
saved: a 20k x 10k candidate graph spent 0.9-1.0 s in the kernel with them and 0.4 s without (see
docs/decisions/0006). The engine's arrays live for one run and are read a few times, so it goes without.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

# Private to numpy, hence looked up softly: without it, numpy's own choice stands.
_MULTIARRAY = getattr(getattr(np, "_core", None), "multiarray", None)


@contextmanager
def small_pages() -> Iterator[None]:
    """numpy allocates without asking for huge pages inside the block, as it did before it."""
    setter = getattr(_MULTIARRAY, "_set_madvise_hugepage", None)
    if setter is None:
        yield
        return
    before = setter(False)
    try:
        yield
    finally:
        setter(before)
