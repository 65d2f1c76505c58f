"""What every sandbox world shares: calendars, seasonality and deterministic randomness.

Each channel's world (``world_<channel>.py``) is a pure function of the base
``World``'s seed and ``today`` through these helpers, so that any day of any
account can be computed on its own, in any order, with the same result.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import math
import struct
from collections.abc import Iterator, Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np

# Days of the week are Monday=0 .. Sunday=6.
_SPEND_WEEKLY = (0.90, 0.95, 0.97, 1.00, 1.05, 1.12, 1.10)  # outdoor shoppers: weekends
_WEB_WEEKLY = (1.05, 1.02, 1.00, 0.98, 0.95, 0.90, 0.97)
_NEWSLETTER_WEEKLY = (0.6, 2.2, 1.4, 0.9, 0.8, 0.6, 0.5)  # send day is Tuesday

_TREND_EPOCH = dt.date(2022, 1, 1).toordinal()


# --------------------------------------------------------------------------- #
# Calendar helpers
# --------------------------------------------------------------------------- #
def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping the day to the target month's end."""
    y, m = divmod(d.year * 12 + (d.month - 1) + months, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def easter_sunday(year: int) -> dt.date:
    """Anonymous Gregorian computus (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=256)
def target_holidays(year: int) -> frozenset[dt.date]:
    """TARGET2 closing days: no ECB reference rates are published on these."""
    easter = easter_sunday(year)
    return frozenset(
        {
            dt.date(year, 1, 1),
            easter - dt.timedelta(days=2),  # Good Friday
            easter + dt.timedelta(days=1),  # Easter Monday
            dt.date(year, 5, 1),
            dt.date(year, 12, 25),
            dt.date(year, 12, 26),
        }
    )


def is_target_business_day(d: dt.date) -> bool:
    return d.weekday() < 5 and d not in target_holidays(d.year)


def daterange(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Inclusive day range."""
    for o in range(start.toordinal(), end.toordinal() + 1):
        yield dt.date.fromordinal(o)


# --------------------------------------------------------------------------- #
# Deterministic randomness
# --------------------------------------------------------------------------- #
_U64x8 = struct.Struct("<8Q")
_STD_NORMAL = NormalDist()
_INV64 = 2.0**-64


class Hasher:
    """Keyed blake2b -> 8 uniforms in [0, 1). One call per (entity, day) slice.

    blake2b is in the stdlib, stable across platforms and Python versions, and
    ~1 us per call, which is what lets us compute any slice lazily instead of
    walking a PRNG from the beginning of history.
    """

    __slots__ = ("_key",)

    def __init__(self, seed: int) -> None:
        self._key = hashlib.blake2b(f"socialmart-sandbox/{seed}".encode(), digest_size=32).digest()

    def u(self, *parts: object) -> tuple[float, ...]:
        digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=64, key=self._key).digest()
        return tuple(x * _INV64 for x in _U64x8.unpack(digest))

    def token(self, *parts: object, n: int = 8) -> bytes:
        return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=n, key=self._key).digest()


