"""ECB-style FX reference rates of the sandbox world: a mean-reverting walk
per currency and calendar year, published on TARGET business days only."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Iterator

from .world_common import daterange, is_target_business_day

FX_LEAD_DAYS = 10  # FX history starts a little before the ad history so the
# first ad day can carry a rate forward from a preceding business day.

# code -> (level around which the rate wanders, decimals on the wire, ECB title)
FX_CURRENCIES: dict[str, tuple[float, int, str]] = {
    "USD": (1.08, 4, "US dollar"),
    "GBP": (0.85, 4, "UK pound sterling"),
    "CNY": (7.8, 4, "Chinese yuan renminbi"),
    "JPY": (160.0, 2, "Japanese yen"),
    "CHF": (0.95, 4, "Swiss franc"),
    "SEK": (11.3, 4, "Swedish krona"),
    "NOK": (11.6, 4, "Norwegian krone"),
    "DKK": (7.46, 4, "Danish krone"),
    "PLN": (4.3, 4, "Polish zloty"),
    "CZK": (25.0, 3, "Czech koruna"),
    "HUF": (395.0, 2, "Hungarian forint"),
    "AUD": (1.65, 4, "Australian dollar"),
    "CAD": (1.48, 4, "Canadian dollar"),
    "NZD": (1.8, 4, "New Zealand dollar"),
    "HKD": (8.45, 4, "Hong Kong dollar"),
    "SGD": (1.45, 4, "Singapore dollar"),
    "KRW": (1480.0, 2, "Korean won (Republic)"),
    "INR": (90.5, 4, "Indian rupee"),
    "BRL": (5.9, 4, "Brazilian real"),
    "MXN": (19.5, 4, "Mexican peso"),
    "ZAR": (19.8, 4, "South African rand"),
}

_FX_EPOCH_YEAR = 2000  # the walk starts here so a date's rate never depends on `today`
_FX_MEAN_REVERSION = 0.003  # AR(1) pull towards the level: keeps rates "around" it
_FX_DAILY_VOL = 0.0035


class FxWorld:
    """The FX rates of the ``World`` (a part of it: the state lives there)."""

    # --------------------------------------------------------------------- fx
    def fx_rate(self, currency: str, day: dt.date) -> float:
        """Units of `currency` per EUR on `day` (defined on every calendar day)."""
        level = self.fx_currencies[currency][0]
        if day.year < _FX_EPOCH_YEAR:
            return level
        xs, _ = self._fx_block(currency, day.year)
        return level * math.exp(xs[day.timetuple().tm_yday - 1])

    def _fx_block(self, currency: str, year: int) -> tuple[list[float], float]:
        """Log-deviation walk for one calendar year, computed forward from the
        epoch once and memoised (a few hundred floats per currency-year)."""
        key = (currency, year)
        block = self._fx_blocks.get(key)
        if block is not None:
            return block
        with self._fx_lock:
            y = year
            while y > _FX_EPOCH_YEAR and (currency, y - 1) not in self._fx_blocks:
                y -= 1
            x = self._fx_blocks[(currency, y - 1)][1] if (currency, y - 1) in self._fx_blocks else 0.0
            vol = _FX_DAILY_VOL * (0.05 if currency == "DKK" else 1.0)  # DKK is pegged
            for yy in range(y, year + 1):
                if (currency, yy) in self._fx_blocks:
                    x = self._fx_blocks[(currency, yy)][1]
                    continue
                rng = random.Random(f"{self.seed}/fx/{currency}/{yy}")
                xs = []
                for _ in range(366 if calendar.isleap(yy) else 365):
                    x = x * (1.0 - _FX_MEAN_REVERSION) + rng.gauss(0.0, vol)
                    xs.append(x)
                self._fx_blocks[(currency, yy)] = (xs, x)
            return self._fx_blocks[key]

    def fx_observations(self, currency: str, start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, str]]:
        """(TARGET business day, OBS_VALUE string) within [start, end] ∩ served history."""
        decimals = self.fx_currencies[currency][1]
        lo, hi = max(start, self.fx_start), min(end, self.last_day)
        for d in daterange(lo, hi) if lo <= hi else ():
            if is_target_business_day(d):
                yield d, f"{self.fx_rate(currency, d):.{decimals}f}"
