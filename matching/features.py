"""People's weekly hours and codes as small numeric matrices, so that "how many start times in common" and
"how many codes shared" for a whole block of referrals against a block of volunteers is one matrix product.

Weekly hours are reduced to atoms: quarter hours that every person either has all of or none of. A person's
row holds, per atom, how many of its quarters she has (all or none), so the product of a referral's row and
a volunteer's 0/1 row counts their common start quarters exactly (float32 is exact far beyond 672)."""

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


def bit_rows(masks: list[int], bits: int) -> npt.NDArray[np.uint8]:
    """One row of 0/1 per mask, bit i in column i."""
    width = max(1, -(-bits // 8))
    raw = np.frombuffer(b"".join(m.to_bytes(width, "little") for m in masks), dtype=np.uint8)
    rows: npt.NDArray[np.uint8] = np.unpackbits(raw.reshape(len(masks), width), axis=1, bitorder="little")[:, :bits]
    return rows


def atoms(masks: list[int], bits: int) -> tuple[Matrix, Matrix]:
    """(counted, present): per person and atom, the quarters she has in it, and 0/1 whether she has it."""
    rows = bit_rows(masks, bits)
    used = rows[:, rows.any(axis=0)]
    if used.shape[1] == 0:
        empty = np.zeros((len(masks), 0), dtype=np.float32)
        return empty, empty
    # Columns with the same people are one atom: compare columns as packed bytes.
    # Each column's packed bytes as one opaque value: np.unique over rows of many one-byte fields (axis=0)
    # builds a structured type field by field, which cost more than the rest of the work.
    columns = np.ascontiguousarray(np.packbits(used, axis=0).T)
    keys = columns.view(np.dtype((np.void, columns.shape[1]))).ravel()
    _, first, sizes = np.unique(keys, return_index=True, return_counts=True)
    present = used[:, first].astype(np.float32)
    return present * sizes.astype(np.float32), present
