"""The days a pull asks the APIs for: one function, `pull_window`, for every caller.

Who asks, and what they get:
- `socialmart run` with no dates: the DEFAULT_WINDOW_DAYS days up to yesterday
  (in the reporting time zone). Run again on a warehouse that already holds
  that window's settled days, it re-pulls only what can still change: each
  channel's lookback, as a nightly does (`refresh_window`). Dates on the
  command line always pull the whole window they name.
- A nightly run (the schedule, `socialmart nightly`, or an ingest run with no
  start in its config, as from the UI): each channel re-pulls its lookback
  window plus yesterday, because recent days are restated (Meta attribution up
  to 28 days, GA4 24-72 h). The run's own window is the widest channel's;
  inside it each ingest asset narrows to its channel's lookback. Running a
  night twice is harmless: landing replaces windows, it never appends.
- Per stream, from the connector's declaration (never its name):
  `lead_days` more days before the start (FX: a window opening on a weekend
  still has a rate to carry forward), the days up to the snapshot day for
  follower-change streams (`Stream.through_snapshot_date`), and for snapshot
  streams a landing that replaces only the snapshot day.
No window starts before `history_start`, except by a stream's lead days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors import CONNECTORS
from connectors.base import ChannelSettings, Connector, Stream
from orchestration.config import Settings

DEFAULT_WINDOW_DAYS = 90
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class PullWindow:
    start: dt.date  # first day asked of the API
    end: dt.date  # last day asked of the API, inclusive
    # The days landing replaces: the pulled days, or the snapshot day alone
    # for snapshot streams (earlier snapshots are history).
    replace_start: dt.date
    replace_end: dt.date


def pull_window(
    settings: Settings | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
    nightly: bool = False,
    channel: ChannelSettings | None = None,
    connector: type[Connector] | None = None,
    stream: Stream | None = None,
    snapshot_date: dt.date | None = None,
) -> PullWindow:
    """The days to pull.

    Run level (needs `settings` unless start and end are both given): `end`
    defaults to the day before `today` (default: today in the reporting time
    zone). Nightly: each channel's lookback window ending there (`channel`),
    or the widest configured one, never before history_start; a given start
    can only narrow it. Otherwise `start` defaults to DEFAULT_WINDOW_DAYS days
    up to `end`.

    Stream level (with `connector` and `stream`): the connector's lead days
    before the start, the days up to `snapshot_date` for follower-change
    streams, and the replaced days of snapshot streams.
    """
    if end is None:
        end = (today or _settings(settings).today()) - ONE_DAY
    if nightly:
        settings = _settings(settings)
        channels = [channel] if channel is not None else list(settings.sources.values())
        own = max(min(end - dt.timedelta(days=c.lookback_days) for c in channels), settings.history_start)
        start = max(start, own) if start is not None else own
    elif start is None:
        start = end - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    window = PullWindow(start, end, start, end)
    if stream is None:
        return window
    if connector is None or snapshot_date is None:
        raise TypeError("a stream's window needs its connector and the snapshot date")
    start = start - dt.timedelta(days=connector.lead_days)
    if stream.through_snapshot_date:
        end = max(end, snapshot_date)
    if stream.snapshot:
        return PullWindow(start, end, snapshot_date, snapshot_date)
    return PullWindow(start, end, start, end)


# (channel, stream, account) -> every (first day, last day) landed for it.
LandedWindows = Mapping[tuple[str, str, str], Sequence[tuple[dt.date, dt.date]]]


def refresh_window(settings: Settings, landed: LandedWindows, today: dt.date | None = None) -> PullWindow | None:
    """What a `socialmart run` without dates pulls on a warehouse that already
    holds the default window: each channel's lookback up to yesterday (the
    nightly window, never before the default window's start), if every
    configured account of every dated stream has landed every day of the
    default window before its channel's lookback (those days are settled: the
    APIs restate only inside the lookback). None when any such day is
    missing (a first run, a new account or channel, a gap since the last run,
    a narrower earlier window): then the run pulls the whole default window.
    The returned window is the widest channel's; the run is tagged nightly,
    so each channel narrows it to its own lookback."""
    full = pull_window(settings, today=today)
    nightly = pull_window(settings, end=full.end, nightly=True)
    if nightly.start <= full.start:
        return None  # a lookback as long as the window: nothing to save
    for channel in settings.sources.values():
        settled_end = pull_window(settings, end=full.end, nightly=True, channel=channel).start - ONE_DAY
        for stream in CONNECTORS[channel.name].streams.values():
            if stream.snapshot or stream.date_column is None:
                continue  # pulled whole every run: no settled days to keep
            for account in channel.accounts:
                if not _covers(landed.get((channel.name, stream.name, account), ()), full.start, settled_end):
                    return None
    return PullWindow(nightly.start, full.end, nightly.start, full.end)


def _covers(windows: Sequence[tuple[dt.date, dt.date]], start: dt.date, end: dt.date) -> bool:
    """Whether the union of `windows` holds every day of [start, end]."""
    reached = start - ONE_DAY  # the last day known held
    for first, last in sorted(windows):
        if first > reached + ONE_DAY:
            break
        reached = max(reached, last)
    return reached >= end


def _settings(settings: Settings | None) -> Settings:
    if settings is None:
        raise TypeError("the run's window needs the settings (today, history_start, the channels' lookback)")
    return settings
