"""Numbers as a marketing reader expects them: thousands separators, currency, percent.

Every function takes None (a measure the mart does not have) and returns a dash.
The strings are plain text; the page escapes them like any other value.
"""

from __future__ import annotations

import datetime as dt

MISSING = "–"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩"}


def integer(value: float | None) -> str:
    return MISSING if value is None else f"{round(value):,}"


def compact(value: float | None) -> str:
    """12.3k, 2.57M: for axis ticks and tiles where space is short."""
    if value is None:
        return MISSING
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= threshold:
            scaled = value / threshold
            return f"{scaled:.3g}{suffix}" if abs(scaled) < 100 else f"{scaled:.0f}{suffix}"
    return f"{value:.3g}" if magnitude < 10 and value != int(value) else f"{value:,.0f}"


def money(value: float | None, currency: str, *, short: bool = False, cents: bool = False) -> str:
    """$12,577 (USD), 12,577 CNY for a currency without a well-known symbol."""
    if value is None:
        return MISSING
    amount = compact(abs(value)) if short else f"{abs(value):,.2f}" if cents else f"{abs(value):,.0f}"
    sign = "-" if value < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}".rstrip()


def percent(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def signed_percent(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:+.1f}%"


def multiple(value: float | None) -> str:
    """ROAS: revenue per unit of spend."""
    return MISSING if value is None else f"{value:.2f}×"


def day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def short_day(value: dt.date) -> str:
    return f"{value.day} {value:%b}"


def month(value: dt.date | None) -> str:
    return MISSING if value is None else f"{value:%B %Y}"


def hours(value: float | None) -> str:
    """A lag: 45 min, 18.6 h, 3.2 days."""
    if value is None:
        return MISSING
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"


def ratio(value: float | None) -> str:
    """A ratio of two like quantities: 0.42×."""
    return MISSING if value is None else f"{value:.2f}×"
