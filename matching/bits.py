"""Sets as bit masks held in uint64 words: the codes of one kind (background, experiences, interests)
numbered so a set of them is a mask, and a week's start quarters; "shares every essential code" and "has a
start time in common" are then ANDs over whole rows."""

import numpy as np
import numpy.typing as npt

from matching import weekly

WORD = 0xFFFFFFFFFFFFFFFF
WEEK_WORDS = -(-weekly.WEEK_BITS // 64)
Words = npt.NDArray[np.uint64]


class CodeBits:
    """Numbers the codes of one kind (background, experiences, interests) so a set of them is a bit mask."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._masks: dict[frozenset[str], int] = {}

    def bits(self, codes: frozenset[str]) -> int:
        """The mask of these codes, numbering any not seen before."""
        if codes in self._masks:
            return self._masks[codes]
        mask = 0
        for code in sorted(codes):
            mask |= 1 << self.index.setdefault(code, len(self.index))
        self._masks[codes] = mask
        return mask

    @property
    def words(self) -> int:
        """How many uint64 words hold a mask of every code numbered so far (at least one)."""
        return max(1, -(-len(self.index) // 64))


def words(mask: int, width: int) -> Words:
    """A mask as `width` uint64 words, lowest bits first."""
    return np.array([(mask >> (64 * i)) & WORD for i in range(width)], dtype=np.uint64)


def week_words(mask: int) -> Words:
    """A week's start-quarter mask as the words the volunteer table stores."""
    return words(mask, WEEK_WORDS)


def pack(masks: list[int], width: int) -> Words:
    """One row of `width` words per mask."""
    out = np.zeros((len(masks), width), dtype=np.uint64)
    for row, mask in enumerate(masks):
        for word in range(width):
            out[row, word] = (mask >> (64 * word)) & WORD
    return out


def popcount(rows: Words) -> npt.NDArray[np.int64]:
    """Set bits per row of a 2-D array of words."""
    counts: npt.NDArray[np.int64] = np.bitwise_count(rows).sum(axis=1).astype(np.int64)
    return counts
