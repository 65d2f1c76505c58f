"""Northwind Outdoor's YouTube channel in the sandbox world.

Contract
--------
* Same determinism as ``world.py``: every number is a function of
  ``(world.seed, the key)`` through ``world.h``; per (video, day) slices are
  computed on demand and memoised in a bounded LRU. Only the upload list (a
  few hundred videos) is built eagerly.
* Uploads follow a fixed editorial calendar over the last two years: a long
  video every Thursday, shorts on Mondays and Saturdays, a live stream replay
  on the first Sunday of each month; themes cycle through the Meta campaigns'
  slugs (spring_sale, trail_running, summer_hiking, ...). One broadcast that
  started yesterday is still live (no duration, no analytics yet).
* Analytics exist for days < ``world.today - ANALYTICS_LAG_DAYS``: YouTube
  leaves the newest days out until they are complete.
* Lifetime statistics (Data API) are the expected value of the daily curve up
  to yesterday, so they agree with the analytics to within noise, the way the
  two real APIs agree.
* Subscribers: the end-of-day total is a closed-form curve of the absolute
  date (``followers_on``, shared with the Meta pages), so it does not move when
  ``today`` does; a day's subscribersLost is a seeded trickle (plus the drop on
  a shrinking day) and subscribersGained = net change + lost. So the Data API
  total of today = yesterday's total + today's gains - today's losses, and a
  back-cast from any day's total over the served changes is exact.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .world_common import _poisson

if TYPE_CHECKING:  # the World is built from the channel worlds: annotations only
    from .world import World
from .world_facebook_pages import followers_on

CHANNEL_ID = "UCn0rthw1ndOutdoorTrails"
CHANNEL_TITLE = "Northwind Outdoor"
UPLOADS_PLAYLIST = "UU" + CHANNEL_ID[2:]
ANALYTICS_LAG_DAYS = 2
HISTORY_DAYS = 730
SUBSCRIBERS_BASE = 32_000  # the curve's level on 2024-01-01
SUBSCRIBER_GROWTH = 0.3  # per year

# Viewers watch outdoor content on weekends.
_WEEKLY = (0.92, 0.90, 0.93, 0.97, 1.02, 1.14, 1.12)
_THEMES = (
    ("spring_sale", "Spring Sale Picks"),
    ("trail_running", "Trail Running Shoes Field Test"),
    ("summer_hiking", "Summer Hiking Checklist"),
    ("brand_awareness", "Made for the Outdoors"),
    ("rain_gear", "Rain Jacket Torture Test"),
    ("holiday_gift_guide", "Holiday Gift Guide"),
)
# kind -> (first-day views, decay days, long-tail share, seconds range, like rate)
_KINDS = {
    "video": (1800.0, 9.0, 0.03, (420, 1500), 0.035),
    "short": (5200.0, 2.5, 0.01, (15, 59), 0.055),
    "live": (900.0, 5.0, 0.02, (2700, 5400), 0.045),
}


@dataclass(frozen=True, slots=True)
class Video:
    id: str
    kind: str  # video | short | live
    theme: str
    title: str
    published_at: dt.datetime
    duration_seconds: int  # 0 for the broadcast that is live now
    live_now: bool
    base_views: float
    decay_days: float
    tail: float
    like_rate: float

    @property
    def published_day(self) -> dt.date:
        return self.published_at.date()


@dataclass(frozen=True, slots=True)
class VideoDay:
    views: int
    minutes: int
    likes: int
    comments: int
    shares: int
    subscribers_gained: int


class YoutubeWorld:
    def __init__(self, world: World) -> None:
        self.world = world
        self.channel_id = CHANNEL_ID
        self.videos: tuple[Video, ...] = self._build_videos()
        self.by_id = {v.id: v for v in self.videos}
        self._video_day = lru_cache(maxsize=1 << 16)(self._compute_video_day)

    @property
    def last_analytics_day(self) -> dt.date:
        return self.world.today - dt.timedelta(days=ANALYTICS_LAG_DAYS + 1)

    # ------------------------------------------------------------------ uploads
    def _video_id(self, *key: object) -> str:
        return base64.urlsafe_b64encode(self.world.h.token("yt-video", *key, n=8)).decode()[:11]

    def _build_videos(self) -> tuple[Video, ...]:
        today = self.world.today
        out: list[Video] = []
        n = 0
        for ordinal in range((today - dt.timedelta(days=HISTORY_DAYS)).toordinal(), today.toordinal()):
            day = dt.date.fromordinal(ordinal)
            kind = None
            if day.weekday() == 3:
                kind = "video"
            elif day.weekday() in (0, 5):
                kind = "short"
            elif day.weekday() == 6 and day.day <= 7:
                kind = "live"
            if kind is not None:
                out.append(self._video(kind, day, n, live_now=False))
                n += 1
        # A broadcast that went live yesterday evening and is still on air.
        out.append(self._video("live", today - dt.timedelta(days=1), n, live_now=True))
        return tuple(out)

    def _video(self, kind: str, day: dt.date, n: int, live_now: bool) -> Video:
        u = self.world.h.u("yt-video", kind, day.toordinal())
        slug, name = _THEMES[n % len(_THEMES)]
        views, decay, tail, (lo, hi), like_rate = _KINDS[kind]
        title = {"video": f"{name} {day.year} | {CHANNEL_TITLE}",
                 "short": f"{name} in 30 seconds #shorts",
                 "live": f"LIVE: {name} Q&A with the {CHANNEL_TITLE} team"}[kind]
        hour = 20 if live_now else {"video": 16, "short": 13, "live": 18}[kind]
        return Video(
            id=self._video_id(kind, day.toordinal(), live_now), kind=kind, theme=slug, title=title,
            published_at=dt.datetime(day.year, day.month, day.day, hour, int(u[0] * 60), int(u[1] * 60),
                                     tzinfo=dt.UTC),
            duration_seconds=0 if live_now else lo + int((hi - lo) * u[2]),
            live_now=live_now,
            base_views=views * (0.5 + 1.2 * u[3]) * (1.6 if slug in ("spring_sale", "trail_running") else 1.0),
            decay_days=decay * (0.8 + 0.4 * u[4]), tail=tail, like_rate=like_rate * (0.8 + 0.4 * u[5]),
        )

    def uploads(self) -> list[Video]:
        """Newest first, like the uploads playlist."""
        return sorted(self.videos, key=lambda v: v.published_at, reverse=True)

    # -------------------------------------------------------------- analytics
    def _expected_views(self, video: Video, age: int) -> float:
        return video.base_views * (math.exp(-age / video.decay_days) + video.tail)

    def video_day(self, video: Video, day: dt.date) -> VideoDay | None:
        """Analytics of one video on one day; None before upload or after the last complete day."""
        if video.live_now or day < video.published_day or day > self.last_analytics_day:
            return None
        return self._video_day(video.id, day.toordinal())

    def _compute_video_day(self, video_id: str, ordinal: int) -> VideoDay:
        video = self.by_id[video_id]
        day = dt.date.fromordinal(ordinal)
        u = self.world.h.u("yt-video-day", video_id, ordinal)
        age = ordinal - video.published_day.toordinal()
        views = round(self._expected_views(video, age) * _WEEKLY[day.weekday()] * (0.75 + 0.5 * u[0]))
        watched_share = (0.35 if video.kind != "short" else 0.8) * (0.8 + 0.4 * u[1])
        minutes = round(views * video.duration_seconds / 60 * watched_share)
        likes = round(views * video.like_rate * (0.7 + 0.6 * u[2]))
        comments = round(views * 0.004 * (0.5 + u[3]))
        shares = round(views * 0.003 * (0.5 + u[4]))
        gained = round(views * 0.0035 * (0.6 + 0.8 * u[5]))
        return VideoDay(views, minutes, likes, comments, shares, gained)

    def channel_day(self, day: dt.date) -> tuple[VideoDay, int] | None:
        """(sum over videos with the channel's subscribers gained, subscribers
        lost) for a complete day, else None."""
        if day > self.last_analytics_day or day < self.world.today - dt.timedelta(days=HISTORY_DAYS):
            return None
        totals = [0] * 5
        for video in self.videos:
            vd = self.video_day(video, day)
            if vd is None:
                continue
            for i, x in enumerate((vd.views, vd.minutes, vd.likes, vd.comments, vd.shares)):
                totals[i] += x
        gained, lost = self.subscriber_changes(day)
        return VideoDay(*totals, gained), lost

    # ------------------------------------------------------------ subscribers
    def subscribers_on(self, day: dt.date) -> int:
        """End-of-day subscriber total (the Data API's subscriberCount on that day)."""
        return followers_on(self.world, self.channel_id, SUBSCRIBERS_BASE, SUBSCRIBER_GROWTH, day)

    def subscriber_changes(self, day: dt.date) -> tuple[int, int]:
        """(subscribersGained, subscribersLost) of a day, served or not yet:
        gained - lost is exactly the day's change of the total."""
        net = self.subscribers_on(day) - self.subscribers_on(day - dt.timedelta(days=1))
        u = self.world.h.u("yt-subscribers-lost", day.toordinal())
        lost = max(0, -net) + _poisson(SUBSCRIBERS_BASE * 0.0004, u[0])
        return net + lost, lost

    def lifetime(self, video: Video) -> dict[str, int]:
        """Data API statistics as of now: expected daily views summed in closed form."""
        if video.live_now:
            return {"views": 0, "likes": 0, "comments": 0}
        days = max(0, (self.world.today - video.published_day).days)
        r = math.exp(-1 / video.decay_days)
        views = video.base_views * ((1 - r**days) / (1 - r) + video.tail * days)
        u = self.world.h.u("yt-video-lifetime", video.id)
        views = round(views * (0.97 + 0.06 * u[0]))
        return {"views": views, "likes": round(views * video.like_rate), "comments": round(views * 0.004)}

    def hides_likes(self, video: Video) -> bool:
        """A few uploads hide their like count: the Data API then omits likeCount."""
        return self.world.h.u("yt-hide-likes", video.id)[0] < 0.05
