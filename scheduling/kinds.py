"""Which session is which: the last is the closing session, the one `offset` before it the ending conversation."""


def mark_kinds(total: int, offset: int) -> list[str]:
    """Kinds of sessions 1..total."""
    kinds = ["regular"] * total
    if total >= 1:
        kinds[-1] = "closing"
    if total - offset >= 1 and offset >= 1:
        kinds[total - offset - 1] = "ending_conversation"
    return kinds
