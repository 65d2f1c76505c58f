"""Channel registry: one module per vendor API, each mounted at ``/<name>``.

Adding a channel (Facebook Pages, Instagram, X, YouTube, LinkedIn, TikTok,
WeChat, Weibo, ...) means writing a ``Channel`` subclass in its own module and
listing it here; the server, fault injection, stats and ``base_urls()`` pick it
up from this tuple.
"""

from __future__ import annotations

from .base import Channel, Request, Response
from .facebook_pages import FacebookPages
from .fx import Fx
from .ga4 import Ga4
from .instagram import Instagram
from .linkedin import Linkedin
from .meta_ads import MetaAds
from .tiktok_ads import TikTokAds
from .wechat import WeChat
from .weibo import Weibo
from .x import X
from .youtube import Youtube

CHANNEL_CLASSES: tuple[type[Channel], ...] = (MetaAds, Ga4, Fx, X, Weibo, FacebookPages, Instagram, TikTokAds, WeChat, Youtube, Linkedin)

__all__ = ["CHANNEL_CLASSES", "Channel", "Request", "Response"]