class VectorHasher:
    """The bulk counterpart of ``Hasher`` for the high-volume slices (Meta
    campaign-days, GA4 rows): counter-based uniforms from splitmix64's mixer
    (Steele, Lea & Flood 2014), evaluated by numpy over whole arrays of
    (id, day) keys, so a million slices cost about a second and any page
    can be computed without the rows before it.
    """

    __slots__ = ("_seed_key", "_salts")

    def __init__(self, seed: int) -> None:
        digest = hashlib.blake2b(f"socialmart-sandbox-vector/{seed}".encode(), digest_size=8).digest()
        self._seed_key = int.from_bytes(digest, "little")
        self._salts: dict[str, np.uint64] = {}

    def _salt(self, stream: str) -> np.uint64:
        salt = self._salts.get(stream)
        if salt is None:
            digest = hashlib.blake2b(stream.encode(), digest_size=8, key=self._seed_key.to_bytes(8, "little")).digest()
            salt = self._salts[stream] = np.uint64(int.from_bytes(digest, "little"))
        return salt

    def uniforms(self, stream: str, ids: np.ndarray, ordinals: np.ndarray, n: int = 8) -> np.ndarray:
        """An (n, len(ids)) array of uniforms in [0, 1), one column per (id, ordinal) key."""
        with np.errstate(over="ignore"):
            key = _mix64(_mix64(ids.astype(np.uint64) ^ self._salt(stream)) + ordinals.astype(np.uint64) * _GOLDEN)
            out = np.empty((n, len(key)))
            for k in range(n):
                out[k] = (_mix64(key + _STEPS[k]) >> np.uint64(11)) * 2.0**-53
        return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STEPS = tuple(np.uint64((k + 1) * 0x9E3779B97F4A7C15 % 2**64) for k in range(16))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that scatters every input bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _poisson_vec(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``_poisson`` over arrays: the same inverse CDF, one step for every element at once."""
    out = np.zeros(len(lam), dtype=np.int64)
    small = (lam > 0) & (lam <= 60)
    if small.any():
        rate, uu = lam[small], u[small]
        p = np.exp(-rate)
        cdf = p.copy()
        k = np.zeros(len(rate), dtype=np.int64)
        active = uu > cdf
        step = 0
        while step < 400 and active.any():
            step += 1
            p = p * (rate / step)
            cdf = cdf + p
            k[active] = step
            active &= uu > cdf
        out[small] = k
    for i in np.flatnonzero(lam > 60):  # rare: the normal approximation, element by element
        out[i] = _poisson(float(lam[i]), float(u[i]))
    return out


def _allocate_vec(totals: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``_allocate`` for many groups at once: split totals[g] over the cells of
    group g by weight, largest remainder first, ties to the earlier cell."""
    n_groups = len(totals)
    weight_sums = np.bincount(group, weights=weights, minlength=n_groups)
    ok = (totals > 0) & (weight_sums > 0)
    safe_sums = np.where(weight_sums > 0, weight_sums, 1.0)
    raw = np.where(ok[group], totals[group] * weights / safe_sums[group], 0.0)
    out = np.floor(raw).astype(np.int64)
    short = np.where(ok, totals - np.bincount(group, weights=out, minlength=n_groups).astype(np.int64), 0)
    order = np.lexsort((np.arange(len(group)), out - raw, group))
    sorted_group = group[order]
    rank = np.arange(len(group)) - np.searchsorted(sorted_group, sorted_group, side="left")
    out[order[rank < short[sorted_group]]] += 1
    return out


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _calendar(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(weekday Monday=0, month, day of month, day of year) of proleptic ordinals."""
    days = (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    weekday = (ordinals - 1) % 7
    month = months.astype(np.int64) % 12 + 1
    mday = (days - months).astype(np.int64) + 1
    yday = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1
    return weekday, month, mday, yday


def _season_vec(ordinals: np.ndarray, weekly: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """weekly x ``_annual`` x ``_trend`` per day, plus ``_holiday_peak``, weekday and month."""
    weekday, month, mday, yday = _calendar(ordinals)
    annual = 1.0 + 0.18 * np.sin(2 * math.pi * (yday - 100) / 365.25)
    trend = 1.0 + 0.05 * (ordinals - _TREND_EPOCH) / 365.25
    peak = np.where(((month == 11) & (mday >= 20)) | ((month == 12) & (mday <= 20)), 1.35, 1.0)
    return np.asarray(weekly)[weekday] * annual * trend, peak, weekday, month


def _jitter(u1: float, u2: float, spread: float) -> float:
    """Triangular noise around 1.0 with +/- spread: cheap and bell-ish."""
    return 1.0 + spread * (u1 + u2 - 1.0)


def _poisson(lam: float, u: float) -> int:
    """Inverse-CDF Poisson draw from one uniform (small lambdas only)."""
    if lam <= 0:
        return 0
    if lam > 60:  # normal approximation keeps the loop bounded
        z = _STD_NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return max(0, round(lam + z * math.sqrt(lam)))
    p = math.exp(-lam)
    cdf, k = p, 0
    while u > cdf and k < 400:
        k += 1
        p *= lam / k
        cdf += p
    return k


def _annual(d: dt.date) -> float:
    # Outdoor retail peaks in early summer.
    return 1.0 + 0.18 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 100) / 365.25)


def _holiday_peak(d: dt.date) -> float:
    # Black Friday to Christmas: sales campaigns spend more.
    if (d.month == 11 and d.day >= 20) or (d.month == 12 and d.day <= 20):
        return 1.35
    return 1.0


def _trend(d: dt.date) -> float:
    return 1.0 + 0.05 * (d.toordinal() - _TREND_EPOCH) / 365.25


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split an integer total by weights (largest remainder, stable ties)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    short = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[:short]:
        out[i] += 1
    return out



# Campaign flights are anchored to today's year (see sandbox/world.py).
_FLIGHTS = {
    "always": lambda y: (dt.date(y - 4, 1, 9), None),
    "holiday": lambda y: (dt.date(y - 2, 11, 4), dt.date(y - 1, 1, 6)),
    "launched": lambda y: (dt.date(y - 1, 4, 14), None),
}
