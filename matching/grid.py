"""Where people are, as arrays: a grid of cells wider than any volunteer's reach (so a volunteer within
reach of a place is in its cell or the eight around it), and distances in whole hundredths of a km."""

import math

import numpy as np
import numpy.typing as npt

from matching import constraints

KM_PER_DEGREE = math.pi * constraints.EARTH_KM / 180
Positions = npt.NDArray[np.int64]
Radians = npt.NDArray[np.float64]
Cell = tuple[int, int]


class Grid:
    """The located volunteers' positions (in the volunteer table) per cell."""

    def __init__(
        self, longest_reach_km: float, places: list[tuple[float | None, float | None]], latitudes: list[float]
    ) -> None:
        """`places` are the volunteers' (lat, lon) in degrees in table order; `latitudes` every known
        latitude of both sides, which sizes the longitude cells."""
        # 1% wider than the longest reach: rounding to hundredths of a km never puts a pair two cells apart.
        self.km = 1.01 * longest_reach_km
        # Longitude cells are sized at the most poleward place, where a degree is shortest.
        poleward = min(89.0, max([*(abs(lat) for lat in latitudes), 0.0]))
        self.lon_km = KM_PER_DEGREE * math.cos(math.radians(poleward))
        cells: dict[Cell, list[int]] = {}
        for position, (lat, lon) in enumerate(places):
            if lat is not None and lon is not None:
                cells.setdefault(self.cell_of(lat, lon), []).append(position)
        self.cells = {cell: np.array(p, dtype=np.int64) for cell, p in cells.items()}

    def cell_of(self, lat: float, lon: float) -> Cell:
        """The grid cell of a place (degrees)."""
        # Cells at least `km` wide everywhere in the data: a reachable volunteer is in a neighbouring cell.
        return (math.floor(lat * KM_PER_DEGREE / self.km), math.floor(lon * self.lon_km / self.km))

    def near(self, cell: Cell) -> Positions:
        """Positions of located volunteers in this cell and the eight around it."""
        ci, cj = cell
        parts = [
            self.cells[c] for c in ((ci + di, cj + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)) if c in self.cells
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def radians(places: list[float | None]) -> Radians:
    """Latitudes or longitudes in radians; unknown ones NaN."""
    return np.array([math.radians(x) if x is not None else np.nan for x in places], dtype=float)


def unit_vectors(lat: Radians, lon: Radians) -> list[Radians]:
    """Places (radians) as points on the unit sphere, one array per coordinate."""
    return [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]


def reach_h(max_h: Positions) -> Radians:
    """The haversine term of a place one hundredth of a km beyond each reach: above it, out of reach."""
    h: Radians = np.sin((max_h + 1) / 100 / (2 * constraints.EARTH_KM)) ** 2
    return h


def km_hundredths(lat: float, lon: float, lats: Radians, lons: Radians) -> Positions:
    """Haversine distances from one place (radians) in whole hundredths of a km; unknown places are huge."""
    h = np.sin((lats - lat) / 2) ** 2 + math.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    km = 2 * constraints.EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    out = np.full(lats.shape, np.iinfo(np.int64).max, dtype=np.int64)
    known = ~np.isnan(km)
    out[known] = np.round(km[known] * 100).astype(np.int64)
    return out


def km_hundredths_between(lat: Radians, lon: Radians, lats: Radians, lons: Radians) -> Positions:
    """Haversine distances from each of many places (radians, rows) to each of a few (columns) in whole
    hundredths of a km; unknown places are huge. The venue rule's one distance: the per-pair path and the
    candidate graph both read it, so they agree to the hundredth."""
    h = (
        np.sin((lats[None, :] - lat[:, None]) / 2) ** 2
        + np.cos(lat)[:, None] * np.cos(lats)[None, :] * np.sin((lons[None, :] - lon[:, None]) / 2) ** 2
    )
    km = 2 * constraints.EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    out = np.full(h.shape, np.iinfo(np.int64).max, dtype=np.int64)
    known = ~np.isnan(km)
    out[known] = np.round(km[known] * 100).astype(np.int64)
    return out


def pair_km_hundredths(
    mine: list[Radians], hers: list[Radians], first: Positions, second: Positions, within_h: Radians
) -> Positions:
    """Great-circle distances pair by pair (unit vectors `mine[first]`, `hers[second]`) in whole hundredths of
    a km; pairs whose haversine term is above `within_h[second]` (or with an unknown place) are huge. The
    haversine term sin²(angle/2) is a quarter of the squared chord between the two points on the unit sphere:
    no trigonometry per pair, and no loss of precision for near places (unlike 1 - cos); only pairs within
    reach take the square root and arcsine."""
    h = np.zeros(first.shape, dtype=np.float64)
    for a, b in zip(mine, hers, strict=True):
        across = a[first] - b[second]
        h += across * across
    h /= 4
    out = np.full(h.shape, np.iinfo(np.int64).max, dtype=np.int64)
    close = np.flatnonzero(h <= within_h[second])  # NaN compares False: unknown places stay huge
    km = 2 * constraints.EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h[close])))
    out[close] = np.round(km * 100).astype(np.int64)
    return out
