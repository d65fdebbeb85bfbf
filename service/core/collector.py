"""Pausing Python's cyclic garbage collector around work that makes many small objects at once."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading 30,000 people's rows and profiles is enough small objects
    to set off full collections that walk them all (docs/decisions/0026). What becomes garbage meanwhile is
    freed by reference counting, or at the next collection."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
