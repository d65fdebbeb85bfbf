"""The NHS number's check digit (modulus 11), as NHS Digital publishes it: the first nine digits weighted 10 down
to 2, the sum's remainder on 11 taken from 11 (11 becomes 0, and 10 means the number is not valid)."""

import re


def valid(value: str) -> bool:
    """Ten digits (spaces or dashes between groups allowed) whose last is the check digit of the nine before."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"[0-9]{10}", digits):
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])
