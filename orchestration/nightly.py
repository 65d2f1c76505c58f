"""The nightly window: each channel re-pulls its lookback window plus yesterday.

Recent days are restated (Meta attribution up to 28 days, GA4 24-72 h), so
every night each channel pulls [yesterday - lookback_days, yesterday] again
and landing replaces those days. The nightly ingest is ONE run over the
widest channel window (its run config), tagged NIGHTLY_TAG; inside it each ingest
asset narrows the pull to its own channel's window (and records the window it
pulled in its metadata). Running a night twice is harmless: landing replaces
windows, it never appends.
"""

from __future__ import annotations

import datetime as dt

from connectors.base import ChannelSettings
from orchestration.config import Settings

# Value: the night's last day (yesterday), ISO.
NIGHTLY_TAG = "socialmart/nightly"


def lookback_start(channel: ChannelSettings, end: dt.date) -> dt.date:
    """First day a nightly run re-pulls for this channel, given the night's last day."""
    return end - dt.timedelta(days=channel.lookback_days)


def nightly_range(settings: Settings, today: dt.date) -> tuple[dt.date, dt.date]:
    """The window of the night's ingest run: the widest channel window up to
    yesterday, never before history_start."""
    end = today - dt.timedelta(days=1)
    start = min(lookback_start(channel, end) for channel in settings.sources.values())
    return max(start, settings.history_start), end
