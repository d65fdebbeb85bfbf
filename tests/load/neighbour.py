"""`python -m tests.load.neighbour SHARE`: a process that keeps SHARE of one core busy until it is stopped, in
slices of 10 ms, as another program on the same machine would (`tests.load.run --neighbour`)."""

import sys
import time

SLICE_S = 0.01


def main() -> None:
    share = float(sys.argv[1])
    if not 0 < share <= 1:
        raise SystemExit("SHARE is the part of one core to keep busy, over 0 and at most 1")
    while True:
        started = time.perf_counter()
        while time.perf_counter() - started < SLICE_S:
            pass
        time.sleep(SLICE_S * (1 - share) / share)


if __name__ == "__main__":
    main()
