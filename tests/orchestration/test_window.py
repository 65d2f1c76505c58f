"""pull_window: the one place a pull's days are decided."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors import CONNECTORS
from orchestration.config import parse_settings
from orchestration.window import DEFAULT_WINDOW_DAYS, PullWindow, pull_window, refresh_window

TODAY = dt.date(2024, 6, 15)
YESTERDAY = dt.date(2024, 6, 14)


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setenv("TEST_TOKEN", "token-value")
    return parse_settings({
        "history_start": "2024-05-01",
        "channels": {
            "meta_ads": {"access_token": "${TEST_TOKEN}", "accounts": ["act_1"], "lookback_days": 28},
            "x": {"bearer_token": "${TEST_TOKEN}", "accounts": ["2244994945"], "lookback_days": 3},
            "ga4": {"access_token": "${TEST_TOKEN}", "accounts": ["123456"], "lookback_days": 60},
        },
    })


def test_a_run_without_dates_pulls_the_default_days_up_to_yesterday(settings):
    window = pull_window(settings, today=TODAY)
    assert (window.start, window.end) == (YESTERDAY - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1), YESTERDAY)
    assert (window.replace_start, window.replace_end) == (window.start, window.end)


def test_given_dates_are_kept(settings):
    window = pull_window(settings, start=dt.date(2024, 1, 3), end=dt.date(2024, 1, 9), today=TODAY)
    assert (window.start, window.end) == (dt.date(2024, 1, 3), dt.date(2024, 1, 9))
    # Both ends given: nothing else is needed to know the days.
    assert pull_window(start=dt.date(2024, 1, 3), end=dt.date(2024, 1, 9)).start == dt.date(2024, 1, 3)


def test_the_night_is_the_widest_lookback_never_before_history_start(settings):
    # ga4 would start 60 days back, before history_start: history_start wins.
    window = pull_window(settings, today=TODAY, nightly=True)
    assert (window.start, window.end) == (dt.date(2024, 5, 1), YESTERDAY)
    settings.history_start = dt.date(2024, 1, 1)
    assert pull_window(settings, today=TODAY, nightly=True).start == YESTERDAY - dt.timedelta(days=60)


def test_each_channel_narrows_the_night_to_its_own_lookback(settings):
    x = settings.sources["x"]
    window = pull_window(settings, today=TODAY, nightly=True, channel=x)
    assert (window.start, window.end) == (YESTERDAY - dt.timedelta(days=3), YESTERDAY)
    # The night's run window as the start: still the channel's own days.
    night = pull_window(settings, today=TODAY, nightly=True)
    assert pull_window(settings, start=night.start, end=night.end, nightly=True, channel=x) == window
    # A later start narrows further.
    assert pull_window(settings, start=YESTERDAY, end=YESTERDAY, nightly=True, channel=x).start == YESTERDAY


def test_lead_days_come_from_the_connector_not_its_name():
    fx = CONNECTORS["fx"]
    assert fx.lead_days == 14
    assert all(c.lead_days == 0 for name, c in CONNECTORS.items() if name != "fx")
    window = pull_window(start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 5), connector=fx,
                         stream=next(iter(fx.streams.values())), snapshot_date=TODAY)
    assert window == PullWindow(dt.date(2024, 2, 16), dt.date(2024, 3, 5), dt.date(2024, 2, 16), dt.date(2024, 3, 5))


def test_snapshot_streams_replace_only_the_snapshot_day():
    x = CONNECTORS["x"]
    window = pull_window(start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 5), connector=x,
                         stream=x.streams["user_snapshots"], snapshot_date=TODAY)
    assert (window.start, window.end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 5))
    assert (window.replace_start, window.replace_end) == (TODAY, TODAY)


def test_follower_change_streams_pull_through_the_snapshot_day():
    through = [(cls, s) for cls in CONNECTORS.values() for s in cls.streams.values() if s.through_snapshot_date]
    assert through, "some stream lands follower changes up to the snapshot day"
    cls, stream = through[0]
    window = pull_window(start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 5), connector=cls, stream=stream,
                         snapshot_date=TODAY)
    assert (window.start, window.end) == (dt.date(2024, 3, 1), TODAY)
    assert (window.replace_start, window.replace_end) == (dt.date(2024, 3, 1), TODAY)


def test_every_connector_declares_its_kind_and_day_time_zone():
    for name, cls in CONNECTORS.items():
        assert cls.kind in {"paid", "organic", "paid_and_organic", "web", "reference"}, name
        assert cls.day_timezone is None or isinstance(cls.day_timezone, str), name


def test_a_window_without_what_it_needs_is_refused():
    with pytest.raises(TypeError, match="settings"):
        pull_window(start=dt.date(2024, 3, 1))
    with pytest.raises(TypeError, match="connector"):
        pull_window(start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 2), stream=CONNECTORS["x"].streams["posts"])


# --------------------------------------------------------------------------- a rerun of `socialmart run`

DAY = dt.timedelta(days=1)
FIRST_DAY = YESTERDAY - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)  # the default window's


def landed(settings, spans):
    """Every dated stream of every configured account landed over `spans`."""
    return {(name, stream.name, account): list(spans)
            for name, channel in settings.sources.items()
            for stream in CONNECTORS[name].streams.values() if stream.date_column and not stream.snapshot
            for account in channel.accounts}


@pytest.fixture
def long_history(settings):
    settings.history_start = dt.date(2023, 1, 1)
    return settings


def test_a_rerun_pulls_only_the_lookbacks_once_the_settled_days_are_held(long_history):
    refresh = refresh_window(long_history, landed(long_history, [(FIRST_DAY, YESTERDAY)]), today=TODAY)
    # The widest lookback (ga4: 60 days) up to yesterday: the run is tagged
    # nightly, so each channel narrows it to its own lookback.
    assert refresh == PullWindow(YESTERDAY - dt.timedelta(days=60), YESTERDAY, YESTERDAY - dt.timedelta(days=60), YESTERDAY)
    assert refresh == pull_window(long_history, today=TODAY, nightly=True)


def test_windows_landed_by_several_runs_add_up(long_history):
    # A first run, then two nights; overlapping and out of order.
    spans = [(YESTERDAY - dt.timedelta(days=40), YESTERDAY - 2 * DAY), (FIRST_DAY, YESTERDAY - dt.timedelta(days=50)),
             (YESTERDAY - dt.timedelta(days=50), YESTERDAY - dt.timedelta(days=30))]
    assert refresh_window(long_history, landed(long_history, spans), today=TODAY) is not None


def test_a_missing_settled_day_means_the_whole_window(long_history):
    held = landed(long_history, [(FIRST_DAY, YESTERDAY)])
    assert refresh_window(long_history, {}, today=TODAY) is None  # a first run
    # A gap since the last run, reaching before x's 3-day lookback.
    gap = {**held, **{key: [(FIRST_DAY, YESTERDAY - 5 * DAY)] for key in held if key[0] == "x"}}
    assert refresh_window(long_history, gap, today=TODAY) is None
    # The same gap inside x's lookback is pulled again anyway.
    inside = {**held, **{key: [(FIRST_DAY, YESTERDAY - 4 * DAY)] for key in held if key[0] == "x"}}
    assert refresh_window(long_history, inside, today=TODAY) is not None
    # A narrower earlier run: its window does not reach the default start.
    assert refresh_window(long_history, landed(long_history, [(FIRST_DAY + DAY, YESTERDAY)]), today=TODAY) is None
    # A new account: none of its days are held.
    long_history.sources["meta_ads"].accounts.append("act_2")
    assert refresh_window(long_history, held, today=TODAY) is None


def test_a_lookback_as_long_as_the_window_saves_nothing(long_history):
    long_history.sources["ga4"].lookback_days = DEFAULT_WINDOW_DAYS
    assert refresh_window(long_history, landed(long_history, [(FIRST_DAY, YESTERDAY)]), today=TODAY) is None
