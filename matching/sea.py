"""Reach that knows the sea: a home visit or a venue meeting between an island group and the mainland (or another
island group) needs a ferry, however short the straight line, so it is out of reach. The rule reads postcode
districts (docs/decisions/0021-islands.md): each island district belongs to one group; every other known district
is the mainland. Islands joined to the mainland by road (Skye by its bridge, Seil) count as the mainland."""

import re

# District ranges per island group: (postcode area, first number, last number).
_GROUPS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "outer_hebrides": (("HS", 1, 9),),
    "orkney": (("KW", 15, 17),),
    "shetland": (("ZE", 1, 3),),
    "bute": (("PA", 20, 20),),
    "gigha": (("PA", 41, 41),),
    "islay": (("PA", 42, 49),),
    "jura": (("PA", 60, 60),),
    "colonsay": (("PA", 61, 61),),
    "mull": (("PA", 62, 75),),
    "iona": (("PA", 76, 76),),
    "tiree": (("PA", 77, 77),),
    "coll": (("PA", 78, 78),),
    "arran": (("KA", 27, 27),),
    "cumbrae": (("KA", 28, 28),),
    "small_isles": (("PH", 42, 44),),
}
MAINLAND = "mainland"
_DISTRICT = re.compile(r"^([A-Z]{1,2})(\d{1,2})[A-Z]?$")
_GROUP_OF = {
    (area, number): group
    for group, ranges in _GROUPS.items()
    for area, first, last in ranges
    for number in range(first, last + 1)
}
GROUPS = (MAINLAND, *_GROUPS)


def island_group(district: str | None) -> str | None:
    """The island group of a postcode district (`HS1` → outer_hebrides), `mainland` for any other well-formed
    district, None when the district is unknown (a place given as coordinates)."""
    if not district:
        return None
    found = _DISTRICT.match(district.strip().upper())
    if found is None:
        return None
    return _GROUP_OF.get((found.group(1), int(found.group(2))), MAINLAND)


def same_land(a: str | None, b: str | None) -> bool:
    """Both on the same island group or both on the mainland; True when either district is unknown, as the
    straight-line reach is then all there is to go on."""
    ga, gb = island_group(a), island_group(b)
    return ga is None or gb is None or ga == gb


def group_number(district: str | None) -> int:
    """The group as a small integer for vectorised checks: -1 unknown, else its index in GROUPS."""
    group = island_group(district)
    return -1 if group is None else GROUPS.index(group)
